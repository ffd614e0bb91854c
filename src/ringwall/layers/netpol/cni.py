"""Which CNI runs, and whether it enforces NetworkPolicy.

A NetworkPolicy object has no effect unless the network plugin implements it; Flannel alone
(and plain kubenet) enforces nothing. We recognise the CNI from the DaemonSets (or their pods)
that every CNI installs; ``--cni NAME`` overrides the guess.
"""

from __future__ import annotations

from dataclasses import dataclass

from ringwall.model.location import Location
from ringwall.sources.inventory import Inventory


@dataclass(frozen=True, slots=True)
class CniProfile:
    name: str
    enforces: bool
    markers: tuple[str, ...]  # DaemonSet / workload name prefixes


KNOWN: tuple[CniProfile, ...] = (
    CniProfile("calico", True, ("calico-node",)),
    CniProfile("cilium", True, ("cilium",)),
    CniProfile("weave", True, ("weave-net",)),
    CniProfile("antrea", True, ("antrea-agent",)),
    CniProfile("kube-router", True, ("kube-router",)),
    CniProfile("canal", True, ("canal",)),
    CniProfile("aws-vpc-cni", False, ("aws-node",)),
    CniProfile("azure-npm", True, ("azure-npm",)),
    CniProfile("gke-dataplane-v2", True, ("anetd",)),
    CniProfile("ovn-kubernetes", True, ("ovnkube-node",)),
    CniProfile("kindnet", True, ("kindnet",)),
    CniProfile("flannel", False, ("kube-flannel-ds", "kube-flannel", "flannel")),
)
# aws-node (the VPC CNI) enforces NetworkPolicy only with its network-policy agent enabled;
# without that evidence we say it does not.


@dataclass(frozen=True, slots=True)
class CniInfo:
    name: str  # "unknown" when nothing was recognised
    enforces: bool | None  # None: unknown
    source: str  # "declared" | "detected" | "none"
    evidence: tuple[Location, ...] = ()
    detected: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.enforces is None:
            return f"CNI {self.name}: whether NetworkPolicy is enforced is unknown"
        verb = "enforces" if self.enforces else "does NOT enforce"
        return f"CNI {self.name} ({self.source}) {verb} NetworkPolicy"


def profile(name: str) -> CniProfile | None:
    name = name.lower()
    for p in KNOWN:
        if p.name == name:
            return p
    aliases = {"none": CniProfile("none", False, ()), "kubenet": CniProfile("kubenet", False, ())}
    return aliases.get(name)


def detect_cni(inventory: Inventory, declared: str | None = None) -> CniInfo:
    if declared:
        p = profile(declared)
        if p is None:
            return CniInfo(declared, None, "declared")
        return CniInfo(p.name, p.enforces, "declared")
    found: dict[str, list[Location]] = {}
    for w in inventory.cluster.workloads:
        for p in KNOWN:
            if any(w.name == m or w.name.startswith(m + "-") for m in p.markers) and w.location:
                found.setdefault(p.name, []).append(w.location)
    if not found:
        return CniInfo("unknown", None, "none")
    names = tuple(sorted(found))
    enforcing = [n for n in names if (profile(n) or CniProfile(n, False, ())).enforces]
    # Canal = Flannel + Calico policy; Flannel next to an enforcing CNI is that CNI's data plane.
    if enforcing:
        name = "canal" if "canal" in enforcing else enforcing[0]
        return CniInfo(name, True, "detected", tuple(found[name]), names)
    name = names[0]
    return CniInfo(name, False, "detected", tuple(found[name]), names)
