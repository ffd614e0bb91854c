"""The netpol layer's contribution to ``scan``: status, coverage and findings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ringwall.analysis.layers import LayerReport, register_layer
from ringwall.layers.netpol.checks import run_checks
from ringwall.layers.netpol.cni_checks import run_cni_checks

if TYPE_CHECKING:
    from ringwall.analysis.estate import Estate


@register_layer("netpol")
def scan_netpol(estate: Estate) -> LayerReport:
    engine = estate.engine(enforced=True)  # findings are about the policies as written
    cni = estate.cni
    findings = run_checks(engine, estate.policies, estate.inventory, cni)
    findings += run_cni_checks(engine, estate.calico, estate.cilium, cni)
    n = len(estate.policies.policies)
    n_calico = len(estate.calico.policies)
    n_cilium = len(estate.cilium.policies)
    ing = eg = 0
    total = 0
    for c in engine.classes:
        if c.host_network and engine.options.host_network == "node-ip":
            continue
        weight = len({w.key for w, _ in c.members})
        total += weight
        ing += weight if engine.isolated_by(c, "ingress") else 0
        eg += weight if engine.isolated_by(c, "egress") else 0
    status = "no NetworkPolicy found" if n == 0 else f"{n} NetworkPolicies; {cni.describe()}"
    extra = []
    if n_calico:
        state = "enforced" if estate.calico_applies else "void: CNI is not Calico"
        extra.append(f"{n_calico} Calico policies ({state})")
    if n_cilium:
        state = "enforced" if estate.cilium_applies else "void: CNI is not Cilium"
        extra.append(f"{n_cilium} Cilium policies ({state})")
    if estate.admin:
        extra.append(f"{len(estate.admin)} Admin/Baseline policies")
    if extra:
        status = ("; ".join(extra) + f"; {cni.describe()}") if n == 0 else status + "; " + "; ".join(extra)
    if cni.name == "unknown" and (n_calico or n_cilium):
        status += " (CNI unknown: the CNI-specific policies are assumed enforced)"
    details = {
        "policies": n,
        "rejected": len(estate.policies.rejected),
        "cni": {"name": cni.name, "enforces": cni.enforces, "source": cni.source, "detected": list(cni.detected)},
        "workloads": total,
        "ingress_isolated": ing,
        "egress_isolated": eg,
        "calico_policies": n_calico,
        "calico_enforced": bool(n_calico) and estate.calico_applies,
        "cilium_policies": n_cilium,
        "cilium_enforced": bool(n_cilium) and estate.cilium_applies,
    }
    found = n > 0 or n_calico > 0 or n_cilium > 0 or bool(estate.admin)
    return LayerReport("netpol", "Kubernetes NetworkPolicy", found, cni.enforces if found else None, status,
                       details, findings)
