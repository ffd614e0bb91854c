"""Flows leaving the mesh, address-split authorization and request-level conditions (issue 19.2-19.4,
issue 13.3, issue 14.11).

References: Istio "Accessing External Services" (outboundTrafficPolicy ALLOW_ANY / REGISTRY_ONLY,
ServiceEntry), Sidecar reference (``egress.hosts``, ``outboundTrafficPolicy``), AuthorizationPolicy
reference (``ipBlocks``, ``remoteIpBlocks``, ``operation.methods/paths``).
"""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from ringwall.cli import app
from tests.conftest import REPO_ROOT

from .helpers import ap, deployment, flow, model, namespace, obj, service

runner = CliRunner()
SHOP = str(REPO_ROOT / "examples" / "shop")

BASE = [namespace("shop", {"istio-injection": "enabled"}),
        deployment("shop", "web", ports=[("http", 8080)]),
        deployment("shop", "db", ports=[("tcp-db", 26257)]),
        service("shop", "web", [("http", 80, 8080)]),
        service("shop", "db", [("tcp-db", 26257, 26257)])]


def _write(tmp_path: Path, *docs: str) -> str:
    path = tmp_path / "estate.yaml"
    path.write_text("\n---\n".join(docs))
    return str(path)


def _mesh_rows(path: str) -> list[str]:
    r = runner.invoke(app, ["matrix", path, "--layer", "mesh"])
    assert r.exit_code == 0, r.output
    return r.stdout.splitlines()


def test_external_flows_appear_with_what_decides_them(tmp_path: Path) -> None:
    """Issue 19.2: two Deployments in an injected namespace; the mesh matrix lists their flows out."""
    rows = _mesh_rows(_write(tmp_path, *BASE))
    out = [r for r in rows if r.startswith("shop/web[Deployment] => 0.0.0.0-255.255.255.255[External]")]
    assert out == [
        "shop/web[Deployment] => 0.0.0.0-255.255.255.255[External] : SCTP 1-65535 : mtls=no, authz=n/a, "
        "verdict=allow, decided by none",
        "shop/web[Deployment] => 0.0.0.0-255.255.255.255[External] : TCP 1-65535 : mtls=no, authz=n/a, "
        "verdict=allow, decided by allow-any",
        "shop/web[Deployment] => 0.0.0.0-255.255.255.255[External] : UDP 1-65535 : mtls=no, authz=n/a, "
        "verdict=allow, decided by none",
    ]


def test_shop_payments_external_flow_in_mesh_views() -> None:
    """Issue 13.3: the focus on payments keeps payments => 203.0.113.0/24 : TCP 443."""
    r = runner.invoke(app, ["matrix", SHOP, "--layer", "mesh", "--focus", "backend/payments"])
    assert ("backend/payments[Deployment] => 203.0.113.0-203.0.113.255[External] : TCP 443 : mtls=no, authz=n/a, "
            "verdict=allow, decided by allow-any") in r.stdout.splitlines()
    r = runner.invoke(app, ["mesh", "flows", SHOP, "--focus", "backend/payments", "--format", "json"])
    ext = [f for f in json.loads(r.stdout)["flows"] if f["dst"].endswith("[External]")]
    assert [(f["dst"], f["conn"], f["mtls"], f["dst_mode"], f["decided_by"]) for f in ext] == [
        ("203.0.113.0-203.0.113.255[External]", "TCP 443", "no", "external", "allow-any")]


MESH_CONFIG_REGISTRY_ONLY = obj("v1", "ConfigMap", "istio-system", "istio", None).replace(
    '"spec": null', '"data": {"mesh": "outboundTrafficPolicy:\\n  mode: REGISTRY_ONLY\\n"}')
SE_PAYMENTS = obj("networking.istio.io/v1", "ServiceEntry", "shop", "psp", {
    "hosts": ["api.psp.example"], "addresses": ["203.0.113.0/24"], "location": "MESH_EXTERNAL",
    "resolution": "STATIC", "ports": [{"number": 443, "name": "tls", "protocol": "TLS"}]})


def test_registry_only_and_service_entry_split_the_external_row(tmp_path: Path) -> None:
    rows = _mesh_rows(_write(tmp_path, *BASE, MESH_CONFIG_REGISTRY_ONLY, SE_PAYMENTS))
    web_tcp = [r for r in rows if r.startswith("shop/web[Deployment] =>") and "[External] : TCP" in r]
    assert web_tcp == [
        "shop/web[Deployment] => 0.0.0.0-203.0.112.255[External] : TCP 1-65535 : mtls=no, authz=deny, "
        "verdict=deny, decided by registry-only",
        "shop/web[Deployment] => 203.0.113.0-203.0.113.255[External] : TCP 1-442,444-65535 : mtls=no, authz=deny, "
        "verdict=deny, decided by registry-only",
        "shop/web[Deployment] => 203.0.113.0-203.0.113.255[External] : TCP 443 : mtls=no, authz=allow, "
        "verdict=allow, decided by service-entry",
        "shop/web[Deployment] => 203.0.114.0-255.255.255.255[External] : TCP 1-65535 : mtls=no, authz=deny, "
        "verdict=deny, decided by registry-only",
    ]


def test_sidecar_egress_hosts_and_outbound_policy_per_workload() -> None:
    """A Sidecar selecting web makes it REGISTRY_ONLY and lists only its own namespace's hosts: the
    ServiceEntry of another namespace is not visible to web; db keeps the mesh default ALLOW_ANY."""
    se_other = obj("networking.istio.io/v1", "ServiceEntry", "ops", "psp", {
        "hosts": ["api.psp.example"], "addresses": ["203.0.113.0/24"],
        "ports": [{"number": 443, "name": "tls", "protocol": "TLS"}]})
    sidecar = obj("networking.istio.io/v1", "Sidecar", "shop", "web", {
        "workloadSelector": {"labels": {"app": "web"}}, "outboundTrafficPolicy": {"mode": "REGISTRY_ONLY"},
        "egress": [{"hosts": ["./*", "istio-system/*"]}]})
    m = model(*BASE, se_other, sidecar)
    web, db = (next(w for w in m.cluster.workloads if w.name == n) for n in ("web", "db"))
    addr = ((3405803777, 3405803777),)  # 203.0.113.1
    from ringwall.model.connections import ConnectionSet
    [(_, _, dw)] = m.decide_external(web, addr, ConnectionSet.of("TCP", [(443, 443)]))
    assert (dw.verdict, dw.decided_by) == ("deny", "registry-only")
    assert any("Sidecar/shop/web outboundTrafficPolicy REGISTRY_ONLY" in e.text for e in dw.evidence)
    [(_, _, dd)] = m.decide_external(db, addr, ConnectionSet.of("TCP", [(443, 443)]))
    assert (dd.verdict, dd.decided_by) == ("allow", "service-entry")


def test_service_entry_by_name_is_a_condition() -> None:
    se = obj("networking.istio.io/v1", "ServiceEntry", "shop", "api", {
        "hosts": ["api.example.com"], "location": "MESH_EXTERNAL", "resolution": "DNS",
        "ports": [{"number": 443, "name": "https", "protocol": "TLS"}]})
    m = model(*BASE, MESH_CONFIG_REGISTRY_ONLY, se)
    web = next(w for w in m.cluster.workloads if w.name == "web")
    from ringwall.model.connections import ConnectionSet
    [(_, _, d)] = m.decide_external(web, ((1, 1),), ConnectionSet.of("TCP", [(443, 443)]))
    assert (d.verdict, d.condition, d.mtls) == ("conditional", "host api.example.com", "no")


AP_FROM_OFFICE = ap("shop", "db-from-office", {"selector": {"matchLabels": {"app": "db"}}, "action": "ALLOW",
                                               "rules": [{"from": [{"source": {"ipBlocks": ["1.2.3.0/24"]}}]}]})


def test_ip_blocks_split_the_mesh_matrix(tmp_path: Path) -> None:
    """Issue 19.3: an ALLOW from ipBlocks 1.2.3.0/24 on TCP 26257 splits 0.0.0.0/0 into three exact rows."""
    path = _write(tmp_path, *BASE, AP_FROM_OFFICE)
    rows = [r for r in _mesh_rows(path) if "=> shop/db[Deployment] : TCP" in r and "[External]" in r]
    assert rows == [
        "0.0.0.0-1.2.2.255[External] => shop/db[Deployment] : TCP 1-65535 : mtls=no, authz=deny, verdict=deny",
        "1.2.3.0-1.2.3.255[External] => shop/db[Deployment] : TCP 1-65535 : mtls=no, authz=allow, verdict=allow",
        "1.2.4.0-255.255.255.255[External] => shop/db[Deployment] : TCP 1-65535 : mtls=no, authz=deny, verdict=deny",
    ]
    for src, verdict in (("1.2.3.4", "allow"), ("1.2.4.4", "deny")):
        r = runner.invoke(app, ["explain", path, "--src", src, "--dst", "shop/db", "--port", "26257/TCP",
                                "--format", "json"])
        layers = json.loads(r.stdout)["all_layers"]["by_layer"]
        mesh = next(x for x in layers if x["layer"] == "mesh")
        assert mesh["detail"]["verdict"] == verdict, src
    # A pod source without a known address lives in the pod network, outside 1.2.3.0/24: denied, exactly.
    assert flow(model(*BASE, AP_FROM_OFFICE), "shop/web", "shop/db", 26257).authz == "deny"


AP_GET_API = ap("shop", "web-get", {"selector": {"matchLabels": {"app": "web"}}, "action": "ALLOW",
                                    "rules": [{"to": [{"operation": {"methods": ["GET"], "paths": ["/api/*"]}}]}]})


def test_request_level_rule_is_an_explicit_condition(tmp_path: Path) -> None:
    """Issue 19.4 / 14.11: an Istio flow allowed only for GET /api/* is conditional, and says on what."""
    path = _write(tmp_path, *BASE, AP_GET_API)
    rows = _mesh_rows(path)
    assert ("shop/db[Deployment] => shop/web[Deployment] : TCP 8080 : mtls=permissive, authz=conditional, "
            "verdict=conditional: GET /api/*, peer cluster.local/ns/shop/sa/db") in rows
    d = flow(model(*BASE, AP_GET_API), "shop/db", "shop/web", 8080)
    assert (d.verdict, d.condition) == ("conditional", "GET /api/*")
    assert "allows only GET /api/*" in d.reason
    r = runner.invoke(app, ["explain", path, "--src", "shop/db", "--dst", "shop/web", "--port", "8080/TCP"])
    assert "verdict CONDITIONAL: GET /api/*" in r.stdout
    assert "Through every layer: CONDITIONAL (GET /api/*)" in r.stdout


def test_jwt_and_deny_conditions_are_named() -> None:
    jwt = ap("shop", "web-jwt", {"selector": {"matchLabels": {"app": "web"}}, "action": "ALLOW",
                                 "rules": [{"from": [{"source": {"requestPrincipals": ["*"]}}]}]})
    assert flow(model(*BASE, jwt), "shop/db", "shop/web", 8080).condition == "any valid JWT"
    deny = ap("shop", "web-no-admin", {"selector": {"matchLabels": {"app": "web"}}, "action": "DENY",
                                       "rules": [{"to": [{"operation": {"paths": ["/admin*"]}}]}]})
    d = flow(model(*BASE, deny), "shop/db", "shop/web", 8080)
    assert (d.verdict, d.condition) == ("conditional", "not /admin*")


def test_kube_system_pod_running_istio_proxy_is_meshed() -> None:
    """Issue 19.6: evidence of a running sidecar comes before the system-namespace rule."""
    doc = deployment("kube-system", "metrics", ports=[("http", 9090)]).replace(
        '"containers": [', '"containers": [{"name": "istio-proxy", "image": "proxyv2"}, ')
    m = model(namespace("kube-system"), doc)
    assert m.membership(m.cluster.workloads[0]).mode == "sidecar"
    m2 = model(namespace("kube-system"), deployment("kube-system", "metrics"))
    assert m2.membership(m2.cluster.workloads[0]).mode == "none"


def test_strict_namespace_counts_as_covered_and_stance_without_istiod(tmp_path: Path) -> None:
    """Issue 14.11: ports STRICT refuses in plaintext are not unencrypted traffic; without istiod in the
    input the mesh is assumed enforced and shown as such (enforced unknown, never NO)."""
    from ringwall.analysis.estate import load_estate
    from ringwall.analysis.mesh_layer import scan_mesh

    strict = obj("security.istio.io/v1", "PeerAuthentication", "shop", "strict", {"mtls": {"mode": "STRICT"}})
    legacy = [namespace("legacy"), deployment("legacy", "batch")]
    report = scan_mesh(load_estate([_write(tmp_path, *BASE, strict, *legacy)]))
    cov = report.details["coverage"]
    assert cov["by_namespace"]["shop"]["ratio"] == 1.0  # type: ignore[index]
    assert cov["pairs_by_worst_mtls"]["refused"] == 2  # type: ignore[index]  # legacy/batch -> web, db
    assert report.enforced is None
    assert "assumed enforced" in report.status


def test_allow_with_http_fields_on_a_tcp_port_is_a_finding() -> None:
    """Issue 19.4: Istio drops an ALLOW rule with HTTP fields on a TCP port: the flow is denied (not
    conditional) and RW-ISTIO-033 names the rule."""
    from ringwall.layers.mesh.checks import run_checks

    get_db = ap("shop", "db-get", {"selector": {"matchLabels": {"app": "db"}}, "action": "ALLOW",
                                   "rules": [{"to": [{"operation": {"methods": ["GET"]}}]}]})
    m = model(*BASE, get_db)
    assert flow(m, "shop/web", "shop/db", 26257).authz == "deny"
    got = [(f.check.id, f.subject) for f in run_checks(m) if f.check.id == "RW-ISTIO-033"]
    assert got == [("RW-ISTIO-033", "AuthorizationPolicy/shop/db-get")]
    assert not [f for f in run_checks(model(*BASE, AP_GET_API)) if f.check.id == "RW-ISTIO-033"]


def _pod(name: str, labels: dict[str, str], owner: str = "agent") -> str:
    import json as _json

    return _json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {
        "name": name, "namespace": "shop", "labels": labels,
        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": owner, "controller": True}]},
        "spec": {"serviceAccountName": "agent", "containers": [
            {"name": "agent", "image": "x", "ports": [{"name": "http", "containerPort": 9000}]}]}})


def test_pods_of_one_workload_are_decided_per_class() -> None:
    """Issue 19.6: a DaemonSet whose pods carry different labels (one selected by a DENY, one not) is
    not decided as a whole on its first pod: the flow is conditional on which pod, and says so."""
    pods = [_pod("agent-a", {"app": "agent", "pool": "gpu"}), _pod("agent-b", {"app": "agent", "pool": "cpu"})]
    deny_gpu = ap("shop", "no-gpu", {"selector": {"matchLabels": {"pool": "gpu"}}, "action": "DENY",
                                     "rules": [{}]})
    m = model(*BASE, *pods, deny_gpu)
    agent = next(w for w in m.cluster.workloads if w.name == "agent")
    assert len(agent.variants) == 2
    d = flow(m, "shop/web", "shop/agent", 9000)
    assert (d.verdict, d.condition) == ("conditional", "pods pool=gpu: deny; pods pool=cpu: allow")
    # One class opted out of injection: the source side is split too, and the other class stays meshed.
    out = _pod("agent-c", {"app": "agent", "pool": "cpu", "sidecar.istio.io/inject": "false"})
    m2 = model(*BASE, _pod("agent-a", {"app": "agent", "pool": "gpu"}), out)
    agent2 = next(w for w in m2.cluster.workloads if w.name == "agent")
    modes = sorted(m2.membership(v).mode for v, _ in m2.pod_classes(agent2))
    assert modes == ["none", "sidecar"]
    assert flow(m2, "shop/agent", "shop/db", 26257).src_mode == "mixed"


def test_sidecar_egress_hosts_hide_in_mesh_services() -> None:
    """Istio Sidecar reference: a workload sees only the hosts its egress listeners import. With
    REGISTRY_ONLY a hidden Service is unreachable; with ALLOW_ANY it is reached through
    PassthroughCluster, without mTLS (so a STRICT server refuses it)."""
    only_istio = {"workloadSelector": {"labels": {"app": "web"}}, "egress": [{"hosts": ["istio-system/*"]}]}
    sidecar = obj("networking.istio.io/v1", "Sidecar", "shop", "web", only_istio)
    d = flow(model(*BASE, sidecar), "shop/web", "shop/db", 26257)
    assert (d.mtls, d.verdict) == ("no", "allow")
    assert any("leave out db.shop.svc.cluster.local" in e.text for e in d.evidence)
    strict = obj("security.istio.io/v1", "PeerAuthentication", "shop", "strict", {"mtls": {"mode": "STRICT"}})
    assert flow(model(*BASE, sidecar, strict), "shop/web", "shop/db", 26257).verdict == "deny"
    registry = obj("networking.istio.io/v1", "Sidecar", "shop", "web", {
        **only_istio, "outboundTrafficPolicy": {"mode": "REGISTRY_ONLY"}})
    d2 = flow(model(*BASE, registry), "shop/web", "shop/db", 26257)
    assert (d2.verdict, d2.mtls) == ("deny", "no") and "BlackHoleCluster" in d2.reason
    visible = obj("networking.istio.io/v1", "Sidecar", "shop", "web", {
        "workloadSelector": {"labels": {"app": "web"}}, "egress": [{"hosts": ["./*"]}]})
    assert flow(model(*BASE, visible), "shop/web", "shop/db", 26257).mtls == "permissive"


def test_sidecar_egress_proxy_sends_unknown_destinations_to_a_gateway() -> None:
    """Istio Sidecar reference, OutboundTrafficPolicy.egressProxy: with ALLOW_ANY, unknown destinations
    go to the named egress proxy instead of straight out."""
    from ringwall.model.connections import ConnectionSet

    sidecar = obj("networking.istio.io/v1", "Sidecar", "shop", "default", {"outboundTrafficPolicy": {
        "mode": "ALLOW_ANY", "egressProxy": {"host": "istio-egressgateway.istio-system.svc.cluster.local",
                                             "port": {"number": 443}}}})
    m = model(*BASE, sidecar)
    web = next(w for w in m.cluster.workloads if w.name == "web")
    [(_, _, d)] = m.decide_external(web, ((1, 1),), ConnectionSet.of("TCP", [(443, 443)]))
    assert (d.verdict, d.decided_by, d.mtls) == ("allow", "egress-gateway", "no")
    assert "istio-egressgateway.istio-system.svc.cluster.local" in d.reason
