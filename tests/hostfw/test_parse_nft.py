"""nft text, nft scripts and nft JSON: one meaning, including nft's own quirks."""

from __future__ import annotations

import itertools

from ringwall.layers.hostfw.api import decide
from ringwall.layers.hostfw.model import Backend, Iface, Kind, Unknown, unknowns

SOURCES = ["192.0.2.100", "192.0.2.200", "198.51.100.10", "198.51.100.99", "203.0.113.66", "203.0.113.5"]


def test_three_formats_agree_on_many_packets(demo_rulesets):
    for src, proto, port in itertools.product(SOURCES, ["tcp", "udp"], [22, 80, 443, 2000, 8080, 8443]):
        verdicts = {fmt: decide(rs, src, "192.0.2.1", proto, port).action for fmt, rs in demo_rulesets.items()}
        assert len(set(verdicts.values())) == 1, (src, proto, port, verdicts)


def test_vmap_split_into_one_rule_per_key(demo_rulesets):
    for fmt in ("nft", "json"):
        parts = [r for r in demo_rulesets[fmt].rules() if r.part]
        assert [r.part for r in parts] == ["vmap 80 : jump web_in", "vmap 443 : jump web_in"]
        assert {r.location.line for r in parts} == {14 if fmt == "nft" else 19}


def test_json_locations_point_at_each_rule(demo_rulesets):
    rules = demo_rulesets["json"].tables[0].chains["input"].rules
    assert [r.location.line for r in rules][:3] == [12, 13, 14]
    assert rules[0].location.obj == "inet filter input handle 9"


def test_ct_state_negated_list_compares_with_the_or_of_bits(load_text):
    rs, _ = load_text("table ip t {\n chain c {\n  type filter hook input priority 0; policy drop;\n"
                      "  ct state != new,established accept\n }\n}\n", "q.nft")
    # nft 1.0.6 compiles this to "cmp neq 0xa": every packet has one state bit, so it always matches
    assert decide(rs, "192.0.2.9", "192.0.2.1", "udp", 53).action == "accept"
    rs2, _ = load_text("table ip t {\n chain c {\n  type filter hook input priority 0; policy drop;\n"
                       "  ct state != { new, established } accept\n }\n}\n", "q2.nft")
    assert decide(rs2, "192.0.2.9", "192.0.2.1", "udp", 53).action == "drop"
    assert decide(rs2, "192.0.2.9", "192.0.2.1", "udp", 53, state="related").action == "accept"


def test_concatenation_set_and_interface_wildcard(load_text):
    rs, sink = load_text(
        "table inet x {\n set pairs { type ipv4_addr . inet_service;\n"
        "  elements = { 192.0.2.10 . 22, 192.0.2.11 . 443 } }\n"
        " chain in {\n  type filter hook input priority filter - 10; policy drop;\n"
        "  ip saddr . tcp dport @pairs accept\n  iifname \"veth*\" udp dport 53 accept\n }\n}\n", "c.nft")
    assert not sink.items
    assert rs.tables[0].chains["in"].priority == -10
    assert decide(rs, "192.0.2.10", "192.0.2.1", "tcp", 22).action == "accept"
    assert decide(rs, "192.0.2.10", "192.0.2.1", "tcp", 443).action == "drop"
    assert decide(rs, "192.0.2.9", "192.0.2.1", "udp", 53, iif="veth12").action == "accept"
    assert decide(rs, "192.0.2.9", "192.0.2.1", "udp", 53, iif="eth0").action == "drop"


def test_nft_shell_script(load_text):
    rs, sink = load_text(
        "#!/bin/sh\nset -e\nnft add table inet f\n"
        "nft add chain inet f input '{ type filter hook input priority 0; policy drop; }'\n"
        "nft add rule inet f input tcp dport 22 accept\nnft insert rule inet f input iifname lo accept\n", "fw.sh")
    assert [d.code for d in sink.items] == ["RWD-HOSTFW-050"]
    rules = rs.tables[0].chains["input"].rules
    assert [r.location.line for r in rules] == [6, 5]
    assert rules[0].match == Iface("iif", ("lo",))
    assert decide(rs, "192.0.2.9", "192.0.2.1", "tcp", 22).action == "accept"


def test_xt_expressions_are_opaque_unknowns(load_text):
    rs, _ = load_text(
        '{"nftables": [{"table": {"family": "ip", "name": "filter", "handle": 1}},'
        '{"chain": {"family": "ip", "table": "filter", "name": "INPUT", "handle": 1, "type": "filter",'
        ' "hook": "input", "prio": 0, "policy": "drop"}},'
        '{"rule": {"family": "ip", "table": "filter", "chain": "INPUT", "handle": 4, "expr": ['
        '{"xt": {"type": "match", "name": "conntrack"}}, {"counter": {"packets": 0, "bytes": 0}},'
        ' {"accept": null}]}}]}', "x.json")
    table = rs.tables[0]
    assert table.backend is Backend.IPTABLES_NFT and len(table.opaque) == 1
    atom = rs.rules()[0].match
    assert isinstance(atom, Unknown) and atom.text == "xt match conntrack"
    v = decide(rs, "192.0.2.9", "192.0.2.1", "tcp", 22)
    assert (v.action, v.exact) == ("accept", False)


def test_unparsed_construct_is_kept_as_unknown_with_its_verdict(load_text):
    rs, sink = load_text("table inet t {\n chain c {\n  type filter hook input priority 0; policy drop;\n"
                         "  fib saddr . iif oif missing drop\n  tcp dport 22 accept\n }\n}\n", "f.nft")
    assert [d.code for d in sink.items] == ["RWD-HOSTFW-059"]
    first = rs.rules()[0]
    assert first.action.kind is Kind.DROP
    assert [u.text for u in unknowns(first.match)] == ["fib saddr . iif oif missing"]
