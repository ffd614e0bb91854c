#!/usr/bin/env python3
"""Mesh decision for every allowed flow of a large meshed estate, timed beside the NetworkPolicy layer.

Usage::

    python benchmarks/mesh_bench.py [--workloads 2000] [--authz 2000] [--peerauth 500] [--budget 30]

Generates ``--workloads`` sidecar-injected workloads (20 per namespace, a Service each, one
ServiceAccount each), NetworkPolicies (default deny; same-namespace on 8080/9090; the gateway
namespace on 8080; the monitoring namespace on 9102), ``--authz`` AuthorizationPolicies (a
root allow-nothing, then per-workload ALLOW by principal and namespace, some with HTTP
methods/paths, some DENY by notNamespaces) and ``--peerauth`` PeerAuthentications (mesh-wide
STRICT, namespace-wide, workload-level with portLevelMtls). Then it times: loading, the
NetworkPolicy connlist (engine + allowed pairs), the mesh model, and the mesh decision for
every allowed flow. Exits 1 when the mesh decisions take longer than ``--budget`` seconds.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

PER_NS = 20


def generate(n_workloads: int, n_authz: int, n_peerauth: int) -> dict[str, list[dict[str, Any]]]:
    n_ns = max(3, (n_workloads + PER_NS - 1) // PER_NS)
    namespaces = [f"ns-{i:03d}" for i in range(n_ns)]
    gateway, monitoring = namespaces[0], namespaces[1]
    files: dict[str, list[dict[str, Any]]] = {"namespaces": [], "workloads": [], "netpol": [], "authz": [],
                                              "peerauth": [], "dr": []}
    for ns in namespaces:
        files["namespaces"].append({"apiVersion": "v1", "kind": "Namespace",
                                    "metadata": {"name": ns, "labels": {"istio-injection": "enabled"}}})
    wls: list[tuple[str, str]] = []
    for i in range(n_workloads):
        ns = namespaces[i // PER_NS]
        name = f"app-{i:04d}"
        wls.append((ns, name))
        labels = {"app": name, "tier": ("web", "api", "db")[i % 3]}
        files["workloads"] += [
            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": ns}},
            {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": ns},
             "spec": {"selector": {"matchLabels": {"app": name}}, "template": {
                 "metadata": {"labels": labels},
                 "spec": {"serviceAccountName": name, "containers": [{"name": "main", "image": "x", "ports": [
                     {"name": "http", "containerPort": 8080}, {"name": "grpc", "containerPort": 9090},
                     {"name": "metrics", "containerPort": 9102}]}]}}}},
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns},
             "spec": {"selector": {"app": name}, "ports": [{"name": "http", "port": 80, "targetPort": 8080},
                                                          {"name": "grpc", "port": 9090, "targetPort": 9090}]}},
        ]
    for ns in namespaces:
        def np(name: str, spec: dict[str, Any], ns: str = ns) -> dict[str, Any]:
            return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                    "metadata": {"name": name, "namespace": ns}, "spec": spec}
        files["netpol"] += [
            np("default-deny", {"podSelector": {}, "policyTypes": ["Ingress"]}),
            np("same-namespace", {"podSelector": {}, "ingress": [{"from": [{"podSelector": {}}], "ports": [
                {"port": 8080}, {"port": 9090}]}]}),
            np("from-gateway", {"podSelector": {}, "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {
                "kubernetes.io/metadata.name": gateway}}}], "ports": [{"port": 8080}]}]}),
            np("from-monitoring", {"podSelector": {}, "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {
                "kubernetes.io/metadata.name": monitoring}}}], "ports": [{"port": 9102}]}]}),
        ]

    def ap(ns: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
        return {"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
                "metadata": {"name": name, "namespace": ns}, "spec": spec}

    files["authz"].append(ap("istio-system", "allow-nothing", {}))
    for j in range(n_authz - 1):
        ns, name = wls[j % len(wls)]
        base = (j // PER_NS) * PER_NS
        peers = [wls[min(base + k, len(wls) - 1)] for k in (1, 2, 3)]
        principals = [f"cluster.local/ns/{pns}/sa/{pname}" for pns, pname in peers]
        sel = {"matchLabels": {"app": name}}
        kind = j % 5
        if kind == 4:
            spec = {"selector": sel, "action": "DENY", "rules": [
                {"from": [{"source": {"notNamespaces": [ns, gateway, monitoring]}}], "to": [
                    {"operation": {"ports": ["8080"]}}]}]}
        elif kind == 3:
            spec = {"selector": sel, "rules": [{"from": [{"source": {"namespaces": [gateway]}}], "to": [
                {"operation": {"methods": ["GET", "POST"], "paths": ["/api/*"], "ports": ["8080"]}}]}]}
        else:
            spec = {"selector": sel, "rules": [
                {"from": [{"source": {"principals": principals}}], "to": [{"operation": {"ports": ["8080", "9090"]}}]},
                {"from": [{"source": {"namespaces": [gateway]}}], "to": [{"operation": {"ports": ["8080"]}}]},
                {"from": [{"source": {"namespaces": [monitoring]}}], "to": [{"operation": {"ports": ["9102"]}}]}]}
        files["authz"].append(ap(ns, f"authz-{j:04d}", spec))

    def pa(ns: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
        return {"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
                "metadata": {"name": name, "namespace": ns}, "spec": spec}

    files["peerauth"].append(pa("istio-system", "default", {"mtls": {"mode": "STRICT"}}))
    k = 1
    for ns in namespaces[:min(len(namespaces), n_peerauth // 5)]:
        if k >= n_peerauth:
            break
        files["peerauth"].append(pa(ns, "namespace", {"mtls": {"mode": "STRICT" if k % 4 else "PERMISSIVE"}}))
        k += 1
    i = 0
    while k < n_peerauth:
        ns, name = wls[(i * 7) % len(wls)]
        files["peerauth"].append(pa(ns, f"wl-{name}", {"selector": {"matchLabels": {"app": name}},
                                                       "portLevelMtls": {"9102": {"mode": "PERMISSIVE"}}}))
        k += 1
        i += 1
    for ns in namespaces[:50]:
        files["dr"].append({"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
                            "metadata": {"name": "mtls", "namespace": ns},
                            "spec": {"host": f"*.{ns}.svc.cluster.local",
                                     "trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL"}}}})
    files["namespaces"].append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "istio-system"}})
    return files


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workloads", type=int, default=2000)
    ap.add_argument("--authz", type=int, default=2000)
    ap.add_argument("--peerauth", type=int, default=500)
    ap.add_argument("--budget", type=float, default=30.0, help="seconds allowed for the mesh decisions")
    args = ap.parse_args()

    from ringwall.analysis.connlist import compute_connlist
    from ringwall.analysis.estate import load_estate
    from ringwall.layers.mesh.api import coverage, decide_flows
    from ringwall.layers.mesh.decision import MeshModel

    files = generate(args.workloads, args.authz, args.peerauth)
    with tempfile.TemporaryDirectory(prefix="ringwall-mesh-bench-") as tmp:
        for name, docs in files.items():
            (Path(tmp) / f"{name}.yaml").write_text(yaml.safe_dump_all(docs, sort_keys=False))
        t0 = time.perf_counter()
        estate = load_estate([tmp])
        t1 = time.perf_counter()
        cl = compute_connlist(estate.engine())
        t2 = time.perf_counter()
        model = MeshModel(estate.inventory)
        t3 = time.perf_counter()
        by_key = {w.key: w for w in estate.cluster.workloads}
        pairs = [(c.src, by_key[c.src], None, by_key[c.dst], c.conn) for c in cl.connections
                 if not c.src_is_ip and not c.dst_is_ip]
        flows = decide_flows(model, pairs)
        t4 = time.perf_counter()
    cov = coverage(flows)
    counts = {k: len(v) for k, v in files.items()}
    print(f"input: {args.workloads} workloads, {counts['authz']} AuthorizationPolicies, {counts['peerauth']} "
          f"PeerAuthentications, {counts['netpol']} NetworkPolicies, {counts['dr']} DestinationRules")
    print(f"load (parse + model):            {t1 - t0:7.2f} s")
    print(f"NetworkPolicy (engine + pairs):  {t2 - t1:7.2f} s   allowed workload pairs: {len(pairs)}")
    print(f"mesh model:                      {t3 - t2:7.2f} s")
    print(f"mesh decision, every flow:       {t4 - t3:7.2f} s   rows: {len(flows)} (budget {args.budget:.0f} s)")
    print(f"mTLS coverage: {cov.covered}/{cov.pairs}; pairs by worst mTLS: {dict(sorted(cov.by_mtls.items()))}")
    return 0 if t4 - t3 <= args.budget else 1


if __name__ == "__main__":
    sys.exit(main())
