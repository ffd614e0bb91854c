"""Quick checks of the benchmark inputs and of the NCA output converter.

The benchmark figures are only worth something if the generated clusters are what they claim
(exact counts, valid NetworkPolicy objects that every tool reads the same way, byte-identical
output for equal seeds) and if NCA's answers are translated faithfully before they are compared
with Ringwall's. These tests pin exactly that; they take a few seconds.
"""

from __future__ import annotations

import ipaddress
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCH))

import gen_cluster  # noqa: E402 - benchmarks/ is a folder of scripts, not a package
import nca_peer  # noqa: E402
import run as bench_run  # noqa: E402

Obj = dict[str, Any]
PORT_NAME = re.compile(r"^(?=.*[a-z])[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def _load_folder(path: Path) -> list[Obj]:
    docs: list[Obj] = []
    for f in sorted(path.rglob("*.yaml")):
        for doc in yaml.safe_load_all(f.read_text()):
            if doc is None:
                continue
            docs.extend(doc["items"] if doc.get("kind") == "List" else [doc])
    return docs


def _files(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def s_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("S") / "S"
    gen_cluster.generate("S", out)
    return out


@pytest.fixture(scope="module")
def s_docs(s_folder: Path) -> list[Obj]:
    return _load_folder(s_folder)


# ----------------------------------------------------------------------------------------------------
# determinism and counts


@pytest.mark.parametrize("form", ["workloads", "standalone", "pods"])
def test_generator_is_deterministic(tmp_path: Path, form: str) -> None:
    gen_cluster.generate("S", tmp_path / "a", seed=7, pods_as=form)
    gen_cluster.generate("S", tmp_path / "b", seed=7, pods_as=form)
    assert _files(tmp_path / "a") == _files(tmp_path / "b")


def test_seed_changes_the_cluster(tmp_path: Path) -> None:
    gen_cluster.generate("S", tmp_path / "a", seed=1)
    gen_cluster.generate("S", tmp_path / "b", seed=2)
    assert _files(tmp_path / "a") != _files(tmp_path / "b")


def test_s_counts_in_the_manifest_folder(s_docs: list[Obj]) -> None:
    spec = gen_cluster.SIZES["S"]
    kinds: dict[str, list[Obj]] = {}
    for d in s_docs:
        kinds.setdefault(d["kind"], []).append(d)
    assert len(kinds["Namespace"]) == spec.namespaces
    assert len(kinds["NetworkPolicy"]) == spec.policies
    workloads = kinds["Deployment"] + kinds["StatefulSet"] + kinds["DaemonSet"]
    assert len(workloads) == spec.workloads
    pods = sum(spec.nodes if w["kind"] == "DaemonSet" else w["spec"]["replicas"] for w in workloads)
    assert pods == spec.pods
    assert {"Deployment", "StatefulSet", "DaemonSet", "Service"} <= set(kinds)
    assert len(kinds["Deployment"]) > len(kinds["StatefulSet"]) > len(kinds["DaemonSet"])


def test_s_standalone_pods_have_no_owner_and_no_address(tmp_path: Path) -> None:
    gen_cluster.generate("S", tmp_path / "s", pods_as="standalone")
    pods = [d for d in _load_folder(tmp_path / "s") if d["kind"] == "Pod"]
    assert len(pods) == gen_cluster.SIZES["S"].pods
    assert len({(p["metadata"]["namespace"], p["metadata"]["name"]) for p in pods}) == len(pods)
    assert all("ownerReferences" not in p["metadata"] and "status" not in p for p in pods)


def test_pod_dump_is_one_list_with_owned_addressed_pods(tmp_path: Path) -> None:
    gen_cluster.generate("S", tmp_path / "d", pods_as="pods")
    assert [p.name for p in (tmp_path / "d").iterdir()] == ["cluster.yaml"]
    dump = yaml.safe_load((tmp_path / "d" / "cluster.yaml").read_text())
    assert dump["kind"] == "List"
    pods = [i for i in dump["items"] if i["kind"] == "Pod"]
    assert len(pods) == gen_cluster.SIZES["S"].pods
    pod_net = ipaddress.ip_network("10.0.0.0/8")
    ips = set()
    for p in pods:
        owner = p["metadata"]["ownerReferences"][0]
        assert owner["kind"] in ("ReplicaSet", "StatefulSet", "DaemonSet")
        ip = ipaddress.ip_address(p["status"]["podIP"])
        if p["spec"].get("hostNetwork"):
            assert ip == ipaddress.ip_address(p["status"]["hostIP"])
        else:
            assert ip in pod_net
            ips.add(ip)
    assert len(ips) == sum(1 for p in pods if not p["spec"].get("hostNetwork"))


@pytest.mark.parametrize("size", ["M", "L"])
def test_plan_counts_are_exact(size: str) -> None:
    spec = gen_cluster.SIZES[size]
    cluster = gen_cluster.plan(spec)
    assert len(cluster.namespaces) == spec.namespaces
    assert len(cluster.workloads) == spec.workloads
    assert cluster.pod_count() == spec.pods
    assert len(cluster.policies) == spec.policies
    assert len({(p["metadata"]["namespace"], p["metadata"]["name"]) for p in cluster.policies}) == spec.policies


def test_fragmented_profile_needs_single_pods(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="fragmented"):
        gen_cluster.generate("S", tmp_path / "x", fragmented=True)


# ----------------------------------------------------------------------------------------------------
# NetworkPolicy shapes


def _check_selector(sel: Any, where: str) -> None:
    assert isinstance(sel, dict), where
    assert set(sel) <= {"matchLabels", "matchExpressions"}, where
    for req in sel.get("matchExpressions", []):
        assert req["operator"] in ("In", "NotIn", "Exists", "DoesNotExist"), where
        if req["operator"] in ("In", "NotIn"):
            assert req["values"], where
        else:
            assert "values" not in req, where


def _check_peer(peer: Obj, where: str) -> None:
    assert peer, f"{where}: empty peer"
    assert set(peer) <= {"podSelector", "namespaceSelector", "ipBlock"}, where
    if "ipBlock" in peer:
        assert set(peer) == {"ipBlock"}, f"{where}: ipBlock mixed with a selector"
        net = ipaddress.ip_network(peer["ipBlock"]["cidr"])
        assert net.version == 4, where
        for ex in peer["ipBlock"].get("except", []):
            sub = ipaddress.ip_network(ex)
            assert sub.subnet_of(net) and sub.prefixlen > net.prefixlen, f"{where}: bad except {ex}"
        return
    for key in ("podSelector", "namespaceSelector"):
        if key in peer:
            _check_selector(peer[key], f"{where}.{key}")
    if "namespaceSelector" in peer and "podSelector" in peer:
        # NCA divergence D12: Exists/DoesNotExist next to a namespaceSelector
        ops = {r["operator"] for r in peer["podSelector"].get("matchExpressions", [])}
        assert not ops & {"Exists", "DoesNotExist"}, f"{where}: D12 construct"


def _check_port(entry: Obj, where: str) -> None:
    assert entry, where
    assert set(entry) <= {"protocol", "port", "endPort"}, where
    assert entry.get("protocol", "TCP") in ("TCP", "UDP", "SCTP"), where
    port = entry.get("port")
    if isinstance(port, int):
        assert 1 <= port <= 65535, where
        if "endPort" in entry:
            assert port <= entry["endPort"] <= 65535, where
    elif port is not None:
        assert isinstance(port, str) and len(port) <= 15 and PORT_NAME.match(port) and "--" not in port, where
        assert "endPort" not in entry, where
    else:
        assert "endPort" not in entry, where


def test_every_policy_has_a_valid_shape(s_docs: list[Obj]) -> None:
    policies = [d for d in s_docs if d["kind"] == "NetworkPolicy"]
    named_ports = {p["name"] for d in s_docs if d["kind"] in ("Deployment", "StatefulSet", "DaemonSet")
                   for c in d["spec"]["template"]["spec"]["containers"] for p in c.get("ports", [])}
    seen_ops: set[str] = set()
    features: set[str] = set()
    for pol in policies:
        name = f'{pol["metadata"]["namespace"]}/{pol["metadata"]["name"]}'
        spec = pol["spec"]
        assert "podSelector" in spec, name
        _check_selector(spec["podSelector"], name)
        types = spec["policyTypes"]
        assert types in (["Ingress"], ["Egress"], ["Ingress", "Egress"]), name
        assert ("ingress" in spec) <= ("Ingress" in types), name
        assert ("egress" in spec) <= ("Egress" in types), name
        for direction, peers_key in (("ingress", "from"), ("egress", "to")):
            assert spec.get(direction) != [], f"{name}: write deny-all without the key"
            for i, rule in enumerate(spec.get(direction, [])):
                for j, peer in enumerate(rule.get(peers_key, [])):
                    _check_peer(peer, f"{name}.{direction}[{i}].{peers_key}[{j}]")
                    for key in ("podSelector", "namespaceSelector"):
                        seen_ops |= {r["operator"] for r in peer.get(key, {}).get("matchExpressions", [])}
                    features.add("ipBlock" if "ipBlock" in peer else "selector")
                    if {"namespaceSelector", "podSelector"} <= set(peer):
                        features.add("ns-and-pod")
                for k, entry in enumerate(rule.get("ports", [])):
                    _check_port(entry, f"{name}.{direction}[{i}].ports[{k}]")
                    if isinstance(entry.get("port"), str):
                        assert entry["port"] in named_ports, f"{name}: unknown named port {entry['port']}"
                        features.add("named")
                    if "endPort" in entry:
                        features.add("range")
                    if "except" in str(rule):
                        features.add("except")
        seen_ops |= {r["operator"] for r in spec["podSelector"].get("matchExpressions", [])}
    assert seen_ops == {"In", "NotIn", "Exists", "DoesNotExist"}
    assert {"ipBlock", "selector", "ns-and-pod", "named", "range", "except"} <= features


def test_platform_pieces_exist(s_docs: list[Obj]) -> None:
    by_name = {(d["metadata"].get("namespace"), d["metadata"]["name"]): d for d in s_docs}
    coredns = by_name[("kube-system", "coredns")]
    assert coredns["spec"]["template"]["metadata"]["labels"]["k8s-app"] == "kube-dns"
    calico = by_name[("kube-system", "calico-node")]
    assert calico["kind"] == "DaemonSet" and calico["spec"]["template"]["spec"]["hostNetwork"] is True
    ns_labels = [d["metadata"]["labels"] for d in s_docs if d["kind"] == "Namespace"]
    assert all({"team", "env", "tier", "kubernetes.io/metadata.name"} <= set(lab) for lab in ns_labels)


# ----------------------------------------------------------------------------------------------------
# NCA output conversion

NCA_TEXT = "\n".join([
    "0.0.0.0-203.0.112.255 => ops/probe-1[Pod] : All connections",
    "203.0.113.0-203.0.113.127 => shop/web[Deployment] : {protocols:TCP,dst_ports:8080}",
    "shop/web[Deployment] => 0.0.0.0-9.255.255.255 : {protocols:SCTP}",
    "shop/web[Deployment] => 0.0.0.0-9.255.255.255 : {protocols:UDP,dst_ports:53}",
    "shop/web[Deployment] => shop/db[Deployment] : "
    "{protocols:TCP,dst_ports:5432,8000-8010},{protocols:UDP, SCTP,dst_ports:53}",
    "shop/db[Deployment] => ops/probe-1[Pod] : All but {protocols:TCP,dst_ports:1-79,81-65535}",
    "shop/db[Deployment] => shop/web[Deployment] : {protocols:all but TCP}",
    "ops/probe-1[Pod] => 10.0.0.0/8 : {dst_ports:443}",
    "ops/probe-1[Pod] => shop/db[Deployment] : No connections",
    "",
])

EXPECTED = [
    "0.0.0.0-203.0.112.255[External] => ops/probe-1[Pod] : All Connections",
    "203.0.113.0-203.0.113.127[External] => shop/web[Deployment] : TCP 8080",
    "ops/probe-1[Pod] => 10.0.0.0-10.255.255.255[External] : SCTP 443,TCP 443,UDP 443",
    "shop/db[Deployment] => ops/probe-1[Pod] : SCTP 1-65535,TCP 80,UDP 1-65535",
    "shop/db[Deployment] => shop/web[Deployment] : SCTP 1-65535,UDP 1-65535",
    "shop/web[Deployment] => 0.0.0.0-9.255.255.255[External] : SCTP 1-65535,UDP 53",
    "shop/web[Deployment] => shop/db[Deployment] : SCTP 53,TCP 5432,8000-8010,UDP 53",
]


def test_converter_turns_nca_text_into_connlist_lines() -> None:
    conv = nca_peer.convert(NCA_TEXT)
    assert conv.lines == EXPECTED
    assert not conv.livesim and not conv.skipped


def test_converter_skips_headers_and_flags_livesim() -> None:
    text = ("For connections of type TCP, final connections:\n"
            "kube-system/kube-dns-livesim[Pod] => a/b[Deployment] : All connections\n")
    conv = nca_peer.convert(text)
    assert conv.skipped == ["For connections of type TCP, final connections:"]
    assert conv.livesim == {"kube-system/kube-dns-livesim[Pod]"}


def test_converter_splits_address_lists_and_rejects_mesh_dimensions() -> None:
    conv = nca_peer.convert("a/b[Pod] => 1.0.0.0-1.0.0.255,2.0.0.0/24 : {protocols:TCP,dst_ports:80}\n")
    assert conv.lines == ["a/b[Pod] => 1.0.0.0-1.0.0.255[External] : TCP 80",
                          "a/b[Pod] => 2.0.0.0-2.0.0.255[External] : TCP 80"]
    with pytest.raises(nca_peer.ConversionError):
        nca_peer.convert("a/b[Pod] => c/d[Pod] : {protocols:TCP,methods:GET}\n")


def test_timings_are_read_from_stderr() -> None:
    err = "warning: x\ntiming: parse 1.23s\ntiming: model 12ms\ntiming: analysis 0.45s\n"
    assert bench_run.parse_timings(err) == {"parse": 1.23, "model": 0.012, "analysis": 0.45}
