"""One flow through the NetworkPolicy layer, rule by rule.

The answer names every policy that selects the source (egress) and the destination (ingress),
the rules that admit the peer and what they open, and the verdict - so "why can't frontend
reach api?" is answered from evidence, not guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ringwall.analysis.endpoints import Endpoint
from ringwall.layers.netpol.cni import CniInfo
from ringwall.layers.netpol.engine import Engine
from ringwall.layers.netpol.evaluate import DirectionDecision, RuleMatch, decide
from ringwall.model.connections import ALL, ConnectionSet

SCHEMA = "ringwall.explain/v1"


@dataclass
class Explanation:
    src: Endpoint
    dst: Endpoint
    protocol: str | None
    port: int | None
    cni: CniInfo
    enforced: bool
    egress: DirectionDecision
    ingress: DirectionDecision
    allowed: ConnectionSet
    note: str = ""
    cni_notes: list[str] = field(default_factory=list)
    """Policy kinds present in the input that the CNI in use does not enforce (void)."""

    @property
    def verdict(self) -> str:
        if self.port is not None and self.protocol is not None:
            return "allowed" if self.allowed.allows(self.protocol, self.port) else "denied"
        if self.allowed.is_all():
            return "allowed"
        return "partly allowed" if self.allowed else "denied"

    def to_json(self) -> dict[str, object]:
        return {
            "schema": SCHEMA,
            "src": self.src.label,
            "dst": self.dst.label,
            "protocol": self.protocol,
            "port": self.port,
            "cni": {"name": self.cni.name, "enforces": self.cni.enforces, "source": self.cni.source,
                    "void_policies": self.cni_notes},
            "layers": {
                "netpol": {
                    "verdict": self.verdict,
                    "allowed": str(self.allowed),
                    "allowed_ports": self.allowed.to_json(),
                    "enforced": self.enforced,
                    "egress": _direction_json(self.egress, self.protocol, self.port),
                    "ingress": _direction_json(self.ingress, self.protocol, self.port),
                }
            },
            **({"note": self.note} if self.note else {}),
        }


def _direction_json(d: DirectionDecision, protocol: str | None, port: int | None) -> dict[str, object]:
    return {
        "applies": d.applies,
        "isolated": d.isolated,
        "allowed": str(d.allowed),
        "selecting_policies": [
            {"policy": p.key, "location": p.document.locate().to_json()} for p in d.selecting
        ],
        "matching_rules": [_match_json(m, protocol, port) for m in d.matches],
        "rules_matching_peer_but_no_port": [_match_json(m, protocol, port) for m in d.peer_only],
        "cni_policies": [{"policy": ref, "order": order, "location": loc.to_json()}
                         for ref, order, loc in d.cni_selecting],
        "cluster_wide_policies": [
            {"policy": p.ref, "tier": p.tier, "priority": p.priority, "location": p.document.locate().to_json()}
            for p in d.admin_selecting
        ],
        "cluster_wide_rules": [
            {"policy": m.policy.ref, "rule": f"{m.rule.direction}[{m.rule.index}]", "name": m.rule.name,
             "action": m.rule.action, "covers": str(m.conn),
             "location": m.policy.document.locate(m.rule.path).to_json()}
            for m in d.admin
        ],
    }


def _match_json(m: RuleMatch, protocol: str | None, port: int | None) -> dict[str, object]:
    out: dict[str, object] = {
        "policy": m.policy.key,
        "rule": f"{m.rule.direction}[{m.rule.index}]",
        "allows": str(m.conn),
        "location": m.policy.document.locate(m.rule.path).to_json(),
    }
    if protocol and port is not None:
        out["matches_port"] = m.conn.allows(protocol, port)
    return out


def explain(
    engine: Engine, cni: CniInfo, src: Endpoint, dst: Endpoint, protocol: str | None, port: int | None
) -> Explanation:
    src_cls = src.classes[0] if src.classes else None
    dst_cls = dst.classes[0] if dst.classes else None
    note = ""
    if len(src.classes) > 1 or len(dst.classes) > 1:
        note = "the workload's pods differ (labels, ports or addresses); the first pod variant is shown"
    egress_peer = dst_cls if dst_cls is not None else dst.address
    ingress_peer = src_cls if src_cls is not None else src.address
    assert egress_peer is not None and ingress_peer is not None
    egress = decide(engine, "egress", src_cls, egress_peer)
    ingress = decide(engine, "ingress", dst_cls, ingress_peer)
    allowed = egress.allowed & ingress.allowed if engine.options.enforced else ALL
    if src_cls is not None and src_cls is dst_cls:
        allowed = ALL
        note = "traffic of a pod to itself cannot be blocked by NetworkPolicy"
    return Explanation(src, dst, protocol, port, cni, engine.options.enforced, egress, ingress, allowed, note)


def render_text(e: Explanation) -> str:
    """The NetworkPolicy section of ``explain``: its verdict, then each direction rule by rule.

    The headline (the verdict through every layer) and this section's title are written by
    ``explain_layers``."""
    lines = [f"  {e.cni.describe()}"]
    lines += [f"  {note}" for note in e.cni_notes]
    if not e.enforced:
        lines.append("  The CNI does not enforce NetworkPolicy: the policies below are void, everything is allowed.")
    for d, who in ((e.egress, e.src.label), (e.ingress, e.dst.label)):
        lines.extend(_direction_text(d, who, e.protocol, e.port))
    if e.note:
        lines.append(f"  Note: {e.note}")
    return "\n".join(lines) + "\n"


def _direction_text(d: DirectionDecision, who: str, protocol: str | None, port: int | None) -> list[str]:
    title = f"  {d.direction.capitalize()} at {who}:"
    if not d.applies:
        # An address, or a hostNetwork pod (node traffic): no policy can select it.
        return [f"{title} not applicable ({who} is not a pod under NetworkPolicy; no policy can select it)"]
    out: list[str] = []
    if d.cni_selecting:
        out.append(f"{title} CNI policies selecting it (evaluated in this order):")
        out += [f"    - {ref} ({order})  ({loc})" for ref, order, loc in d.cni_selecting]
        title = "    and"
    if d.admin_selecting:
        out.append(f"{title} cluster-wide policies (first matching rule wins, by tier and priority):")
        for p in d.admin_selecting:
            out.append(f"    - {p.ref} tier={p.tier} priority={p.priority}  ({p.document.locate()})")
        for m in d.admin:
            mark = ""
            if protocol and port is not None:
                mark = "  <- covers this port" if m.conn.allows(protocol, port) else "  (not this port)"
            out.append(
                f"      {m.policy.ref} {m.rule.direction}[{m.rule.index}]"
                f"{' ' + repr(m.rule.name) if m.rule.name else ''}: {m.rule.action.upper()} {m.conn}"
                f"  ({m.policy.document.locate(m.rule.path)}){mark}"
            )
        if not d.admin:
            out.append("      no cluster-wide rule matches the peer")
        title = "    then"
    if not d.isolated:
        out.append(f"{title} not isolated by a NetworkPolicy for {d.direction}")
        out.append(f"    allowed in this direction: {d.allowed}")
        return out
    out.append(f"{title} isolated by {len(d.selecting)} NetworkPolicy(ies):")
    for p in d.selecting:
        out.append(f"    - {p.key}  ({p.document.locate()})")
    if d.matches:
        out.append("    rules admitting the peer:")
        for m in d.matches:
            mark = ""
            if protocol and port is not None:
                mark = "  <- allows this port" if m.conn.allows(protocol, port) else "  (not this port)"
            out.append(
                f"      {m.policy.key} {m.rule.direction}[{m.rule.index}]: {m.conn}"
                f"  ({m.policy.document.locate(m.rule.path)}){mark}"
            )
    for m in d.peer_only:
        out.append(
            f"      {m.policy.key} {m.rule.direction}[{m.rule.index}] admits the peer but none of its ports "
            f"apply (named port missing on the destination?)  ({m.policy.document.locate(m.rule.path)})"
        )
    if not d.matches:
        out.append("    no rule of these policies admits the peer")
    out.append(f"    allowed in this direction: {d.allowed or 'nothing'}")
    return out
