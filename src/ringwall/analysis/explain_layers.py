"""One flow through every layer: the combined verdict, each layer's say, and per-layer detail.

The NetworkPolicy detail (rule by rule) lives in ``explain.py``. Every other layer answers through
the flow model (its verdict and protections for the pair) and, when it registers one, a detail
function that returns text lines and JSON - so layers that land later join ``explain`` by
registering, without changes here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ringwall.analysis.endpoints import Endpoint
from ringwall.analysis.estate import Estate
from ringwall.analysis.flows import FlowModel, build_flow_model
from ringwall.analysis.registry import Registry
from ringwall.model import intervals as iv
from ringwall.model.connections import ALL, NONE, ConnectionSet

Detail = Callable[[Estate, Endpoint, Endpoint, str | None, int | None], dict[str, Any] | None]
_DETAILS: Registry[Detail] = Registry()
register_explainer = _DETAILS.register


@dataclass
class LayerSay:
    name: str
    title: str
    allowed: ConnectionSet | None  # None: the layer does not see this flow
    protections: tuple[str, ...]
    enforced: bool
    detail: dict[str, Any] | None = None


@dataclass
class AllLayers:
    src: str
    dst: str
    layers: list[LayerSay] = field(default_factory=list)
    combined: ConnectionSet = ALL
    protections: tuple[str, ...] = ()
    conditional: ConnectionSet = NONE
    """Part of ``combined`` that a layer allows only for some requests."""
    conditions: tuple[tuple[ConnectionSet, str], ...] = ()

    def to_json(self) -> dict[str, object]:
        return {
            "flow_endpoints": {"src": self.src, "dst": self.dst},
            "combined": str(self.combined) if self.combined else "No Connections",
            **({"conditional": str(self.conditional),
                "conditions": [{"conn": str(c), "condition": t} for c, t in self.conditions]}
               if self.conditional else {}),
            "protections": list(self.protections),
            "by_layer": [
                {"layer": s.name, "sees_flow": s.allowed is not None, "enforced": s.enforced,
                 "allowed": None if s.allowed is None else (str(s.allowed) if s.allowed else "No Connections"),
                 "protections": list(s.protections), **({"detail": s.detail} if s.detail else {})}
                for s in self.layers
            ],
        }


def _endpoint(model: FlowModel, ep: Endpoint) -> str:
    if ep.workload is not None:
        return ep.workload.key
    for zone in model.zones:
        if zone.external and ep.address is not None and iv.contains(zone.addresses, ep.address):
            return zone.endpoint
    return "zone:unknown"


@register_explainer("mesh")
def _mesh_detail(estate: Estate, src: Endpoint, dst: Endpoint, protocol: str | None,
                 port: int | None) -> dict[str, Any] | None:
    from ringwall.analysis.mesh_explain import explain_mesh

    detail = explain_mesh(estate, src, dst, protocol, port)
    if detail.get("applies") is False:
        return None
    text = detail.get("text")
    detail["lines"] = [str(x).strip() for x in text][1:] if isinstance(text, list) else []
    return detail


def explain_all_layers(estate: Estate, src: Endpoint, dst: Endpoint, protocol: str | None,
                       port: int | None) -> AllLayers:
    model = build_flow_model(estate)
    pair = (_endpoint(model, src), _endpoint(model, dst))
    result = AllLayers(pair[0], pair[1])
    for view in model.layers:
        allowed = view.verdict(pair)
        prot = tuple(sorted(view.protections.get(pair, frozenset()))) if allowed is not None else ()
        result.layers.append(LayerSay(view.name, view.title, allowed, prot, view.enforced))
    for name, fn in _DETAILS.items():
        detail = fn(estate, src, dst, protocol, port)
        if detail is None:
            continue
        say = next((s for s in result.layers if s.name == name), None)
        if say is None:
            say = LayerSay(name, name, None, (), True)
            result.layers.append(say)
        say.detail = detail
    result.combined = model.combined(pair)
    result.conditional, result.conditions = model.conditional(pair)
    result.protections = tuple(sorted(model.protections(pair)))
    return result


def render_all_layers(r: AllLayers, protocol: str | None, port: int | None) -> str:
    lines = ["", "All layers:"]
    for s in r.layers:
        if s.name == "netpol":
            continue  # shown in full above
        if s.allowed is None:
            verdict = "does not see this flow"
        elif protocol and port is not None:
            verdict = "allows" if s.allowed.allows(protocol, port) else "blocks"
        else:
            verdict = f"allows {s.allowed}" if s.allowed else "blocks everything"
        extra = f"; protections: {', '.join(s.protections)}" if s.protections else ""
        lines.append(f"  {s.title}: {verdict}{extra}{'' if s.enforced else ' (not enforced)'}")
        for line in (s.detail or {}).get("lines", []):
            lines.append(f"    {line}")
    combined = r.combined.allows(protocol, port) if protocol and port is not None else bool(r.combined)
    conditional = r.conditional.allows(protocol, port) if protocol and port is not None else (
        bool(r.conditional) and r.conditional == r.combined)
    texts: list[str] = []
    for conn, text in r.conditions:
        hit = conn.allows(protocol, port) if protocol and port is not None else True
        if hit and text not in texts:
            texts.append(text)
    word = "BLOCKED" if not combined else (
        f"CONDITIONAL ({' | '.join(texts) or 'request attributes'})" if conditional else "ALLOWED")
    lines.append(f"  Through every layer: {word}"
                 + (f"; protections that hold: {', '.join(r.protections)}" if r.protections and combined else ""))
    return "\n".join(lines) + "\n"
