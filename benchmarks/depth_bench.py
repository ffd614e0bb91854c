"""Issue 7's goal: ``scan`` with every available layer (flow model, depth, scorecard) takes at most
2x the NetworkPolicy-only scan, on the foundation's XL cluster.

    python benchmarks/depth_bench.py [--size XL] [--dir DIR] [--repeat 2]

Generates the cluster with ``gen_cluster.py`` when DIR does not exist, then times both scans in the
same process on the same loaded estate and prints the ratio.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from ringwall.analysis.estate import load_estate
from ringwall.analysis.scan import run_scan

HERE = Path(__file__).resolve().parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="XL")
    ap.add_argument("--dir", type=Path)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    folder = args.dir or HERE / "out" / args.size
    if not folder.exists():
        subprocess.run([sys.executable, str(HERE / "gen_cluster.py"), args.size, "-o", str(folder)], check=True)
    best: dict[bool, float] = {}
    for _ in range(args.repeat):
        for cross in (False, True):
            estate = load_estate([folder])
            t = time.perf_counter()
            run_scan(estate, cross_layer=cross)
            elapsed = time.perf_counter() - t
            best[cross] = min(best.get(cross, elapsed), elapsed)
    ratio = best[True] / best[False]
    print(f"size {args.size}: NetworkPolicy-only scan {best[False]:.2f}s, all layers (flow model, depth, "
          f"scorecard) {best[True]:.2f}s, ratio {ratio:.2f} (goal <= 2.0: {'met' if ratio <= 2.0 else 'NOT met'})")
    return 0 if ratio <= 2.0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
