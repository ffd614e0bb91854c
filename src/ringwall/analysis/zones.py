"""Zones: named sets of endpoints that flows and intents talk about.

A zone is either *external* (address ranges: the internet, a management network, a partner) or
*internal* (workloads chosen by namespace, labels or name). Without an intent file ringwall uses
the default external zones below.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ringwall.model import intervals as iv
from ringwall.model.addresses import ALL_V4, ALL_V6, parse_cidr
from ringwall.model.cluster import Workload
from ringwall.model.intervals import Intervals
from ringwall.model.labels import Selector

PRIVATE = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")


@dataclass(frozen=True)
class Zone:
    name: str
    cidrs: tuple[str, ...] = ()
    namespaces: tuple[str, ...] = ()
    selector: Selector | None = None
    workloads: tuple[str, ...] = ()  # "ns/name"
    description: str = ""
    addresses: Intervals = field(default=(), compare=False)

    @property
    def external(self) -> bool:
        return bool(self.cidrs)

    @property
    def endpoint(self) -> str:
        return f"zone:{self.name}"

    def contains(self, w: Workload) -> bool:
        if self.external:
            return False
        if self.namespaces and w.namespace not in self.namespaces:
            return False
        if self.workloads and f"{w.namespace}/{w.name}" not in self.workloads and w.key not in self.workloads:
            return False
        if self.selector is not None and not self.selector.matches(w.labels):
            return False
        return bool(self.namespaces or self.workloads or self.selector is not None)


def external_zone(name: str, cidrs: list[str], description: str = "", minus: Intervals = ()) -> Zone:
    addrs: Intervals = ()
    for c in cidrs:
        rng, _ = parse_cidr(c)
        addrs = iv.union(addrs, rng)
    return Zone(name, tuple(cidrs), description=description, addresses=iv.subtract(addrs, minus))


def carve(zones: list[Zone]) -> list[Zone]:
    """Make external zones disjoint: each keeps only the addresses no more specific zone claims.

    ``internet`` (0.0.0.0/0) next to ``admins`` (198.51.100.0/24) becomes "everything but the admins";
    a flow written for ``internet`` still covers ``admins`` (see ``covered_by``).
    """
    full = {z.name: _addresses(z) for z in zones if z.external}
    out: list[Zone] = []
    for z in zones:
        if not z.external:
            out.append(z)
            continue
        mine = full[z.name]
        for other, addrs in full.items():
            if other != z.name and addrs != mine and iv.is_subset(addrs, mine):
                mine = iv.subtract(mine, addrs)
        out.append(Zone(z.name, z.cidrs, description=z.description, addresses=mine))
    return out


def covered_by(zone: Zone, zones: list[Zone]) -> list[Zone]:
    """External zones whose addresses lie inside ``zone``'s CIDRs (including itself)."""
    mine = _addresses(zone)
    return [z for z in zones if z.external and iv.is_subset(_addresses(z), mine)]


def _addresses(z: Zone) -> Intervals:
    addrs: Intervals = ()
    for c in z.cidrs:
        rng, _ = parse_cidr(c)
        addrs = iv.union(addrs, rng)
    return addrs


def default_zones() -> list[Zone]:
    """``internet`` (everything public) and ``private`` (RFC 1918 / ULA: cluster, nodes, office)."""
    private = external_zone("private", list(PRIVATE), "private address space (cluster, nodes, internal networks)")
    internet = Zone("internet", ("0.0.0.0/0", "::/0"), description="public addresses",
                    addresses=iv.subtract(iv.union(ALL_V4, ALL_V6), private.addresses))
    return [internet, private]
