"""Example-packet search and ruleset comparison."""

from __future__ import annotations

from ringwall.layers.hostfw import values as V
from ringwall.layers.hostfw.search import Constraints, compare, search

from .conftest import DATA, EXAMPLES, load_paths


def test_search_finds_a_witness_outside_the_management_network():
    rs = load_paths(EXAMPLES / "mistakes.rules")
    res = search(rs, Constraints(src_not=["10.0.100.0/24"], proto="tcp", dport="22", family=4))
    assert res.found and res.exact
    pkt = res.trace.packet
    assert (pkt.proto, pkt.dport) == (6, 22)
    assert not V.parse_net("10.0.100.0/24")[0][0][0] <= pkt.saddr <= V.parse_net("10.0.100.0/24")[0][0][1]
    assert res.trace.verdict == "accept"


def test_search_proves_absence():
    rs = load_paths(EXAMPLES / "bastion.nft")
    res = search(rs, Constraints(src_not=["203.0.113.0/26", "198.51.100.7/32"], proto="tcp", dport="22",
                                 family=4))
    assert not res.found
    drop = search(rs, Constraints(src=["203.0.113.10/32"], proto="tcp", dport="22"), action="drop")
    assert not drop.found  # an admin is never dropped on 22 (new connections)


def test_search_drop_witness():
    rs = load_paths(EXAMPLES / "bastion.nft")
    res = search(rs, Constraints(proto="udp", dport="53", family=4), action="drop")
    assert res.found and res.trace is not None and res.trace.verdict == "drop"


def test_compare_identical_formats_are_equal():
    cmp = compare(load_paths(DATA / "demo.rules"), load_paths(DATA / "demo.nft"), ("input",))
    # the iptables version is IPv4-only (no ip6 rules): IPv6 is decided differently, IPv4 alike
    assert cmp.identical == {"input": False}
    assert all(g.example.family == 6 for g in cmp.groups)
    same = compare(load_paths(DATA / "demo.nft"), load_paths(DATA / "demo.json"))
    assert same.equal and same.groups == []


def test_compare_names_the_changed_rule(load_text):
    a, _ = load_text("*filter\n:INPUT DROP [0:0]\n-A INPUT -s 192.0.2.0/24 -p tcp --dport 22 -j ACCEPT\nCOMMIT\n",
                     "a.rules")
    b, _ = load_text("*filter\n:INPUT DROP [0:0]\n-A INPUT -s 192.0.2.0/25 -p tcp --dport 22 -j ACCEPT\nCOMMIT\n",
                     "b.rules")
    cmp = compare(a, b, ("input",))
    assert not cmp.equal
    assert cmp.newly_dropped == {"input": ["192.0.2.128/25"]}
    assert cmp.newly_accepted == {"input": []}
    g = cmp.groups[0]
    assert (g.left.verdict, g.right.verdict) == ("accept", "drop")
    assert g.left.main.deciding[0].rule.location.line == 3
    assert len(cmp.groups) == 1
