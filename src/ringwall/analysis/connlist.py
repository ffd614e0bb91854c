"""Who can reach whom, at workload granularity: the connlist.

Turns the engine's rectangles into one connection set per (source, destination) pair, where
an endpoint is a workload (``ns/name[Kind]``) or an external address range. This is the one
data structure every connectivity format (txt, json, csv, md, dot) renders.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from ringwall.layers.netpol.engine import Engine
from ringwall.model import intervals as iv
from ringwall.model.addresses import format_range
from ringwall.model.connections import NONE, ConnectionSet
from ringwall.model.intervals import Intervals

EXTERNAL_SUFFIX = "[External]"


@dataclass(frozen=True, slots=True)
class Connection:
    src: str
    dst: str
    conn: ConnectionSet
    src_is_ip: bool = False
    dst_is_ip: bool = False

    def line(self) -> str:
        return f"{self.src} => {self.dst} : {self.conn}"

    def to_json(self) -> dict[str, object]:
        return {"src": self.src, "dst": self.dst, "conn": str(self.conn), "ports": self.conn.to_json()}


@dataclass
class Connlist:
    connections: list[Connection]
    workloads: list[str]

    def lines(self) -> list[str]:
        return [c.line() for c in self.connections]


def ip_endpoint(lo: int, hi: int) -> str:
    return format_range(lo, hi) + EXTERNAL_SUFFIX


def compute_connlist(engine: Engine, focus: str | None = None) -> Connlist:
    """All allowed connections; ``focus`` keeps those touching one workload (key or name)."""
    class_wls: list[list[str]] = []
    for c in engine.classes:
        keys = sorted({w.key for w, _ in c.members})
        class_wls.append(keys)
    focus_keys = _focus_keys(engine, focus) if focus else None

    pairs: dict[tuple[str, str], ConnectionSet] = {}
    classes_in = engine.classes_in
    for srcs, dsts, conn in engine.pod_rects():
        dst_list = [class_wls[c.index] for c in classes_in(dsts)]
        for sc in classes_in(srcs):
            for s in class_wls[sc.index]:
                for dws in dst_list:
                    for d in dws:
                        if s == d:
                            continue
                        key = (s, d)
                        old = pairs.get(key)
                        pairs[key] = conn if old is None else (old | conn)

    ext_in: dict[str, list[tuple[Intervals, ConnectionSet]]] = {}
    for ips, dmask, conn in engine.ingress_from_ips():
        for dc in classes_in(dmask):
            for d in class_wls[dc.index]:
                ext_in.setdefault(d, []).append((ips, conn))
    ext_out: dict[str, list[tuple[Intervals, ConnectionSet]]] = {}
    for smask, ips, conn in engine.egress_to_ips():
        for sc in classes_in(smask):
            for s in class_wls[sc.index]:
                ext_out.setdefault(s, []).append((ips, conn))

    conns: list[Connection] = [Connection(s, d, c) for (s, d), c in pairs.items() if c]
    for d, pieces in ext_in.items():
        for lo, hi, c in _ip_pieces(pieces):
            conns.append(Connection(ip_endpoint(lo, hi), d, c, src_is_ip=True))
    for s, pieces in ext_out.items():
        for lo, hi, c in _ip_pieces(pieces):
            conns.append(Connection(s, ip_endpoint(lo, hi), c, dst_is_ip=True))
    if focus_keys is not None:
        conns = [c for c in conns if c.src in focus_keys or c.dst in focus_keys]
    conns.sort(key=lambda c: (c.src, c.dst))
    workloads = sorted({k for ks in class_wls for k in ks})
    if focus_keys is not None:  # a focused view keeps the focus and what it talks to, not the whole estate
        touched = {e for c in conns for e in (c.src, c.dst)} | focus_keys
        workloads = [w for w in workloads if w in touched]
    return Connlist(conns, workloads)


def _ip_pieces(pieces: list[tuple[Intervals, ConnectionSet]]) -> list[tuple[int, int, ConnectionSet]]:
    """Merge (ranges, conn) pieces into maximal single intervals with one connection set each."""
    if len(pieces) == 1:
        ranges, conn = pieces[0]
        return [(lo, hi, conn) for lo, hi in ranges] if conn else []
    points: set[int] = set()
    for ranges, _ in pieces:
        for lo, hi in ranges:
            points.add(lo)
            points.add(hi + 1)
    cuts = sorted(points)
    out: list[tuple[int, int, ConnectionSet]] = []
    for a, b in itertools.pairwise(cuts):
        conn = NONE
        for ranges, c in pieces:
            if iv.contains(ranges, a):
                conn = conn | c
        if not conn:
            continue
        if out and out[-1][2] == conn and out[-1][1] + 1 == a:
            out[-1] = (out[-1][0], b - 1, conn)
        else:
            out.append((a, b - 1, conn))
    return out


def _focus_keys(engine: Engine, focus: str) -> set[str]:
    keys = set()
    for w in engine.cluster.workloads:
        if focus in (w.key, w.name, f"{w.namespace}/{w.name}"):
            keys.add(w.key)
    return keys
