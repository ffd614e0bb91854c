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
from ringwall.analysis.explain import Explanation
from ringwall.analysis.explain import render_text as render_netpol_text
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


@dataclass(frozen=True)
class Verdict:
    """The answer to "does this flow get through?" - through every layer, then per layer.

    ``word`` is ``allowed``, ``denied``, ``partly allowed`` (no port given and only some ports
    pass) or ``conditional`` (it passes only for some requests; ``conditions`` says which)."""

    word: str
    allowed: ConnectionSet
    conditions: tuple[str, ...]
    by_layer: tuple[tuple[LayerSay, str], ...]

    @property
    def denied(self) -> bool:
        return self.word == "denied"

    @property
    def headline(self) -> str:
        if self.word == "conditional":
            return f"CONDITIONAL ({' | '.join(self.conditions) or 'request attributes'})"
        return self.word.upper()


def _layer_word(allowed: ConnectionSet | None, protocol: str | None, port: int | None) -> str:
    if allowed is None:
        return "not seen"
    if protocol and port is not None:
        return "allowed" if allowed.allows(protocol, port) else "denied"
    if allowed.is_all():
        return "allowed"
    return "partly allowed" if allowed else "denied"


def verdict(r: AllLayers, protocol: str | None, port: int | None) -> Verdict:
    """Combine the layers' says for the flow (and port, when given)."""
    word = _layer_word(r.combined, protocol, port)
    texts: list[str] = []
    if word != "denied" and r.conditional:
        whole = r.conditional.allows(protocol, port) if protocol and port is not None else r.conditional == r.combined
        for conn, text in r.conditions:
            hit = conn.allows(protocol, port) if protocol and port is not None else True
            if hit and text not in texts:
                texts.append(text)
        if whole:
            word = "conditional"
    by_layer = tuple((s, _layer_word(s.allowed, protocol, port)) for s in r.layers)
    return Verdict(word, r.combined, tuple(texts), by_layer)


_SAY = {"allowed": "allows", "denied": "blocks", "partly allowed": "allows", "not seen": "does not see this flow"}


def _say_text(s: LayerSay, word: str, protocol: str | None, port: int | None) -> str:
    text = _SAY[word]
    if word in ("allowed", "partly allowed") and not (protocol and port is not None) and s.allowed is not None:
        text = "allows everything" if s.allowed.is_all() else f"allows {s.allowed}"
    if word == "denied" and not (protocol and port is not None):
        text = "blocks everything"
    extra = f"; protections: {', '.join(s.protections)}" if s.protections and word != "not seen" else ""
    return f"{text}{extra}{'' if s.enforced else ' (not enforced)'}"


def render_text(netpol: Explanation, r: AllLayers, protocol: str | None, port: int | None) -> str:
    """Headline first - the verdict through every layer - then each layer's say and its detail."""
    v = verdict(r, protocol, port)
    flow = f"{netpol.src.label} => {netpol.dst.label}"
    if port is not None:
        flow += f" on {protocol} {port}"
    head = f"Verdict: {v.headline}"
    if port is None and v.word != "denied":
        head += f" (allowed: {v.allowed})"
    lines = [f"Flow: {flow}", head + " - through every layer"]
    lines += [f"  {s.title}: {_say_text(s, w, protocol, port)}" for s, w in v.by_layer]
    if r.protections and not v.denied:
        lines.append(f"  protections that hold: {', '.join(r.protections)}")
    text = "\n".join(lines) + "\n"
    netpol_say = next(((s, w) for s, w in v.by_layer if s.name == "netpol"), None)
    if netpol_say is None:  # no flow-model view for NetworkPolicy: its own answer still holds
        netpol_say = (LayerSay("netpol", "Kubernetes NetworkPolicy", netpol.allowed, (), netpol.enforced),
                      netpol.verdict)
    for s, w in v.by_layer if netpol_say in v.by_layer else (netpol_say, *v.by_layer):
        detail = render_netpol_text(netpol) if s.name == "netpol" else "".join(
            f"  {line}\n" for line in (s.detail or {}).get("lines", []))
        if detail:
            text += f"\n{s.title}: {_say_text(s, w, protocol, port)}\n{detail}"
    return text + f"\nThrough every layer: {v.headline}\n"


def to_json(netpol: Explanation, r: AllLayers, protocol: str | None, port: int | None) -> dict[str, object]:
    """``ringwall.explain/v1``: ``verdict`` is the verdict through every layer; ``verdict_by_layer``
    and ``layers`` keep each layer's own answer."""
    v = verdict(r, protocol, port)
    data = netpol.to_json()
    head: dict[str, object] = {
        "verdict": v.word,
        "allowed": str(v.allowed) if v.allowed else "No Connections",
        "allowed_ports": v.allowed.to_json(),
        **({"conditions": list(v.conditions)} if v.word == "conditional" else {}),
        "verdict_by_layer": {s.name: w for s, w in v.by_layer},
    }
    out = {k: data[k] for k in ("schema", "src", "dst", "protocol", "port")}
    out.update(head)
    out.update({k: val for k, val in data.items() if k not in out})
    out["all_layers"] = r.to_json()
    return out
