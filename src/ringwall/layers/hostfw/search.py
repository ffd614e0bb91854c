"""Example-packet search (Batfish ``searchFilters``) and ruleset comparison (``compareFilters``).

Both work on whole header spaces: constraints and accepted sets are BDDs, a witness is one
satisfying assignment decoded into a packet, and every witness is then traced concretely so the
answer names the deciding rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ringwall.model import intervals as iv

from . import values as V
from .model import ALL_ADDR, CT_STATES, V4_SPACE, Packet, Ruleset
from .packetset import BDD, Space
from .services import space_for
from .symbolic import accepted
from .trace import TraceResult, packet_json, step_json, trace

MAX_GROUPS = 20


@dataclass
class Constraints:
    src: list[str] = field(default_factory=list)
    src_not: list[str] = field(default_factory=list)
    dst: list[str] = field(default_factory=list)
    dst_not: list[str] = field(default_factory=list)
    proto: str | None = None
    dport: str | None = None
    sport: str | None = None
    iif: str | None = None
    oif: str | None = None
    state: str | None = "new"
    family: int | None = None

    def bdd(self, space: Space) -> BDD:
        r = space.true
        for fld, pos, negs in (("saddr", self.src, self.src_not), ("daddr", self.dst, self.dst_not)):
            if pos:
                r &= space.field_in(fld, iv.normalize(x for t in pos for x in V.parse_net(t)[0]))
            for t in negs:
                r &= ~space.field_in(fld, V.parse_net(t)[0])
        if self.proto:
            p = V.parse_proto(self.proto)
            if p is not None:
                r &= space.eq("proto", p)
        for fld, text in (("dport", self.dport), ("sport", self.sport)):
            if text:
                r &= space.field_in(fld, V.parse_ports(text.replace("-", ":")))
        if self.iif:
            r &= space.eq("iif", space.class_of(self.iif))
        else:  # loopback accepts anything on most hosts: only searched when asked for (--iif lo)
            r &= ~space.eq("iif", space.class_of("lo"))
        if self.oif:
            r &= space.eq("oif", space.class_of(self.oif))
        if self.state:
            r &= space.eq("ct_state", CT_STATES.index(self.state))
            if self.state == "new" and self.proto in (None, "tcp"):
                r &= ~space.eq("proto", 6) | space.eq("tcp_flags", 0x02)
        if self.family:
            r &= space.eq("family", self.family)
        return r

    def names(self) -> list[str]:
        return [x for x in (self.iif, self.oif) if x]


@dataclass
class SearchResult:
    found: bool
    action: str
    path: str
    trace: TraceResult | None = None
    assumptions: dict[str, bool] = field(default_factory=dict)
    exact: bool = True

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"found": self.found, "wanted": self.action, "path": self.path, "exact": self.exact}
        if self.trace is not None:
            out["packet"] = packet_json(self.trace.packet)
            out["trace"] = self.trace.to_json()
        if self.assumptions:
            out["assumptions"] = self.assumptions
        return out


def search(ruleset: Ruleset, cons: Constraints, action: str = "accept", path: str = "input") -> SearchResult:
    """One packet matching ``cons`` that the path accepts (or drops: ``action='drop'``)."""
    space = space_for([ruleset], cons.names())
    acc, _ = accepted(space, ruleset, path)
    from .symbolic import path_interfaces

    domain = space.wellformed() & path_interfaces(space, path, {}) & cons.bdd(space)
    target = acc if action == "accept" else ~acc
    may = space.upper(target & domain)
    hit = space.pick(may, _prefer(cons))
    if hit is None:
        return SearchResult(False, action, path)
    pkt, _ = hit
    t = trace(ruleset, pkt, path)
    surely = space.lower(target & domain)
    exact = may == surely
    return SearchResult(True, action, path, t, t.main.assumptions if not t.exact else {}, exact)


def _prefer(cons: Constraints) -> dict[str, Any]:
    return {}


@dataclass
class DiffGroup:
    example: Packet
    path: str
    left: TraceResult
    right: TraceResult

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "packet": packet_json(self.example),
                "left": {"verdict": self.left.verdict, "deciding": [step_json(s) for s in self.left.main.deciding]},
                "right": {"verdict": self.right.verdict,
                          "deciding": [step_json(s) for s in self.right.main.deciding]}}


@dataclass
class Comparison:
    groups: list[DiffGroup]
    identical: dict[str, bool]
    newly_accepted: dict[str, list[str]]
    newly_dropped: dict[str, list[str]]

    @property
    def equal(self) -> bool:
        return all(self.identical.values())

    def to_json(self) -> dict[str, Any]:
        return {"equal": self.equal, "identical": self.identical, "differences": [g.to_json() for g in self.groups],
                "newly_accepted_sources": self.newly_accepted, "newly_dropped_sources": self.newly_dropped}


def compare(left: Ruleset, right: Ruleset, paths: tuple[str, ...] = ("input", "forward", "output")) -> Comparison:
    """Packets the two rulesets decide differently (upper closures), grouped by deciding rules."""
    space = space_for([left, right])
    groups: list[DiffGroup] = []
    identical: dict[str, bool] = {}
    new_acc: dict[str, list[str]] = {}
    new_drop: dict[str, list[str]] = {}
    for path in paths:
        a1 = space.upper(accepted(space, left, path)[0])
        a2 = space.upper(accepted(space, right, path)[0])
        diff = (a1 & ~a2) | (a2 & ~a1)
        identical[path] = diff == space.false
        if identical[path]:
            continue
        new_acc[path] = _sources(space, a2 & ~a1)
        new_drop[path] = _sources(space, a1 & ~a2)
        while diff != space.false and len(groups) < MAX_GROUPS:
            hit = space.pick(diff)
            assert hit is not None
            pkt, _ = hit
            t1, t2 = trace(left, pkt, path), trace(right, pkt, path)
            region = diff
            for t in (t1, t2):
                for s in t.main.deciding:
                    if s.rule is not None:
                        region = region & space.compile(s.rule.match)
            point = space.restrict(space.true, {}) & _point(space, pkt)
            diff = diff & ~(region | point)
            groups.append(DiffGroup(pkt, path, t1, t2))
    return Comparison(groups, identical, new_acc, new_drop)


def _point(space: Space, pkt: Packet) -> BDD:
    r = space.true
    for f in ("family", "saddr", "daddr", "proto", "sport", "dport", "icmp_type", "icmp_code", "tcp_flags",
              "ct_state", "mark"):
        r &= space.eq(f, int(pkt.get(f) or 0))
    return r & space.eq("iif", space.class_of(pkt.iif)) & space.eq("oif", space.class_of(pkt.oif))


def _sources(space: Space, u: BDD) -> list[str]:
    proj = space.exist_fields(u, [f for f in space.vars if f != "saddr"])
    try:
        ivs = space.intervals(proj, "saddr")
    except ValueError:
        return ["(too fragmented to list)"]
    out = []
    v4, v6 = iv.intersect(ivs, V4_SPACE), iv.subtract(iv.intersect(ivs, ALL_ADDR), V4_SPACE)
    if v4:
        out.append(V.fmt_ranges(v4))
    if v6:
        out.append("all IPv6" if v6 == iv.subtract(ALL_ADDR, V4_SPACE) else V.fmt_ranges(v6))
    return out
