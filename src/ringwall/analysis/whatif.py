"""What opens when a layer fails: the combined flow model today against a degraded one."""

from __future__ import annotations

from dataclasses import dataclass

from ringwall.analysis.estate import Estate
from ringwall.analysis.flows import Degradation, FlowModel, Pair, build_flow_model
from ringwall.analysis.zones import Zone
from ringwall.model.connections import ConnectionSet

SCHEMA = "ringwall.whatif/v1"


@dataclass(frozen=True)
class Opened:
    src: str
    dst: str
    before: ConnectionSet
    after: ConnectionSet
    lost_protections: tuple[str, ...] = ()

    @property
    def newly_open(self) -> ConnectionSet:
        return self.after - self.before

    def to_json(self) -> dict[str, object]:
        return {"src": self.src, "dst": self.dst, "before": str(self.before) if self.before else "No Connections",
                "after": str(self.after), "opened": str(self.newly_open),
                "lost_protections": list(self.lost_protections)}


@dataclass
class WhatIf:
    degradation: Degradation
    opened: list[Opened]

    def to_json(self) -> dict[str, object]:
        return {"schema": SCHEMA, "scenario": self.degradation.describe(),
                "opened": [o.to_json() for o in self.opened]}


def _pairs(a: FlowModel, b: FlowModel) -> set[Pair]:
    return a.candidate_pairs() | b.candidate_pairs()


def what_if(estate: Estate, degradation: Degradation, zones: list[Zone] | None = None) -> WhatIf:
    today = build_flow_model(estate, zones)
    degraded = build_flow_model(estate, zones, degradation)
    opened: list[Opened] = []
    for pair in sorted(_pairs(today, degraded)):
        before, after = today.combined(pair), degraded.combined(pair)
        lost = tuple(sorted(today.protections(pair) - degraded.protections(pair))) if after else ()
        if after - before or lost:
            opened.append(Opened(pair[0], pair[1], before, after, lost))
    # Pairs that no layer allowed today and every layer allows after (a layer with no rules left).
    if degradation.cni_none or "netpol" in degradation.without or degradation.hostfw_flushed:
        known = {(o.src, o.dst) for o in opened}
        for pair in degraded.all_pairs():
            if pair in known or pair in today.candidate_pairs():
                continue
            after = degraded.combined(pair)
            if after:
                opened.append(Opened(pair[0], pair[1], today.combined(pair), after))
    opened.sort(key=lambda o: (o.src, o.dst))
    return WhatIf(degradation, opened)


def render_text(result: WhatIf) -> str:
    lines = [f"What if: {result.degradation.describe()}", f"{len(result.opened)} flow(s) open up or lose protection:"]
    for o in result.opened:
        extra = f"  (loses {', '.join(o.lost_protections)})" if o.lost_protections else ""
        lines.append(f"  {o.src} => {o.dst} : {o.newly_open or o.after}{extra}")
    return "\n".join(lines) + "\n"
