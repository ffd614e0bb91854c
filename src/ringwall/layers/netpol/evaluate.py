"""Decide one flow rule by rule, with the evidence: what ``explain`` shows.

The engine answers *what* is allowed for whole sets; this module answers *why* for one pair,
walking the same policies and naming each selecting policy and each matching rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ringwall.model import intervals as iv
from ringwall.model.connections import ALL, NONE, ConnectionSet
from ringwall.model.location import Location

from .admin import AdminRule, TieredPolicy
from .engine import Engine, PodClass, conn_for
from .policy import NetworkPolicy, Rule


@dataclass(frozen=True, slots=True)
class RuleMatch:
    policy: NetworkPolicy
    rule: Rule
    conn: ConnectionSet  # what this rule allows for this pair


@dataclass(frozen=True, slots=True)
class AdminMatch:
    policy: TieredPolicy
    rule: AdminRule
    conn: ConnectionSet  # the connections this rule's ports cover for this pair


@dataclass
class DirectionDecision:
    direction: str  # "ingress" | "egress"
    applies: bool  # False: the subject is not a pod under policy (an address, or a host-network pod)
    selecting: list[NetworkPolicy] = field(default_factory=list)
    matches: list[RuleMatch] = field(default_factory=list)
    peer_only: list[RuleMatch] = field(default_factory=list)
    """Rules whose peers match but whose ports allow nothing for this pair (e.g. a named port missing)."""
    admin: list[AdminMatch] = field(default_factory=list)
    """Admin/Baseline rules whose peers match, in evaluation order (first match per port decides)."""
    admin_selecting: list[TieredPolicy] = field(default_factory=list)
    cni_selecting: list[tuple[str, str, Location]] = field(default_factory=list)
    """Calico / Cilium policies whose selector takes the subject: (ref, tier and order, location)."""
    engine_allowed: ConnectionSet | None = None
    """The engine's verdict for this pair and direction (all tiers); authoritative when set."""

    @property
    def isolated(self) -> bool:
        return bool(self.selecting)

    @property
    def allowed(self) -> ConnectionSet:
        if self.engine_allowed is not None:
            return self.engine_allowed
        if not self.applies or not self.isolated:
            return ALL
        out = NONE
        for m in self.matches:
            out = out | m.conn
        return out


Peer = PodClass | int  # a class, or an external address (on the shared number line)


def decide(engine: Engine, direction: str, subject: PodClass | None, peer: Peer) -> DirectionDecision:
    """The decision of ``subject``'s policies in ``direction`` about traffic with ``peer``."""
    if subject is None:
        return DirectionDecision(direction, applies=False)
    if not (engine.all_mask and _selectable(engine, subject)):
        return DirectionDecision(direction, applies=False)
    result = DirectionDecision(direction, applies=True)
    for i, pol in enumerate(engine.policies):
        if not pol.affects(direction) or not engine.subjects[i] & subject.bit:
            continue
        result.selecting.append(pol)
        for rule in pol.rules(direction):
            if not _peer_matches(engine, rule, pol, peer):
                continue
            dst_ports = subject.ports if direction == "ingress" else peer.ports if isinstance(peer, PodClass) else None
            conn = engine.resolve_ports(rule.ports, dst_ports)
            (result.matches if conn else result.peer_only).append(RuleMatch(pol, rule, conn))
    for i, apol in enumerate(engine.admin):
        if not apol.rules(direction) or not engine.admin_subjects[i] & subject.bit:
            continue
        result.admin_selecting.append(apol)
        for arule in apol.rules(direction):
            mask, ips = engine.admin_peer_scope(arule)
            hit = bool(mask & peer.bit) if isinstance(peer, PodClass) else iv.contains(ips, peer)
            if hit:
                if direction == "ingress":
                    dst_ports = subject.ports
                else:
                    dst_ports = peer.ports if isinstance(peer, PodClass) else None
                result.admin.append(AdminMatch(apol, arule, engine.resolve_ports(arule.rules_ports, dst_ports)))
    calico = [(cp, engine.calico_subjects[i]) for i, cp in enumerate(engine.calico)]
    for cp, mask in sorted(calico, key=lambda x: x[0].sort_key):
        if cp.affects(direction) and mask & subject.bit:
            result.cni_selecting.append((cp.ref, f"tier {cp.tier}, order {cp.order:g}", cp.document.locate()))
    for i, cil in enumerate(engine.cilium):
        if direction in cil.sections and engine.cilium_subjects[i] & subject.bit:
            result.cni_selecting.append((cil.ref, "Cilium: deny rules first, then the union of allows",
                                         cil.document.locate()))
    result.engine_allowed = _engine_verdict(engine, direction, subject, peer)
    return result


def _engine_verdict(engine: Engine, direction: str, subject: PodClass, peer: Peer) -> ConnectionSet:
    prof = (engine.class_ingress if direction == "ingress" else engine.class_egress)[subject.index]
    if isinstance(peer, PodClass):
        return conn_for(prof.pod_parts, peer.bit)
    for ips, conn in prof.ip_parts:
        if iv.contains(ips, peer):
            return conn
    return NONE


def _selectable(engine: Engine, cls: PodClass) -> bool:
    return not (cls.host_network and engine.options.host_network == "node-ip")


def _peer_matches(engine: Engine, rule: Rule, pol: NetworkPolicy, peer: Peer) -> bool:
    mask, ips = engine.rule_peer_scope(rule, pol)
    if isinstance(peer, PodClass):
        return bool(mask & peer.bit)
    return iv.contains(ips, peer)
