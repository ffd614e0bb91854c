"""The cluster reader against recorded API responses served on 127.0.0.1 (through the real client)."""

from __future__ import annotations

import orjson
import pytest

from ringwall.analysis.connlist import compute_connlist
from ringwall.analysis.estate import LoadOptions, load_estate
from ringwall.live.cluster import ClusterOptions, LiveError, read_cluster
from ringwall.live.estate import load_live_estate
from ringwall.live.source import LiveOptions

from .conftest import RECORDED


def _read(kubeconfig, **kw):  # type: ignore[no-untyped-def]
    return read_cluster(ClusterOptions(kubeconfig=str(kubeconfig), context="fake", timeout=5, **kw))


def test_reads_every_served_resource_with_get_only(fake_api) -> None:  # type: ignore[no-untyped-def]
    api, kc = fake_api()
    read = _read(kc)
    assert read.context == "fake" and read.server_version == "v1.31.2"
    assert read.counts["pods"] == 5
    assert read.counts["namespaces"] == 3
    assert read.counts["networkpolicies.networking.k8s.io"] == 3
    assert read.counts["adminnetworkpolicies.policy.networking.k8s.io"] == 1
    assert read.versions["adminnetworkpolicies.policy.networking.k8s.io"] == "policy.networking.k8s.io/v1alpha1"
    # Only the CoreDNS namespace's ConfigMaps are asked for, never the whole cluster's.
    assert read.counts["configmaps"] == 1
    assert any(p.startswith("/api/v1/namespaces/kube-system/configmaps?") for p in api.requests)
    assert not any(p.startswith("/api/v1/configmaps") for p in api.requests)
    assert not any("secrets" in p for p in api.requests)
    assert set(api.methods) == {"GET"}


def test_items_get_kind_and_lose_managed_fields(fake_api) -> None:  # type: ignore[no-untyped-def]
    _, kc = fake_api()
    read = _read(kc)
    pods = orjson.loads(read.texts["pods.json"])
    assert pods["kind"] == "List"
    first = pods["items"][0]
    assert (first["apiVersion"], first["kind"]) == ("v1", "Pod")
    assert "managedFields" not in first["metadata"]
    assert first["status"]["podIPs"] == [{"ip": "10.244.1.10"}]


def test_pagination_follows_continue_tokens(fake_api) -> None:  # type: ignore[no-untyped-def]
    api, kc = fake_api()
    read = _read(kc, page_size=2)
    pod_requests = [p for p in api.requests if p.startswith("/api/v1/pods?")]
    assert len(pod_requests) == 3  # 5 pods, 2 a page
    assert "continue=" not in pod_requests[0] and all("continue=" in p for p in pod_requests[1:])
    names = [i["metadata"]["name"] for i in orjson.loads(read.texts["pods.json"])["items"]]
    assert names == ["web-7d9f-abcde", "web-7d9f-fghij", "db-0", "client", "coredns-5d78-xyz12"]


def test_absent_crds_are_skipped_and_said_so(fake_api) -> None:  # type: ignore[no-untyped-def]
    # cilium.io is in discovery but its list answers 404 (a CRD removed mid-read); istio is absent.
    _, kc = fake_api(missing={"ciliumnetworkpolicies.cilium.io"})
    read = _read(kc)
    reasons = {s.resource.resource: s.reason for s in read.skipped}
    assert reasons["ciliumnetworkpolicies.cilium.io"] == "not installed (404 Not Found)"
    assert reasons["authorizationpolicies.security.istio.io"] == "not installed (the API server does not serve it)"
    assert "ciliumnetworkpolicies.cilium.io.json" not in read.texts
    estate, _ = load_live_estate(LiveOptions(kubeconfig=str(kc), context="fake", timeout=5))
    infos = [d for d in estate.sink.items if d.code == "live.not-installed"]
    assert len(infos) == 2  # one line per reason, not one per resource
    msg = " ".join(d.message for d in infos)
    assert "cilium.io: ciliumnetworkpolicies" in msg and "security.istio.io: authorizationpolicies" in msg
    assert str(infos[0].location).startswith("cluster:fake/")


def test_calico_crd_datastore_is_not_read_twice(fake_api) -> None:  # type: ignore[no-untyped-def]
    _, kc = fake_api(installed={"networkpolicies.projectcalico.org", "networkpolicies.crd.projectcalico.org"})
    read = _read(kc)
    assert "networkpolicies.projectcalico.org" in read.counts
    reasons = {s.resource.resource: s.reason for s in read.skipped}
    assert reasons["networkpolicies.crd.projectcalico.org"] == "projectcalico.org is served and holds the same objects"


def test_forbidden_names_verb_and_resource(fake_api) -> None:  # type: ignore[no-untyped-def]
    _, kc = fake_api(forbidden={"networkpolicies.networking.k8s.io"})
    with pytest.raises(LiveError) as err:
        _read(kc)
    message = str(err.value)
    assert message.startswith("forbidden: cannot list networkpolicies.networking.k8s.io cluster-wide")
    assert "grant verb 'list' on networkpolicies.networking.k8s.io" in message
    assert 'cannot list resource "networkpolicies" in API group "networking.k8s.io"' in message  # the server's
    assert "\n" not in message


def test_forbidden_namespaced_configmaps(fake_api) -> None:  # type: ignore[no-untyped-def]
    _, kc = fake_api(forbidden={"configmaps"})
    with pytest.raises(LiveError, match=r"^forbidden: cannot list configmaps in namespace kube-system"):
        _read(kc)


def test_bad_credentials(fake_api, tmp_path) -> None:  # type: ignore[no-untyped-def]
    api, _ = fake_api()
    kc = api.kubeconfig(tmp_path / "wrong.yaml", token="not-the-token")
    with pytest.raises(LiveError, match=r"authentication to the API server failed \(401 Unauthorized\)"):
        _read(kc)


def test_unreachable_server(fake_api) -> None:  # type: ignore[no-untyped-def]
    api, kc = fake_api()
    api.stop()
    with pytest.raises(LiveError, match=r"^cannot reach the API server http://127\.0\.0\.1:\d+"):
        _read(kc)


def test_unknown_context_and_missing_kubeconfig(fake_api, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _, kc = fake_api()
    with pytest.raises(LiveError, match="kubeconfig has no context 'prod' \\(contexts: fake\\)"):
        read_cluster(ClusterOptions(kubeconfig=str(kc), context="prod"))
    with pytest.raises(LiveError, match="cannot load the Kubernetes configuration"):
        read_cluster(ClusterOptions(kubeconfig=str(tmp_path / "absent.yaml")))


def test_live_estate_equals_file_estate(fake_api) -> None:  # type: ignore[no-untyped-def]
    _, kc = fake_api()
    live, capture = load_live_estate(LiveOptions(kubeconfig=str(kc), context="fake", timeout=5, page_size=2))
    files = load_estate([RECORDED], LoadOptions())
    assert compute_connlist(live.engine()).lines() == compute_connlist(files.engine()).lines()
    assert [w.key for w in live.cluster.workloads] == [w.key for w in files.cluster.workloads]
    assert len(live.admin) == len(files.admin) == 1
    assert capture.cluster is not None and capture.cluster.counts["pods"] == 5


def test_locations_point_into_the_synthetic_file(fake_api) -> None:  # type: ignore[no-untyped-def]
    _, kc = fake_api()
    live, capture = load_live_estate(LiveOptions(kubeconfig=str(kc), context="fake", timeout=5))
    doc = next(d for d in live.inventory.documents("NetworkPolicy") if d.name == "db-from-web")
    loc = doc.locate(("spec", "ingress"))
    assert loc.path == "cluster:fake/networkpolicies.networking.k8s.io.json"
    assert capture.cluster is not None
    lines = capture.cluster.texts["networkpolicies.networking.k8s.io.json"].split("\n")
    # The object's own line is the opening brace of the item that holds name db-from-web.
    start = doc.locate().line
    assert start is not None and lines[start - 1].strip() == "{"
    assert '"db-from-web"' in "\n".join(lines[start - 1 : start + 12])


def test_a_hung_api_server_times_out(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A server that accepts the connection and never answers: the read ends, it does not hang."""
    import socket
    import time

    import yaml

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # connections complete in the kernel backlog; nothing ever answers
    port = listener.getsockname()[1]
    kc = tmp_path / "hung.yaml"
    kc.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "hung",
        "clusters": [{"name": "c", "cluster": {"server": f"http://127.0.0.1:{port}"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "hung", "context": {"cluster": "c", "user": "u"}}],
    }))
    t = time.perf_counter()
    try:
        with pytest.raises(LiveError, match=r"^cannot reach the API server http://127\.0\.0\.1:\d+: .*timed out"):
            read_cluster(ClusterOptions(kubeconfig=str(kc), timeout=0.3))
    finally:
        listener.close()
    assert time.perf_counter() - t < 5


def test_in_cluster_outside_a_cluster(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_PORT", raising=False)
    with pytest.raises(LiveError, match=r"^cannot load the Kubernetes configuration: Service host/port is not set"):
        read_cluster(ClusterOptions(in_cluster=True))


def test_coredns_configmap_keeps_its_corefile_lines(fake_api) -> None:  # type: ignore[no-untyped-def]
    """ConfigMaps are stored as YAML with the Corefile as a block: its lines are lines of the file."""
    _, kc = fake_api()
    live, capture = load_live_estate(LiveOptions(kubeconfig=str(kc), context="fake", timeout=5))
    assert capture.cluster is not None and capture.cluster.files["configmaps"] == "configmaps.yaml"
    cm = next(d for d in live.inventory.documents("ConfigMap") if d.name == "coredns")
    loc = cm.locate(("data", "Corefile"))
    assert loc.path == "cluster:fake/configmaps.yaml"
    lines = capture.cluster.texts["configmaps.yaml"].split("\n")
    assert loc.line is not None
    assert lines[loc.line - 1].strip() == "Corefile: |"
    assert lines[loc.line].strip() == ".:53 {"
    dns = pytest.importorskip("ringwall.layers.dns.api")
    if hasattr(dns, "corefiles_from_manifests"):
        corefiles = dns.corefiles_from_manifests(live.inventory, live.sink)
        assert len(corefiles) == 1
