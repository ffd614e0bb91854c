"""Differential benchmark: at least 10,000 random (ruleset, packet) pairs, model against kernel.

``sudo python benchmarks/lab_differential.py [--pairs 10000] [--seed 1]`` alternates nft and
iptables-save renderings of random rulesets (user chains, jumps, gotos, returns, several base
chains, address ranges and prefixes, port sets and ranges, conntrack states, interface
wildcards), loads each into a network namespace and prints the number of packets on which the
kernel and Ringwall disagree — which must be 0. Needs root; exits 2 with an explanation otherwise.
"""

from __future__ import annotations

import argparse
import sys

from ringwall.lab.differential import DiffResult, run
from ringwall.lab.netns import missing_requirements


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pairs", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--per-ruleset", type=int, default=25)
    args = ap.parse_args()
    missing = missing_requirements()
    if missing:
        print("lab_differential needs " + ", ".join(missing), file=sys.stderr)
        sys.exit(2)

    def progress(r: DiffResult) -> None:
        print(f"  {r.rulesets} rulesets, {r.pairs} pairs, {len(r.disagreements)} disagreements", flush=True)

    res = run(args.pairs, args.seed, args.per_ruleset, progress)
    print(f"rulesets: {res.rulesets}  pairs: {res.pairs}  time: {res.seconds:.1f} s  "
          f"({res.pairs / max(res.seconds, 1e-6):.0f} pairs/s)")
    print(f"disagreements: {len(res.disagreements)}")
    for d in res.disagreements[:5]:
        print(f"\n{d.fmt}: probe {d.probe}: kernel {'accepted' if d.kernel else 'dropped'}, "
              f"model {'accepted' if d.model else 'dropped'}\n{d.ruleset}")
    sys.exit(1 if res.disagreements else 0)


if __name__ == "__main__":
    main()
