"""The service matrix: address classes a ruleset treats alike, and which class reaches which.

For one protocol and destination port (and fffuu's default source port 10000) the accepted set is
a BDD over (source, destination) addresses. Walking the source-address part of that BDD yields
its distinct *out-neighbourhoods* directly (each BDD node where the source bits end is one
function of the destination); refining the destination space by those functions yields the
*in-neighbourhoods*. Addresses with the same pair form one class, so the partition is minimal
(hostfw-semantics §4) and nothing iterates over addresses or rules pairwise.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from ringwall.model import intervals as iv
from ringwall.model.intervals import Intervals

from . import values as V
from .model import ALL_ADDR, V4_SPACE, And, In, Pred, Ruleset
from .packetset import BDD, Space
from .symbolic import accepted

DEFAULT_PORTS = (22, 80, 443, 6443, 10250, 2379)
MAX_PORTS = 64


@dataclass
class Matrix:
    protocol: str
    sport: int
    dport: int
    path: str
    family: int
    classes: list[tuple[str, Intervals]]
    edges: list[tuple[str, str]]
    exact: bool
    closure: str  # upper (may reach) or lower (surely reaches)
    unknowns: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "protocol": self.protocol, "sport": self.sport, "dport": self.dport, "path": self.path,
            "family": f"ipv{self.family}", "exact": self.exact, "closure": self.closure,
            "classes": [{"id": c, "ranges": [[V.fmt_addr(lo), V.fmt_addr(hi)] for lo, hi in r],
                         "cidrs": V.fmt_ranges(r).split(", ")} for c, r in self.classes],
            "edges": [[a, b] for a, b in self.edges],
            "unknown_matches": self.unknowns,
        }


def _cut(space: Space, u: BDD, fld: str) -> dict[int, tuple[BDD, list[tuple[int, int]]]]:
    """Group the values of ``fld`` by the sub-function (of the later fields) they lead to."""
    vs = space.vars[fld]
    n = len(vs)
    level0 = space.bdd.level_of_var(vs[0])
    memo: dict[tuple[int, int], dict[int, tuple[BDD, list[tuple[int, int]]]]] = {}

    def walk(node: BDD, depth: int) -> dict[int, tuple[BDD, list[tuple[int, int]]]]:
        width = n - depth
        lvl = node.level - level0 if node.var is not None else n
        if lvl >= n:
            return {int(node): (node, [(0, (1 << width) - 1)])}
        key = (int(node), depth)
        if key in memo:
            return memo[key]
        out: dict[int, tuple[BDD, list[tuple[int, int]]]] = {}
        if lvl > depth:
            sub = walk(node, lvl)
            step = 1 << (n - lvl)
            for k in range(1 << (lvl - depth)):
                for nk, (nd, ivs) in sub.items():
                    out.setdefault(nk, (nd, []))[1].extend((k * step + a, k * step + b) for a, b in ivs)
        else:
            low, high = (~node.low, ~node.high) if node.negated else (node.low, node.high)
            half = 1 << (width - 1)
            for nk, (nd, ivs) in walk(low, depth + 1).items():
                out.setdefault(nk, (nd, []))[1].extend(ivs)
            for nk, (nd, ivs) in walk(high, depth + 1).items():
                out.setdefault(nk, (nd, []))[1].extend((a + half, b + half) for a, b in ivs)
        memo[key] = out
        return out

    return walk(u, 0)


def _names(k: int) -> str:
    s = ""
    k += 1
    while k:
        k, r = divmod(k - 1, 26)
        s = chr(97 + r) + s
    return s


def matrix(ruleset: Ruleset, protocol: str = "tcp", dport: int = 22, sport: int = 10000, path: str = "input",
           family: int = 4, iif: str | None = None, state: str = "new", closure: str = "upper",
           space: Space | None = None) -> Matrix:
    proto = V.parse_proto(protocol) or 6
    space = space or space_for([ruleset], extra_names=[iif] if iif else [], v4_only=family == 4)
    if space.v4_only and family != 4:
        raise ValueError("an IPv4-only space cannot answer for IPv6")
    fixed: dict[str, Any] = {"family": family, "proto": proto, "dport": dport, "sport": sport,
                             "ct_state": ["new", "established", "related", "invalid", "untracked"].index(state),
                             "icmp_type": 0, "icmp_code": 0, "mark": 0,
                             "tcp_flags": (0x02 if state == "new" else 0x10) if proto == 6 else 0}
    if proto not in (6, 17, 33, 132, 136):
        fixed.update(sport=0, dport=0)
    if path == "input":
        fixed["oif"] = None
    if iif is not None:
        fixed["iif"] = iif
    acc, _res = accepted(space, ruleset, path, fixed)
    acc = _quantify_interfaces(space, acc, fixed, path)
    up, lo = space.upper(acc), space.lower(acc)
    f = up if closure == "upper" else lo
    unknowns = sorted({a.text for a in space.support_unknowns(acc)})
    fam_space: Intervals = V4_SPACE if family == 4 else iv.subtract(ALL_ADDR, V4_SPACE)
    base = space.addr_base
    outs = [(nd, iv.intersect(iv.normalize((lo + base, hi + base) for lo, hi in ivs), fam_space))
            for nd, ivs in _cut(space, f, "saddr").values()]
    outs = [(nd, ivs) for nd, ivs in outs if ivs]
    # in-neighbourhoods: sweep the destination line; the signature of a segment is the set of
    # out-functions true on it (a bitmask), so classes come from interval arithmetic, not BDDs
    events: dict[int, int] = {fam_space[0][0]: 0, fam_space[-1][1] + 1: 0}
    memo: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for i, (nd, _) in enumerate(outs):
        for lo_d, hi_d in iv.intersect(space.intervals(nd, "daddr", memo=memo), fam_space):
            events[lo_d] = events.get(lo_d, 0) ^ (1 << i)
            events[hi_d + 1] = events.get(hi_d + 1, 0) ^ (1 << i)
    in_segments: list[tuple[int, int, int]] = []  # (lo, hi, signature)
    mask = 0
    points = sorted(events)
    for a, b in itertools.pairwise(points):
        mask ^= events[a]
        if iv.intersect(((a, b - 1),), fam_space):
            in_segments.append((a, b - 1, mask))
    out_segments = sorted((lo_s, hi_s, i) for i, (_nd, ivs) in enumerate(outs) for lo_s, hi_s in ivs)
    groups: dict[tuple[int, int], list[tuple[int, int]]] = {}
    k = 0
    for lo_s, hi_s, i in out_segments:  # merge the two partitions of the address line
        while k < len(in_segments) and in_segments[k][1] < lo_s:
            k += 1
        j = k
        while j < len(in_segments) and in_segments[j][0] <= hi_s:
            a, b, sig = in_segments[j]
            groups.setdefault((i, sig), []).append((max(a, lo_s), min(b, hi_s)))
            j += 1
    raw = sorted(((iv.normalize(ivs), i, sig) for (i, sig), ivs in groups.items()), key=lambda c: c[0][0][0])
    classes = [(_names(n), r[0]) for n, r in enumerate(raw)]
    by_bit: dict[int, list[str]] = {}
    for n, (_r, _i, sig) in enumerate(raw):
        for bit in range(len(outs)):
            if sig >> bit & 1:
                by_bit.setdefault(bit, []).append(classes[n][0])
    edges = [(classes[a][0], b) for a, (_r, i, _sig) in enumerate(raw) for b in by_bit.get(i, [])]
    return Matrix(protocol, sport, dport, path, family, classes, edges, up == lo, closure, unknowns)


def _quantify_interfaces(space: Space, acc: BDD, fixed: dict[str, Any], path: str) -> BDD:
    """Without ``--iif``: some non-loopback interface (the matrix is about the network, not lo)."""
    for fld in ("iif", "oif"):
        if fld in fixed:
            continue
        lo_cls = space.eq(fld, space.class_of("lo")) if any(rep == "lo" for rep, _ in space.classes) else space.false
        acc = space.exist_fields(acc & ~lo_cls & ~space.eq(fld, 0), [fld])
    return acc


def space_for(rulesets: list[Ruleset], extra_names: list[str] | None = None, v4_only: bool = False) -> Space:
    """A space whose interface classes separate every name and wildcard the rulesets mention."""
    from .model import Iface, Not, Or

    names: set[str] = set(extra_names or []) | {"lo"}
    prefixes: set[str] = set()

    def walk(p: Pred) -> None:
        if isinstance(p, Iface):
            names.update(p.names)
            prefixes.update(p.prefixes)
        elif isinstance(p, And | Or):
            for q in p.ps:
                walk(q)
        elif isinstance(p, Not):
            walk(p.p)

    for rs in rulesets:
        for r in rs.rules():
            walk(r.match)
        for c in rs.chains():
            if c.device:
                names.add(c.device)
    return Space(names, prefixes, v4_only=v4_only)


def ipv4_only(ruleset: Ruleset) -> bool:
    """Only ``ip`` tables: every packet any rule sees is IPv4."""
    return all(t.family == "ip" for t in ruleset.tables)


def mentioned_ports(ruleset: Ruleset) -> dict[str, list[int]]:
    """Destination ports the rules mention, per protocol (lower end of each range)."""
    out: dict[str, set[int]] = {"tcp": set(DEFAULT_PORTS), "udp": set()}

    def walk(p: Pred, protos: set[int]) -> None:
        if isinstance(p, In) and p.field == "dport":
            for proto in protos or {6}:
                name = {6: "tcp", 17: "udp"}.get(proto)
                if name:
                    out[name].update(lo for lo, _hi in p.values)
        elif isinstance(p, And):
            ps = {lo for q in p.ps if isinstance(q, In) and q.field == "proto" for lo, hi in q.values if lo == hi}
            for q in p.ps:
                walk(q, ps or protos)
        elif hasattr(p, "ps"):
            for q in p.ps:  # type: ignore[attr-defined]
                walk(q, protos)
        elif hasattr(p, "p"):
            walk(p.p, protos)  # type: ignore[attr-defined]

    for r in ruleset.rules():
        walk(r.match, set())
    return {k: sorted(v)[:MAX_PORTS] for k, v in out.items() if v}


def render_text(m: Matrix) -> str:
    """fffuu's layout: classes ``a |-> {lo .. hi} u …``, a blank line, then edges ``(a,b)``."""
    head = f"=========== {m.protocol.upper()} port {m.sport}->{m.dport} ({m.path}, IPv{m.family}) ========="
    lines = [head]
    for cid, ranges in m.classes:
        lines.append(f"{cid} |-> " + " u ".join(
            V.fmt_addr(lo) if lo == hi else f"{{{V.fmt_addr(lo)} .. {V.fmt_addr(hi)}}}" for lo, hi in ranges))
    lines.append("")
    lines.extend(f"({a},{b})" for a, b in m.edges)
    if not m.exact:
        lines.append(f"# {m.closure} closure: unknown matches decide part of this matrix: " + "; ".join(m.unknowns))
    return "\n".join(lines)
