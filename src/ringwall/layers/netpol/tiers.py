"""First-match evaluation of tiered rules over partitions of the peer space.

A partition part is (peers, state) where peers is a bitset of classes (or an interval set of
addresses) and state is the connection sets already decided ``allow``, ``deny`` and ``pass``
for those peers. A rule with peers R, connections C and action A decides, inside R, whatever
part of C is still undecided - exactly "first matching rule wins", computed for all peers and
ports at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from ringwall.model import intervals as iv
from ringwall.model.connections import ALL, NONE, ConnectionSet
from ringwall.model.intervals import Intervals

M = TypeVar("M", int, Intervals)
State = tuple[ConnectionSet, ConnectionSet, ConnectionSet]  # allow, deny, pass
START: State = (NONE, NONE, NONE)


class Ops(Generic[M]):
    def __init__(self, inter: Callable[[M, M], M], minus: Callable[[M, M], M], join: Callable[[M, M], M]):
        self.inter, self.minus, self.join = inter, minus, join


MASK_OPS: Ops[int] = Ops(lambda a, b: a & b, lambda a, b: a & ~b, lambda a, b: a | b)
IP_OPS: Ops[Intervals] = Ops(iv.intersect, iv.subtract, iv.union)


Grant = tuple[M, ConnectionSet, str]


def apply_rules(parts: list[tuple[M, State]], rules: list[Grant[M]], ops: Ops[M]) -> list[tuple[M, State]]:
    for peers, conn, action in rules:
        if not peers or not conn:
            continue
        new: list[tuple[M, State]] = []
        for m, (a, d, p) in parts:
            inside = ops.inter(m, peers)
            if inside:
                fresh = conn - (a | d | p)
                if fresh:
                    if action == "allow":
                        new.append((inside, (a | fresh, d, p)))
                    elif action == "deny":
                        new.append((inside, (a, d | fresh, p)))
                    else:
                        new.append((inside, (a, d, p | fresh)))
                else:
                    new.append((inside, (a, d, p)))
                outside = ops.minus(m, peers)
                if outside:
                    new.append((outside, (a, d, p)))
            else:
                new.append((m, (a, d, p)))
        parts = _merge(new, ops)
    return parts


def _merge(parts: list[tuple[M, State]], ops: Ops[M]) -> list[tuple[M, State]]:
    by_state: dict[State, M] = {}
    for m, s in parts:
        old = by_state.get(s)
        by_state[s] = m if old is None else ops.join(old, m)
    return [(m, s) for s, m in by_state.items()]


def combine(
    universe: M,
    admin_rules: list[Grant[M]],
    np_parts: list[tuple[M, ConnectionSet]] | None,
    baseline_rules: list[Grant[M]],
    ops: Ops[M],
) -> list[tuple[M, ConnectionSet]]:
    """Admin tier, then NetworkPolicy (``np_parts``; None when no NetworkPolicy isolates), then
    Baseline, then the default allow. Returns the allowed connections per peer part."""
    out: list[tuple[M, ConnectionSet]] = []
    for m, (a, d, _p) in apply_rules([(universe, START)], admin_rules, ops):
        rest = ALL - a - d  # undecided or passed on to the next tier
        if np_parts is not None:
            covered = None
            for nm, nc in np_parts:
                x = ops.inter(m, nm)
                if x:
                    out.append((x, a | (rest & nc)))
                    covered = nm if covered is None else ops.join(covered, nm)
            remainder = ops.minus(m, covered) if covered is not None else m
            if remainder and a:
                out.append((remainder, a))
            continue
        baseline = [(peers, conn, "allow" if action == "pass" else action) for peers, conn, action in baseline_rules]
        for m2, (a2, d2, p2) in apply_rules([(m, (NONE, NONE, ALL - rest))], baseline, ops):
            allowed = a | a2 | (ALL - a2 - d2 - p2)
            if allowed:
                out.append((m2, allowed))
    merged: dict[ConnectionSet, M] = {}
    for m, c in out:
        if c:
            old = merged.get(c)
            merged[c] = m if old is None else ops.join(old, m)
    return [(m, c) for c, m in merged.items()]


def evaluate_tiers(universe: M, tiers: list[tuple[list[Grant[M]], str]], ops: Ops[M]) -> list[tuple[M, ConnectionSet]]:
    """Calico-style ordered tiers: each tier is (rules in order, default action). Inside a tier
    the first matching rule decides (``allow``/``deny`` are final, ``pass`` moves on to the next
    tier); what no rule decided gets the tier's default action (``deny`` final, ``pass`` moves on).
    Only tiers that select the endpoint are given. Whatever is still undecided after the last
    tier is allowed (the endpoint's profile, which allows everything for Kubernetes pods)."""
    parts: list[tuple[M, State]] = [(universe, START)]
    for grants, end in tiers:
        parts = _merge([(m, (a, d, NONE)) for m, (a, d, _p) in parts], ops)
        parts = apply_rules(parts, [g for g in grants if g[2] != "log"], ops)
        if end == "deny":
            parts = _merge([(m, (a, d | (ALL - a - d - p), p)) for m, (a, d, p) in parts], ops)
    merged: dict[ConnectionSet, M] = {}
    for m, (_a, d, _p) in parts:
        c = ALL - d
        if c:
            old = merged.get(c)
            merged[c] = m if old is None else ops.join(old, m)
    return [(m, c) for c, m in merged.items()]
