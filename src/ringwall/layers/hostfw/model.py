"""The host firewall model: match predicates, rules, chains, tables and rulesets.

Every reader (iptables-save, iptables scripts, nft text, nft scripts, nft JSON) produces these
objects, so the semantics, the analyses and the checks never see an input format. A rule's
match is a predicate over a fixed set of packet header fields (``FIELDS``); anything the model
cannot express exactly is an ``Unknown`` atom that keeps its text, so that every answer can say
whether it is exact or an over/under-approximation (hostfw-semantics §1.11).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from ringwall.model.intervals import Intervals
from ringwall.model.location import Location

# --------------------------------------------------------------------------- packet fields

FIELD_BITS: dict[str, int] = {
    "family": 3,  # 4 or 6
    "ct_state": 3,  # CT_STATES index
    "proto": 8,
    "dport": 16,
    "sport": 16,
    "icmp_type": 8,
    "icmp_code": 8,
    "tcp_flags": 8,
    "mark": 32,
    "saddr": 128,
    "daddr": 128,
}
"""Numeric header fields and their widths. Interfaces (``iif``, ``oif``) are names, encoded
per analysis from the names a ruleset mentions."""

IFACE_FIELDS = ("iif", "oif")
CT_STATES: tuple[str, ...] = ("new", "established", "related", "invalid", "untracked")
V4_BASE = 0xFFFF_0000_0000
"""IPv4 addresses live in one 128-bit address space as IPv4-mapped IPv6 (``::ffff:a.b.c.d``)."""
V4_SPACE: Intervals = ((V4_BASE, V4_BASE + 0xFFFF_FFFF),)
ALL_ADDR: Intervals = ((0, (1 << 128) - 1),)
PORT_PROTOS: frozenset[int] = frozenset({6, 17, 33, 132, 136})
"""Protocols with 16-bit source and destination ports (tcp, udp, dccp, sctp, udplite)."""
ICMP_PROTOS: frozenset[int] = frozenset({1, 58})


# --------------------------------------------------------------------------- predicates


class Pred:
    """A match over packet fields. Subclasses are immutable; build them with ``conj``/``disj``/``neg``."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class In(Pred):
    """The numeric field lies in an interval set."""

    field: str
    values: Intervals


@dataclass(frozen=True, slots=True)
class Masked(Pred):
    """``(field & mask) == value`` (marks with masks, TCP flag tests)."""

    field: str
    mask: int
    value: int


@dataclass(frozen=True, slots=True)
class Iface(Pred):
    """The interface name equals one of ``names`` or starts with one of ``prefixes``."""

    field: str
    names: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()

    def matches(self, name: str | None) -> bool:
        if name is None:
            return False
        return name in self.names or any(name.startswith(p) for p in self.prefixes)


@dataclass(frozen=True, slots=True)
class Unknown(Pred):
    """A match the model cannot evaluate: it is true for some packets and false for others.

    ``key`` identifies the predicate: two atoms with the same key are the same predicate of the
    packet (an ipset looked up the same way); stateful matches (limit, recent) get a key per
    occurrence.
    """

    key: str
    text: str
    reason: str


@dataclass(frozen=True, slots=True)
class Not(Pred):
    p: Pred


@dataclass(frozen=True, slots=True)
class And(Pred):
    ps: tuple[Pred, ...]


@dataclass(frozen=True, slots=True)
class Or(Pred):
    ps: tuple[Pred, ...]


TRUE: Pred = And(())
FALSE: Pred = Or(())


def conj(*ps: Pred) -> Pred:
    """Conjunction with flattening and constant folding."""
    out: list[Pred] = []
    for p in ps:
        if p == FALSE:
            return FALSE
        if isinstance(p, And):
            out.extend(p.ps)
        else:
            out.append(p)
    return out[0] if len(out) == 1 else And(tuple(out))


def disj(*ps: Pred) -> Pred:
    """Disjunction with flattening and constant folding."""
    out: list[Pred] = []
    for p in ps:
        if p == TRUE:
            return TRUE
        if isinstance(p, Or):
            out.extend(p.ps)
        else:
            out.append(p)
    return out[0] if len(out) == 1 else Or(tuple(out))


def neg(p: Pred) -> Pred:
    if p == TRUE:
        return FALSE
    if p == FALSE:
        return TRUE
    if isinstance(p, Not):
        return p.p
    return Not(p)


def unknowns(p: Pred) -> list[Unknown]:
    """Every unknown atom of a predicate, in order."""
    if isinstance(p, Unknown):
        return [p]
    if isinstance(p, Not):
        return unknowns(p.p)
    if isinstance(p, And | Or):
        return [u for q in p.ps for u in unknowns(q)]
    return []


def fields_of(p: Pred) -> set[str]:
    """The header fields a predicate looks at."""
    if isinstance(p, In | Masked | Iface):
        return {p.field}
    if isinstance(p, Not):
        return fields_of(p.p)
    if isinstance(p, And | Or):
        return set().union(*(fields_of(q) for q in p.ps)) if p.ps else set()
    return set()


# --------------------------------------------------------------------------- rules and chains


class Kind(enum.StrEnum):
    """What a rule does when it matches."""

    ACCEPT = "accept"
    DROP = "drop"
    REJECT = "reject"
    RETURN = "return"
    JUMP = "jump"
    GOTO = "goto"
    CONTINUE = "continue"  # no verdict: LOG, counter, MARK, ...
    QUEUE = "queue"  # NFQUEUE: a user-space program decides
    NAT = "nat"  # DNAT/SNAT/MASQUERADE/REDIRECT: ends the nat chain, packet goes on

    @property
    def terminal(self) -> bool:
        return self not in (Kind.CONTINUE, Kind.JUMP)


@dataclass(frozen=True, slots=True)
class Action:
    kind: Kind
    target: str | None = None
    """The chain of a jump/goto, or the NAT type (``dnat``, ``snat``, ``masquerade``, ``redirect``)."""
    detail: str = ""
    """``reject with tcp reset``, ``to 10.0.0.5:80``, ``log prefix "x"``: shown, not evaluated."""
    nat_addr: int | None = None
    nat_port: int | None = None

    def __str__(self) -> str:
        if self.kind in (Kind.JUMP, Kind.GOTO):
            return f"{self.kind.value} {self.target}"
        if self.kind is Kind.NAT:
            return f"{self.target} {self.detail}".strip()
        return f"{self.kind.value} {self.detail}".strip()


@dataclass(frozen=True, slots=True)
class MarkSet:
    """``-j MARK --set-xmark v/m`` / ``meta mark set v``: mark = (mark & ~mask) ^ value."""

    value: int
    mask: int = 0xFFFF_FFFF


@dataclass(slots=True)
class Rule:
    location: Location
    text: str
    match: Pred
    action: Action
    mark_set: MarkSet | None = None
    comment: str | None = None
    counters: tuple[int, int] | None = None
    handle: int | None = None
    logs: bool = False
    part: str = ""
    """For a verdict-map rule split into one rule per key: which key (``key 80``)."""

    @property
    def label(self) -> str:
        return f"{self.text} ({self.part})" if self.part else self.text


@dataclass(slots=True)
class Chain:
    family: str  # ip, ip6, inet, arp, bridge, netdev
    table: str
    name: str
    location: Location
    rules: list[Rule] = field(default_factory=list)
    hook: str | None = None
    priority: int | None = None
    policy: str | None = None  # accept / drop for base chains
    type: str = "filter"
    device: str | None = None

    @property
    def is_base(self) -> bool:
        return self.hook is not None

    @property
    def ident(self) -> str:
        return f"{self.family} {self.table} {self.name}"


@dataclass(slots=True)
class NamedSet:
    """An ipset or nft named set/map, resolved to a predicate builder's input."""

    name: str
    location: Location
    types: tuple[str, ...]
    elements: list[tuple[object, ...]] = field(default_factory=list)
    dynamic: bool = False
    resolved: bool = True


class Backend(enum.StrEnum):
    IPTABLES = "iptables"  # iptables-save / scripts (legacy or nft back end, unknown)
    IPTABLES_NFT = "iptables-nft"  # seen through nft with xt expressions or the warning
    NFT = "nft"


@dataclass(slots=True)
class Table:
    family: str
    name: str
    location: Location
    backend: Backend
    chains: dict[str, Chain] = field(default_factory=dict)
    sets: dict[str, NamedSet] = field(default_factory=dict)
    opaque: list[Location] = field(default_factory=list)
    """Locations of ``xt`` expressions (iptables-nft rules seen through nft JSON)."""
    reader: str = "nft"
    """Which syntax the table was read from: ``iptables`` or ``nft``."""

    @property
    def ident(self) -> str:
        return f"{self.family} {self.name}"


@dataclass(slots=True)
class Ruleset:
    tables: list[Table] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    tools: set[str] = field(default_factory=set)
    """Firewall tools recognised from chain names or headers (ufw, firewalld, docker, kube-proxy...)."""
    formats: list[str] = field(default_factory=list)

    def chains(self) -> list[Chain]:
        return [c for t in self.tables for c in t.chains.values()]

    def rules(self) -> list[Rule]:
        return [r for c in self.chains() for r in c.rules]

    def table_of(self, chain: Chain) -> Table:
        for t in self.tables:
            if t.family == chain.family and t.name == chain.table:
                return t
        raise KeyError(chain.ident)

    @property
    def sets_marks(self) -> bool:
        return any(r.mark_set is not None for r in self.rules())


# --------------------------------------------------------------------------- packets


@dataclass(frozen=True, slots=True)
class Packet:
    """One concrete packet as netfilter sees it at a hook, with an assumed conntrack state."""

    family: int
    saddr: int
    daddr: int
    proto: int
    sport: int = 0
    dport: int = 0
    icmp_type: int = 0
    icmp_code: int = 0
    tcp_flags: int = 0
    ct_state: int = 0
    mark: int = 0
    iif: str | None = None
    oif: str | None = None

    def get(self, name: str) -> int | str | None:
        return getattr(self, name)  # type: ignore[no-any-return]
