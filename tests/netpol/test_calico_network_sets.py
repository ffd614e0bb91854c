"""Calico NetworkSets and GlobalNetworkSets matched by rule selectors (issue 19.7).

Calico "Network set" / "Global network set" references: a rule ``selector`` also matches the
network sets whose labels it selects - NetworkSets of the policy's namespace for a NetworkPolicy,
GlobalNetworkSets (and NetworkSets) for a GlobalNetworkPolicy, GlobalNetworkSets for a
NetworkPolicy rule whose ``namespaceSelector`` holds ``global()``.
"""

from __future__ import annotations

from typing import Any

from ringwall.analysis.connlist import compute_connlist

from .test_calico_helpers import build, cnp, gnp, ns, pod

PODS = [ns("shop"), ns("ops"), pod("shop", "web", {"app": "web"}, "10.1.0.5"), pod("ops", "tool", {"app": "tool"})]


def netset(name: str, labels: dict[str, str], nets: list[str], namespace: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": labels}
    if namespace:
        meta["namespace"] = namespace
    return {"apiVersion": "projectcalico.org/v3", "kind": "NetworkSet" if namespace else "GlobalNetworkSet",
            "metadata": meta, "spec": {"nets": nets}}


def _egress(objects: list[dict[str, Any]], src: str = "shop/web[Pod]") -> list[str]:
    cluster = build([*PODS, *objects], cni="calico")
    cl = compute_connlist(cluster.estate.engine(enforced=True))
    return [c.line() for c in cl.connections if c.src == src and c.dst_is_ip]


EGRESS_TO_PSP = [{"action": "Allow", "protocol": "TCP", "destination": {"selector": "role == 'psp'",
                                                                       "ports": [443]}}]


def test_namespaced_network_set_in_the_policy_namespace() -> None:
    objects = [netset("psp", {"role": "psp"}, ["203.0.113.0/24"], "shop"),
               cnp("shop", "web-out", {"selector": "app == 'web'", "types": ["Egress"], "egress": EGRESS_TO_PSP})]
    assert _egress(objects) == ["shop/web[Pod] => 203.0.113.0-203.0.113.255[External] : TCP 443"]


def test_network_set_of_another_namespace_is_not_seen() -> None:
    objects = [netset("psp", {"role": "psp"}, ["203.0.113.0/24"], "ops"),
               cnp("shop", "web-out", {"selector": "app == 'web'", "types": ["Egress"], "egress": EGRESS_TO_PSP})]
    assert _egress(objects) == []


def test_global_network_set_needs_global_namespace_selector_in_a_namespaced_policy() -> None:
    gset = netset("psp", {"role": "psp"}, ["198.51.100.0/28"])
    plain = cnp("shop", "web-out", {"selector": "app == 'web'", "types": ["Egress"], "egress": EGRESS_TO_PSP})
    assert _egress([gset, plain]) == []
    rule = [{**EGRESS_TO_PSP[0], "destination": {**EGRESS_TO_PSP[0]["destination"], "namespaceSelector": "global()"}}]
    scoped = cnp("shop", "web-out", {"selector": "app == 'web'", "types": ["Egress"], "egress": rule})
    assert _egress([gset, scoped]) == ["shop/web[Pod] => 198.51.100.0-198.51.100.15[External] : TCP 443"]


def test_global_network_policy_deny_from_a_global_set() -> None:
    """A GlobalNetworkPolicy denying ingress from a labelled GlobalNetworkSet (the "block a bad
    actors list" recipe): those addresses lose access, the rest of the world keeps it."""
    objects = [netset("bad", {"threat": "known"}, ["192.0.2.0/24"]),
               gnp("block-bad", {"order": 10, "selector": "all()", "types": ["Ingress"],
                                 "ingress": [{"action": "Deny", "source": {"selector": "threat == 'known'"}},
                                             {"action": "Allow"}]})]
    cluster = build([*PODS, *objects], cni="calico")
    cl = compute_connlist(cluster.estate.engine(enforced=True))
    into_web = [c.line() for c in cl.connections if c.dst == "shop/web[Pod]" and c.src_is_ip]
    assert into_web == ["0.0.0.0-192.0.1.255[External] => shop/web[Pod] : All Connections",
                        "192.0.3.0-255.255.255.255[External] => shop/web[Pod] : All Connections"]


def test_network_set_holding_a_pod_address_matches_the_pod() -> None:
    """Sets are address sets: a pod whose address is inside one is matched, as by nets."""
    objects = [netset("lab", {"zone": "lab"}, ["10.1.0.0/24"], "ops"),
               cnp("ops", "tool-in", {"selector": "app == 'tool'",
                                      "ingress": [{"action": "Allow", "source": {"selector": "zone == 'lab'",
                                                                                 "namespaceSelector": "all()"}}]})]
    cluster = build([*PODS, *objects], cni="calico")
    assert cluster.allowed("shop/web", "ops/tool", "TCP", 80)
