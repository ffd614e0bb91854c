"""Cross-layer findings that need no intent file (RW-DEPTH-005, 013, 021)."""

from __future__ import annotations

from collections.abc import Iterator

from ringwall.analysis.depth import DepthResult
from ringwall.analysis.estate import Estate
from ringwall.analysis.flows import FlowModel
from ringwall.model.findings import Check, Finding, Severity, register

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
                      f"(most exposed destinations: {', '.join(top)}).", _layer_location(estate, layer),
                      f"layer/{layer}", layer, properties={"layer": layer, "flows": n})


def _layer_location(estate: Estate, layer: str) -> tuple:  # type: ignore[type-arg]
    """Somewhere to point at for a whole layer (code scanning wants a file): its first object."""
    if layer == "netpol" and estate.policies.policies:
        return (estate.policies.policies[0].document.locate(),)
    if layer == "hostfw":
        from ringwall.analysis.hosts import host_inventory
        from ringwall.model.location import Location

        hosts = host_inventory(estate)
        return (Location(str(hosts[0].files[0]), 1),) if hosts else ()
    return ()


def _entrypoints(estate: Estate) -> set[str]:
    out: set[str] = set()
    for svc in estate.cluster.services:
        if svc.type not in ("LoadBalancer", "NodePort") or not svc.selector:
            continue
        for w in estate.cluster.workloads:
            if w.namespace == svc.namespace and all(w.labels.get(k) == v for k, v in svc.selector.items()):
                out.add(w.key)
    return out
