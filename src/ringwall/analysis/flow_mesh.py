"""Flow-model adapter for the mesh: its authorization as a layer that can block, and the
protections it adds (encrypted, peer-authenticated, explicitly-authorized).

The mesh sees flows towards workloads that have a proxy. For each such pair the mesh decision is
computed over all connections - independently of what NetworkPolicy allows, because depth asks
what each layer would do on its own. ``conditional`` verdicts (they depend on HTTP details or JWTs
the manifests cannot show) count as allowed - the mesh cannot be relied on to block them - and are
also listed in ``LayerView.conditional`` with what they depend on, so explain and depth say so.
For large meshes (more than ``FULL_PAIRS`` pairs) only the flows NetworkPolicy allows are decided,
and the view says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ringwall.analysis.flows import FlowContext, LayerView, Pair, register_flow_layer
from ringwall.model.addresses import to_cidrs
from ringwall.model.connections import NONE, ConnectionSet

if TYPE_CHECKING:
    from ringwall.analysis.estate import Estate
    from ringwall.layers.mesh.decision import MeshModel
    from ringwall.model.cluster import Workload

FULL_PAIRS = 250_000
MeshPair = tuple  # (label, source workload | None, source addresses | None, destination, connections)


@register_flow_layer("mesh")
def mesh_view(estate: Estate, ctx: FlowContext) -> LayerView | None:
    from ringwall.analysis.mesh_layer import mesh_model
    from ringwall.layers.mesh.api import decide_flows

    model = mesh_model(estate)
    workloads = estate.cluster.workloads
    meshed = [w for w in workloads if _has_proxy(model, w)]
    if not meshed:
        return None

    connlist = estate.connlist()
    pairs: list[MeshPair] = []
    full = len(workloads) * len(meshed) <= FULL_PAIRS
    if full:
        pairs = [(s.key, s, None, d, _ALL) for d in meshed for s in workloads if s.key != d.key]
        for zone in ctx.zones:
            if zone.external and zone.addresses:
                pairs += [(zone.endpoint, None, zone.addresses, d, _ALL) for d in meshed]
    else:
        by_key = {w.key: w for w in workloads}
        meshed_keys = {w.key for w in meshed}
        for c in connlist.connections:
            if c.src_is_ip or c.dst_is_ip or c.dst not in meshed_keys:
                continue
            pairs.append((c.src, by_key[c.src], None, by_key[c.dst], _ALL))
    # Protections are judged on the traffic that can actually flow: what NetworkPolicy lets through.
    np_allowed = {(c.src, c.dst): c.conn for c in connlist.connections
                  if not (c.src_is_ip or c.dst_is_ip)}
    allowed: dict[Pair, ConnectionSet] = {}
    protections: dict[Pair, frozenset[str]] = {}
    explicit: set[Pair] = set()
    conditional: dict[Pair, ConnectionSet] = {}
    conditions: dict[Pair, tuple[tuple[ConnectionSet, str], ...]] = {}
    degrade = ctx.degradation.mtls_permissive
    for flow in decide_flows(model, pairs):
        pair = (flow.src, flow.dst)
        d = flow.decision
        verdict = d.verdict
        if degrade and d.mtls == "broken":
            verdict = "allow" if d.authz != "deny" else verdict  # permissive servers accept plaintext
        if verdict in ("allow", "conditional"):
            allowed[pair] = allowed.get(pair, NONE) | flow.conn
        if verdict == "conditional":
            conditional[pair] = conditional.get(pair, NONE) | flow.conn
            if d.condition:
                conditions[pair] = (*conditions.get(pair, ()), (flow.conn, d.condition))
        prot: set[str] = set()
        if d.mtls in ("yes", "permissive") and not degrade:
            prot.add("encrypted")
            if d.identity is not None:
                prot.add("peer-authenticated")
        if d.authz == "allow" and "ALLOW policy" in d.reason:
            prot.add("explicitly-authorized")
            explicit.add(pair)
        reachable = np_allowed.get(pair)
        if verdict != "deny" and (reachable is None or flow.conn & reachable):
            # A pair's protections are what holds on every port it can really use.
            protections[pair] = protections[pair] & frozenset(prot) if pair in protections else frozenset(prot)
    decided = {(p[0], p[3].key) for p in pairs}
    meshed_keys = {w.key for w in meshed}
    egress_keys = _egress_view(model, meshed, ctx, allowed, conditional, conditions)

    def scope(src: str, dst: str) -> bool:
        if src in egress_keys and dst.startswith("zone:"):
            return dst in egress_keys[src]
        return dst in meshed_keys and (full or (src, dst) in decided)

    note = "" if full else "large mesh: only flows NetworkPolicy allows were decided"
    return LayerView("mesh", "Service mesh", scope, allowed, explicit, protections, True, note,
                     conditional=conditional, conditions=conditions)


def _egress_view(model: MeshModel, meshed: list[Workload], ctx: FlowContext, allowed: dict[Pair, ConnectionSet],
                 conditional: dict[Pair, ConnectionSet],
                 conditions: dict[Pair, tuple[tuple[ConnectionSet, str], ...]]) -> dict[str, set[str]]:
    """Flows from sidecars to external zones, when the mesh can refuse them (REGISTRY_ONLY in meshConfig
    or a Sidecar): what each source's sidecar lets out to each zone. A zone partly registered (a
    ServiceEntry for some of its addresses) is allowed on those ports, conditionally on the address.
    Returns source -> the zones the mesh decides for it (its scope)."""
    egress = model.egress
    if egress.mesh_mode != "REGISTRY_ONLY" and not any(sc.outbound_mode == "REGISTRY_ONLY" for sc in egress.sidecars):
        return {}
    zones = [z for z in ctx.zones if z.external and z.addresses]
    out: dict[str, set[str]] = {}
    for w in meshed:
        if not any(model.membership(view).mode == "sidecar" for view, _ in model.pod_classes(w)):
            continue
        for zone in zones:
            pair = (w.key, zone.endpoint)
            some, every, by_request = NONE, _ALL, NONE
            conds: list[tuple[ConnectionSet, str]] = []
            for ips, conn, d in model.decide_external(w, zone.addresses, _ALL):
                ok = conn if d.verdict == "allow" else NONE
                some = some | (conn if d.verdict in ("allow", "conditional") else NONE)
                every = every & (ok | (_ALL - conn))
                if d.verdict == "conditional":
                    by_request = by_request | conn
                    conds.append((conn, d.condition or "request attributes"))
                elif d.verdict == "allow" and ips != zone.addresses and d.decided_by in ("service-entry",
                                                                                          "egress-gateway"):
                    conds.append((conn, "destination in " + ", ".join(to_cidrs(ips))))
            out.setdefault(w.key, set()).add(zone.endpoint)
            if some:
                allowed[pair] = some
                partial = (some - every) | by_request
                if partial:
                    conditional[pair] = partial
                    conditions[pair] = tuple(conds)
    return out


def _has_proxy(model: MeshModel, w: Workload) -> bool:
    """Some pod of ``w`` has a proxy (classes of pods may differ: see ``MeshModel.pod_classes``)."""
    return any(model.membership(view).meshed for view, _ in model.pod_classes(w))


_ALL = ConnectionSet.all()
