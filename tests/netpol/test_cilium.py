"""Cilium CiliumNetworkPolicy / CiliumClusterwideNetworkPolicy semantics, table-driven.

Each case names the Cilium documentation rule it checks (docs.cilium.io, "Policy Enforcement
Modes", "Layer 3 Examples" (endpoints, entities, CIDR), "Layer 4 Examples", "Deny Policies",
"Kubernetes Namespaces" in the policy language). Pods as in the Calico tests.
"""

from __future__ import annotations

from typing import Any

import pytest

from ringwall.model import intervals as iv
from ringwall.model.addresses import parse_address

from .test_calico_helpers import BASE, build, knp


def cnp(namespace: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def ccnp(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "cilium.io/v2", "kind": "CiliumClusterwideNetworkPolicy",
            "metadata": {"name": name}, "spec": spec}


DB = {"matchLabels": {"app": "db"}}

CASES: list[tuple[str, list[dict[str, Any]], list[tuple[str, str, str, int, bool]]]] = [
    ("Default enforcement: an endpoint no policy selects allows everything", [],
     [("b/cli", "a/db", "TCP", 80, True)]),
    ("Once a policy selects an endpoint for ingress, ingress is default-deny; allows union",
     [cnp("a", "p", {"endpointSelector": DB, "ingress": [{"fromEndpoints": [{"matchLabels": {"app": "web"}}]}]})],
     [("a/web", "a/db", "TCP", 80, True), ("b/cli", "a/db", "TCP", 80, False), ("a/db", "b/cli", "TCP", 80, True)]),
    ("The ingress: [{}] idiom selects the endpoint and allows nothing",
     [cnp("a", "p", {"endpointSelector": DB, "ingress": [{}]})],
     [("a/web", "a/db", "TCP", 80, False)]),
    ("fromEndpoints of a CiliumNetworkPolicy are confined to the policy's namespace",
     [cnp("a", "p", {"endpointSelector": DB, "ingress": [{"fromEndpoints": [{}]}]})],
     [("a/web", "a/db", "TCP", 80, True), ("b/cli", "a/db", "TCP", 80, False)]),
    ("k8s:io.kubernetes.pod.namespace in a peer selector selects another namespace",
     [cnp("a", "p", {"endpointSelector": DB, "ingress": [
         {"fromEndpoints": [{"matchLabels": {"k8s:io.kubernetes.pod.namespace": "b"}}]}]})],
     [("b/cli", "a/db", "TCP", 80, True), ("a/web", "a/db", "TCP", 80, False)]),
    ("Namespace labels are visible as io.cilium.k8s.namespace.labels.<key>",
     [cnp("a", "p", {"endpointSelector": DB, "ingress": [
         {"fromEndpoints": [{"matchLabels": {"k8s:io.cilium.k8s.namespace.labels.team": "blue",
                                             "k8s:io.kubernetes.pod.namespace": "b"}}]}]})],
     [("b/cli", "a/db", "TCP", 80, True)]),
    ("A CiliumClusterwideNetworkPolicy selects endpoints in every namespace",
     [ccnp("p", {"endpointSelector": {"matchLabels": {"any:app": "cli"}}, "ingress": [{}]})],
     [("a/web", "b/cli", "TCP", 80, False), ("b/cli", "a/web", "TCP", 80, True)]),
    ("ingressDeny takes precedence over any allow (Deny Policies)",
     [ccnp("p", {"endpointSelector": DB,
                 "ingress": [{"fromEntities": ["cluster"]}],
                 "ingressDeny": [{"fromEndpoints": [{"matchLabels": {"app": "cli"}}]}]})],
     [("b/cli", "a/db", "TCP", 80, False), ("a/web", "a/db", "TCP", 80, True)]),
    ("A Cilium deny also overrides a Kubernetes NetworkPolicy allow",
     [knp("a", "all", {"podSelector": {}, "ingress": [{}]}),
      cnp("a", "deny", {"endpointSelector": DB, "ingressDeny": [{"fromEntities": ["all"]}]})],
     [("a/web", "a/db", "TCP", 80, False), ("a/db", "a/web", "TCP", 80, True)]),
    ("toPorts restricts the allow to ports and protocol; endPort gives a range",
     [cnp("a", "p", {"endpointSelector": DB, "ingress": [{"fromEntities": ["all"], "toPorts": [
         {"ports": [{"port": "80", "endPort": 90, "protocol": "TCP"}]}]}]})],
     [("a/web", "a/db", "TCP", 80, True), ("a/web", "a/db", "TCP", 443, False), ("a/web", "a/db", "UDP", 80, False)]),
    ("toPorts without L3 selectors allows the port from every peer",
     [cnp("a", "p", {"endpointSelector": DB, "ingress": [{"toPorts": [{"ports": [{"port": "443"}]}]}]})],
     [("b/cli", "a/db", "TCP", 443, True), ("b/cli", "a/db", "UDP", 443, True), ("b/cli", "a/db", "TCP", 80, False)]),
    ("Named ports in toPorts resolve on the destination",
     [cnp("a", "p", {"endpointSelector": DB, "ingress": [{"toPorts": [
         {"ports": [{"port": "serve-80-tcp", "protocol": "TCP"}]}]}]})],
     [("a/web", "a/db", "TCP", 80, True), ("a/web", "a/db", "TCP", 443, False)]),
    ("L7 rules: the L4 port is allowed (L7 filtering is reported, not decided)",
     [cnp("a", "p", {"endpointSelector": DB, "ingress": [{"toPorts": [
         {"ports": [{"port": "80", "protocol": "TCP"}], "rules": {"http": [{"method": "GET"}]}}]}]})],
     [("a/web", "a/db", "TCP", 80, True)]),
    ("An egress section makes egress default-deny; ingress unaffected",
     [cnp("a", "p", {"endpointSelector": {"matchLabels": {"app": "web"}},
                     "egress": [{"toEndpoints": [DB]}]})],
     [("a/web", "a/db", "TCP", 80, True), ("a/web", "b/cli", "TCP", 80, False), ("b/cli", "a/web", "TCP", 80, True)]),
    ("An omitted or empty ingress list does not apply: the endpoint stays default-allow",
     [cnp("a", "p", {"endpointSelector": DB, "ingress": [], "egress": [{}]})],
     [("a/web", "a/db", "TCP", 80, True), ("a/db", "a/web", "TCP", 80, False)]),
    ("enableDefaultDeny: false keeps the endpoint default-allow; denies still apply",
     [cnp("a", "p", {"endpointSelector": DB, "enableDefaultDeny": {"ingress": False},
                     "ingressDeny": [{"fromEndpoints": [{"matchLabels": {"app": "web"}}]}]})],
     [("a/web", "a/db", "TCP", 80, False), ("b/cli", "a/db", "TCP", 80, True)]),
]


@pytest.mark.parametrize(("rule", "objects", "expect"), CASES, ids=[c[0][:60] for c in CASES])
def test_cilium_semantics(
    rule: str, objects: list[dict[str, Any]], expect: list[tuple[str, str, str, int, bool]]
) -> None:
    cluster = build(BASE + objects, cni="cilium")
    got = [(s, d, p, n, cluster.allowed(s, d, p, n)) for s, d, p, n, _ in expect]
    assert got == expect, rule


def _egress_ips(objects: list[dict[str, Any]], pod: str) -> iv.Intervals:
    c = build(BASE + objects, cni="cilium")
    engine = c.estate.engine(enforced=True)
    bit = c.cls(pod).bit
    out: iv.Intervals = ()
    for mask, ips, conn in engine.egress_to_ips():
        if mask & bit and conn:
            out = iv.union(out, ips)
    return out


def test_to_cidr_set_except() -> None:
    """toCIDRSet with except: the except ranges are not allowed."""
    ips = _egress_ips([cnp("a", "p", {"endpointSelector": {"matchLabels": {"app": "web"}}, "egress": [
        {"toCIDRSet": [{"cidr": "192.0.2.0/24", "except": ["192.0.2.128/25"]}]}]})], "a/web")
    assert iv.contains(ips, parse_address("192.0.2.1"))
    assert not iv.contains(ips, parse_address("192.0.2.200"))


def test_world_entity() -> None:
    """toEntities: world is every address outside the cluster."""
    ips = _egress_ips([cnp("a", "p", {"endpointSelector": {"matchLabels": {"app": "web"}},
                                      "egress": [{"toEntities": ["world"]}]})], "a/web")
    assert iv.contains(ips, parse_address("8.8.8.8"))


def test_to_fqdns_is_reported() -> None:
    """toFQDNs is not statically decidable: it matches nothing, and a diagnostic says so."""
    c = build([*BASE, cnp("a", "p", {"endpointSelector": {"matchLabels": {"app": "web"}},
                                     "egress": [{"toFQDNs": [{"matchName": "example.com"}]}]})], cni="cilium")
    assert any(d.code == "cilium.approximation" and "toFQDNs" in d.message for d in c.estate.sink.items)
    assert not c.allowed("a/web", "a/db", "TCP", 80)


def test_cilium_void_without_cilium() -> None:
    objs = [*BASE, cnp("a", "p", {"endpointSelector": DB, "ingress": [{}]})]
    assert build(objs, cni="calico").allowed("a/web", "a/db", "TCP", 80)
    assert not build(objs, cni="cilium").allowed("a/web", "a/db", "TCP", 80)
