"""Unreachable rules: rules that can never match because earlier rules *together* hide them.

Within each chain, rule i is unreachable when its match, minus the union of what every earlier
rule ends (accept, drop, reject, return, goto, NAT, or the non-returning part of a jump), is
empty for every value of the unknown matches (Batfish ``filterLineReachability`` with
``BLOCKING_LINES``; hostfw-semantics §5). Blocking lines are the earlier rules that overlap it,
reduced greedily to a set that still covers it; ``different_action`` tells shadowing (a likely
bug) from redundancy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .model import Chain, Kind, Rule, Ruleset
from .packetset import BDD, Space
from .services import ipv4_only, space_for
from .symbolic import Compiler

MINIMISE_LIMIT = 24
UNION_LIMIT = 50_000
"""Above this many BDD nodes the union of earlier rules is no longer kept: each rule is instead
checked against the earlier rules one by one (cheap when they constrain different interfaces)."""


def action_class(rule: Rule) -> str:
    k = rule.action.kind
    if k in (Kind.ACCEPT, Kind.NAT):
        return "accept"
    if k in (Kind.DROP, Kind.REJECT):
        return "drop"
    if k in (Kind.JUMP, Kind.GOTO):
        return f"{k.value} {rule.action.target}"
    return k.value


@dataclass
class Unreachable:
    chain: Chain
    rule: Rule
    reason: str  # BLOCKING_LINES or INDEPENDENTLY_UNMATCHABLE
    blocking: list[Rule] = field(default_factory=list)
    different_action: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "table": f"{self.chain.family} {self.chain.table}", "chain": self.chain.name,
            "unreachable_line": self.rule.label, "location": self.rule.location.to_json(),
            "action": str(self.rule.action), "reason": self.reason,
            "blocking_lines": [{"rule": b.label, "action": str(b.action), "location": b.location.to_json()}
                               for b in self.blocking],
            "different_action": self.different_action,
        }


def unreachable(ruleset: Ruleset, space: Space | None = None) -> list[Unreachable]:
    space = space or space_for([ruleset], v4_only=ipv4_only(ruleset))
    comp = Compiler(space, ruleset)
    wf = space.wellformed()
    out: list[Unreachable] = []
    for table in ruleset.tables:
        fam_wf = wf
        if table.family == "ip":
            fam_wf = wf & space.eq("family", 4)
        elif table.family == "ip6":
            fam_wf = wf & space.eq("family", 6)
        for chain in table.chains.values():
            out.extend(_chain(space, comp, chain, fam_wf))
    return out


def _ends(space: Space, comp: Compiler, chain: Chain, rule: Rule, m: BDD) -> BDD:
    """The packets of ``m`` for which this rule ends the chain (later rules never see them)."""
    kind = rule.action.kind
    if kind is Kind.CONTINUE:
        return space.false
    if kind is Kind.JUMP:
        tgt = comp.target(chain, rule)
        if tgt is None:
            return space.false
        return m & ~comp.chain(tgt).ret
    if kind is Kind.GOTO and comp.target(chain, rule) is None:
        return space.false
    return m


def _chain(space: Space, comp: Compiler, chain: Chain, wf: BDD) -> list[Unreachable]:
    covered: BDD | None = space.false
    enders: list[tuple[Rule, BDD]] = []
    out: list[Unreachable] = []
    for k, rule in enumerate(chain.rules):
        m = comp.match(rule) & wf
        if m == space.false:  # ∃unknowns f is empty exactly when f is
            out.append(Unreachable(chain, rule, "INDEPENDENTLY_UNMATCHABLE"))
            continue
        if covered is not None and k % 16 == 15 and covered.dag_size > UNION_LIMIT:
            covered = None
        if covered is not None:
            hidden = (m & ~covered) == space.false
        else:
            rest = m
            for _, e in enders:
                rest = rest & ~e
                if rest == space.false:
                    break
            hidden = rest == space.false
        if hidden:
            blockers = [(r, e) for r, e in enders if (e & m) != space.false]
            blockers = _minimise(space, m, blockers)
            mine = action_class(rule)
            out.append(Unreachable(chain, rule, "BLOCKING_LINES", [r for r, _ in blockers],
                                   any(action_class(r) != mine for r, _ in blockers)))
        end = _ends(space, comp, chain, rule, m)
        if end != space.false:
            if covered is not None:
                covered = covered | end
            enders.append((rule, end))
    return out


def _minimise(space: Space, m: BDD, blockers: list[tuple[Rule, BDD]]) -> list[tuple[Rule, BDD]]:
    """Drop blocking rules the others already cover (greedy, latest first)."""
    if len(blockers) > MINIMISE_LIMIT:
        return blockers
    keep = list(blockers)
    for cand in reversed(blockers):
        others = [b for b in keep if b is not cand]
        union = space.false
        for _, e in others:
            union = union | e
        if (m & ~union) == space.false:
            keep = others
    return keep


def render_text(items: list[Unreachable]) -> str:
    if not items:
        return "No unreachable rules."
    lines = []
    for u in items:
        kind = "shadowed" if u.different_action else ("redundant" if u.reason == "BLOCKING_LINES" else "unmatchable")
        lines.append(f"{u.rule.location}: {kind}: {u.rule.label}   [{u.chain.ident}]")
        for b in u.blocking:
            lines.append(f"    hidden by {b.location}: {b.label}")
    return "\n".join(lines)
