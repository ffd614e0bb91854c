"""Property test: the class-based engine agrees with a brute-force, per-pod evaluator.

The evaluator below is written from the API reference (netpol-semantics §2.4) over raw
manifests, independently of ringwall's parser and engine: no classes, no bitsets, no
partitions - one pod pair and one port at a time.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .harness import build

World = tuple[list[dict[str, Any]], dict[str, dict[str, str]], list[dict[str, Any]]]
KEYS = ["app", "tier", "env"]
VALUES = ["a", "b", "c"]
PROTOS = ["TCP", "UDP", "SCTP"]
PORTS = [80, 81, 443]
NAMES = {80: "http", 81: "alt", 443: "https"}


# ------------------------------------------------------------------ evaluator
def sel_matches(sel: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    if sel is None:
        return True
    for k, v in (sel.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in sel.get("matchExpressions") or []:
        k, op, vals = e["key"], e["operator"], e.get("values") or []
        has = k in labels
        if op == "In" and not (has and labels[k] in vals):
            return False
        if op == "NotIn" and has and labels[k] in vals:
            return False
        if op == "Exists" and not has:
            return False
        if op == "DoesNotExist" and has:
            return False
    return True


def peer_matches(peer: dict[str, Any], pol_ns: str, pod: dict[str, Any], ns_labels: dict[str, dict[str, str]]) -> bool:
    if "ipBlock" in peer:
        ip = ipaddress.ip_address(pod["ip"])
        if ip not in ipaddress.ip_network(peer["ipBlock"]["cidr"], strict=False):
            return False
        return not any(ip in ipaddress.ip_network(e, strict=False) for e in peer["ipBlock"].get("except", []))
    if "namespaceSelector" in peer:
        if not sel_matches(peer["namespaceSelector"], ns_labels[pod["ns"]]):
            return False
    elif pod["ns"] != pol_ns:
        return False
    return "podSelector" not in peer or sel_matches(peer["podSelector"], pod["labels"])


def port_matches(entry: dict[str, Any], proto: str, port: int, dst: dict[str, Any]) -> bool:
    if entry.get("protocol", "TCP") != proto:
        return False
    p = entry.get("port")
    if p is None:
        return True
    if isinstance(p, str):
        return any(cp["name"] == p and cp["protocol"] == proto and cp["port"] == port for cp in dst["ports"])
    return p <= port <= entry.get("endPort", p)


def policy_types(spec: dict[str, Any]) -> list[str]:
    if spec.get("policyTypes"):
        return spec["policyTypes"]
    return ["Ingress", "Egress"] if spec.get("egress") else ["Ingress"]


def direction_allows(direction: str, subject: dict[str, Any], peer: dict[str, Any], proto: str, port: int,
                     dst: dict[str, Any], policies: list[dict[str, Any]], ns_labels: dict[str, dict[str, str]]) -> bool:
    t = "Ingress" if direction == "ingress" else "Egress"
    selecting = [
        p for p in policies
        if p["metadata"]["namespace"] == subject["ns"]
        and sel_matches(p["spec"].get("podSelector"), subject["labels"])
        and t in policy_types(p["spec"])
    ]
    if not selecting:
        return True
    key = "from" if direction == "ingress" else "to"
    for p in selecting:
        for rule in p["spec"].get(direction) or []:
            peers = rule.get(key)
            if peers and not any(peer_matches(x, p["metadata"]["namespace"], peer, ns_labels) for x in peers):
                continue
            ports = rule.get("ports")
            if ports and not any(port_matches(e, proto, port, dst) for e in ports):
                continue
            return True
    return False


# ------------------------------------------------------------------ strategies
labels_st = st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES), max_size=2)


@st.composite
def selector_st(draw: st.DrawFn) -> dict[str, Any]:
    sel: dict[str, Any] = {}
    ml = draw(st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES), max_size=1))
    if ml:
        sel["matchLabels"] = ml
    exprs = []
    for _ in range(draw(st.integers(0, 1))):
        op = draw(st.sampled_from(["In", "NotIn", "Exists", "DoesNotExist"]))
        e: dict[str, Any] = {"key": draw(st.sampled_from(KEYS)), "operator": op}
        if op in ("In", "NotIn"):
            e["values"] = draw(st.lists(st.sampled_from(VALUES), min_size=1, max_size=2, unique=True))
        exprs.append(e)
    if exprs:
        sel["matchExpressions"] = exprs
    return sel


@st.composite
def peer_st(draw: st.DrawFn, ips: list[str]) -> dict[str, Any]:
    kind = draw(st.sampled_from(["pod", "ns", "both", "ip"]))
    if kind == "ip":
        base = draw(st.sampled_from(ips))
        prefix = draw(st.sampled_from([24, 30, 32]))
        net = ipaddress.ip_network(f"{base}/{prefix}", strict=False)
        block: dict[str, Any] = {"cidr": str(net)}
        if prefix < 32 and draw(st.booleans()):
            block["except"] = [f"{draw(st.sampled_from(ips))}/32"]
            if not ipaddress.ip_network(block["except"][0]).subnet_of(net) or block["except"][0] == str(net):
                del block["except"]
        return {"ipBlock": block}
    peer: dict[str, Any] = {}
    if kind in ("pod", "both"):
        peer["podSelector"] = draw(selector_st())
    if kind in ("ns", "both"):
        peer["namespaceSelector"] = draw(selector_st())
    return peer


@st.composite
def port_entry_st(draw: st.DrawFn) -> dict[str, Any]:
    proto = draw(st.sampled_from(PROTOS))
    kind = draw(st.sampled_from(["num", "named", "proto", "range"]))
    entry: dict[str, Any] = {"protocol": proto}
    if kind == "num":
        entry["port"] = draw(st.sampled_from(PORTS))
    elif kind == "named":
        entry["port"] = NAMES[draw(st.sampled_from(PORTS))]
    elif kind == "range":
        entry["port"] = 80
        entry["endPort"] = draw(st.sampled_from([81, 443]))
    return entry


@st.composite
def world_st(draw: st.DrawFn) -> tuple[list[dict[str, Any]], dict[str, dict[str, str]], list[dict[str, Any]]]:
    namespaces = {ns: {"kubernetes.io/metadata.name": ns, **draw(labels_st)} for ns in ("ns1", "ns2")}
    n = draw(st.integers(2, 5))
    pods = []
    for i in range(n):
        ports = [
            {"name": NAMES[p], "port": p + draw(st.sampled_from([0, 1000])), "protocol": draw(st.sampled_from(PROTOS))}
            for p in draw(st.lists(st.sampled_from(PORTS), max_size=2, unique=True))
        ]
        pods.append({"ns": draw(st.sampled_from(list(namespaces))), "name": f"p{i}", "labels": draw(labels_st),
                     "ports": ports, "ip": f"198.51.100.{10 + i}"})
    ips = [p["ip"] for p in pods]
    policies = []
    for j in range(draw(st.integers(0, 4))):
        spec: dict[str, Any] = {"podSelector": draw(selector_st())}
        if draw(st.booleans()):
            spec["policyTypes"] = draw(st.sampled_from([["Ingress"], ["Egress"], ["Ingress", "Egress"]]))
        for direction, key in (("ingress", "from"), ("egress", "to")):
            rules = []
            for _ in range(draw(st.integers(0, 2))):
                rule: dict[str, Any] = {}
                if draw(st.booleans()):
                    rule[key] = draw(st.lists(peer_st(ips), min_size=1, max_size=2))
                if draw(st.booleans()):
                    rule["ports"] = draw(st.lists(port_entry_st(), min_size=1, max_size=2))
                rules.append(rule)
            if rules or draw(st.booleans()):
                spec[direction] = rules
        policies.append({
            "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": f"np{j}", "namespace": draw(st.sampled_from(list(namespaces)))}, "spec": spec,
        })
    return pods, namespaces, policies


def manifests(pods: list[dict[str, Any]], namespaces: dict[str, dict[str, str]],
              policies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    objs: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": labels}}
        for ns, labels in namespaces.items()
    ]
    for p in pods:
        objs.append({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": p["name"], "namespace": p["ns"], "labels": p["labels"]},
            "spec": {"containers": [{"name": "c", "image": "img:1", "ports": [
                {"name": cp["name"], "containerPort": cp["port"], "protocol": cp["protocol"]} for cp in p["ports"]
            ]}]},
            "status": {"podIP": p["ip"]},
        })
    return objs + policies


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(world_st())
def test_engine_matches_bruteforce(world: World) -> None:
    pods, namespaces, policies = world
    # Two pods with identical manifests would share one name in output; names differ, so fine.
    cluster = build(manifests(pods, namespaces, policies), ipblock_pods="auto")
    probe_ports = sorted({80, 81, 443, 1080, 1081, 1443})
    for src in pods:
        for dst in pods:
            if src is dst:
                continue
            for proto in PROTOS:
                for port in probe_ports:
                    eg = direction_allows("egress", src, dst, proto, port, dst, policies, namespaces)
                    ing = direction_allows("ingress", dst, src, proto, port, dst, policies, namespaces)
                    s, d = f"{src['ns']}/{src['name']}", f"{dst['ns']}/{dst['name']}"
                    assert cluster.egress_allowed(s, d, proto, port) == eg, ("egress", s, d, proto, port)
                    assert cluster.ingress_allowed(s, d, proto, port) == ing, ("ingress", s, d, proto, port)
