"""Cluster-wide tiers, table-driven. Reference: network-policy-api `site-src/api-overview.md` and the
ClusterNetworkPolicy v1alpha2 type comments (netpol-semantics §4-6): Admin -> NetworkPolicy ->
Baseline -> default allow; first matching rule wins; Accept/Allow and Deny are final; Pass skips the
rest of its tier (in the Baseline tier, to the default allow)."""

from __future__ import annotations

from typing import Any

import pytest

from .harness import build, namespace_manifest, pod_manifest

NAMESPACES = {"a": {"team": "a"}, "b": {"team": "b"}}
PODS = ["a/x", "b/y"]


def cnp(name: str, tier: str, priority: int, ingress: list[dict[str, Any]] | None = None,
        egress: list[dict[str, Any]] | None = None, subject: dict[str, Any] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"tier": tier, "priority": priority,
                            "subject": subject or {"namespaces": {"matchLabels": {"team": "a"}}}}
    if ingress is not None:
        spec["ingress"] = ingress
    if egress is not None:
        spec["egress"] = egress
    return {"apiVersion": "policy.networking.k8s.io/v1alpha2", "kind": "ClusterNetworkPolicy",
            "metadata": {"name": name}, "spec": spec}


FROM_B = [{"namespaces": {"matchLabels": {"team": "b"}}}]
TCP80 = [{"tcp": {"destinationPort": {"number": 80}}}]
NP_DENY_A = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
             "metadata": {"name": "deny", "namespace": "a"}, "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}
NP_ALLOW_80 = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
               "metadata": {"name": "allow80", "namespace": "a"},
               "spec": {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{"ports": [{"port": 80}]}]}}

CASES = [
    # (id, policies, {(proto, port): allowed b/y -> a/x})
    ("accept-overrides-np-deny", [NP_DENY_A, cnp("acc", "Admin", 10, [{"action": "Accept", "from": FROM_B,
                                                                        "protocols": TCP80}])],
     {("TCP", 80): True, ("TCP", 81): False}),
    ("deny-beats-np-allow", [NP_ALLOW_80, cnp("deny", "Admin", 10, [{"action": "Deny", "from": FROM_B}])],
     {("TCP", 80): False, ("UDP", 53): False}),
    ("pass-goes-to-np", [NP_ALLOW_80, cnp("pass", "Admin", 10, [{"action": "Pass", "from": FROM_B}]),
                         cnp("deny-later", "Admin", 20, [{"action": "Deny", "from": FROM_B}])],
     {("TCP", 80): True, ("TCP", 81): False}),
    ("first-match-by-priority", [cnp("deny", "Admin", 5, [{"action": "Deny", "from": FROM_B, "protocols": TCP80}]),
                                 cnp("acc", "Admin", 9, [{"action": "Accept", "from": FROM_B}])],
     {("TCP", 80): False, ("TCP", 81): True}),
    ("baseline-deny-without-np", [cnp("base", "Baseline", 1, [{"action": "Deny", "from": FROM_B}])],
     {("TCP", 80): False}),
    ("np-decides-before-baseline", [NP_ALLOW_80, cnp("base", "Baseline", 1, [{"action": "Deny", "from": FROM_B}])],
     {("TCP", 80): True, ("TCP", 81): False}),
    ("baseline-pass-is-allow", [cnp("p", "Baseline", 1, [{"action": "Pass", "from": FROM_B, "protocols": TCP80}]),
                                cnp("d", "Baseline", 2, [{"action": "Deny", "from": FROM_B}])],
     {("TCP", 80): True, ("TCP", 81): False}),
    ("protocol-without-port-and-range", [cnp("acc", "Admin", 1, [{"action": "Accept", "from": FROM_B, "protocols": [
        {"udp": {}}, {"tcp": {"destinationPort": {"range": {"start": 8000, "end": 8002}}}}]}]),
        cnp("deny", "Admin", 2, [{"action": "Deny", "from": FROM_B}])],
     {("UDP", 5353): True, ("TCP", 8001): True, ("TCP", 8003): False, ("SCTP", 1): False}),
    ("named-port-on-destination", [cnp("acc", "Admin", 1, [{"action": "Accept", "from": FROM_B, "protocols": [
        {"destinationNamedPort": "serve-80-tcp"}]}]), cnp("deny", "Admin", 2, [{"action": "Deny", "from": FROM_B}])],
     {("TCP", 80): True, ("TCP", 81): False}),
    ("unrelated-subject-untouched", [cnp("deny", "Admin", 1, [{"action": "Deny", "from": FROM_B}],
                                         subject={"namespaces": {"matchLabels": {"team": "zzz"}}})],
     {("TCP", 80): True}),
]


@pytest.mark.parametrize(("case_id", "policies", "expect"), CASES, ids=[c[0] for c in CASES])
def test_tiers(case_id: str, policies: list[dict[str, Any]], expect: dict[tuple[str, int], bool]) -> None:
    objs: list[dict[str, Any]] = [namespace_manifest(n, labels) for n, labels in NAMESPACES.items()]
    objs += [pod_manifest(*p.split("/"), [80, 81], ["TCP"]) for p in PODS]
    cluster = build(objs + policies)
    for (proto, port), allowed in expect.items():
        assert cluster.ingress_allowed("b/y", "a/x", proto, port) == allowed, (case_id, proto, port)
        assert cluster.allowed("b/y", "a/x", proto, port) == allowed, (case_id, proto, port)


def test_egress_networks_and_accept_does_not_bypass_destination_ingress() -> None:
    objs: list[dict[str, Any]] = [namespace_manifest(n, labels) for n, labels in NAMESPACES.items()]
    objs += [pod_manifest(*p.split("/"), [80], ["TCP"]) for p in PODS]
    objs.append(cnp("egress", "Admin", 1, egress=[
        {"action": "Accept", "to": [{"namespaces": {"matchLabels": {"team": "b"}}}]},
        {"action": "Deny", "to": [{"networks": ["0.0.0.0/0"]}]},
    ]))
    objs.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                 "metadata": {"name": "deny", "namespace": "b"},
                 "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}})
    cluster = build(objs)
    assert cluster.egress_allowed("a/x", "b/y", "TCP", 80) is True
    assert cluster.allowed("a/x", "b/y", "TCP", 80) is False  # b's own ingress still decides
    from ringwall.analysis.connlist import compute_connlist

    lines = compute_connlist(cluster.estate.engine(enforced=True)).lines()
    assert not any(line.startswith("a/x[Pod] => 0.0.0.0") for line in lines)  # networks Deny blocks the internet
