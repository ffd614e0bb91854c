"""Decide one flow rule by rule, with the evidence: what ``explain`` shows.

The engine answers *what* is allowed for whole sets; this module answers *why* for one pair,
walking the same policies and naming each selecting policy and each matching rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ringwall.model import intervals as iv
from ringwall.model.connections import ALL, NONE, ConnectionSet

from .engine import Engine, PodClass
from .policy import NetworkPolicy, Rule


@dataclass(frozen=True, slots=True)
class RuleMatch:
    policy: NetworkPolicy
    rule: Rule
    conn: ConnectionSet  # what this rule allows for this pair


@dataclass
class DirectionDecision:
    direction: str  # "ingress" | "egress"
    applies: bool  # False: the subject is not a pod under policy (an address, or a host-network pod)
    selecting: list[NetworkPolicy] = field(default_factory=list)
    matches: list[RuleMatch] = field(default_factory=list)
    peer_only: list[RuleMatch] = field(default_factory=list)
    """Rules whose peers match but whose ports allow nothing for this pair (e.g. a named port missing)."""

    @property
    def isolated(self) -> bool:
        return bool(self.selecting)

    @property
    def allowed(self) -> ConnectionSet:
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
    return result


def _selectable(engine: Engine, cls: PodClass) -> bool:
    return not (cls.host_network and engine.options.host_network == "node-ip")


def _peer_matches(engine: Engine, rule: Rule, pol: NetworkPolicy, peer: Peer) -> bool:
    mask, ips = engine.rule_peer_scope(rule, pol)
    if isinstance(peer, PodClass):
        return bool(mask & peer.bit)
    return iv.contains(ips, peer)
