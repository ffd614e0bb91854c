"""Packet sets as BDDs (``dd.cudd``, falling back to ``dd.autoref``): the header space of the model.

Each numeric field is a bit vector (most significant bit first); interfaces are encoded as an
index into the *interface classes* of the rulesets at hand — every name they mention, one class
per wildcard prefix ("any other eth*") and one for "any other name" — because names that no
rule tells apart behave alike. Unknown matches get one Boolean variable each, so the upper
closure of a set is ``∃unknowns`` and the lower closure ``∀unknowns`` (hostfw-semantics §3).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ringwall.model.intervals import Intervals

from .model import (
    CT_STATES,
    FIELD_BITS,
    ICMP_PROTOS,
    PORT_PROTOS,
    V4_SPACE,
    And,
    Iface,
    In,
    Masked,
    Not,
    Or,
    Packet,
    Pred,
    Unknown,
)

try:  # CUDD is much faster; the pure-Python back end gives the same answers
    from dd import cudd as _bddlib

    BACKEND = "cudd"
except ImportError:  # pragma: no cover - depends on the installed wheel
    from dd import autoref as _bddlib  # type: ignore[no-redef]

    BACKEND = "autoref"

ORDER = ("family", "ct_state", "iif", "oif", "proto", "dport", "sport", "icmp_type", "icmp_code", "tcp_flags",
         "mark", "saddr", "daddr")
"""Variable order: interfaces first (rulesets dispatch on them), saddr above daddr (the service
matrix walks the source bits first). Measured against the alternative of each interface next to
its address: that one made unions of per-VLAN chains three times slower."""
BDD = Any  # a dd Function
PREFERRED: dict[str, list[Any]] = {
    "family": [4], "ct_state": [0], "mark": [0], "proto": [6, 17, 1, 58], "dport": [22, 80, 443, 53],
    "sport": [40000, 10000], "tcp_flags": [0x02, 0x10], "icmp_type": [8, 128], "icmp_code": [0],
    "saddr": [0xFFFF_CB00_7107, 0xFFFF_C633_6407, 0xFFFF_C000_0207, 0xFFFF_0A00_0007, 0xFFFF_0102_0304,
              0x2001_0DB8_0000_0000_0000_0000_0000_0007],
    "daddr": [0xFFFF_C000_0201, 0xFFFF_0A00_0001, 0x2001_0DB8_0000_0000_0000_0000_0000_0001],
    "iif": ["eth0", "ens3"], "oif": ["eth1", "ens4"],
}
"""Witness values tried first, so examples look like real packets (TEST-NET sources, port 22…)."""


def iface_classes(names: Iterable[str], prefixes: Iterable[str]) -> list[tuple[str | None, str]]:
    """(representative name, label) for each interface class; index 0 is "no interface"."""
    names_s = sorted(set(names))
    prefixes_s = sorted(set(p for p in prefixes if p))
    out: list[tuple[str | None, str]] = [(None, "(none)")]
    out.extend((n, n) for n in names_s)
    for p in [*prefixes_s, ""]:
        out.append((_representative(p, names_s, prefixes_s), f"{p}* (other)" if p else "(other)"))
    return out


def _representative(prefix: str, names: list[str], prefixes: list[str]) -> str:
    """A realistic interface name that starts with ``prefix`` and with no longer mentioned prefix."""
    tails = ["0", "1", "99", "x0", "rw0"] if prefix else ["eth0", "ens3", "enp1s0", "net0", "rw0"]
    for k in range(100):
        for tail in tails:
            rep = prefix + tail + ("" if k == 0 else str(k))
            longer = [q for q in prefixes if len(q) > len(prefix) and rep.startswith(q)]
            if rep not in names and not longer and not (not prefix and any(rep.startswith(q) for q in prefixes)):
                return rep
    return prefix + "~rw"


class Space:
    """One BDD manager and the encoding of every field; shared by all rulesets compared together."""

    def __init__(self, iface_names: Iterable[str] = (), iface_prefixes: Iterable[str] = (),
                 v4_only: bool = False) -> None:
        """``v4_only``: addresses are 32 bits (IPv4 only), four times smaller BDDs for IPv4 rulesets."""
        self.v4_only = v4_only
        self.addr_base = V4_SPACE[0][0] if v4_only else 0
        self.bdd = _bddlib.BDD()
        self.bdd.configure(reordering=False)  # analyses rely on the declared order (saddr above daddr)
        self.classes = iface_classes(iface_names, iface_prefixes)
        k = max(1, (len(self.classes) - 1).bit_length())
        self.bits = dict(FIELD_BITS, iif=k, oif=k)
        if v4_only:
            self.bits.update(saddr=32, daddr=32)
        self.vars: dict[str, list[str]] = {}
        for f in ORDER:
            self.vars[f] = [f"{f}{i}" for i in range(self.bits[f])]
            self.bdd.declare(*self.vars[f])
        self.unknown_vars: dict[str, str] = {}
        self.unknown_text: dict[str, Unknown] = {}
        self._cache: dict[tuple[str, Intervals], BDD] = {}
        self.true, self.false = self.bdd.true, self.bdd.false

    # -- primitive sets
    def var(self, name: str) -> BDD:
        return self.bdd.var(name)

    def eq(self, field: str, value: int) -> BDD:
        if field in ("saddr", "daddr"):
            value -= self.addr_base
            if not 0 <= value < (1 << self.bits[field]):
                return self.false
        return self._eq(field, value)

    def _eq(self, field: str, value: int) -> BDD:
        """Equality in this space's own encoding (addresses already shifted)."""
        vs = self.vars[field]
        n = len(vs)
        return self.bdd.cube({v: bool((value >> (n - 1 - i)) & 1) for i, v in enumerate(vs)})

    def _ge(self, field: str, c: int) -> BDD:
        vs = self.vars[field]
        n = len(vs)
        r = self.true
        for i in range(n - 1, -1, -1):
            x = self.bdd.var(vs[i])
            r = (x & r) if (c >> (n - 1 - i)) & 1 else (x | r)
        return r

    def _le(self, field: str, c: int) -> BDD:
        vs = self.vars[field]
        n = len(vs)
        r = self.true
        for i in range(n - 1, -1, -1):
            x = self.bdd.var(vs[i])
            r = (~x | r) if (c >> (n - 1 - i)) & 1 else (~x & r)
        return r

    def _interval(self, field: str, lo: int, hi: int) -> BDD:
        n = self.bits[field]
        top = (1 << n) - 1
        if lo == hi:
            return self._eq(field, lo)
        size = hi - lo + 1
        if size & (size - 1) == 0 and lo % size == 0:  # an aligned block: a prefix cube
            plen = n - size.bit_length() + 1
            vs = self.vars[field][:plen]
            return self.bdd.cube({v: bool((lo >> (n - 1 - i)) & 1) for i, v in enumerate(vs)}) if vs else self.true
        r = self.true
        if lo > 0:
            r = self._ge(field, lo)
        if hi < top:
            r = r & self._le(field, hi)
        return r

    def field_in(self, field: str, values: Intervals) -> BDD:
        key = (field, values)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        r = self.false
        for lo, hi in self._local(field, values):
            r = r | self._interval(field, lo, hi)
        self._cache[key] = r
        return r

    def _local(self, field: str, values: Intervals) -> Intervals:
        """Address intervals in this space's encoding (shifted and clipped in IPv4-only mode)."""
        if field not in ("saddr", "daddr") or not self.v4_only:
            return values
        base, top = self.addr_base, self.addr_base + 0xFFFF_FFFF
        return tuple((max(lo, base) - base, min(hi, top) - base) for lo, hi in values if hi >= base and lo <= top)

    def masked(self, field: str, mask: int, value: int) -> BDD:
        vs = self.vars[field]
        n = len(vs)
        return self.bdd.cube({v: bool((value >> (n - 1 - i)) & 1) for i, v in enumerate(vs)
                              if (mask >> (n - 1 - i)) & 1})

    def iface(self, pred: Iface) -> BDD:
        r = self.false
        for idx, (rep, _label) in enumerate(self.classes):
            if pred.matches(rep):
                r = r | self.eq(pred.field, idx)
        return r

    def iface_value(self, field: str, name: str | None) -> BDD:
        """The class a concrete interface name falls into."""
        return self.eq(field, self.class_of(name))

    def class_of(self, name: str | None) -> int:
        if name is None:
            return 0
        for idx, (rep, _label) in enumerate(self.classes):
            if rep == name:
                return idx
        best, best_len = len(self.classes) - 1, -1
        for idx, (rep, label) in enumerate(self.classes):
            if rep is not None and label.endswith("* (other)"):
                p = label[: -len("* (other)")]
                if name.startswith(p) and len(p) > best_len:
                    best, best_len = idx, len(p)
        return best

    def unknown(self, atom: Unknown) -> BDD:
        name = self.unknown_vars.get(atom.key)
        if name is None:
            name = f"u{len(self.unknown_vars)}"
            self.bdd.add_var(name)
            self.unknown_vars[atom.key] = name
            self.unknown_text[name] = atom
        return self.bdd.var(name)

    # -- whole predicates
    def compile(self, pred: Pred, fixed: dict[str, Any] | None = None, marks_unknown: bool = False,
                memo: dict[int, tuple[Pred, BDD]] | None = None) -> BDD:
        """A predicate as a BDD; fields in ``fixed`` are evaluated right away (partial evaluation)."""
        fixed = fixed or {}
        memo = memo if memo is not None else {}
        return self._compile(pred, fixed, marks_unknown, memo)

    def _compile(self, p: Pred, fixed: dict[str, Any], mu: bool, memo: dict[int, tuple[Pred, BDD]]) -> BDD:
        hit = memo.get(id(p))
        if hit is not None:
            return hit[1]
        if isinstance(p, In):
            if p.field in fixed:
                r = self.true if _contains(p.values, fixed[p.field]) else self.false
            else:
                r = self.field_in(p.field, p.values)
        elif isinstance(p, Masked):
            if p.field == "mark" and mu:
                r = self.unknown(Unknown(f"mark|{p.mask}|{p.value}", f"mark {p.value:#x}/{p.mask:#x}",
                                         "the ruleset sets marks"))
            elif p.field in fixed:
                r = self.true if (fixed[p.field] & p.mask) == p.value else self.false
            else:
                r = self.masked(p.field, p.mask, p.value)
        elif isinstance(p, Iface):
            r = (self.true if p.matches(fixed[p.field]) else self.false) if p.field in fixed else self.iface(p)
        elif isinstance(p, Unknown):
            r = self.unknown(p)
        elif isinstance(p, Not):
            r = ~self._compile(p.p, fixed, mu, memo)
        elif isinstance(p, And):
            r = self.true
            for q in p.ps:
                r = r & self._compile(q, fixed, mu, memo)
                if r == self.false:
                    break
        elif isinstance(p, Or):
            r = self.false
            for q in p.ps:
                r = r | self._compile(q, fixed, mu, memo)
                if r == self.true:
                    break
        else:  # pragma: no cover - every Pred subclass is handled above
            raise TypeError(type(p).__name__)
        memo[id(p)] = (p, r)
        return r

    # -- well-formedness and closures
    def wellformed(self, fixed: dict[str, Any] | None = None) -> BDD:
        """Packets that can exist: the family agrees with the addresses, ports only where they exist."""
        fixed = fixed or {}
        only4 = self.v4_only
        v4s = self.field_in("saddr", V4_SPACE) if "saddr" not in fixed and not only4 else None
        v4d = self.field_in("daddr", V4_SPACE) if "daddr" not in fixed and not only4 else None
        r = self.true
        fam4, fam6 = self.eq("family", 4), self.eq("family", 6)
        r &= fam4 if only4 else (fam4 | fam6)
        if v4s is not None:
            r &= (fam4 & v4s) | (fam6 & ~v4s)
        if v4d is not None:
            r &= (fam4 & v4d) | (fam6 & ~v4d)
        r &= self.field_in("ct_state", ((0, len(CT_STATES) - 1),))
        n = len(self.classes) - 1
        r &= self.field_in("iif", ((0, n),)) & self.field_in("oif", ((0, n),))
        ports = self.field_in("proto", tuple((p, p) for p in sorted(PORT_PROTOS)))
        icmps = self.field_in("proto", tuple((p, p) for p in sorted(ICMP_PROTOS)))
        tcp = self.eq("proto", 6)
        r &= ports | (self.eq("sport", 0) & self.eq("dport", 0))
        r &= icmps | (self.eq("icmp_type", 0) & self.eq("icmp_code", 0))
        r &= tcp | self.eq("tcp_flags", 0)
        return self.restrict(r, fixed)

    def restrict(self, u: BDD, fixed: dict[str, Any]) -> BDD:
        """Substitute fixed field values (cofactor)."""
        values: dict[str, bool] = {}
        for f, val in fixed.items():
            if f in ("iif", "oif"):
                val = self.class_of(val)
            if f not in self.vars or val is None:
                continue
            if f in ("saddr", "daddr"):
                val = int(val) - self.addr_base
            vs = self.vars[f]
            n = len(vs)
            values.update({v: bool((int(val) >> (n - 1 - i)) & 1) for i, v in enumerate(vs)})
        return self.bdd.let(values, u) if values else u

    def upper(self, u: BDD) -> BDD:
        names = set(self.unknown_vars.values())
        return self.bdd.exist(names, u) if names else u

    def lower(self, u: BDD) -> BDD:
        names = set(self.unknown_vars.values())
        return self.bdd.forall(names, u) if names else u

    def support_unknowns(self, u: BDD) -> list[Unknown]:
        return [self.unknown_text[v] for v in sorted(self.bdd.support(u)) if v in self.unknown_text]

    def exist_fields(self, u: BDD, fields: Iterable[str]) -> BDD:
        names = {v for f in fields for v in self.vars[f]}
        return self.bdd.exist(names, u)

    # -- witnesses
    def pick(self, u: BDD, prefer: dict[str, Any] | None = None) -> tuple[Packet, dict[str, bool]] | None:
        """One packet of ``u`` (with the unknown assignment it needs), preferring given values."""
        if u == self.false:
            return None
        for f, vals in {**PREFERRED, **(prefer or {})}.items():
            for val in vals if isinstance(vals, list | tuple) else [vals]:
                cand = u & self.restrict_eq(f, val)
                if cand != self.false:
                    u = cand
                    break
        assignment = self.bdd.pick(u)
        assert assignment is not None
        return self.decode(assignment), {self.unknown_text[k].text: v for k, v in assignment.items()
                                         if k in self.unknown_text}

    def restrict_eq(self, field: str, val: Any) -> BDD:
        if field in ("iif", "oif"):
            idx = self.class_of(val)
            rep = self.classes[idx][0]
            return self.eq(field, idx) if rep == val or rep is None else self.false
        return self.eq(field, int(val))

    def decode(self, assignment: dict[str, bool]) -> Packet:
        vals: dict[str, int] = {}
        for f, vs in self.vars.items():
            n = len(vs)
            vals[f] = sum(1 << (n - 1 - i) for i, v in enumerate(vs) if assignment.get(v, False))
            if f in ("saddr", "daddr"):
                vals[f] += self.addr_base
        iif = self.classes[vals["iif"]][0] if vals["iif"] < len(self.classes) else None
        oif = self.classes[vals["oif"]][0] if vals["oif"] < len(self.classes) else None
        return Packet(family=vals["family"], saddr=vals["saddr"], daddr=vals["daddr"], proto=vals["proto"],
                      sport=vals["sport"], dport=vals["dport"], icmp_type=vals["icmp_type"],
                      icmp_code=vals["icmp_code"], tcp_flags=vals["tcp_flags"], ct_state=vals["ct_state"],
                      mark=vals["mark"], iif=iif, oif=oif)

    def label_of(self, name: str | None) -> str:
        for rep, label in self.classes:
            if rep == name:
                return label
        return name or "(none)"

    # -- intervals of one address field
    def intervals(self, u: BDD, field: str, limit: int = 100_000,
                  memo: dict[tuple[int, int], list[tuple[int, int]]] | None = None) -> Intervals:
        """The values of ``field`` in ``u`` (which must depend on no other field) as intervals.

        Pass the same ``memo`` for many sets of one field: shared BDD nodes are walked once.
        """
        vs = self.vars[field]
        level0 = self.bdd.level_of_var(vs[0])
        n = len(vs)
        memo = {} if memo is None else memo

        def walk(node: BDD, depth: int) -> list[tuple[int, int]]:
            if node == self.false:
                return []
            width = n - depth
            if node == self.true:
                return [(0, (1 << width) - 1)]
            key = (int(node), depth)
            if key in memo:
                return memo[key]
            lvl = node.level - level0
            if lvl < depth or lvl >= n:
                raise ValueError("set depends on other fields")
            if lvl > depth:  # skipped bits are free: replicate
                sub = walk(node, lvl)
                step = 1 << (n - lvl)
                copies = 1 << (lvl - depth)
                if copies * max(1, len(sub)) > limit:
                    raise ValueError("too many intervals")
                out = [(k * step + a, k * step + b) for k in range(copies) for a, b in sub]
            else:
                low, high = _children(node)
                half = 1 << (width - 1)
                lows = walk(low, depth + 1)
                highs = [(a + half, b + half) for a, b in walk(high, depth + 1)]
                if lows and highs and lows[-1][1] + 1 == highs[0][0]:  # both halves sorted: join at the seam
                    out = [*lows[:-1], (lows[-1][0], highs[0][1]), *highs[1:]]
                else:
                    out = lows + highs
                memo[key] = out
                return out
            merged = _merge(out)
            memo[key] = merged
            return merged

        base = self.addr_base if field in ("saddr", "daddr") else 0
        try:
            return tuple((lo + base, hi + base) for lo, hi in walk(u, 0))
        finally:
            # ``walk`` refers to itself through its closure cell: without this the Space (and its BDD
            # manager) would sit in a reference cycle, and the cycle collector may free the manager
            # before the nodes it still holds ("Still N nodes referenced upon shutdown").
            walk = None  # type: ignore[assignment]


def _children(node: BDD) -> tuple[BDD, BDD]:
    low, high = node.low, node.high
    if node.negated:
        return ~low, ~high
    return low, high


def _merge(items: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for lo, hi in items:
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(hi, out[-1][1]))
        else:
            out.append((lo, hi))
    return out


def _contains(values: Intervals, v: Any) -> bool:
    if v is None:
        return False
    return any(lo <= v <= hi for lo, hi in values)
