"""Connectivity that changed between two snapshots.

Both sides are connlists; external ranges are re-cut at the union of both sides' boundaries so
that a range split differently on each side is compared by meaning, not by text.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from ringwall.analysis.connlist import EXTERNAL_SUFFIX, Connection, Connlist, ip_endpoint
from ringwall.model.addresses import parse_address
from ringwall.model.connections import NONE, ConnectionSet

SCHEMA = "ringwall.diff/v1"


@dataclass(frozen=True, slots=True)
class Change:
    kind: str  # added | removed | changed
    src: str
    dst: str
    old: ConnectionSet
    new: ConnectionSet

    def to_json(self) -> dict[str, object]:
        return {
            "diff-type": self.kind, "src": self.src, "dst": self.dst,
            "old": str(self.old), "new": str(self.new),
            "old_ports": self.old.to_json(), "new_ports": self.new.to_json(),
        }


def _parse_range(name: str) -> tuple[int, int]:
    """``a-b[External]`` back to numbers (addresses of either family contain no '-')."""
    lo, hi = name.removesuffix(EXTERNAL_SUFFIX).split("-", 1)
    return parse_address(lo), parse_address(hi)


IpPieces = dict[tuple[str, str], list[tuple[int, int, ConnectionSet]]]


def _index(cl: Connlist) -> tuple[dict[tuple[str, str], ConnectionSet], IpPieces]:
    pairs: dict[tuple[str, str], ConnectionSet] = {}
    ips: IpPieces = {}
    for c in cl.connections:
        if c.src_is_ip or c.dst_is_ip:
            wl, direction, rng = (c.dst, "in", c.src) if c.src_is_ip else (c.src, "out", c.dst)
            lo, hi = _parse_range(rng)
            ips.setdefault((wl, direction), []).append((lo, hi, c.conn))
        else:
            pairs[(c.src, c.dst)] = c.conn
    return pairs, ips


def diff_connlists(old: Connlist, new: Connlist) -> list[Change]:
    op, oi = _index(old)
    np_, ni = _index(new)
    changes: list[Change] = []
    for key in sorted(set(op) | set(np_)):
        a, b = op.get(key, NONE), np_.get(key, NONE)
        if a != b:
            changes.append(Change(_kind(a, b), key[0], key[1], a, b))
    for key in sorted(set(oi) | set(ni)):
        wl, direction = key
        for lo, hi, a, b in _aligned(oi.get(key, []), ni.get(key, [])):
            if a == b:
                continue
            rng = ip_endpoint(lo, hi)
            src, dst = (rng, wl) if direction == "in" else (wl, rng)
            changes.append(Change(_kind(a, b), src, dst, a, b))
    changes.sort(key=lambda c: (c.src, c.dst))
    return changes


def _kind(a: ConnectionSet, b: ConnectionSet) -> str:
    if not a:
        return "added"
    if not b:
        return "removed"
    return "changed"


def _aligned(
    a: list[tuple[int, int, ConnectionSet]], b: list[tuple[int, int, ConnectionSet]]
) -> list[tuple[int, int, ConnectionSet, ConnectionSet]]:
    points = sorted({x for lo, hi, _ in (*a, *b) for x in (lo, hi + 1)})
    out: list[tuple[int, int, ConnectionSet, ConnectionSet]] = []
    for lo, nxt in itertools.pairwise(points):
        ca = next((c for x, y, c in a if x <= lo <= y), NONE)
        cb = next((c for x, y, c in b if x <= lo <= y), NONE)
        if out and out[-1][2] == ca and out[-1][3] == cb and out[-1][1] + 1 == lo:
            out[-1] = (out[-1][0], nxt - 1, ca, cb)
        else:
            out.append((lo, nxt - 1, ca, cb))
    return out


def render(changes: list[Change], fmt: str) -> str:
    import csv
    import io

    import orjson

    if fmt == "txt":
        return "".join(
            f"diff-type: {c.kind}, source: {c.src}, destination: {c.dst}, "
            f"dir1: {_conn(c.old)}, dir2: {_conn(c.new)}\n"
            for c in changes
        )
    if fmt == "json":
        return orjson.dumps({"schema": SCHEMA, "changes": [c.to_json() for c in changes]},
                            option=orjson.OPT_INDENT_2).decode() + "\n"
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["diff-type", "source", "destination", "dir1", "dir2"])
        for c in changes:
            w.writerow([c.kind, c.src, c.dst, _conn(c.old), _conn(c.new)])
        return buf.getvalue()
    if fmt == "md":
        rows = ["| diff-type | source | destination | dir1 | dir2 |", "|---|---|---|---|---|"]
        rows += [f"| {c.kind} | {c.src} | {c.dst} | {_conn(c.old)} | {_conn(c.new)} |" for c in changes]
        return "\n".join(rows) + "\n"
    raise ValueError(f"unknown format {fmt!r}")


def _conn(c: ConnectionSet) -> str:
    return str(c) if c else "No Connections"


__all__ = ["Change", "Connection", "diff_connlists", "render"]
