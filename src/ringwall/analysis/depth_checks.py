"""Cross-layer findings that need no intent file (RW-DEPTH-005, 013, 021)."""

from __future__ import annotations

from collections.abc import Iterator

from ringwall.analysis.depth import DepthResult
from ringwall.analysis.estate import Estate
from ringwall.analysis.flows import FlowModel
from ringwall.model.findings import Check, Finding, Severity, register
from ringwall.model.location import Location

SYSTEM = ("kube-system", "kube-public", "kube-node-lease")
_DOC = "https://kubernetes.io/docs/concepts/security/"

EXPOSED = register(Check(
    "RW-DEPTH-005", "ExposedWithoutIsolationOrMtls", Severity.HIGH, "depth",
    "An external entrypoint's workload has no NetworkPolicy ingress isolation and no strict mTLS.",
    "Isolate the workload's ingress with a NetworkPolicy and put it in the mesh with STRICT mTLS.",
    _DOC, ("depth",)))
HOSTNET = register(Check(
    "RW-DEPTH-013", "HostNetworkVoidsPodLayers", Severity.HIGH, "depth",
    "A hostNetwork workload is covered by neither NetworkPolicy nor the mesh; only the host firewall can protect it.",
    "Run it without hostNetwork, or restrict its ports in the host firewall of every node.",
    _DOC, ("depth", "hostfw")))
FAILURE_IMPACT = register(Check(
    "RW-DEPTH-021", "LayerFailureImpact", Severity.INFO, "depth",
    "What opens if one layer fails: the flows that only this layer blocks.",
    "Add a second layer for the flows listed, so that one failure does not open them.",
    _DOC, ("depth",)))


def cross_layer_findings(estate: Estate, model: FlowModel, depth: DepthResult) -> Iterator[Finding]:
    mesh = model.layer("mesh")
    hostfw = model.layer("hostfw")
    for w in estate.cluster.workloads:
        if w.namespace in SYSTEM or not w.host_network:
            continue
        protected_by = "the host firewall" if hostfw is not None else "nothing (no host ruleset was given)"
        yield Finding(HOSTNET, f"{w.kind} {w.namespace}/{w.name} uses hostNetwork: NetworkPolicy and the mesh do not "
                      f"apply to it; it is protected by {protected_by}.",
                      (w.location,) if w.location else (), w.ref)
    exposed = _entrypoints(estate)
    engine = estate.engine(enforced=True)
    for w in estate.cluster.workloads:
        if w.key not in exposed or w.host_network:
            continue
        classes = list(engine.classes_in(engine.workload_classes.get(w.key, 0)))
        isolated = classes and all(engine.class_ingress[c.index].isolated or engine.class_ingress[c.index].admin
                                   for c in classes)
        strict = mesh is not None and any("peer-authenticated" in mesh.protections.get((s, w.key), frozenset())
                                          for s in model.workloads)
        if not isolated and not strict:
            yield Finding(EXPOSED, f"{w.kind} {w.namespace}/{w.name} is exposed outside the cluster, is not "
                          "ingress-isolated by a NetworkPolicy and is not under strict mTLS.",
                          (w.location,) if w.location else (), w.ref)
    totals: dict[str, int] = {}
    for d in depth.destinations.values():
        for layer, n in d.single_layer.items():
            totals[layer] = totals.get(layer, 0) + n
    for layer, n in sorted(totals.items()):
        view = model.layer(layer)
        title = view.title if view else layer
        top = [dst for dst, lay, _ in depth.single_layer() if lay == layer][:3]
        yield Finding(FAILURE_IMPACT, f"If {title} fails, {n} blocked flow(s) open: they hang on it alone "
                      f"(most exposed destinations: {', '.join(top)}).", _layer_location(estate, depth, layer, top),
                      f"layer/{layer}", layer, properties={"layer": layer, "flows": n})


def _layer_location(estate: Estate, depth: DepthResult, layer: str, top: list[str]) -> tuple[Location, ...]:
    """Evidence for "if this layer fails, these flows open": the objects of that layer that block
    the most exposed destination's flows - not the layer's first object in reading order."""
    if not top:
        return ()
    dst = top[0]
    src = next((pd.pair[0] for pd in depth.pairs if pd.pair[1] == dst and pd.blocking == (layer,)), None)
    found: list[Location] = []
    if layer == "netpol":
        found = _netpol_blockers(estate, src, dst)
    elif layer == "mesh":
        found = _mesh_blockers(estate, src, dst)
    elif layer == "hostfw":
        from ringwall.analysis.hosts import host_inventory

        hosts = host_inventory(estate)
        host = next((h for h in hosts if h.endpoint == dst), hosts[0] if hosts else None)
        found = [Location(str(host.files[0]), 1)] if host is not None and host.files else []
    if not found:
        w = next((w for w in estate.cluster.workloads if w.key == dst), None)
        found = [w.location] if w is not None and w.location else []
    return tuple(dict.fromkeys(found))[:3]


def _netpol_blockers(estate: Estate, src: str | None, dst: str) -> list[Location]:
    """The policies isolating ``dst``'s ingress (else ``src``'s egress), the default deny first."""
    engine = estate.engine(enforced=True)
    for key, side in ((dst, "ingress"), (src, "egress")):
        if key is None or key not in engine.workload_classes:
            continue
        decisions = engine.class_ingress if side == "ingress" else engine.class_egress
        classes = list(engine.classes_in(engine.workload_classes[key]))
        pols = [engine.policies[i] for c in classes[:1] for i in decisions[c.index].policies]
        pols.sort(key=lambda p: len(list(p.rules(side))) > 0)
        if pols:
            return [p.document.locate((), p.ref) for p in pols]
    return []


def _mesh_blockers(estate: Estate, src: str | None, dst: str) -> list[Location]:
    """The mesh objects that refuse ``src`` -> ``dst``: the authorization when it denies, else the
    mTLS settings (PeerAuthentication, DestinationRule) - not the namespace that puts a pod in the mesh."""
    from ringwall.analysis.mesh_layer import mesh_model
    from ringwall.model.connections import ALL

    by_key = {w.key: w for w in estate.cluster.workloads}
    if src not in by_key or dst not in by_key:
        return []
    assert src is not None
    out: list[Location] = []
    for _, d in mesh_model(estate).decide_conn(by_key[src], None, by_key[dst], ALL):
        if d.verdict != "deny":
            continue
        wanted = ("AuthorizationPolicy", "Authorization", "Server") if d.authz == "deny" else (
            "PeerAuthentication", "DestinationRule", "mTLS", "Server")
        out += [e.location for e in d.evidence if e.location is not None and any(w in e.text for w in wanted)]
    return out


def _entrypoints(estate: Estate) -> set[str]:
    out: set[str] = set()
    for svc in estate.cluster.services:
        if svc.type not in ("LoadBalancer", "NodePort") or not svc.selector:
            continue
        for w in estate.cluster.workloads:
            if w.namespace == svc.namespace and all(w.labels.get(k) == v for k, v in svc.selector.items()):
                out.add(w.key)
    return out
