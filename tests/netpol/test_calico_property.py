"""Property: a set of Kubernetes NetworkPolicies and the same policies written as Calico
NetworkPolicies (Allow rules, default tier) give the same connectivity.

Calico's documentation states that Kubernetes NetworkPolicies are implemented as Calico
policies of the default tier; a Calico policy made only of Allow rules, selecting the same pods
with the same types, must therefore allow exactly what the NetworkPolicy allows. The
translation below is written from the two references (label selector vs selector expression,
``from`` peers vs one Allow rule per peer), independently of the engine.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ringwall.layers.netpol.engine import pair_conn

from .test_calico_helpers import build, ns, pod

KEYS = ["app", "tier"]
VALUES = ["a", "b"]
PORTS = [80, 443]

labels_st = st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES), max_size=2)
peer_st = st.one_of(
    st.fixed_dictionaries({"podSelector": st.fixed_dictionaries({"matchLabels": labels_st})}),
    st.fixed_dictionaries({"namespaceSelector": st.fixed_dictionaries(
        {"matchLabels": st.dictionaries(st.just("team"), st.sampled_from(["red", "blue"]), max_size=1)})}),
)
rule_st = st.fixed_dictionaries({}, optional={
    "peers": st.lists(peer_st, min_size=1, max_size=2),
    "ports": st.lists(st.sampled_from(PORTS), min_size=1, max_size=2, unique=True),
})
policy_st = st.fixed_dictionaries({
    "ns": st.sampled_from(["x", "y"]),
    "selector": labels_st,
    "types": st.sampled_from([["Ingress"], ["Egress"], ["Ingress", "Egress"]]),
    "ingress": st.lists(rule_st, max_size=2),
    "egress": st.lists(rule_st, max_size=2),
})


def ec_mode(cluster: Any) -> bool:
    """The Calico side really runs through the Calico tiers (not the NetworkPolicy path)."""
    return bool(cluster.estate.engine(enforced=True).calico_mode)


def _expr(labels: dict[str, str]) -> str:
    return " && ".join(f"{k} == '{v}'" for k, v in sorted(labels.items())) or "all()"


def as_k8s(i: int, p: dict[str, Any]) -> dict[str, Any]:
    def rule(r: dict[str, Any], key: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if "peers" in r:
            out[key] = r["peers"]
        if "ports" in r:
            out["ports"] = [{"protocol": "TCP", "port": n} for n in r["ports"]]
        return out
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": f"p{i}", "namespace": p["ns"]},
            "spec": {"podSelector": {"matchLabels": p["selector"]}, "policyTypes": p["types"],
                     "ingress": [rule(r, "from") for r in p["ingress"]],
                     "egress": [rule(r, "to") for r in p["egress"]]}}


def as_calico(i: int, p: dict[str, Any]) -> dict[str, Any]:
    def rules(rs: list[dict[str, Any]], side: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for r in rs:
            base: dict[str, Any] = {"action": "Allow"}
            if "ports" in r:
                base["protocol"] = "TCP"
            ports = {"ports": list(r["ports"])} if "ports" in r else {}
            for peer in r.get("peers") or [None]:
                ent: dict[str, Any] = {}
                if peer is not None and "podSelector" in peer:
                    ent["selector"] = _expr(peer["podSelector"]["matchLabels"])
                elif peer is not None:
                    ent["namespaceSelector"] = _expr(peer["namespaceSelector"]["matchLabels"])
                rule = dict(base)
                if side == "ingress":
                    rule["source"] = ent
                    rule["destination"] = dict(ports)
                else:
                    rule["destination"] = {**ent, **ports}
                out.append(rule)
        return out
    return {"apiVersion": "projectcalico.org/v3", "kind": "NetworkPolicy",
            "metadata": {"name": f"p{i}", "namespace": p["ns"]},
            "spec": {"selector": _expr(p["selector"]), "types": p["types"],
                     "ingress": rules(p["ingress"], "ingress") if "Ingress" in p["types"] else [],
                     "egress": rules(p["egress"], "egress") if "Egress" in p["types"] else []}}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pods=st.lists(st.tuples(st.sampled_from(["x", "y"]), labels_st), min_size=2, max_size=5),
       policies=st.lists(policy_st, min_size=1, max_size=3))
def test_calico_equals_kubernetes(pods: list[tuple[str, dict[str, str]]], policies: list[dict[str, Any]]) -> None:
    world = [ns("x", team="red"), ns("y", team="blue")]
    world += [pod(n, f"p{i}", lab or {"none": "x"}, ports=(80, 443)) for i, (n, lab) in enumerate(pods)]
    k8s = build(world + [as_k8s(i, p) for i, p in enumerate(policies)])
    cal = build(world + [as_calico(i, p) for i, p in enumerate(policies)], cni="calico")
    assert len(cal.estate.calico.policies) == len(policies) and ec_mode(cal)
    names = [f"{n}/p{i}" for i, (n, _) in enumerate(pods)]
    ek, ec = k8s.estate.engine(enforced=True), cal.estate.engine(enforced=True)
    for s in names:
        for d in names:
            a = pair_conn(ek, k8s.cls(s), k8s.cls(d))
            b = pair_conn(ec, cal.cls(s), cal.cls(d))
            assert a == b, (s, d, str(a), str(b))
