"""Unreachable rules: set-based blocking lines, different action, unmatchable rules."""

from __future__ import annotations

from ringwall.layers.hostfw.shadow import unreachable

from .conftest import EXAMPLES, load_paths


def test_mistakes_unreachable_exact():
    items = unreachable(load_paths(EXAMPLES / "mistakes.rules"))
    got = [(u.rule.location.line, u.reason, [b.location.line for b in u.blocking], u.different_action)
           for u in items]
    assert got == [
        (12, "BLOCKING_LINES", [11], True),
        (15, "BLOCKING_LINES", [13, 14], True),  # hidden only by the two /25 rules together
        (18, "INDEPENDENTLY_UNMATCHABLE", [], False),
        (22, "BLOCKING_LINES", [21], False),
    ]


def test_partial_overlap_is_not_unreachable(load_text):
    rs, _ = load_text("*filter\n:INPUT DROP [0:0]\n-A INPUT -s 192.0.2.0/25 -j ACCEPT\n"
                      "-A INPUT -s 192.0.2.0/24 -j DROP\nCOMMIT\n", "p.rules")
    assert unreachable(rs) == []


def test_unknown_matches_never_hide_rules(load_text):
    rs, _ = load_text("*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp -m limit --limit 1/s -j ACCEPT\n"
                      "-A INPUT -p tcp -j DROP\nCOMMIT\n", "l.rules")
    assert unreachable(rs) == []


def test_jump_that_returns_hides_nothing_but_one_that_never_returns_does(load_text):
    rs, _ = load_text("*filter\n:INPUT DROP [0:0]\n:A - [0:0]\n:B - [0:0]\n"
                      "-A INPUT -p tcp -j A\n-A INPUT -p tcp --dport 22 -j ACCEPT\n"
                      "-A INPUT -p udp -j B\n-A INPUT -p udp --dport 53 -j ACCEPT\n"
                      "-A A -s 192.0.2.0/24 -j ACCEPT\n-A B -j DROP\nCOMMIT\n", "j.rules")
    items = unreachable(rs)
    assert [(u.rule.location.line, [b.location.line for b in u.blocking]) for u in items] == [(8, [7])]


def test_demo_has_no_unreachable_rules(demo_rulesets):
    for rs in demo_rulesets.values():
        assert unreachable(rs) == []
