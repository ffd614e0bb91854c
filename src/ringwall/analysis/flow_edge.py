"""Flow-model adapter for the gateway layer: what the edge adds to flows from outside.

A gateway does not block at L4; it authenticates, terminates TLS and rate-limits the routes it
serves. Its view therefore allows what it forwards and contributes protections: a flow from an
external zone to a workload is ``request-authenticated`` when every route reaching the workload
enforces authentication, ``explicitly-authorized`` when every route also checks who may call it
(a Kong ACL, an Envoy Gateway authorization), and ``encrypted`` (to the edge) when every route
uses TLS. A workload also
reachable through its own LoadBalancer/NodePort Service gets neither, because that path skips the
gateway.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ringwall.analysis.flows import FlowContext, LayerView, Pair, register_flow_layer
from ringwall.model.connections import ALL, ConnectionSet

if TYPE_CHECKING:
    from ringwall.analysis.estate import Estate


@register_flow_layer("gateway")
def gateway_view(estate: Estate, ctx: FlowContext) -> LayerView | None:
    from ringwall.layers.gateway.api import entrypoints

    routes = entrypoints(estate.inventory)
    if not routes:
        return None
    keys = {w.ref: w.key for w in estate.cluster.workloads}
    served: dict[str, frozenset[str]] = {}
    for ref, rs in routes.items():
        key = keys.get(ref)
        if key is None:
            continue
        prot: set[str] = set()
        if all(r.enforced_auth for r in rs):
            prot.add("request-authenticated")
        if all(r.tls for r in rs):
            prot.add("encrypted")
        if all(any(a.kind == "authorization" for a in r.enforced_auth) for r in rs):
            prot.add("explicitly-authorized")  # e.g. a Kong ACL, an Envoy Gateway authorization
        served[key] = frozenset(prot)
    zones = [z.endpoint for z in ctx.zones if z.external]
    allowed: dict[Pair, ConnectionSet] = {(z, w): ALL for z in zones for w in served}
    protections = {(z, w): p for z in zones for w, p in served.items() if p}

    def scope(src: str, dst: str) -> bool:
        return src.startswith("zone:") and dst in served

    return LayerView("gateway", "API gateway", scope, allowed, set(), protections, True,
                     "authenticates and encrypts routes from outside; does not block at L4")
