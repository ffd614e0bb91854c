"""Istio PeerAuthentication: the effective mTLS mode of each workload and port.

Implements ``ComposePeerAuthentication`` (refs mesh §1.2): mesh policy (root namespace, no
selector) < namespace policy < workload policy, UNSET inherits, portLevelMtls overrides per
container port. A root-namespace policy *with* a selector is ignored. Several policies at one
scope: the oldest wins; without creation timestamps that is undecidable, so it is reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ringwall.model.cluster import Workload
from ringwall.sources.documents import Document

from .common import Evidence, ParsedObject, labels_match, match_labels, spec_of

MODES = ("UNSET", "DISABLE", "PERMISSIVE", "STRICT")


@dataclass
class PeerAuthentication(ParsedObject):
    selector: dict[str, str] | None = None
    mode: str = "UNSET"
    port_modes: dict[int, str] = field(default_factory=dict)
    created: str | None = None


def parse_peer_authentication(doc: Document, default_ns: str) -> PeerAuthentication:
    spec = spec_of(doc)
    mtls = spec.get("mtls") if isinstance(spec.get("mtls"), dict) else {}
    mode = str(mtls.get("mode") or "UNSET").upper()
    ports: dict[int, str] = {}
    plm = spec.get("portLevelMtls")
    if isinstance(plm, dict):
        for k, v in plm.items():
            if str(k).isdigit() and isinstance(v, dict):
                ports[int(k)] = str(v.get("mode") or "UNSET").upper()
    created = doc.metadata.get("creationTimestamp")
    return PeerAuthentication(
        doc, doc.namespace(default_ns), doc.name, selector=match_labels(spec.get("selector")),
        mode=mode if mode in MODES else "UNSET", port_modes=ports,
        created=str(created) if created else None,
    )


@dataclass
class EffectiveMtls:
    """The composed mode of one workload: base mode, per-port overrides and the chain of evidence."""

    mode: str
    port_modes: dict[int, str]
    evidence: list[Evidence]
    port_evidence: dict[int, Evidence] = field(default_factory=dict)

    def at(self, port: int) -> str:
        return self.port_modes.get(port, self.mode)


def _pick(cands: list[PeerAuthentication]) -> tuple[PeerAuthentication | None, bool]:
    """The policy that wins at one scope, and whether the choice is ambiguous."""
    if not cands:
        return None, False
    if len(cands) == 1:
        return cands[0], False
    if all(c.created for c in cands):
        ordered = sorted(cands, key=lambda c: (c.created or "", c.name))
        return ordered[0], ordered[0].created == ordered[1].created
    return cands[0], True


class PeerAuthIndex:
    """All PeerAuthentications, indexed by scope; ``effective(w)`` composes them for a workload."""

    def __init__(self, policies: list[PeerAuthentication], root_namespace: str) -> None:
        self.policies = policies
        self.root = root_namespace
        self.mesh_level = [p for p in policies if p.namespace == root_namespace and p.selector is None]
        self.ignored_root_selector = [p for p in policies if p.namespace == root_namespace and p.selector]
        self.ns_level: dict[str, list[PeerAuthentication]] = {}
        self.wl_level: dict[str, list[PeerAuthentication]] = {}
        for p in policies:
            if p.namespace == root_namespace:
                continue
            target = self.ns_level if p.selector is None else self.wl_level
            target.setdefault(p.namespace, []).append(p)
        self.mesh_policy, self.mesh_ambiguous = _pick(self.mesh_level)
        self.ambiguous: list[tuple[str, list[PeerAuthentication]]] = []
        if self.mesh_ambiguous:
            self.ambiguous.append((f"mesh-wide (root namespace {root_namespace})", self.mesh_level))
        for ns, cands in self.ns_level.items():
            if _pick(cands)[1]:
                self.ambiguous.append((f"namespace {ns}", cands))
        self.matched: set[int] = set()
        self._cache: dict[tuple[str, tuple[tuple[str, str], ...]], EffectiveMtls] = {}

    def workload_policies(self, w: Workload) -> list[PeerAuthentication]:
        out = []
        for p in self.wl_level.get(w.namespace, ()):
            if p.selector is not None and labels_match(p.selector, w.labels):
                out.append(p)
                self.matched.add(id(p))
        return out

    def effective(self, w: Workload) -> EffectiveMtls:
        key = (w.namespace, tuple(sorted(w.labels.items())))
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        mode = "PERMISSIVE"
        ev: list[Evidence] = []
        if self.mesh_policy is not None and self.mesh_policy.mode != "UNSET":
            mode = self.mesh_policy.mode
            ev.append(Evidence(f"mesh-wide {self.mesh_policy.ref} mode {mode}", self.mesh_policy.locate("spec")))
        ns_pol, _ = _pick(self.ns_level.get(w.namespace, []))
        if ns_pol is not None and ns_pol.mode != "UNSET":
            mode = ns_pol.mode
            ev.append(Evidence(f"namespace-wide {ns_pol.ref} mode {mode}", ns_pol.locate("spec")))
        wl_pols = self.workload_policies(w)
        wl_pol, _ = _pick(wl_pols)
        if wl_pol is not None and wl_pol.mode != "UNSET":
            mode = wl_pol.mode
            ev.append(Evidence(f"workload {wl_pol.ref} mode {mode}", wl_pol.locate("spec")))
        if not ev:
            ev.append(Evidence("no PeerAuthentication applies: Istio's default is PERMISSIVE"))
        ports: dict[int, str] = {}
        port_ev: dict[int, Evidence] = {}
        if wl_pol is not None:
            for port, m in wl_pol.port_modes.items():
                ports[port] = mode if m == "UNSET" else m
                port_ev[port] = Evidence(f"{wl_pol.ref} portLevelMtls {port}: {ports[port]}",
                                         wl_pol.locate("spec", "portLevelMtls"))
        eff = EffectiveMtls(mode, ports, ev, port_ev)
        self._cache[key] = eff
        return eff

    def workload_ambiguity(self, w: Workload) -> list[PeerAuthentication]:
        pols = self.workload_policies(w)
        return pols if _pick(pols)[1] else []
