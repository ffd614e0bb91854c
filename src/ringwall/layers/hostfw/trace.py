"""One packet through the ruleset, rule by rule: the data behind ``ringwall hostfw trace``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ringwall.model.location import Location

from . import values as V
from .model import CT_STATES, Packet, Ruleset
from .semantics import Outcome, Step, evaluate


def make_packet(src: str, dst: str, proto: str = "tcp", dport: int | None = None, sport: int | None = None,
                iif: str | None = None, oif: str | None = None, state: str = "new", hook: str = "input",
                icmp_type: int | None = None, mark: int = 0, tcp_flags: int | None = None) -> Packet:
    """A packet from command-line words; raises ``ValueError`` with a user-facing message."""
    s, fam = V.parse_ip(src)
    d, fam2 = V.parse_ip(dst)
    if fam != fam2:
        raise ValueError("--src and --dst must be of the same IP version")
    p = V.parse_proto(proto)
    if p is None:
        raise ValueError("--proto needs one protocol (tcp, udp, icmp, …)")
    if state not in CT_STATES:
        raise ValueError(f"--state must be one of {', '.join(CT_STATES)}")
    ports = p in (6, 17, 33, 132, 136)
    if hook in ("input", "forward") and iif is None:
        loopback = (V.is_v4(s) and (s - V.V4_BASE) >> 24 == 127) or s == 1
        iif = "lo" if loopback else "eth0"
    if hook in ("forward", "output") and oif is None:
        oif = "eth0"
    if tcp_flags is None:
        tcp_flags = (0x02 if state == "new" else 0x10) if p == 6 else 0
    return Packet(family=fam, saddr=s, daddr=d, proto=p, sport=(sport if sport is not None else 40000) if ports else 0,
                  dport=(dport or 0) if ports else 0,
                  icmp_type=(icmp_type if icmp_type is not None else (8 if p == 1 else 128 if p == 58 else 0))
                  if p in (1, 58) else 0,
                  tcp_flags=tcp_flags, ct_state=CT_STATES.index(state), mark=mark,
                  iif=iif if hook != "output" else None, oif=oif if hook != "input" else None)


def packet_json(p: Packet) -> dict[str, Any]:
    out: dict[str, Any] = {"family": f"ipv{p.family}", "src": V.fmt_addr(p.saddr), "dst": V.fmt_addr(p.daddr),
                           "proto": V.proto_name(p.proto), "state": CT_STATES[p.ct_state]}
    if p.proto in (6, 17, 33, 132, 136):
        out.update(sport=p.sport, dport=p.dport)
    if p.proto in (1, 58):
        out.update(icmp_type=p.icmp_type, icmp_code=p.icmp_code)
    if p.proto == 6:
        out["tcp_flags"] = p.tcp_flags
    if p.mark:
        out["mark"] = p.mark
    if p.iif is not None:
        out["iif"] = p.iif
    if p.oif is not None:
        out["oif"] = p.oif
    return out


def step_json(s: Step) -> dict[str, Any]:
    out: dict[str, Any] = {"table": f"{s.chain.family} {s.chain.table}", "chain": s.chain.name,
                           "hook": s.chain.hook, "event": s.event}
    if s.rule is not None:
        out.update(rule=s.rule.label, action=str(s.rule.action), location=s.rule.location.to_json(),
                   file=s.rule.location.path, line=s.rule.location.line)
    else:
        out["location"] = s.chain.location.to_json()
    if s.note:
        out["note"] = s.note
    return out


def evidence(o: Outcome) -> list[tuple[Location, str]]:
    out: list[tuple[Location, str]] = []
    for s in o.deciding:
        if s.rule is not None:
            out.append((s.rule.location, s.rule.label))
        else:
            out.append((s.chain.location, f"{s.chain.ident}: {s.note or 'policy ' + (s.chain.policy or 'accept')}"))
    return out


def decisive(o: Outcome) -> list[tuple[Location, str]]:
    """The step that decided ``o``, as a finding's evidence (an empty list or one element).

    Every base chain on the path has its say, so the last one is not the deciding one: a drop or a
    reject is decided by the chain that ended the packet (the last say), but an accept is decided by
    the filtering chain that accepted it by a rule - not by a nat or mangle chain the packet merely
    passed through with its policy accept, nor by a default policy when a rule accepted it."""
    steps = o.deciding
    if not steps:
        return []
    chosen = steps[-1]
    if o.action == "accept":
        def weight(s: Step) -> tuple[bool, bool]:
            return (s.chain.type == "filter", s.rule is not None)

        chosen = max(reversed(steps), key=weight)
    return evidence(Outcome(o.action, o.steps, o.assumptions, o.packet, o.path, [chosen]))


@dataclass
class TraceResult:
    packet: Packet
    path: str
    outcomes: list[Outcome]

    @property
    def verdict(self) -> str:
        acts = {o.action for o in self.outcomes}
        if len(acts) == 1:
            return acts.pop()
        return "accept" if "accept" in acts else ("reject" if "reject" in acts else "drop")

    @property
    def exact(self) -> bool:
        return len({o.action for o in self.outcomes}) == 1

    @property
    def main(self) -> Outcome:
        for o in self.outcomes:
            if o.action == self.verdict:
                return o
        return self.outcomes[0]

    def to_json(self) -> dict[str, Any]:
        o = self.main
        out: dict[str, Any] = {
            "verdict": self.verdict, "exact": self.exact,
            "possible": sorted({x.action for x in self.outcomes}),
            "packet": packet_json(self.packet), "path": self.path, "final_path": o.path,
            "rules": [step_json(s) for s in o.steps],
            "deciding": [step_json(s) for s in o.deciding],
        }
        if o.assumptions:
            out["assumptions"] = o.assumptions
        if not self.exact:
            out["outcomes"] = [{"verdict": x.action, "assumptions": x.assumptions,
                                "rules": [step_json(s) for s in x.steps]} for x in self.outcomes]
        return out


def trace(ruleset: Ruleset, packet: Packet, path: str = "input") -> TraceResult:
    return TraceResult(packet, path, evaluate(ruleset, packet, path))


def render_text(t: TraceResult) -> str:
    pk = packet_json(t.packet)
    head = " ".join(f"{k}={v}" for k, v in pk.items())
    lines = [f"packet: {head}", f"path: {t.path}" + (f" -> {t.main.path}" if t.main.path != t.path else "")]
    for s in t.main.steps:
        where = f"{s.rule.location}" if s.rule is not None else f"{s.chain.location}"
        what = s.rule.label if s.rule is not None else s.note
        lines.append(f"  {s.chain.ident:<28} {s.event:<7} {where:<24} {what}")
    possible = ", ".join(sorted({o.action for o in t.outcomes}))
    verdict = t.verdict if t.exact else f"{t.verdict} (inexact: possible {possible})"
    lines.append(f"verdict: {verdict}")
    if t.main.assumptions:
        parts = [f"{k} is {'true' if v else 'false'}" for k, v in t.main.assumptions.items()]
        lines.append("assuming: " + ", ".join(parts))
    return "\n".join(lines)
