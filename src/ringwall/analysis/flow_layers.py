"""Flow-model adapters for the layers that have landed: NetworkPolicy and host firewalls.

Each adapter turns one layer's own analysis into a ``LayerView`` of the combined flow model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ringwall.analysis.flows import FlowContext, LayerView, Pair, register_flow_layer
from ringwall.model import intervals as iv
from ringwall.model.addresses import to_cidrs
from ringwall.model.connections import NONE, ConnectionSet

if TYPE_CHECKING:
    from ringwall.analysis.estate import Estate

MANAGEMENT_PORTS = (22, 2379, 6443, 10250, 10255)


@register_flow_layer("netpol")
def netpol_view(estate: Estate, ctx: FlowContext) -> LayerView | None:
    enforces = estate.cni.enforces is not False and not ctx.degradation.cni_none
    engine = estate.engine(enforced=True)
    connlist = estate.connlist(enforced=True)
    allowed: dict[Pair, ConnectionSet] = {}
    for c in connlist.connections:
        if not (c.src_is_ip or c.dst_is_ip):
            allowed[(c.src, c.dst)] = c.conn
    wl_classes = {
        w.key: list(engine.classes_in(engine.workload_classes.get(w.key, 0))) for w in engine.cluster.workloads
    }
    # External zones: a zone reaches a workload on what any of its addresses may use (union).
    inbound = ((ips, mask, conn, True) for ips, mask, conn in engine.ingress_from_ips())
    outbound = ((ips, mask, conn, False) for mask, ips, conn in engine.egress_to_ips())
    for ips, mask, conn, towards_pods in (*inbound, *outbound):
        for zone in ctx.zones:
            if not (zone.external and iv.intersect(zone.addresses, ips)):
                continue
            for cls in engine.classes_in(mask):
                for w, _ in cls.members:
                    key = (zone.endpoint, w.key) if towards_pods else (w.key, zone.endpoint)
                    allowed[key] = allowed.get(key, NONE) | conn
    ingress_iso = {k: any(engine.class_ingress[c.index].isolated or engine.class_ingress[c.index].admin
                          for c in cs) for k, cs in wl_classes.items()}
    egress_iso = {k: any(engine.class_egress[c.index].isolated or engine.class_egress[c.index].admin
                         for c in cs) for k, cs in wl_classes.items()}
    explicit = {p for p, c in allowed.items() if c and (ingress_iso.get(p[1]) or egress_iso.get(p[0]))}
    workloads = set(wl_classes)

    def scope(src: str, dst: str) -> bool:
        return (src in workloads or dst in workloads) and not (src.startswith("host:") or dst.startswith("host:"))

    note = "" if enforces else f"{estate.cni.describe()}: every NetworkPolicy is void"
    if ctx.degradation.cni_none:
        note = "what-if: the CNI does not enforce NetworkPolicy"
    return LayerView("netpol", "Kubernetes NetworkPolicy", scope, allowed, explicit, {}, enforces, note)


@register_flow_layer("hostfw")
def hostfw_view(estate: Estate, ctx: FlowContext) -> LayerView | None:
    """One endpoint per host; what each external zone may open on the node's management ports and
    NodePorts, through that host's own ruleset; and what reaches hostNetwork workloads' ports.

    Only ports something listens on are probed: a host firewall's verdict on other ports of a
    hostNetwork workload is not computed (the flow then counts as blocked by this layer, which is
    true when the input chain ends in drop - the case checks report otherwise).
    """
    from ringwall.analysis.hosts import host_inventory

    hosts = host_inventory(estate)
    if not hosts:
        return None
    from ringwall.layers.hostfw import values as V
    from ringwall.layers.hostfw.api import accepted_sources

    ports = sorted({*MANAGEMENT_PORTS, *(p.node_port for s in estate.cluster.services for p in s.ports
                                        if p.node_port)})
    zone_sources: list[tuple[str, tuple[tuple[int, int], ...]]] = []
    for zone in ctx.zones:
        if not zone.external:
            continue
        sources: tuple[tuple[int, int], ...] = ()
        for cidr in to_cidrs(zone.addresses):
            rng, _ = V.parse_net(cidr)
            sources = iv.union(sources, rng)
        if sources:
            zone_sources.append((zone.endpoint, sources))
    # hostNetwork workloads listen on the nodes themselves: the host firewalls decide who reaches
    # their ports (a workload on every node is reachable where any host lets the traffic in).
    hostnet = {w.key: sorted({(p.protocol, p.port) for v in w.variants for p in v.ports if p.protocol != "SCTP"})
               for w in estate.cluster.workloads if w.host_network}
    allowed: dict[Pair, ConnectionSet] = {}
    for host in hosts:
        ruleset = host.ruleset(None)  # its diagnostics belong to the scan layer's report
        for endpoint, sources in zone_sources:
            conn = NONE
            for port in ports:
                for proto in ("tcp", "udp"):
                    if accepted_sources(ruleset, sources, host.probe_address, proto, port).may:
                        conn = conn | ConnectionSet.of(proto.upper(), [(port, port)])
            if conn:
                allowed[(endpoint, host.endpoint)] = conn
            for key, listening in hostnet.items():
                for proto, port in listening:
                    if accepted_sources(ruleset, sources, host.probe_address, proto.lower(), port).may:
                        pair = (endpoint, key)
                        allowed[pair] = allowed.get(pair, NONE) | ConnectionSet.of(proto, [(port, port)])
    endpoints = {h.endpoint for h in hosts}

    def scope(src: str, dst: str) -> bool:
        return dst in endpoints or (src.startswith("zone:") and dst in hostnet)

    unknown = [h.name for h in hosts if h.address is None]
    note = (f"address unknown for {', '.join(unknown)} (no inventory or Node object): probed as "
            "192.0.2.1" if unknown else "")
    return LayerView("hostfw", "Host firewall", scope, allowed, set(allowed), {}, not ctx.degradation.hostfw_flushed,
                     note)
