"""Connection sets: for each transport protocol, the set of destination ports.

This is the currency of every layer's verdict at L4. Instances are immutable and hashable,
so they can be dictionary keys when grouping endpoints that share a connection set.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ringwall.model import intervals as iv
from ringwall.model.intervals import Intervals

PROTOCOLS: tuple[str, ...] = ("SCTP", "TCP", "UDP")
"""Transport protocols in the order the connlist grammar prints them."""
PORT_MIN = 1
PORT_MAX = 65535
ALL_PORTS: Intervals = ((PORT_MIN, PORT_MAX),)


class ConnectionSet:
    """An immutable map protocol -> port interval set over SCTP, TCP and UDP."""

    __slots__ = ("_hash", "_ports")

    def __init__(self, ports: Mapping[str, Intervals] | None = None) -> None:
        items = ports or {}
        self._ports: tuple[Intervals, ...] = tuple(iv.normalize(items.get(p, ())) for p in PROTOCOLS)
        self._hash = hash(self._ports)

    @classmethod
    def _raw(cls, ports: tuple[Intervals, ...]) -> ConnectionSet:
        obj = cls.__new__(cls)
        obj._ports = ports
        obj._hash = hash(ports)
        return obj

    @classmethod
    def all(cls) -> ConnectionSet:
        return ALL

    @classmethod
    def none(cls) -> ConnectionSet:
        return NONE

    @classmethod
    def of(cls, protocol: str, ranges: Iterable[tuple[int, int]] = ALL_PORTS) -> ConnectionSet:
        """Ports of one protocol (all ports when ``ranges`` is omitted)."""
        protocol = protocol.upper()
        if protocol not in PROTOCOLS:
            raise ValueError(f"unsupported protocol {protocol!r}")
        return cls({protocol: tuple(ranges)})

    def ports(self, protocol: str) -> Intervals:
        return self._ports[PROTOCOLS.index(protocol.upper())]

    def items(self) -> list[tuple[str, Intervals]]:
        return [(p, r) for p, r in zip(PROTOCOLS, self._ports, strict=True) if r]

    def __or__(self, other: ConnectionSet) -> ConnectionSet:
        if other is self or other._ports == self._ports:
            return self
        return ConnectionSet._raw(tuple(iv.union(a, b) for a, b in zip(self._ports, other._ports, strict=True)))

    def __and__(self, other: ConnectionSet) -> ConnectionSet:
        if other is self or other._ports == self._ports:
            return self
        return ConnectionSet._raw(
            tuple(iv.intersect(a, b) for a, b in zip(self._ports, other._ports, strict=True))
        )

    def __sub__(self, other: ConnectionSet) -> ConnectionSet:
        return ConnectionSet._raw(
            tuple(iv.subtract(a, b) for a, b in zip(self._ports, other._ports, strict=True))
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ConnectionSet) and self._ports == other._ports

    def __hash__(self) -> int:
        return self._hash

    def __bool__(self) -> bool:
        return any(self._ports)

    def is_all(self) -> bool:
        return all(p == ALL_PORTS for p in self._ports)

    def is_subset(self, other: ConnectionSet) -> bool:
        return not (self - other)

    def allows(self, protocol: str, port: int) -> bool:
        return iv.contains(self.ports(protocol), port)

    def __str__(self) -> str:
        """The connlist rendering: ``All Connections`` or ``SCTP 1-10,TCP 80,8080-8090``."""
        if self.is_all():
            return "All Connections"
        if not self:
            return "No Connections"
        parts = []
        for proto, ranges in self.items():
            parts.append(f"{proto} " + ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in ranges))
        return ",".join(parts)

    def __repr__(self) -> str:
        return f"ConnectionSet({self})"

    def to_json(self) -> dict[str, list[list[int]]]:
        """Structured form: protocol -> list of ``[lo, hi]``."""
        return {p: [[lo, hi] for lo, hi in r] for p, r in self.items()}

    @classmethod
    def parse(cls, text: str) -> ConnectionSet:
        """Read the connlist rendering back (``All Connections``, ``TCP 80,UDP 53-54``)."""
        text = text.strip()
        if text == "All Connections":
            return ALL
        if text in ("No Connections", ""):
            return NONE
        ports: dict[str, list[tuple[int, int]]] = {}
        current: str | None = None
        for token in text.split(","):
            token = token.strip()
            if " " in token:
                current, token = token.split(" ", 1)
                current = current.upper()
            if current not in PROTOCOLS:
                raise ValueError(f"bad connection set {text!r}")
            lo, _, hi = token.partition("-")
            ports.setdefault(current, []).append((int(lo), int(hi or lo)))
        return cls({p: tuple(r) for p, r in ports.items()})


ALL = ConnectionSet({p: ALL_PORTS for p in PROTOCOLS})
NONE = ConnectionSet()
