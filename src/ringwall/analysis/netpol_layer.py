"""The netpol layer's contribution to ``scan``: status, coverage and findings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ringwall.analysis.layers import LayerReport, register_layer
from ringwall.layers.netpol.checks import run_checks

if TYPE_CHECKING:
    from ringwall.analysis.estate import Estate


@register_layer("netpol")
def scan_netpol(estate: Estate) -> LayerReport:
    engine = estate.engine(enforced=True)  # findings are about the policies as written
    cni = estate.cni
    findings = run_checks(engine, estate.policies, estate.inventory, cni)
    n = len(estate.policies.policies)
    ing = eg = 0
    total = 0
    for c in engine.classes:
        if c.host_network and engine.options.host_network == "node-ip":
            continue
        weight = len({w.key for w, _ in c.members})
        total += weight
        ing += weight if engine.class_ingress[c.index].isolated else 0
        eg += weight if engine.class_egress[c.index].isolated else 0
    status = "no NetworkPolicy found" if n == 0 else f"{n} NetworkPolicies; {cni.describe()}"
    details = {
        "policies": n,
        "rejected": len(estate.policies.rejected),
        "cni": {"name": cni.name, "enforces": cni.enforces, "source": cni.source, "detected": list(cni.detected)},
        "workloads": total,
        "ingress_isolated": ing,
        "egress_isolated": eg,
    }
    return LayerReport("netpol", "Kubernetes NetworkPolicy", n > 0, cni.enforces if n else None, status,
                       details, findings)
