"""The benchmark generator writes rulesets the readers take without a diagnostic."""

from __future__ import annotations

import sys
from pathlib import Path

from ringwall.layers.hostfw.services import matrix
from ringwall.layers.hostfw.shadow import unreachable

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from hostfw_gen import generate


def test_generated_ruleset_reads_cleanly_and_is_analysed(load_text):
    rs, sink = load_text(generate(600, seed=3), "gen.rules")
    assert sink.items == []
    assert 560 <= len(rs.rules()) <= 620
    assert {c.name for c in rs.chains() if c.name.startswith("vlan_")} == {f"vlan_{v:03d}" for v in range(10)}
    m = matrix(rs, "tcp", 22, path="forward")
    assert m.exact and len(m.classes) > 5
    assert all(u.reason == "BLOCKING_LINES" for u in unreachable(rs))
