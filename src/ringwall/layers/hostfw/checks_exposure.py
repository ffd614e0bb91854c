"""Exposure: admin ports open to the Internet, DNAT around input rules, Kubernetes node traffic.

RW-HOSTFW-017, 022 and 040.
"""

from __future__ import annotations

from collections.abc import Iterator

from ringwall.model import intervals as iv
from ringwall.model.findings import Finding, Severity

from . import values as V
from .checks_common import (
    HOST_ADDR,
    WORLD_SAMPLE,
    default_accept,
    defcheck,
    fallback,
    input_chains,
    world,
)
from .model import ALL_ADDR, In, Kind, Ruleset
from .trace import decisive, make_packet, trace

MGMT = defcheck(17, "ManagementPortOpenToAll", Severity.HIGH,
              "An administrative port is accepted from anywhere on the Internet.",
              "Accept the port only from the management or cluster networks.")


DNAT_BYPASS = defcheck(22, "InputRulesBypassedByDnat", Severity.HIGH,
                     "A port restricted on input is DNATed and accepted from anywhere on the forward path.",
                     "Filter published ports on the forward path (DOCKER-USER, or a forward chain first).")


CNI = defcheck(40, "KubernetesNodeTrafficBlocked", Severity.HIGH,
             "On a Kubernetes node, the firewall blocks the CNI overlay, the kubelet or forwarded pod traffic.",
             "Allow the overlay (VXLAN, IP-in-IP, BGP), the kubelet from the control plane and pod forwarding.")


MGMT_PORTS = {22: "SSH", 6443: "Kubernetes API server", 2379: "etcd client", 2380: "etcd peer", 10250: "kubelet",
              10255: "kubelet read-only", 10257: "kube-controller-manager", 10259: "kube-scheduler"}


def check_management_ports(rs: Ruleset) -> Iterator[Finding]:
    from .api import accepted_sources

    kube = bool(rs.tools & {"kube-proxy", "calico", "cilium", "flannel", "weave"})
    ports = dict(MGMT_PORTS)
    if kube:
        ports[30000] = "NodePort range"
    for fam in (4, 6):
        if default_accept(rs, fam)[0]:
            continue  # reported once as DefaultAcceptInput / Ipv6Unfiltered
        w = world(fam)
        total = iv.size(w)
        for port, what in ports.items():
            srcs = accepted_sources(rs, w, HOST_ADDR[fam], "tcp", port, iif="rw-ext0")
            if iv.size(srcs.may) * 2 <= total:
                continue
            t = trace(rs, make_packet(WORLD_SAMPLE[fam], HOST_ADDR[fam], "tcp", port, iif="rw-ext0"), "input")
            ev = decisive(t.main)
            yield Finding(MGMT, f"{what} (tcp/{port}) is accepted from anywhere over IPv{fam} "
                          f"(e.g. {WORLD_SAMPLE[fam]}; decided by {ev[-1][1] if ev else 'policy'}).",
                          tuple(loc for loc, _ in ev[-1:]) or fallback(rs, input_chains(rs, fam)), "host",
                          f"tcp/{port}/ipv{fam}")


def check_dnat(rs: Ruleset) -> Iterator[Finding]:
    """A world packet to port P: DNATed and accepted on forward, while the input chains alone drop it."""
    if not any(r.action.kind is Kind.NAT and r.action.target == "dnat" for r in rs.rules()):
        return
    from .model import Ruleset as RS

    filters_only = RS([t for t in rs.tables if not any(c.type == "nat" for c in t.chains.values())])
    ports = sorted(set(_dports(rs)))[:200]
    for port in ports:
        pkt = make_packet(WORLD_SAMPLE[4], HOST_ADDR[4], "tcp", port, iif="rw-ext0")
        t = trace(rs, pkt, "input")
        hit = next((o for o in t.outcomes if o.action == "accept" and o.path == "forward"), None)
        if hit is None or trace(filters_only, pkt, "input").verdict == "accept":
            continue
        dnat = next(s.rule for s in hit.steps if s.event == "path" and s.rule is not None)
        fwd = [loc for loc, _ in decisive(hit)]
        yield Finding(DNAT_BYPASS, f"tcp/{port} is dropped by the input chains, but '{dnat.label}' DNATs it "
                      f"(to {V.fmt_addr(hit.packet.daddr)}:{hit.packet.dport}) and the forward path accepts it "
                      f"from anywhere (e.g. {WORLD_SAMPLE[4]}).", (dnat.location, *fwd[-1:]), "host", f"tcp/{port}")


def _dports(rs: Ruleset) -> Iterator[int]:
    for r in rs.rules():
        stack = [r.match]
        while stack:
            p = stack.pop()
            if isinstance(p, In) and p.field == "dport":
                yield from (lo for lo, _hi in p.values)
            stack.extend(getattr(p, "ps", ()) or ([p.p] if hasattr(p, "p") else []))  # type: ignore[attr-defined]


KUBE_CHECKS = [("udp", 8472, "VXLAN overlay (flannel, cilium)", {"flannel", "cilium"}),
               ("udp", 4789, "VXLAN overlay (calico)", {"calico"}), ("tcp", 179, "BGP (calico)", {"calico"}),
               ("tcp", 10250, "kubelet", {"kube-proxy", "calico", "cilium", "flannel", "weave"})]


def check_kubernetes(rs: Ruleset) -> Iterator[Finding]:
    from .api import accepted_sources

    if not rs.tools & {"kube-proxy", "calico", "cilium", "flannel", "weave"}:
        return
    all4 = iv.intersect(ALL_ADDR, V.parse_net("0.0.0.0/0")[0])
    for proto, port, what, tools in KUBE_CHECKS:
        if not rs.tools & tools:
            continue
        srcs = accepted_sources(rs, all4, HOST_ADDR[4], proto, port, iif="rw-ext0")
        if not srcs.may:
            t = trace(rs, make_packet("10.0.0.2", HOST_ADDR[4], proto, port, iif="rw-ext0"), "input")
            ev = decisive(t.main)
            yield Finding(CNI, f"{what} ({proto}/{port}) is dropped from every source on this Kubernetes node.",
                          tuple(loc for loc, _ in ev[-1:]) or fallback(rs, input_chains(rs, 4)), "host",
                          f"{proto}/{port}")
    pod = trace(rs, make_packet("10.244.1.5", "10.244.2.7", "tcp", 8080, iif="cni0", oif="rw-ext0",
                                hook="forward"), "forward")
    if pod.verdict != "accept":
        ev = decisive(pod.main)
        yield Finding(CNI, "Pod traffic forwarded between nodes (cni0 -> uplink, 10.244.1.5 -> 10.244.2.7 tcp/8080) "
                      f"is dropped (decided by {ev[-1][1] if ev else 'policy'}).",
                      tuple(loc for loc, _ in ev[-1:]) or fallback(rs, []), "host", "pod-forward")
