"""Istio egress: what decides a flow from a meshed workload to an address outside the cluster.

A sidecar sends traffic for destinations it does not know through ``PassthroughCluster`` when the
outbound traffic policy is ``ALLOW_ANY`` (Istio's default) and into ``BlackHoleCluster`` when it is
``REGISTRY_ONLY``. What the sidecar knows is its registry: Kubernetes Services and the
ServiceEntries exported to its namespace, narrowed by the ``egress.hosts`` of the Sidecar resource
that applies to it. So, per flow, one of these decides (Istio reference: Sidecar,
ServiceEntry, meshConfig ``outboundTrafficPolicy``; task "Accessing External Services"):

* a ServiceEntry whose ``addresses`` hold the destination and whose ports hold the port: allowed,
  to a registered external service (through an egress gateway when a VirtualService sends that
  host to one);
* a ServiceEntry naming only hosts on that port: allowed only for requests to those names, a
  condition the manifests cannot settle for an address;
* ``REGISTRY_ONLY`` otherwise: refused;
* ``ALLOW_ANY`` otherwise: passed through, nothing in the mesh decides.

Nothing here is mTLS: traffic leaving the mesh is whatever the application sends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml_rs

from ringwall.model import intervals as iv
from ringwall.model.addresses import AddressError, parse_address, parse_cidr
from ringwall.model.cluster import Workload
from ringwall.model.intervals import Intervals
from ringwall.sources.documents import Document
from ringwall.sources.inventory import Inventory

from .common import Evidence, ParsedObject, labels_match, pod_annotations, spec_of, str_list

REGISTRY_ONLY = "REGISTRY_ONLY"
ALLOW_ANY = "ALLOW_ANY"
EXCLUDE_OUT_RANGES = "traffic.sidecar.istio.io/excludeOutboundIPRanges"
INCLUDE_OUT_RANGES = "traffic.sidecar.istio.io/includeOutboundIPRanges"


@dataclass
class ServiceEntry(ParsedObject):
    hosts: list[str] = field(default_factory=list)
    addresses: Intervals = ()
    ports: dict[int, str] = field(default_factory=dict)
    """number -> protocol (HTTP, TCP, TLS, HTTPS, ...); empty: every port."""
    location: str = "MESH_EXTERNAL"
    resolution: str = "NONE"
    export_to: list[str] = field(default_factory=lambda: ["*"])

    def visible_from(self, namespace: str) -> bool:
        return any(e in ("*", namespace) or (e == "." and namespace == self.namespace) for e in self.export_to)

    def serves_port(self, port: int) -> bool:
        return not self.ports or port in self.ports


@dataclass
class SidecarResource(ParsedObject):
    selector: dict[str, str] | None = None
    outbound_mode: str | None = None
    egress_proxy: str | None = None
    """``outboundTrafficPolicy.egressProxy.host``: where ALLOW_ANY sends unknown destinations."""
    egress_hosts: list[str] | None = None
    """``namespace/dnsName`` patterns of the egress listeners; None: no egress section (all visible)."""


@dataclass
class EgressRoute:
    """A VirtualService that sends ``host`` traffic to an egress gateway."""

    host: str
    gateway_host: str
    ref: str
    evidence: Evidence


@dataclass
class EgressDecision:
    verdict: str
    """``allow``, ``deny`` or ``conditional``."""
    reason: str
    decided_by: str
    """``service-entry``, ``egress-gateway``, ``registry-only``, ``allow-any``, ``bypass``, ``none``."""
    evidence: list[Evidence] = field(default_factory=list)
    condition: str | None = None


def _parse_service_entry(doc: Document, default_ns: str) -> ServiceEntry:
    spec = spec_of(doc)
    addrs: Intervals = ()
    for text in str_list(spec.get("addresses")):
        try:
            rng = parse_cidr(text)[0] if "/" in text else ((parse_address(text),) * 2,)
        except AddressError:
            continue
        addrs = iv.union(addrs, rng)
    ports: dict[int, str] = {}
    for p in spec.get("ports") or ():
        if isinstance(p, dict) and isinstance(p.get("number"), int):
            ports[p["number"]] = str(p.get("protocol") or "TCP").upper()
    export = str_list(spec.get("exportTo")) or ["*"]
    return ServiceEntry(doc, doc.namespace(default_ns), doc.name, hosts=str_list(spec.get("hosts")), addresses=addrs,
                        ports=ports, location=str(spec.get("location") or "MESH_EXTERNAL").upper(),
                        resolution=str(spec.get("resolution") or "NONE").upper(), export_to=export)


def _parse_sidecar(doc: Document, default_ns: str) -> SidecarResource:
    spec = spec_of(doc)
    ws = spec.get("workloadSelector")
    selector = None
    if isinstance(ws, dict) and isinstance(ws.get("labels"), dict) and ws["labels"]:
        selector = {str(k): str(v) for k, v in ws["labels"].items()}
    otp = spec.get("outboundTrafficPolicy")
    mode = str(otp.get("mode")).upper() if isinstance(otp, dict) and otp.get("mode") else None
    proxy = otp.get("egressProxy") if isinstance(otp, dict) else None
    proxy_host = str(proxy.get("host")) if isinstance(proxy, dict) and proxy.get("host") else None
    hosts: list[str] | None = None
    if isinstance(spec.get("egress"), list):
        hosts = [h for e in spec["egress"] if isinstance(e, dict) for h in str_list(e.get("hosts"))]
    return SidecarResource(doc, doc.namespace(default_ns), doc.name, selector=selector, outbound_mode=mode,
                           egress_proxy=proxy_host, egress_hosts=hosts)


def _mesh_config(inventory: Inventory, root: str) -> tuple[dict[str, Any], Evidence | None]:
    """meshConfig from the ``istio`` ConfigMap of the root namespace or an IstioOperator."""
    for d in inventory.documents("ConfigMap"):
        if d.name == "istio" and d.namespace(inventory.default_namespace) == root:
            data = d.obj.get("data") if isinstance(d.obj.get("data"), dict) else {}
            text = data.get("mesh")
            if isinstance(text, str):
                try:
                    parsed = yaml_rs.loads(text)
                except Exception:
                    parsed = None
                if isinstance(parsed, dict):
                    return parsed, Evidence(f"ConfigMap/{root}/istio meshConfig", d.locate(("data", "mesh")))
    for d in inventory.documents("IstioOperator"):
        mc = spec_of(d).get("meshConfig")
        if isinstance(mc, dict):
            return mc, Evidence(f"IstioOperator/{d.name} meshConfig", d.locate(("spec", "meshConfig")))
    return {}, None


def host_matches(pattern: str, host: str) -> bool:
    """Istio host wildcard: ``*`` everything, ``*.example.com`` any subdomain."""
    if pattern == "*":
        return True
    if pattern.startswith("*."):
        return host.endswith(pattern[1:]) or host == pattern[2:]
    return pattern == host


class EgressIndex:
    """ServiceEntries, Sidecars, the mesh-wide outbound policy and egress-gateway routes."""

    def __init__(self, inventory: Inventory, root: str) -> None:
        dns = inventory.default_namespace
        self.root = root
        self.entries = [_parse_service_entry(d, dns) for d in inventory.documents("ServiceEntry")
                        if "istio.io/" in d.api_version]
        self.sidecars = [_parse_sidecar(d, dns) for d in inventory.documents("Sidecar")
                         if "istio.io/" in d.api_version]
        config, self.config_evidence = _mesh_config(inventory, root)
        otp = config.get("outboundTrafficPolicy")
        mode = str(otp.get("mode")).upper() if isinstance(otp, dict) and otp.get("mode") else ALLOW_ANY
        self.mesh_mode = mode if mode in (REGISTRY_ONLY, ALLOW_ANY) else ALLOW_ANY
        self.routes = self._egress_routes(inventory)
        self.matched: set[int] = set()

    def _egress_routes(self, inventory: Inventory) -> list[EgressRoute]:
        out: list[EgressRoute] = []
        for d in inventory.documents("VirtualService"):
            if "istio.io/" not in d.api_version:
                continue
            spec = spec_of(d)
            for section in ("http", "tcp", "tls"):
                for i, route in enumerate(spec.get(section) or ()):
                    if not isinstance(route, dict):
                        continue
                    match_gw = [str(g) for m in route.get("match") or () if isinstance(m, dict)
                                for g in str_list(m.get("gateways"))]
                    if "mesh" not in match_gw and match_gw:
                        continue
                    for dest in route.get("route") or ():
                        host = str((dest.get("destination") or {}).get("host", "")) if isinstance(dest, dict) else ""
                        if "egressgateway" in host:
                            for h in str_list(spec.get("hosts")):
                                out.append(EgressRoute(h, host, f"VirtualService/{d.name}", Evidence(
                                    f"VirtualService/{d.namespace(inventory.default_namespace)}/{d.name} sends {h} "
                                    f"to the egress gateway {host}", d.locate(("spec", section, i)))))
        return out

    def sidecar_for(self, w: Workload) -> SidecarResource | None:
        """Workload-selector Sidecar of the namespace, else its default Sidecar, else the root default."""
        in_ns = [s for s in self.sidecars if s.namespace == w.namespace]
        for s in in_ns:
            if s.selector is not None and labels_match(s.selector, w.labels):
                return s
        for s in in_ns:
            if s.selector is None:
                return s
        for s in self.sidecars:
            if s.namespace == self.root and s.selector is None:
                return s
        return None

    def visible(self, se: ServiceEntry, w: Workload, sidecar: SidecarResource | None) -> bool:
        if not se.visible_from(w.namespace):
            return False
        if sidecar is None or sidecar.egress_hosts is None:
            return True
        for pattern in sidecar.egress_hosts:
            ns, _, host = pattern.partition("/")
            if ns not in ("*", se.namespace) and not (ns == "." and se.namespace == w.namespace):
                continue
            if any(host_matches(host, h) for h in se.hosts):
                return True
        return False

    def hidden_service(self, w: Workload, namespace: str, name: str) -> tuple[str, list[Evidence]] | None:
        """When the Sidecar of ``w`` lists egress hosts that leave out the Service ``namespace/name``:
        the outbound traffic policy that then applies, and why. None: the Service is visible."""
        sidecar = self.sidecar_for(w)
        if sidecar is None or sidecar.egress_hosts is None:
            return None
        fqdn = f"{name}.{namespace}.svc.cluster.local"
        for pattern in sidecar.egress_hosts:
            ns, _, host = pattern.partition("/")
            if ns not in ("*", namespace) and not (ns == "." and namespace == w.namespace):
                continue
            if host_matches(host, fqdn):
                return None
        self.matched.add(id(sidecar))
        mode, mode_ev = self.mode_for(sidecar)
        hosts = ", ".join(sidecar.egress_hosts) or "(none)"
        ev = [Evidence(f"Sidecar/{sidecar.namespace}/{sidecar.name} egress hosts {hosts} leave out {fqdn}",
                       sidecar.locate("spec", "egress"))]
        return mode, ev + ([mode_ev] if mode_ev is not None else [])

    def boundaries(self) -> list[int]:
        pts: set[int] = set()
        for se in self.entries:
            for lo, hi in se.addresses:
                pts.add(lo)
                pts.add(hi + 1)
        return sorted(pts)

    def decide(self, src: Workload, ips: Intervals, port: int) -> EgressDecision:
        """The sidecar's decision for ``src`` -> ``ips`` (inside one ServiceEntry atom) on TCP ``port``."""
        ann = pod_annotations(src)
        for key, inside in ((EXCLUDE_OUT_RANGES, True), (INCLUDE_OUT_RANGES, False)):
            raw = ann.get(key)
            if raw is None or raw.strip() == "*":
                continue
            ranges: Intervals = ()
            for text in raw.split(","):
                try:
                    ranges = iv.union(ranges, parse_cidr(text.strip())[0])
                except AddressError:
                    continue
            if iv.is_subset(ips, ranges) == inside:
                return EgressDecision("allow", f"annotation {key} sends this traffic around the sidecar: nothing in "
                                      "the mesh decides it", "bypass", [Evidence(f"{src.ref} annotation {key}={raw}",
                                                                                  src.location)])
        sidecar = self.sidecar_for(src)
        ev: list[Evidence] = []
        if sidecar is not None:
            self.matched.add(id(sidecar))
            ev.append(Evidence(f"Sidecar/{sidecar.namespace}/{sidecar.name} applies to {src.key}",
                               sidecar.locate("spec")))
        exact: list[ServiceEntry] = []
        by_name: list[ServiceEntry] = []
        for se in self.entries:
            if not se.serves_port(port) or not self.visible(se, src, sidecar):
                continue
            if se.addresses:
                if iv.is_subset(ips, se.addresses):
                    exact.append(se)
            else:
                by_name.append(se)
        for se in exact:
            self.matched.add(id(se))
            sev = Evidence(f"ServiceEntry {se.ref} registers {', '.join(se.hosts) or 'these addresses'} "
                           f"({se.location}) on port {port}", se.locate("spec"))
            route = self._route(se)
            if route is not None:
                return EgressDecision("allow", f"ServiceEntry {se.ref} registers the destination; {route.ref} "
                                      f"routes it through the egress gateway {route.gateway_host}",
                                      "egress-gateway", [*ev, sev, route.evidence])
            return EgressDecision("allow", f"ServiceEntry {se.ref} registers the destination ({se.location})",
                                  "service-entry", [*ev, sev])
        mode, mode_ev = self.mode_for(sidecar)
        if mode_ev is not None:
            ev.append(mode_ev)
        if by_name:
            hosts = sorted({h for se in by_name for h in se.hosts})
            for se in by_name:
                self.matched.add(id(se))
            sev = [Evidence(f"ServiceEntry {se.ref} registers {', '.join(se.hosts)} on port {port} by name",
                            se.locate("spec")) for se in by_name]
            other = "refused (REGISTRY_ONLY)" if mode == REGISTRY_ONLY else "passed through (ALLOW_ANY)"
            return EgressDecision("conditional", f"ServiceEntry allows only requests to {', '.join(hosts)} on "
                                  f"port {port}; other destinations are {other}", "service-entry", [*ev, *sev],
                                  condition="host " + " | ".join(hosts))
        if mode == REGISTRY_ONLY:
            return EgressDecision("deny", "outboundTrafficPolicy REGISTRY_ONLY: no ServiceEntry registers this "
                                  "destination, the sidecar sends it to BlackHoleCluster", "registry-only", ev)
        if sidecar is not None and sidecar.egress_proxy and mode == ALLOW_ANY:
            return EgressDecision("allow", f"outboundTrafficPolicy ALLOW_ANY with egressProxy {sidecar.egress_proxy}: "
                                  "the sidecar sends unknown destinations to that egress proxy, which decides",
                                  "egress-gateway", ev)
        return EgressDecision("allow", "outboundTrafficPolicy ALLOW_ANY"
                              + ("" if mode_ev is not None else " (Istio's default)")
                              + ": the sidecar passes unknown destinations through; nothing in the mesh decides",
                              "allow-any", ev)

    def mode_for(self, sidecar: SidecarResource | None) -> tuple[str, Evidence | None]:
        if sidecar is not None and sidecar.outbound_mode in (REGISTRY_ONLY, ALLOW_ANY):
            return sidecar.outbound_mode, Evidence(
                f"Sidecar/{sidecar.namespace}/{sidecar.name} outboundTrafficPolicy {sidecar.outbound_mode}",
                sidecar.locate("spec", "outboundTrafficPolicy"))
        if self.config_evidence is not None:
            return self.mesh_mode, Evidence(f"{self.config_evidence.text} outboundTrafficPolicy {self.mesh_mode}",
                                            self.config_evidence.location)
        return self.mesh_mode, None

    def _route(self, se: ServiceEntry) -> EgressRoute | None:
        for r in self.routes:
            if any(host_matches(r.host, h) or host_matches(h, r.host) for h in se.hosts):
                return r
        return None
