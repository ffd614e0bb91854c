"""Concrete evaluation: verdicts and deciding rules, including those the kernel showed (§7)."""

from __future__ import annotations

import pytest

from ringwall.layers.hostfw.api import decide
from ringwall.layers.hostfw.trace import make_packet, trace

from .conftest import DATA, load_paths

# (src, dport, verdict, deciding text fragment) — the kernel observations of hostfw-semantics §7
KERNEL_OBSERVED = [
    ("192.0.2.100", 22, "accept", "22"),
    ("192.0.2.200", 22, "reject", "reject"),
    ("192.0.2.200", 80, "reject", "reject"),
    ("192.0.2.200", 8080, "reject", "admin-prohibited"),
]


@pytest.mark.parametrize("fmt", ["rules", "nft", "json"])
@pytest.mark.parametrize(("src", "dport", "verdict", "rule"), KERNEL_OBSERVED)
def test_demo_matches_kernel_observations(demo_rulesets, fmt, src, dport, verdict, rule):
    v = decide(demo_rulesets[fmt], src, "192.0.2.1", "tcp", dport)
    assert v.action == verdict
    assert v.exact
    assert rule in v.evidence[-1][1]


@pytest.mark.parametrize("fmt", ["rules", "nft", "json"])
def test_web_in_return_then_log_then_reject(demo_rulesets, fmt):
    t = trace(demo_rulesets[fmt], make_packet("192.0.2.200", "192.0.2.1", "tcp", 80), "input")
    events = [(s.chain.name.lower(), s.event) for s in t.main.steps]
    assert ("web_in", "match") in events  # the return rule matched
    assert events[-1] == ("input", "match")
    assert t.main.steps[-1].rule is not None and "reject" in t.main.steps[-1].rule.text.lower()


@pytest.mark.parametrize("fmt", ["rules", "nft", "json"])
def test_web_in_accepts_its_network(demo_rulesets, fmt):
    assert decide(demo_rulesets[fmt], "198.51.100.20", "192.0.2.1", "tcp", 443).action == "accept"


@pytest.mark.parametrize("fmt", ["rules", "nft", "json"])
def test_goto_ends_in_caller_policy_and_marks_count(demo_rulesets, fmt):
    rs = demo_rulesets[fmt]
    t = trace(rs, make_packet("192.0.2.200", "192.0.2.1", "tcp", 8443, mark=1), "input")
    assert t.verdict == "accept"
    assert decide(rs, "203.0.113.9", "192.0.2.1", "tcp", 8443).action == "reject"  # != 203.0.113.0/24 fails


@pytest.mark.parametrize("fmt", ["rules", "nft", "json"])
def test_established_loopback_and_blocklist(demo_rulesets, fmt):
    rs = demo_rulesets[fmt]
    assert decide(rs, "203.0.113.66", "192.0.2.1", "tcp", 22, state="established").action == "accept"
    assert decide(rs, "127.0.0.1", "127.0.0.1", "tcp", 9999).action == "accept"
    assert decide(rs, "203.0.113.66", "192.0.2.1", "udp", 2000).action == "drop"
    assert decide(rs, "192.0.2.5", "192.0.2.1", "udp", 2000).action == "accept"
    assert decide(rs, "192.0.2.5", "192.0.2.1", "tcp", 22, state="invalid").action == "drop"


@pytest.mark.parametrize("fmt", ["rules", "nft", "json"])
def test_limit_makes_ping_inexact(demo_rulesets, fmt):
    v = decide(demo_rulesets[fmt], "203.0.113.9", "192.0.2.1", "icmp", None)
    assert v.exact is False
    assert v.action == "accept"
    assert v.possible == ("accept", "drop")


def test_several_base_chains_accept_is_not_final(load_text):
    rs, sink = load_text(
        "table inet a {\n chain in { type filter hook input priority -10; policy accept;\n"
        "  tcp dport 22 accept\n }\n}\n"
        "table inet b {\n chain in { type filter hook input priority 10; policy drop;\n"
        "  tcp dport 80 accept\n }\n}\n", "two.nft")
    assert not sink.items
    assert decide(rs, "192.0.2.9", "192.0.2.1", "tcp", 22).action == "drop"
    v = decide(rs, "192.0.2.9", "192.0.2.1", "tcp", 80)
    assert v.action == "accept"
    assert [e[1] for e in v.evidence] == ["inet a in: policy accept", "tcp dport 80 accept"]


def test_goto_from_user_chain_returns_to_grandparent(load_text):
    rs, _ = load_text(
        "*filter\n:INPUT DROP [0:0]\n:A - [0:0]\n:B - [0:0]\n"
        "-A INPUT -j A\n-A INPUT -p tcp --dport 22 -j ACCEPT\n"
        "-A A -g B\n-A A -j DROP\n-A B -p tcp --dport 80 -j ACCEPT\nCOMMIT\n", "g.rules")
    assert decide(rs, "192.0.2.9", "192.0.2.1", "tcp", 22).action == "accept"  # B ends: back in INPUT
    assert decide(rs, "192.0.2.9", "192.0.2.1", "tcp", 80).action == "accept"
    assert decide(rs, "192.0.2.9", "192.0.2.1", "tcp", 25).action == "drop"  # INPUT policy, not A's drop


def test_dnat_moves_packet_to_forward_path():
    rs = load_paths(DATA.parents[2] / "examples" / "hosts" / "k8s-worker.rules")
    t = trace(rs, make_packet("203.0.113.9", "192.0.2.10", "tcp", 30080), "input")
    dnat = [o for o in t.outcomes if o.path == "forward"]
    assert dnat and all(o.action == "accept" for o in dnat)
    assert dnat[0].packet.dport == 8080
    assert t.exact is False  # addrtype LOCAL decides whether the DNAT applies
