"""The sections of an intent that only generation reads: ``cluster``, ``hosts`` and ``access``
(``mesh`` is read by the mesh targets themselves, see ``istio.py`` and ``linkerd.py``).

``verify`` needs zones and flows only; producing configuration needs facts the flows do not say
(the pod CIDR, which host roles exist, who may SSH, the WireGuard network). They live in the same
intent document so that one file describes the estate, and ``load_intent`` keeps the whole
document in ``Intent.raw``; this module reads and checks them. Every field is optional: a target
whose facts are missing generates nothing and says so.

.. code-block:: yaml

    cluster:
      pod_cidr: 10.244.0.0/16          # one CIDR or a list (IPv4 and IPv6 for dual stack)
      service_cidr: 10.96.0.0/12
      node_cidr: 192.0.2.0/24          # the nodes' own addresses
      namespaces: [frontend, backend]  # extra namespaces to isolate (zones' namespaces always are)
      dns: {namespace: kube-system, labels: {k8s-app: kube-dns}, nodelocal: 169.254.20.10}
      cni: {vxlan_port: 4789, bgp: false}
      admin_network_policy: false      # also a BaselineAdminNetworkPolicy cluster-wide guard
    hosts:
      management: admins               # the zone whose addresses may SSH to every host
      roles:
        control-plane: {}
        worker: {services: [{name: node-exporter, ports: [TCP/9100], from: [10.244.0.0/16]}]}
        bastion: {}
      nodeports:                       # intended external flows served through a NodePort
        - {flow: public-web, port: 30080, roles: [worker]}
    access:
      wireguard:
        network: 10.200.0.0/24
        address: 10.200.0.1            # the bastion's address in the tunnel (default: first host)
        port: 51820
        endpoint: bastion.example.com  # what clients dial
        from: internet                 # zone allowed to reach the WireGuard port
        peers: [{name: alice, address: 10.200.0.2}]
      bastion:
        users_ca: "ssh-ed25519 AAAA... users-ca"
        allow_users: [alice]
        allow_forward_to: [{name: nodes, cidr: 192.0.2.0/24, ports: [TCP/22]}]
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from ringwall.analysis.intent import Intent, IntentError, parse_ports
from ringwall.model.connections import ConnectionSet

ROLES = ("control-plane", "worker", "bastion")
"""Roles with a built-in profile; other role names get only the services the intent lists."""

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class SpecError(IntentError):
    """A generation section of the intent is wrong (same one-line, exit-2 reporting as the intent)."""


@dataclass(frozen=True)
class DnsSpec:
    namespace: str = "kube-system"
    labels: tuple[tuple[str, str], ...] = (("k8s-app", "kube-dns"),)
    nodelocal: str | None = None


@dataclass(frozen=True)
class CniSpec:
    vxlan_port: int | None = 4789
    bgp: bool = False


@dataclass(frozen=True)
class ClusterSpec:
    pod_cidrs: tuple[Network, ...] = ()
    service_cidrs: tuple[Network, ...] = ()
    node_cidrs: tuple[Network, ...] = ()
    namespaces: tuple[str, ...] = ()
    dns: DnsSpec = field(default_factory=DnsSpec)
    cni: CniSpec = field(default_factory=CniSpec)
    admin_network_policy: bool = False


@dataclass(frozen=True)
class HostService:
    """A port a host role serves, to the sources named (CIDRs or zone names)."""

    name: str
    conn: ConnectionSet
    sources: tuple[str, ...]


@dataclass(frozen=True)
class RoleSpec:
    name: str
    services: tuple[HostService, ...] = ()


@dataclass(frozen=True)
class NodePort:
    flow: str
    port: int
    roles: tuple[str, ...] = ("worker",)


@dataclass(frozen=True)
class HostsSpec:
    management: str | None = None
    roles: tuple[RoleSpec, ...] = ()
    nodeports: tuple[NodePort, ...] = ()


@dataclass(frozen=True)
class WgPeer:
    name: str
    address: ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class WireGuardSpec:
    network: Network
    address: ipaddress.IPv4Address | ipaddress.IPv6Address
    port: int = 51820
    endpoint: str = "bastion.example.com"
    source_zone: str = "internet"
    peers: tuple[WgPeer, ...] = ()


@dataclass(frozen=True)
class ForwardTarget:
    name: str
    cidr: Network
    conn: ConnectionSet


@dataclass(frozen=True)
class BastionSpec:
    users_ca: str | None = None
    allow_users: tuple[str, ...] = ()
    allow_forward_to: tuple[ForwardTarget, ...] = ()
    port: int = 22


@dataclass(frozen=True)
class GenerateSpec:
    cluster: ClusterSpec | None
    hosts: HostsSpec | None
    wireguard: WireGuardSpec | None
    bastion: BastionSpec | None


def _section(raw: dict[str, Any], key: str, where: str) -> dict[str, Any] | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise SpecError(f"{where}: {key} must be a mapping")
    return value


def _networks(value: object, where: str) -> tuple[Network, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        try:
            out.append(ipaddress.ip_network(str(item), strict=True))
        except ValueError as exc:
            raise SpecError(f"{where}: {item!r} is not a CIDR ({exc})") from None
    return tuple(out)


def _address(value: object, where: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        return ipaddress.ip_address(str(value))
    except ValueError:
        raise SpecError(f"{where}: {value!r} is not an IP address") from None


def _port(value: object, where: str) -> int:
    if not isinstance(value, int) or not 1 <= value <= 65535:
        raise SpecError(f"{where}: a port is a number in 1-65535")
    return value


def _names(value: object, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        raise SpecError(f"{where}: expected a list of names")
    return tuple(str(v) for v in value)


def _cluster(raw: dict[str, Any], where: str) -> ClusterSpec | None:
    c = _section(raw, "cluster", where)
    if c is None:
        return None
    w = f"{where}: cluster"
    d = c.get("dns") or {}
    if not isinstance(d, dict):
        raise SpecError(f"{w}.dns must be a mapping")
    labels = d.get("labels") or {"k8s-app": "kube-dns"}
    if not isinstance(labels, dict) or not labels:
        raise SpecError(f"{w}.dns.labels must be a non-empty mapping")
    nodelocal = d.get("nodelocal")
    if nodelocal is not None:
        nodelocal = str(_address(nodelocal, f"{w}.dns.nodelocal"))
    dns = DnsSpec(str(d.get("namespace") or "kube-system"),
                  tuple(sorted((str(k), str(v)) for k, v in labels.items())), nodelocal)
    cni_raw = c.get("cni") or {}
    if not isinstance(cni_raw, dict):
        raise SpecError(f"{w}.cni must be a mapping")
    vx = cni_raw.get("vxlan_port", 4789)
    cni = CniSpec(None if vx in (None, False) else _port(vx, f"{w}.cni.vxlan_port"), bool(cni_raw.get("bgp", False)))
    return ClusterSpec(
        pod_cidrs=_networks(c.get("pod_cidr"), f"{w}.pod_cidr"),
        service_cidrs=_networks(c.get("service_cidr"), f"{w}.service_cidr"),
        node_cidrs=_networks(c.get("node_cidr"), f"{w}.node_cidr"),
        namespaces=_names(c.get("namespaces"), f"{w}.namespaces"),
        dns=dns, cni=cni, admin_network_policy=bool(c.get("admin_network_policy", False)),
    )


def _hosts(raw: dict[str, Any], intent: Intent, where: str) -> HostsSpec | None:
    h = _section(raw, "hosts", where)
    if h is None:
        return None
    w = f"{where}: hosts"
    mgmt = h.get("management")
    if mgmt is not None:
        zone = intent.zone(str(mgmt))
        if zone is None or not zone.external:
            raise SpecError(f"{w}.management: {mgmt!r} must name an external zone (with cidrs) of the intent")
    roles_raw = h.get("roles") or {}
    if not isinstance(roles_raw, dict):
        raise SpecError(f"{w}.roles must map role names to settings")
    roles = []
    for name in sorted(roles_raw):
        r = roles_raw[name] or {}
        if not isinstance(r, dict):
            raise SpecError(f"{w}.roles.{name} must be a mapping")
        services = []
        for i, s in enumerate(r.get("services") or []):
            sw = f"{w}.roles.{name}.services[{i}]"
            if not isinstance(s, dict) or "ports" not in s or "from" not in s:
                raise SpecError(f"{sw}: a service needs ports and from")
            sources = _names(s["from"] if isinstance(s["from"], list) else [s["from"]], sw)
            for src in sources:
                _source_ok(src, intent, sw)
            services.append(HostService(str(s.get("name") or f"service-{i}"), parse_ports(s["ports"], sw), sources))
        roles.append(RoleSpec(str(name), tuple(services)))
    nodeports = []
    for i, n in enumerate(h.get("nodeports") or []):
        nw = f"{w}.nodeports[{i}]"
        if not isinstance(n, dict) or "flow" not in n or "port" not in n:
            raise SpecError(f"{nw}: give flow and port")
        flow = next((f for f in intent.flows if f.name == n["flow"]), None)
        if flow is None:
            raise SpecError(f"{nw}: {n['flow']!r} is not a flow of the intent")
        src = intent.zone(flow.src)
        if src is None or not src.external:
            raise SpecError(f"{nw}: flow {flow.name!r} must come from an external zone to use a NodePort")
        port = _port(n["port"], nw)
        if not 30000 <= port <= 32767:
            raise SpecError(f"{nw}: NodePorts lie in 30000-32767 (the default service-node-port-range)")
        nodeports.append(NodePort(flow.name, port, _names(n.get("roles"), nw) or ("worker",)))
    return HostsSpec(None if mgmt is None else str(mgmt), tuple(roles), tuple(nodeports))


def _source_ok(src: str, intent: Intent, where: str) -> None:
    zone = intent.zone(src)
    if zone is not None and zone.external:
        return
    try:
        ipaddress.ip_network(src, strict=True)
    except ValueError:
        raise SpecError(f"{where}: {src!r} is neither an external zone nor a CIDR") from None


def _wireguard(access: dict[str, Any], intent: Intent, where: str) -> WireGuardSpec | None:
    wg = access.get("wireguard")
    if wg is None:
        return None
    w = f"{where}: access.wireguard"
    if not isinstance(wg, dict) or "network" not in wg:
        raise SpecError(f"{w}: give at least network")
    (network,) = _networks(wg["network"], f"{w}.network")
    address = _address(wg["address"], f"{w}.address") if "address" in wg else next(network.hosts())
    if address not in network:
        raise SpecError(f"{w}.address: {address} is outside {network}")
    peers = []
    seen = {address}
    for i, p in enumerate(wg.get("peers") or []):
        pw = f"{w}.peers[{i}]"
        if not isinstance(p, dict) or "name" not in p or "address" not in p:
            raise SpecError(f"{pw}: a peer needs name and address")
        name = str(p["name"])
        if not name.replace("-", "").replace("_", "").isalnum():
            raise SpecError(f"{pw}: a peer name is letters, digits, - and _ (it names a file)")
        a = _address(p["address"], pw)
        if a not in network or a in seen:
            raise SpecError(f"{pw}: {a} must be a free address of {network}")
        seen.add(a)
        peers.append(WgPeer(name, a))
    src = str(wg.get("from") or "internet")
    _source_ok(src, intent, f"{w}.from")
    return WireGuardSpec(network, address, _port(wg.get("port", 51820), f"{w}.port"),
                         str(wg.get("endpoint") or "bastion.example.com"), src, tuple(peers))


def _bastion(access: dict[str, Any], where: str) -> BastionSpec | None:
    b = access.get("bastion")
    if b is None:
        return None
    w = f"{where}: access.bastion"
    if not isinstance(b, dict):
        raise SpecError(f"{w} must be a mapping")
    targets = []
    for i, t in enumerate(b.get("allow_forward_to") or []):
        tw = f"{w}.allow_forward_to[{i}]"
        if not isinstance(t, dict) or "cidr" not in t:
            raise SpecError(f"{tw}: give cidr (and ports, default TCP/22)")
        (net,) = _networks(t["cidr"], tw)
        targets.append(ForwardTarget(str(t.get("name") or f"target-{i}"), net,
                                     parse_ports(t.get("ports") or ["TCP/22"], tw)))
    ca = b.get("users_ca")
    return BastionSpec(None if ca is None else str(ca).strip(), _names(b.get("allow_users"), f"{w}.allow_users"),
                       tuple(targets), _port(b.get("port", 22), f"{w}.port"))


def load_spec(intent: Intent) -> GenerateSpec:
    """Read the generation sections of ``intent.raw``; raises ``SpecError`` naming the field."""
    raw = intent.raw or {}
    where = intent.path or "<intent>"
    access = _section(raw, "access", where) or {}
    return GenerateSpec(_cluster(raw, where), _hosts(raw, intent, where), _wireguard(access, intent, where),
                        _bastion(access, where))
