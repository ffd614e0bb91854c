"""Symbolic evaluation: every chain as a partition of the header space into its outcomes.

A chain is compiled backwards, last rule first, into four disjoint BDDs — accepted, dropped,
rejected, returned (fell off the end or ``return``) — so a jump is a composition of the callee's
partition with the caller's continuation, and a goto hands the callee's "returned" part to the
caller's caller. A path is then the conjunction over its base chains in priority order. The same
code serves the service matrix (with most fields fixed: partial evaluation) and whole-space
analyses (compare, search).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .model import Chain, Kind, Rule, Ruleset, Unknown
from .packetset import BDD, Space
from .semantics import PATHS


@dataclass(slots=True)
class Regions:
    accept: BDD
    drop: BDD
    reject: BDD
    ret: BDD


@dataclass(slots=True)
class PathResult:
    accept: BDD
    drop: BDD
    reject: BDD
    chains: list[Chain]
    nat: BDD
    """Packets a NAT rule rewrote on this path (their later path is approximated)."""


@dataclass
class Compiler:
    """Compiles the chains of one ruleset in one space, optionally with some fields fixed."""

    space: Space
    ruleset: Ruleset
    fixed: dict[str, Any] = field(default_factory=dict)
    memo: dict[int, Any] = field(default_factory=dict)
    chains_done: dict[int, Regions] = field(default_factory=dict)
    loops: list[Chain] = field(default_factory=list)
    nat_regions: dict[int, BDD] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_name = {(c.family, c.table, c.name): c for c in self.ruleset.chains()}
        self.marks_unknown = self.ruleset.sets_marks
        self._active: set[int] = set()

    def match(self, rule: Rule) -> BDD:
        return self.space.compile(rule.match, self.fixed, self.marks_unknown, self.memo)

    def target(self, chain: Chain, rule: Rule) -> Chain | None:
        return self.by_name.get((chain.family, chain.table, rule.action.target or ""))

    def chain(self, chain: Chain) -> Regions:
        done = self.chains_done.get(id(chain))
        if done is not None:
            return done
        s = self.space
        if id(chain) in self._active:  # a loop: the kernel refuses it; evaluate the jump as a no-op
            self.loops.append(chain)
            return Regions(s.false, s.false, s.false, s.true)
        self._active.add(id(chain))
        a, d, j, r = s.false, s.false, s.false, s.true
        nat = s.false
        for rule in reversed(chain.rules):
            m = self.match(rule)
            if m == s.false:
                continue
            kind = rule.action.kind
            if kind is Kind.CONTINUE:
                continue
            if kind in (Kind.JUMP, Kind.GOTO):
                tgt = self.target(chain, rule)
                if tgt is None:
                    continue
                sub = self.chain(tgt)
                if kind is Kind.JUMP:
                    # the continuation is only needed where m holds: restrict it first (cheap),
                    # instead of combining the callee with the whole continuation
                    nm = ~m
                    ret = sub.ret & m
                    a = (sub.accept & m) | (ret & a) | (nm & a)
                    d = (sub.drop & m) | (ret & d) | (nm & d)
                    j = (sub.reject & m) | (ret & j) | (nm & j)
                    r = (ret & r) | (nm & r)
                else:
                    a = s.bdd.ite(m, sub.accept, a)
                    d = s.bdd.ite(m, sub.drop, d)
                    j = s.bdd.ite(m, sub.reject, j)
                    r = s.bdd.ite(m, sub.ret, r)
                continue
            nm = ~m
            a, d, j, r = a & nm, d & nm, j & nm, r & nm
            if kind in (Kind.ACCEPT, Kind.NAT):
                a = a | m
                if kind is Kind.NAT:
                    nat = nat | m
            elif kind is Kind.DROP:
                d = d | m
            elif kind is Kind.REJECT:
                j = j | m
            elif kind is Kind.RETURN:
                r = r | m
            elif kind is Kind.QUEUE:
                q = s.unknown(Unknown(f"queue|{rule.location}", f"queue verdict ({rule.action.detail or 'NFQUEUE'})",
                                      "a user-space program decides"))
                a = a | (m & q)
                d = d | (m & ~q)
        self._active.discard(id(chain))
        res = Regions(a, d, j, r)
        self.chains_done[id(chain)] = res
        self.nat_regions[id(chain)] = nat
        return res

    def base(self, chain: Chain) -> Regions:
        """A base chain's outcome with its policy applied to what falls off the end."""
        reg = self.chain(chain)
        if (chain.policy or "accept") == "drop":
            return Regions(reg.accept, reg.drop | reg.ret, reg.reject, self.space.false)
        return Regions(reg.accept | reg.ret, reg.drop, reg.reject, self.space.false)

    def _bases(self, hook: str, family: int) -> list[Chain]:
        """Like ``semantics.base_chains`` but with every device-bound chain (the device is a condition)."""
        fams = {"inet", "ip" if family == 4 else "ip6"}
        out = [c for c in self.ruleset.chains()
               if c.hook == hook and (c.family in fams or (c.family == "netdev" and hook == "ingress"))]
        return sorted(out, key=lambda c: c.priority or 0)

    def _device(self, name: str) -> BDD:
        if "iif" in self.fixed:
            return self.space.true if self.fixed["iif"] == name else self.space.false
        return self.space.eq("iif", self.space.class_of(name))

    def path(self, path: str, family: int | None = None) -> PathResult:
        """Accepted/dropped/rejected sets of a whole path; ``family`` None means both."""
        s = self.space
        if "family" in self.fixed:
            family = int(self.fixed["family"])
        fams = [family] if family else [4, 6]
        acc, drop, rej, nat = s.false, s.false, s.false, s.false
        all_chains: list[Chain] = []
        for fam in fams:
            fam_set = s.eq("family", fam) if "family" not in self.fixed else s.true
            passing = fam_set
            for hook in PATHS[path]:
                for base in self._bases(hook, fam):
                    reg = self.base(base)
                    # a chain bound to a device (netdev/inet ingress) only sees that device's packets
                    here = s.true if base.device is None else self._device(base.device)
                    all_chains.append(base)
                    drop = drop | (passing & here & reg.drop)
                    rej = rej | (passing & here & reg.reject)
                    nat = nat | (passing & here & self.nat_regions.get(id(base), s.false))
                    passing = passing & (reg.accept | ~here)
            acc = acc | passing
        return PathResult(acc, drop, rej, all_chains, nat)


def accepted(space: Space, ruleset: Ruleset, path: str, fixed: dict[str, Any] | None = None,
             family: int | None = None) -> tuple[BDD, PathResult]:
    """The accepted set of a path restricted to well-formed packets."""
    comp = Compiler(space, ruleset, dict(fixed or {}))
    res = comp.path(path, family)
    wf = space.wellformed(comp.fixed) & path_interfaces(space, path, comp.fixed)
    return res.accept & wf, res


def path_interfaces(space: Space, path: str, fixed: dict[str, Any]) -> BDD:
    """Input packets have an input interface and no output one, and so on."""
    r = space.true
    if "iif" not in fixed:
        none_in = space.eq("iif", 0)
        r &= none_in if path == "output" else ~none_in
    if "oif" not in fixed:
        none_out = space.eq("oif", 0)
        r &= none_out if path == "input" else ~none_out
    return r
