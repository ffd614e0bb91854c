"""Service matrices: exact classes and edges."""

from __future__ import annotations

import pytest

from ringwall.layers.hostfw.services import matrix, mentioned_ports, render_text

from .conftest import EXAMPLES, load_paths


@pytest.mark.parametrize("fmt", ["rules", "nft", "json"])
def test_demo_ssh_matrix(demo_rulesets, fmt):
    m = matrix(demo_rulesets[fmt], "tcp", 22)
    assert render_text(m).splitlines()[:6] == [
        "=========== TCP port 10000->22 (input, IPv4) =========",
        "a |-> {0.0.0.0 .. 192.0.1.255} u {192.0.2.128 .. 198.51.100.9} u {198.51.100.11 .. 255.255.255.255}",
        "b |-> {192.0.2.0 .. 192.0.2.127} u 198.51.100.10",
        "",
        "(b,a)",
        "(b,b)",
    ]
    assert m.exact


def test_demo_web_and_closures(demo_rulesets):
    rs = demo_rulesets["nft"]
    web = matrix(rs, "tcp", 443)
    assert [(c, r) for c, r in web.to_json()["classes"][1].items() if c == "cidrs"] == [("cidrs", ["198.51.100.0/24"])]
    assert web.edges == [("b", "a"), ("b", "b")]
    assert matrix(rs, "tcp", 8080).edges == []  # mark 0: app_in rejects
    udp = matrix(rs, "udp", 5000)
    assert [r["cidrs"] for r in udp.to_json()["classes"]] == [
        ["0.0.0.0-192.0.1.255", "192.0.3.0-255.255.255.255"], ["192.0.2.0/24"]]
    assert udp.edges == [("b", "a"), ("b", "b")]


def test_interfaces_and_ipv6(demo_rulesets):
    rs = load_paths(EXAMPLES / "bastion.nft")
    m6 = matrix(rs, "tcp", 22, family=6)
    assert [r["cidrs"] for r in m6.to_json()["classes"]][1] == ["2001:db8:100::/48"]
    lo = matrix(rs, "tcp", 9999, iif="lo")
    assert len(lo.classes) == 1 and lo.edges == [("a", "a")]


def test_mentioned_ports():
    rs = load_paths(EXAMPLES / "k8s-worker.rules")
    ports = mentioned_ports(rs)
    assert ports["tcp"] == [22, 80, 443, 2379, 6443, 10250, 30000, 30080]
    assert ports["udp"] == [8472]
