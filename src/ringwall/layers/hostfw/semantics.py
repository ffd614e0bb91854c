"""Concrete evaluation: one packet through every base chain of every hook on its path, rule by rule.

This is the evaluation function of hostfw-semantics §3: base chains of all tables on a hook run in
priority order; ``accept`` only ends the current base chain, ``drop``/``reject`` end everything;
jump/goto/return follow nft(8) and iptables(8). An unknown match forks the evaluation (true and
false), so the result is the set of outcomes the kernel could produce, each with its trace.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .model import (
    And,
    Chain,
    Iface,
    In,
    Kind,
    Masked,
    Not,
    Or,
    Packet,
    Pred,
    Rule,
    Ruleset,
    Unknown,
)

PATHS: dict[str, tuple[str, ...]] = {
    "input": ("ingress", "prerouting", "input"),
    "forward": ("ingress", "prerouting", "forward", "postrouting"),
    "output": ("output", "postrouting"),
}
MAX_DEPTH = 64
MAX_BRANCHES = 256


@dataclass(frozen=True, slots=True)
class Step:
    """One thing that happened: a rule matched, a chain ended in its policy, a chain returned."""

    chain: Chain
    rule: Rule | None
    event: str  # match, policy, return, nat, path
    note: str = ""


@dataclass(slots=True)
class Outcome:
    action: str  # accept, drop, reject
    steps: list[Step]
    assumptions: dict[str, bool]
    packet: Packet
    path: str
    deciding: list[Step] = field(default_factory=list)


class _NeedAssign(Exception):
    def __init__(self, atom: Unknown) -> None:
        self.atom = atom


def base_chains(ruleset: Ruleset, hook: str, family: int, iif: str | None = None) -> list[Chain]:
    """Every base chain on ``hook`` that sees packets of ``family``, in priority order."""
    fams = {"inet", "ip" if family == 4 else "ip6"}
    out = []
    for c in ruleset.chains():
        if c.hook != hook:
            continue
        if (c.family in fams or (c.family == "netdev" and hook == "ingress")) and c.device in (None, iif):
            out.append(c)
    return sorted(out, key=lambda c: c.priority or 0)


class _Run:
    def __init__(self, ruleset: Ruleset, assign: dict[str, bool]) -> None:
        self.rs = ruleset
        self.assign = assign
        self.steps: list[Step] = []
        self.deciding: list[Step] = []
        self.chains = {(c.family, c.table, c.name): c for c in ruleset.chains()}
        self.mark_unknown = False

    def ev(self, p: Pred, pkt: Packet) -> bool:
        if isinstance(p, In):
            v = pkt.get(p.field)
            return v is not None and any(lo <= v <= hi for lo, hi in p.values)  # type: ignore[operator]
        if isinstance(p, Masked):
            if p.field == "mark" and self.mark_unknown:
                return self.atom(Unknown(f"mark|{p.mask}|{p.value}", f"mark {p.value:#x}/{p.mask:#x}",
                                         "mark set from conntrack"))
            return (int(pkt.get(p.field) or 0) & p.mask) == p.value
        if isinstance(p, Iface):
            return p.matches(pkt.get(p.field))  # type: ignore[arg-type]
        if isinstance(p, Unknown):
            return self.atom(p)
        if isinstance(p, Not):
            return not self.ev(p.p, pkt)
        if isinstance(p, And):
            return all(self.ev(q, pkt) for q in p.ps)
        if isinstance(p, Or):
            return any(self.ev(q, pkt) for q in p.ps)
        raise TypeError(type(p).__name__)  # pragma: no cover

    def atom(self, a: Unknown) -> bool:
        if a.key not in self.assign:
            raise _NeedAssign(a)
        return self.assign[a.key]

    def chain(self, chain: Chain, pkt: Packet, depth: int) -> tuple[str, Rule | None, Packet]:
        """Run one chain: (kind, deciding rule, packet after mark changes)."""
        if depth > MAX_DEPTH:
            return "return", None, pkt
        for rule in chain.rules:
            if not self.ev(rule.match, pkt):
                continue
            self.steps.append(Step(chain, rule, "match"))
            if rule.mark_set is not None:
                if rule.mark_set.value < 0:
                    self.mark_unknown = True
                else:
                    pkt = replace(pkt, mark=(pkt.mark & ~rule.mark_set.mask & 0xFFFF_FFFF) ^ rule.mark_set.value)
            kind = rule.action.kind
            if kind is Kind.CONTINUE:
                continue
            if kind in (Kind.JUMP, Kind.GOTO):
                target = self.chains.get((chain.family, chain.table, rule.action.target or ""))
                if target is None:
                    continue
                res, r, pkt = self.chain(target, pkt, depth + 1)
                if res == "return":
                    if kind is Kind.GOTO:
                        return "return", None, pkt
                    self.steps.append(Step(target, None, "return", f"back in {chain.name}"))
                    continue
                return res, r, pkt
            if kind is Kind.RETURN:
                return "return", rule, pkt
            if kind is Kind.QUEUE:
                q = Unknown(f"queue|{rule.location}", f"queue verdict ({rule.action.detail or 'NFQUEUE'})",
                            "a user-space program decides")
                return ("accept" if self.atom(q) else "drop"), rule, pkt
            return kind.value, rule, pkt
        return "return", None, pkt

    def path(self, pkt: Packet, path: str) -> tuple[str, Packet, str]:
        hooks = list(PATHS[path])
        k = 0
        while k < len(hooks):
            hook = hooks[k]
            for base in base_chains(self.rs, hook, pkt.family, pkt.iif):
                res, rule, pkt = self.chain(base, pkt, 0)
                if res == "return":
                    res = base.policy or "accept"
                    step = Step(base, None, "policy", f"policy {res}")
                    self.steps.append(step)
                    self.deciding.append(step)
                else:
                    self.deciding.append(Step(base, rule, "match"))
                if res in ("drop", "reject"):
                    return res, pkt, path
                if res == "nat" and rule is not None:
                    pkt, new_path = self._nat(base, rule, pkt, path)
                    if new_path != path:
                        path = new_path
                        hooks = hooks[: k + 1] + [h for h in PATHS[path] if h not in hooks[: k + 1]]
            k += 1
        return "accept", pkt, path

    def _nat(self, chain: Chain, rule: Rule, pkt: Packet, path: str) -> tuple[Packet, str]:
        act = rule.action
        if act.target in ("dnat", "redirect"):
            new = replace(pkt, daddr=act.nat_addr if act.nat_addr is not None else pkt.daddr,
                          dport=act.nat_port if act.nat_port is not None and pkt.dport else pkt.dport)
            if act.target == "dnat" and act.nat_addr is not None and act.nat_addr != pkt.daddr and path == "input":
                self.steps.append(Step(chain, rule, "path", "DNAT: the packet now takes the forward path"))
                return new, "forward"
            return new, path
        return pkt, path


def evaluate(ruleset: Ruleset, pkt: Packet, path: str = "input") -> list[Outcome]:
    """Every outcome the kernel could produce for ``pkt`` (one unless unknown matches decide)."""
    pending: list[dict[str, bool]] = [{}]
    outcomes: list[Outcome] = []
    texts: dict[str, str] = {}
    while pending and len(outcomes) < MAX_BRANCHES:
        assign = pending.pop()
        run = _Run(ruleset, assign)
        try:
            action, final, final_path = run.path(pkt, path)
        except _NeedAssign as need:
            texts[need.atom.key] = need.atom.text
            pending.append({**assign, need.atom.key: False})
            pending.append({**assign, need.atom.key: True})
            continue
        named = {texts.get(k, k): v for k, v in assign.items()}
        outcomes.append(Outcome(action, run.steps, named, final, final_path, run.deciding))
    return outcomes
