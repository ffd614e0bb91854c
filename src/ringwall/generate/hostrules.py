"""The host firewall of each role as a list of neutral rules, rendered by ``nftables`` and ``iptables``.

Both renderers read the same rules so that the nft table and the iptables-restore files of a
role admit the same packets (the kernel test loads each and sends the same probes). Policy is
default-drop for input and forward; output is left open (egress is the NetworkPolicy layer's).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from ringwall.generate.base import Context, describe_conn
from ringwall.generate.spec import Network, RoleSpec
from ringwall.model.connections import ConnectionSet

KUBELET, APISERVER, ETCD, BGP = 10250, 6443, (2379, 2380), 179


@dataclass(frozen=True)
class HostRule:
    chain: str
    """``input`` or ``forward``."""
    comment: str
    special: str = ""
    """``established``, ``invalid``, ``loopback``, ``icmpv6-nd``, ``icmpv6-errors`` or ``log`` (rate-limited log
    of what the default policy is about to drop): fixed rules with no fields below."""
    saddr: tuple[Network, ...] | None = None
    daddr: tuple[Network, ...] | None = None
    proto: str | None = None
    """``tcp``/``udp``/``sctp``; None: any protocol (then no ports)."""
    ports: tuple[tuple[int, int], ...] = ()


def _head(chain: str) -> list[HostRule]:
    rules = [
        HostRule(chain, "replies and related ICMP of connections already admitted", "established"),
        HostRule(chain, "packets that belong to no connection", "invalid"),
    ]
    if chain == "input":
        rules += [
            HostRule(chain, "loopback: local services talk to each other", "loopback"),
            HostRule(chain, "IPv6 neighbour discovery: without it IPv6 does not work at all", "icmpv6-nd"),
            HostRule(chain, "ICMPv6 errors (packet too big: path MTU discovery)", "icmpv6-errors"),
        ]
    return rules


def _service(chain: str, comment: str, sources: tuple[Network, ...], conn: ConnectionSet,
             daddr: tuple[Network, ...] | None = None) -> list[HostRule]:
    """One rule per protocol of ``conn`` (all protocols, no ports, when ``conn`` is everything)."""
    if not sources:
        return []
    if conn.is_all():
        return [HostRule(chain, comment, saddr=sources, daddr=daddr)]
    out = []
    for proto, ranges in conn.items():
        out.append(HostRule(chain, comment, saddr=sources, daddr=daddr, proto=proto.lower(), ports=tuple(ranges)))
    return out


def _tcp(*ports: int | tuple[int, int]) -> ConnectionSet:
    return ConnectionSet.of("TCP", [(p, p) if isinstance(p, int) else p for p in ports])


def role_rules(ctx: Context, role: RoleSpec) -> list[HostRule]:
    """Input and forward rules of one role, in evaluation order."""
    spec, cluster, hosts = ctx.spec, ctx.spec.cluster, ctx.spec.hosts
    nodes = cluster.node_cidrs if cluster else ()
    pods = cluster.pod_cidrs if cluster else ()
    rules = _head("input")
    if hosts is not None and hosts.management:
        port = spec.bastion.port if role.name == "bastion" and spec.bastion else 22
        rules += _service("input", f"management SSH from zone {hosts.management} (hosts.management)",
                          ctx.zone_networks(hosts.management), _tcp(port))
    if role.name in ("control-plane", "worker") and not nodes:
        ctx.notes.append(f"hosts/{role.name}: cluster.node_cidr is not set: no node-to-node services opened")
    if role.name == "control-plane":
        mgmt = ctx.zone_networks(hosts.management) if hosts and hosts.management else ()
        rules += _service("input", "kube-apiserver: nodes, pods (kubernetes Service) and the management zone",
                          (*nodes, *pods, *mgmt), _tcp(APISERVER))
        rules += _service("input", "etcd client and peer traffic from the node network (cluster.node_cidr)", nodes,
                          _tcp(ETCD))
    if role.name in ("control-plane", "worker"):
        rules += _service("input", "kubelet API: API server (nodes) and metrics-server (pods)", (*nodes, *pods),
                          _tcp(KUBELET))
        if cluster and cluster.cni.vxlan_port:
            rules += _service("input", "CNI overlay: VXLAN between nodes (cluster.cni.vxlan_port)", nodes,
                              ConnectionSet.of("UDP", [(cluster.cni.vxlan_port,) * 2]))
        if cluster and cluster.cni.bgp:
            rules += _service("input", "CNI routing: BGP between nodes (cluster.cni.bgp)", nodes, _tcp(BGP))
        if cluster and cluster.dns.nodelocal:
            local = (ipaddress.ip_network(cluster.dns.nodelocal),)
            rules += _service("input", "NodeLocal DNSCache for pods (cluster.dns.nodelocal)", pods,
                              ConnectionSet.of("UDP", [(53, 53)]) | _tcp(53), daddr=local)
    if role.name == "bastion" and spec.wireguard is not None:
        wg = spec.wireguard
        rules += _service("input", f"WireGuard from zone {wg.source_zone} (access.wireguard)",
                          ctx.zone_networks(wg.source_zone), ConnectionSet.of("UDP", [(wg.port, wg.port)]))
    for np in hosts.nodeports if hosts else ():
        if role.name not in np.roles:
            continue
        flow = ctx.flow(np.flow)
        protos = [p for p, _ in flow.conn.items()] if not flow.conn.is_all() else ["TCP"]
        conn = ConnectionSet.none()
        for p in protos:
            conn = conn | ConnectionSet.of(p, [(np.port, np.port)])
        rules += _service("input", f"flow {flow.name}: {flow.src} -> {flow.dst} through NodePort {np.port}",
                          ctx.zone_networks(flow.src), conn)
    for s in role.services:
        nets: tuple[Network, ...] = ()
        for src in s.sources:
            nets += ctx.zone_networks(src)
        rules += _service("input", f"service {s.name} ({describe_conn(s.conn)}) from {', '.join(s.sources)}",
                          nets, s.conn)
    rules.append(HostRule("input", "log what the drop policy refuses (rate-limited)", "log"))
    rules += _head("forward")
    if role.name in ("control-plane", "worker"):
        rules += _service("forward", "CNI: traffic from pods (NetworkPolicy decides which)", pods, ConnectionSet.all())
        rules += [HostRule("forward", "CNI: traffic to pods, also after kube-proxy DNAT (NetworkPolicy decides)",
                           daddr=pods)] if pods else []
    if role.name == "bastion" and spec.wireguard is not None and spec.bastion is not None:
        for t in spec.bastion.allow_forward_to:
            for r in _service("forward", f"WireGuard clients to {t.name} ({describe_conn(t.conn)}, "
                              "access.bastion.allow_forward_to)", (spec.wireguard.network,), t.conn):
                rules.append(HostRule(r.chain, r.comment, saddr=r.saddr, daddr=(t.cidr,), proto=r.proto,
                                      ports=r.ports))
    rules.append(HostRule("forward", "log what the drop policy refuses (rate-limited)", "log"))
    return rules


def roles(ctx: Context) -> list[RoleSpec]:
    if ctx.spec.hosts is None or not ctx.spec.hosts.roles:
        ctx.notes.append("hosts: no hosts.roles in the intent: no host firewall generated")
        return []
    return list(ctx.spec.hosts.roles)
