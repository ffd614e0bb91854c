"""Pods whose address the input does not know meet ipBlocks, Calico ``nets`` and ``notNets``.

Every pod has an address in the cluster's pod network. Ringwall matches such a pod as *some
address of the pod network* (Node ``podCIDRs``, Calico IPPools, else 10.244.0.0/16), so that
equivalent spellings of one address set give one answer (issue 19.1; Calico "Network policy"
reference, rule ``nets``/``notNets``; Kubernetes NetworkPolicy ``ipBlock``). The answer is exact
when every net contains the whole pod network or none of it, and flagged approximate otherwise.
"""

from __future__ import annotations

from typing import Any

import pytest

from .test_calico_helpers import build, cnp, knp, ns, pod

PODS = [ns("default"), pod("default", "a", {"app": "a"}), pod("default", "b", {"app": "b"})]


def _calico_ingress(rules: list[dict[str, Any]]) -> dict[str, Any]:
    return cnp("default", "to-b", {"selector": "app == 'b'", "ingress": rules})


def _np_ingress(peers: list[dict[str, Any]]) -> dict[str, Any]:
    return knp("default", "to-b", {"podSelector": {"matchLabels": {"app": "b"}}, "policyTypes": ["Ingress"],
                                   "ingress": [{"from": peers, "ports": [{"protocol": "TCP"}]}]})


def _node(cidr: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"},
            "spec": {"podCIDR": cidr, "podCIDRs": [cidr]},
            "status": {"addresses": [{"type": "InternalIP", "address": "192.0.2.10"}]}}



SPELLINGS: list[tuple[str, list[dict[str, Any]], bool]] = [
    ("calico nets 0.0.0.0/0", [_calico_ingress([
        {"action": "Allow", "protocol": "TCP", "source": {"nets": ["0.0.0.0/0"]}}])], True),
    ("calico notNets 0.0.0.0/1 | notNets 128.0.0.0/1 (the issue's reproduction)", [_calico_ingress([
        {"action": "Allow", "protocol": "TCP", "source": {"notNets": ["0.0.0.0/1"]}},
        {"action": "Allow", "protocol": "TCP", "source": {"notNets": ["128.0.0.0/1"]}}])], True),
    ("calico nets 0.0.0.0/1 | nets 128.0.0.0/1", [_calico_ingress([
        {"action": "Allow", "protocol": "TCP", "source": {"nets": ["0.0.0.0/1", "128.0.0.0/1"]}}])], True),
    ("calico notNets 0.0.0.0/0 matches no pod", [_calico_ingress([
        {"action": "Allow", "protocol": "TCP", "source": {"notNets": ["0.0.0.0/0"]}}])], False),
    ("calico nets of the private ranges contain the pod network", [_calico_ingress([
        {"action": "Allow", "protocol": "TCP", "source": {"nets": ["10.0.0.0/8"]}}])], True),
    ("calico nets outside the pod network", [_calico_ingress([
        {"action": "Allow", "protocol": "TCP", "source": {"nets": ["203.0.113.0/24"]}}])], False),
    ("kubernetes ipBlock 0.0.0.0/0", [_np_ingress([{"ipBlock": {"cidr": "0.0.0.0/0"}}])], True),
    ("kubernetes ipBlocks 0.0.0.0/1 and 128.0.0.0/1", [_np_ingress([
        {"ipBlock": {"cidr": "0.0.0.0/1"}}, {"ipBlock": {"cidr": "128.0.0.0/1"}}])], True),
    ("kubernetes ipBlock 0.0.0.0/0 except the private ranges (the internet-only idiom)", [_np_ingress([
        {"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]}}])], False),
]


@pytest.mark.parametrize(("name", "objects", "allowed"), SPELLINGS, ids=[s[0] for s in SPELLINGS])
def test_equivalent_spellings_agree(name: str, objects: list[dict[str, Any]], allowed: bool) -> None:
    cluster = build([*PODS, *objects], cni="calico")
    assert cluster.allowed("default/a", "default/b", "TCP", 80) is allowed
    assert not cluster.allowed("default/a", "default/b", "UDP", 80)
    assert not [d for d in cluster.estate.sink.items if d.code == "netpol.pod-address-assumed"]


def test_pod_network_from_nodes() -> None:
    """With the Nodes' podCIDRs in 192.168.0.0/16 the internet-only idiom still excludes pods, and a
    net covering only that network matches them."""
    peers = [{"ipBlock": {"cidr": "192.168.0.0/16"}}]
    assert build([*PODS, _node("192.168.5.0/24"), _np_ingress(peers)]).allowed("default/a", "default/b", "TCP", 80)
    assert not build([*PODS, _np_ingress(peers)]).allowed("default/a", "default/b", "TCP", 80)


def test_pod_network_from_calico_ip_pool() -> None:
    pool = {"apiVersion": "projectcalico.org/v3", "kind": "IPPool", "metadata": {"name": "default-ipv4-ippool"},
            "spec": {"cidr": "192.168.0.0/16", "natOutgoing": True}}
    rule = [{"action": "Allow", "protocol": "TCP", "source": {"notNets": ["10.0.0.0/8"]}}]
    assert build([*PODS, pool, _calico_ingress(rule)], cni="calico").allowed("default/a", "default/b", "TCP", 80)
    assert not build([*PODS, _calico_ingress(rule)], cni="calico").allowed("default/a", "default/b", "TCP", 80)


def test_known_address_still_decides() -> None:
    objects = [ns("default"), pod("default", "a", {"app": "a"}, "203.0.113.7"), pod("default", "b", {"app": "b"}),
               _np_ingress([{"ipBlock": {"cidr": "10.0.0.0/8"}}])]
    assert not build(objects).allowed("default/a", "default/b", "TCP", 80)


def test_a_net_that_splits_the_pod_network_is_flagged_approximate() -> None:
    cluster = build([*PODS, _np_ingress([{"ipBlock": {"cidr": "10.244.0.0/24"}}])])
    assert cluster.allowed("default/a", "default/b", "TCP", 80)
    notes = [d for d in cluster.estate.sink.items if d.code == "netpol.pod-address-assumed"]
    assert len(notes) == 1
    assert "approximate" in notes[0].message and "10.244.0.1" in notes[0].message
