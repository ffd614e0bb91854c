"""Host firewall benchmark: service matrices and unreachable rules on generated rulesets.

``python benchmarks/hostfw_bench.py [--sizes 1000 5500 20000]`` prints, per size, the time to read
the ruleset, to compute the ssh (22) and http (80) service matrices of the FORWARD path (what
fffuu analyses), and to find unreachable rules; then the ratio against fffuu's published times
(hostfw-semantics §8: 336 s for 5,529 rules, 40 s for 2,784 rules, same two matrices) and the
growth between sizes. Targets: matrices of ~5,500 rules in ≤ 5 s, unreachable in ≤ 10 s.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hostfw_gen import generate

from ringwall.layers.hostfw.loader import load
from ringwall.layers.hostfw.packetset import BACKEND
from ringwall.layers.hostfw.services import matrix
from ringwall.layers.hostfw.shadow import unreachable
from ringwall.model.diagnostics import DiagnosticSink

FFFUU = {5529: 336.0, 2784: 40.0}


def bench(size: int, seed: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"gen{size}.rules"
        path.write_text(generate(size, seed))
        t0 = time.perf_counter()
        rs = load([path], DiagnosticSink())
        t1 = time.perf_counter()
        m22 = matrix(rs, "tcp", 22, path="forward")
        m80 = matrix(rs, "tcp", 80, path="forward")
        t2 = time.perf_counter()
        hidden = unreachable(rs)
        t3 = time.perf_counter()
    return {"rules": len(rs.rules()), "load": t1 - t0, "services": t2 - t1, "unreachable": t3 - t2,
            "classes22": len(m22.classes), "edges22": len(m22.edges), "classes80": len(m80.classes),
            "edges80": len(m80.edges), "hidden": len(hidden)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 5500, 20000])
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    print(f"BDD back end: dd.{BACKEND}")
    print(f"{'rules':>7} {'read s':>7} {'ssh+http matrices s':>20} {'unreachable s':>14} "
          f"{'ssh cls/edges':>14} {'http cls/edges':>15} {'hidden':>7}")
    rows = []
    for size in args.sizes:
        r = bench(size, args.seed)
        rows.append(r)
        print(f"{int(r['rules']):>7} {r['load']:>7.2f} {r['services']:>20.2f} {r['unreachable']:>14.2f} "
              f"{int(r['classes22']):>6}/{int(r['edges22']):<7} {int(r['classes80']):>6}/{int(r['edges80']):<8} "
              f"{int(r['hidden']):>7}")
    print()
    for r in rows:
        n = int(r["rules"])
        ref_rules = min(FFFUU, key=lambda k: abs(k - n))
        if abs(ref_rules - n) > 0.2 * ref_rules:
            print(f"{n} rules: service matrices {r['services']:.2f} s (no fffuu figure at this size)")
            continue
        ratio = FFFUU[ref_rules] / max(r["services"], 1e-6)
        print(f"{n} rules: service matrices {r['services']:.2f} s; fffuu needed {FFFUU[ref_rules]:.0f} s for "
              f"{ref_rules} real rules -> {ratio:.0f}x faster (target <= 5 s; unreachable {r['unreachable']:.2f} s, "
              "target <= 10 s; different rulesets: indicative only)")
    for a, b in itertools.pairwise(rows):
        k = b["rules"] / a["rules"]
        grow_m = b["services"] / max(a["services"], 1e-6)
        grow_u = b["unreachable"] / max(a["unreachable"], 1e-6)
        print(f"growth {int(a['rules'])} -> {int(b['rules'])} rules (x{k:.1f}): matrices x{grow_m:.1f}, "
              f"unreachable x{grow_u:.1f}")


if __name__ == "__main__":
    main()
