#!/usr/bin/env python3
"""Cost of cluster-wide Calico policies: scan a cluster with and without 200 GlobalNetworkPolicies.

Usage::

    python benchmarks/cni_policies_bench.py CLUSTER_DIR [--count 200] [--out DIR]

``CLUSTER_DIR`` comes from ``gen_cluster.py`` (XL for the issue's budget: the scan with the extra
policies must take at most 1.5x the time without them). The policies mimic what platform teams
write: a ``security`` tier (order 100) denying traffic between namespace groups and passing the
rest, a ``platform`` tier (order 200) with allows for monitoring and DNS, and default-tier
policies per team; selectors use namespace labels and pod labels the generator emits. Prints
both times and the ratio; exits 1 when the ratio exceeds the budget.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

TEAMS = ["accounts", "analytics", "billing", "catalog", "checkout", "identity", "inventory", "messaging",
         "notifications", "payments"]


def policies(count: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {"apiVersion": "projectcalico.org/v3", "kind": "Tier", "metadata": {"name": "security"},
         "spec": {"order": 100}},
        {"apiVersion": "projectcalico.org/v3", "kind": "Tier", "metadata": {"name": "platform"},
         "spec": {"order": 200, "defaultAction": "Pass"}},
    ]
    for i in range(count):
        team = TEAMS[i % len(TEAMS)]
        other = TEAMS[(i + 3) % len(TEAMS)]
        kind = i % 4
        if kind == 0:
            spec = {"tier": "security", "order": 10 + i, "namespaceSelector": f"team == '{team}'",
                    "selector": "all()", "types": ["Ingress"],
                    "ingress": [{"action": "Deny", "source": {"namespaceSelector": f"team == '{other}'"}},
                                {"action": "Pass"}]}
            name = f"security.deny-{i}"
        elif kind == 1:
            spec = {"tier": "platform", "order": 10 + i, "selector": f"tier == 'backend' && team == '{team}'",
                    "types": ["Ingress"],
                    "ingress": [{"action": "Allow", "protocol": "TCP",
                                 "source": {"namespaceSelector": "projectcalico.org/name == 'monitoring'"},
                                 "destination": {"ports": ["metrics", "9100:9200"]}}]}
            name = f"platform.scrape-{i}"
        elif kind == 2:
            spec = {"tier": "platform", "order": 10 + i, "selector": f"team == '{team}'", "types": ["Egress"],
                    "egress": [{"action": "Allow", "protocol": "UDP",
                                "destination": {"selector": "k8s-app == 'kube-dns'", "ports": [53]}},
                               {"action": "Deny", "destination": {"nets": [f"10.{i % 250}.0.0/16"]}}]}
            name = f"platform.dns-{i}"
        else:
            spec = {"order": 500 + i, "selector": f"app in {{'api', 'web'}} && team == '{team}'",
                    "ingress": [{"action": "Allow", "protocol": "TCP", "destination": {"ports": [8080, 443]},
                                 "source": {"selector": f"team == '{team}'"}}]}
            name = f"default-{i}"
        out.append({"apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkPolicy",
                    "metadata": {"name": name}, "spec": spec})
    return out


def timed_scan(paths: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run([str(Path(sys.executable).parent / "ringwall"), "scan", *paths, "--format", "json"],
                   check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cluster")
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--budget", type=float, default=1.5)
    ap.add_argument("--out", default=None, help="where to write the policies (default: a temporary folder)")
    args = ap.parse_args()
    out_dir = Path(args.out or tempfile.mkdtemp(prefix="rw-cni-bench-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    extra = out_dir / "calico-global-policies.yaml"
    extra.write_text(yaml.safe_dump_all(policies(args.count), sort_keys=False))
    base = timed_scan([args.cluster])
    with_policies = timed_scan([args.cluster, str(extra)])
    ratio = with_policies / base if base else float("inf")
    print(f"without: {base:.2f}s  with {args.count} GlobalNetworkPolicies: {with_policies:.2f}s  ratio {ratio:.2f} "
          f"(budget {args.budget})")
    return 0 if ratio <= args.budget else 1


if __name__ == "__main__":
    raise SystemExit(main())
