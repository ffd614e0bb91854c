"""Linkerd: membership, default inbound policy, Server and its authorizations, skip ports.

Semantics from refs mesh §2: injection by the ``linkerd.io/inject`` annotation (namespace or
pod template, pod ``disabled`` wins over namespace ``enabled``); without a Server the default
inbound policy decides (pod annotation > namespace annotation > install value); once a Server
selects a pod and port, traffic is denied unless an authorization admits it (ServerAuthorization
or AuthorizationPolicy whose ``requiredAuthenticationRefs`` are *all* satisfied; a dangling
reference makes the authorization void, so it fails closed). Skip ports bypass the proxy
entirely (no mTLS, no policy); opaque ports are still mTLS.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml_rs

from ringwall.model import intervals as iv
from ringwall.model.addresses import AddressError, parse_address, parse_cidr
from ringwall.model.cluster import Namespace, Workload
from ringwall.model.intervals import Intervals
from ringwall.model.labels import Selector, SelectorError, parse_selector
from ringwall.sources.inventory import Inventory

from .common import (
    Evidence,
    MeshOptions,
    ParsedObject,
    containers,
    in_ranges,
    parse_port_list,
    pod_annotations,
    spec_of,
    str_list,
)
from .istio_membership import Membership

INJECT = "linkerd.io/inject"
DEFAULT_POLICY = "config.linkerd.io/default-inbound-policy"
SKIP_IN = "config.linkerd.io/skip-inbound-ports"
SKIP_OUT = "config.linkerd.io/skip-outbound-ports"
SKIP_SUBNETS = "config.linkerd.io/skip-subnets"
REQUIRE_IDENTITY = "config.linkerd.io/proxy-require-identity-inbound-ports"
POLICIES = ("all-unauthenticated", "all-authenticated", "cluster-authenticated", "cluster-unauthenticated",
            "deny", "audit")
EXCLUDED_NAMESPACES = frozenset({"kube-system", "cert-manager"})
GROUP = "policy.linkerd.io"


def linkerd_membership(w: Workload, ns: Namespace) -> Membership:
    """Injected or not, as ``pkg/inject/report.go`` decides (refs mesh §2.1)."""
    if w.host_network:
        return Membership("none", "hostNetwork pods are never injected", w.location)
    if any(c.get("name") == "linkerd-proxy" for c in containers(w)):
        return Membership("linkerd", "the pod carries a linkerd-proxy container", w.location)
    if ns.name in EXCLUDED_NAMESPACES or ns.labels.get("config.linkerd.io/admission-webhooks") == "disabled":
        return Membership("none", f"the injector's webhook skips namespace {ns.name}", ns.location)
    if "linkerd.io/control-plane-component" in w.labels:
        return Membership("none", "control-plane components are not injected by the webhook", w.location)
    pod = pod_annotations(w).get(INJECT) or w.annotations.get(INJECT)
    nsv = ns.annotations.get(INJECT)
    if pod == "disabled":
        return Membership("none", f"pod annotation {INJECT}=disabled", w.location)
    if pod in ("enabled", "ingress"):
        return Membership("linkerd", f"pod annotation {INJECT}={pod}", w.location)
    if pod:
        return Membership("none", f"invalid {INJECT} value {pod!r}", w.location)
    if nsv in ("enabled", "ingress"):
        return Membership("linkerd", f"namespace {ns.name} annotation {INJECT}={nsv}", ns.location)
    if nsv:
        return Membership("none", f"namespace {ns.name} annotation {INJECT}={nsv}", ns.location)
    return Membership("none", f"neither namespace {ns.name} nor the pod has {INJECT}", ns.location)


def identity(w: Workload, trust_domain: str) -> str:
    return f"{w.service_account}.{w.namespace}.serviceaccount.identity.linkerd.{trust_domain}"


def _networks(raw: object) -> Intervals | None:
    """``[{cidr, except}]`` -> intervals; None when absent (no restriction)."""
    if not isinstance(raw, list):
        return None
    out: Intervals = ()
    for n in raw:
        if not isinstance(n, dict):
            continue
        try:
            r, _ = parse_cidr(str(n.get("cidr", "")))
        except AddressError:
            continue
        for ex in str_list(n.get("except")):
            try:
                r = iv.subtract(r, parse_cidr(ex)[0])
            except AddressError:
                continue
        out = iv.union(out, r)
    return out


@dataclass
class Server(ParsedObject):
    selector: Selector | None = None
    port: int | str | None = None
    access_policy: str = "deny"
    proxy_protocol: str = "unknown"
    labels: dict[str, str] = field(default_factory=dict)


@dataclass
class Authorization(ParsedObject):
    """A ServerAuthorization or an AuthorizationPolicy, reduced to what decides a client."""

    server_names: tuple[str, ...] = ()
    server_selector: Selector | None = None
    namespace_wide: bool = False
    route: str | None = None
    unauthenticated: bool = False
    any_tls: bool = False
    identities: tuple[str, ...] = ()
    networks: Intervals | None = None
    auth_refs: list[dict[str, Any]] = field(default_factory=list)
    legacy: bool = False


@dataclass
class LinkerdModel:
    servers: list[Server] = field(default_factory=list)
    authorizations: list[Authorization] = field(default_factory=list)
    meshtls: dict[tuple[str, str], ParsedObject] = field(default_factory=dict)
    netauth: dict[tuple[str, str], ParsedObject] = field(default_factory=dict)
    routes: dict[tuple[str, str], ParsedObject] = field(default_factory=dict)
    route_parents: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    default_policy: str = "all-unauthenticated"
    default_source: str = "Linkerd's chart default"
    control_plane: list[str] = field(default_factory=list)
    cluster_networks: Intervals = ()
    trust_domain: str = "cluster.local"
    dangling: list[tuple[Authorization, str]] = field(default_factory=list)
    servers_by_ns: dict[str, list[Server]] = field(default_factory=dict)
    auth_by_ns: dict[str, list[Authorization]] = field(default_factory=dict)

    def index(self) -> None:
        """Group Servers and authorizations by namespace: both only ever apply within their namespace."""
        self.servers_by_ns.clear()
        self.auth_by_ns.clear()
        for s in self.servers:
            self.servers_by_ns.setdefault(s.namespace, []).append(s)
        for a in self.authorizations:
            self.auth_by_ns.setdefault(a.namespace, []).append(a)


def _selector(raw: object) -> Selector | None:
    if raw is None:
        return None
    try:
        return parse_selector(raw)
    except SelectorError:
        return None


def load_linkerd(inv: Inventory, opts: MeshOptions) -> LinkerdModel:
    ns_default = inv.default_namespace
    m = LinkerdModel(trust_domain=opts.linkerd_trust_domain)
    nets: Intervals = ()
    for c in opts.cluster_networks:
        nets = iv.union(nets, parse_cidr(c)[0])
    m.cluster_networks = nets
    for d in inv.documents("Server"):
        if not d.api_version.startswith(GROUP):
            continue
        s = spec_of(d)
        port = s.get("port")
        m.servers.append(Server(
            d, d.namespace(ns_default), d.name, selector=_selector(s.get("podSelector")),
            port=port if isinstance(port, int | str) else None,
            access_policy=str(s.get("accessPolicy") or "deny"),
            proxy_protocol=str(s.get("proxyProtocol") or "unknown"),
            labels={str(k): str(v) for k, v in (d.metadata.get("labels") or {}).items()},
        ))
    for d in inv.documents("MeshTLSAuthentication"):
        m.meshtls[(d.namespace(ns_default), d.name)] = ParsedObject(d, d.namespace(ns_default), d.name)
    for d in inv.documents("NetworkAuthentication"):
        m.netauth[(d.namespace(ns_default), d.name)] = ParsedObject(d, d.namespace(ns_default), d.name)
    for d in inv.documents("HTTPRoute", "GRPCRoute"):
        ns = d.namespace(ns_default)
        m.routes[(ns, d.name)] = ParsedObject(d, ns, d.name)
        parents = [str(p.get("name")) for p in spec_of(d).get("parentRefs") or ()
                   if isinstance(p, dict) and p.get("kind") == "Server"]
        m.route_parents[(ns, d.name)] = parents
    for d in inv.documents("ServerAuthorization"):
        s = spec_of(d)
        srv = s.get("server") if isinstance(s.get("server"), dict) else {}
        client = s.get("client") if isinstance(s.get("client"), dict) else {}
        mtls = client.get("meshTLS") if isinstance(client.get("meshTLS"), dict) else {}
        ids = list(str_list(mtls.get("identities")))
        for sa in mtls.get("serviceAccounts") or ():
            if isinstance(sa, dict) and sa.get("name"):
                sa_ns = str(sa.get("namespace") or d.namespace(ns_default))
                ids.append(f"{sa['name']}.{sa_ns}.serviceaccount.identity.linkerd.{m.trust_domain}")
        m.authorizations.append(Authorization(
            d, d.namespace(ns_default), d.name,
            server_names=(str(srv["name"]),) if srv.get("name") else (),
            server_selector=_selector(srv.get("selector")),
            unauthenticated=client.get("unauthenticated") is True,
            any_tls=mtls.get("unauthenticatedTLS") is True, identities=tuple(ids),
            networks=_networks(client.get("networks")), legacy=True,
        ))
    for d in inv.documents("AuthorizationPolicy"):
        if not d.api_version.startswith(GROUP):
            continue
        s = spec_of(d)
        ref = s.get("targetRef") if isinstance(s.get("targetRef"), dict) else {}
        kind, name = str(ref.get("kind", "")), str(ref.get("name", ""))
        a = Authorization(d, d.namespace(ns_default), d.name,
                          auth_refs=[r for r in s.get("requiredAuthenticationRefs") or () if isinstance(r, dict)])
        if kind == "Server":
            a.server_names = (name,)
        elif kind == "Namespace":
            a.namespace_wide = True
        elif kind in ("HTTPRoute", "GRPCRoute"):
            a.route = name
        m.authorizations.append(a)
        for r in a.auth_refs:
            key = (str(r.get("namespace") or a.namespace), str(r.get("name", "")))
            rk = str(r.get("kind", ""))
            if (rk == "MeshTLSAuthentication" and key not in m.meshtls) or (
                    rk == "NetworkAuthentication" and key not in m.netauth):
                m.dangling.append((a, f"{rk} {key[0]}/{key[1]}"))
        if kind == "Server" and not any(sv.namespace == a.namespace and sv.name == name for sv in m.servers):
            m.dangling.append((a, f"Server {a.namespace}/{name}"))
        if a.route and (a.namespace, a.route) not in m.routes:
            m.dangling.append((a, f"{kind} {a.namespace}/{a.route}"))
    # Install values: linkerd-config's values, or the option.
    for d in inv.documents("ConfigMap"):
        if d.name == "linkerd-config":
            m.control_plane.append(d.ref)
            values = (d.obj.get("data") or {}).get("values")
            if isinstance(values, str):
                try:
                    parsed = yaml_rs.loads(values)
                except Exception:
                    parsed = None
                proxy = parsed.get("proxy") if isinstance(parsed, dict) else None
                if isinstance(proxy, dict) and proxy.get("defaultInboundPolicy") in POLICIES:
                    m.default_policy = str(proxy["defaultInboundPolicy"])
                    m.default_source = f"{d.ref} proxy.defaultInboundPolicy"
    for d in inv.documents("Deployment"):
        if d.name in ("linkerd-destination", "linkerd-identity", "linkerd-proxy-injector"):
            m.control_plane.append(d.ref)
    for d in inv.documents("CustomResourceDefinition"):
        if d.name.endswith(".linkerd.io"):
            m.control_plane.append(d.ref)
            break
    if opts.linkerd_default_policy in POLICIES:
        m.default_policy = str(opts.linkerd_default_policy)
        m.default_source = "MeshOptions.linkerd_default_policy"
    m.index()
    return m


@dataclass
class LinkerdClient:
    """The caller as the server's proxy sees it."""

    identity: str | None
    ips: Intervals | None
    in_cluster: bool


@dataclass
class LinkerdDecision:
    verdict: str
    reason: str
    evidence: list[Evidence]


def default_policy_of(m: LinkerdModel, w: Workload, ns: Namespace) -> tuple[str, Evidence]:
    v = pod_annotations(w).get(DEFAULT_POLICY) or w.annotations.get(DEFAULT_POLICY)
    if v in POLICIES:
        return str(v), Evidence(f"{w.ref} annotation {DEFAULT_POLICY}={v}", w.location)
    v = ns.annotations.get(DEFAULT_POLICY)
    if v in POLICIES:
        return str(v), Evidence(f"Namespace {ns.name} annotation {DEFAULT_POLICY}={v}", ns.location)
    return m.default_policy, Evidence(f"cluster default inbound policy {m.default_policy} ({m.default_source})")


def _in_nets(m: LinkerdModel, nets: Intervals | None, c: LinkerdClient) -> bool | None:
    if nets is None:
        return True
    if c.ips is None:
        if not c.in_cluster:
            return None
        # A pod of unknown address has some address of the cluster networks: exact when the networks
        # hold all of them or none (as the NetworkPolicy engine places such pods in the pod network).
        if iv.is_subset(m.cluster_networks, nets):
            return True
        return False if not iv.intersect(m.cluster_networks, nets) else None
    if iv.is_subset(c.ips, nets):
        return True
    return False if not iv.intersect(c.ips, nets) else None


def _policy_allows(m: LinkerdModel, policy: str, c: LinkerdClient) -> bool | None:
    if policy in ("all-unauthenticated", "audit"):
        return True
    if policy == "deny":
        return False
    if policy == "all-authenticated":
        return c.identity is not None
    in_cluster = _in_nets(m, m.cluster_networks, c)
    if policy == "cluster-unauthenticated":
        return in_cluster
    if c.identity is None:
        return False
    return in_cluster


def _glob(pattern: str, value: str) -> bool:
    if pattern == "*":
        return True
    if pattern.startswith("*."):
        return value.endswith(pattern[1:])
    return pattern == value


def server_matches(s: Server, w: Workload, port: int) -> bool:
    if s.namespace != w.namespace or s.selector is None or not s.selector.matches(w.labels):
        return False
    if isinstance(s.port, int):
        return s.port == port
    if isinstance(s.port, str):
        if s.port.isdigit():
            return int(s.port) == port
        return any(p.name == s.port and p.port == port for v in w.variants for p in v.ports)
    return False


def _authorizes(m: LinkerdModel, a: Authorization, c: LinkerdClient) -> bool | None:
    if a.legacy:
        nets = _in_nets(m, a.networks, c)
        if a.unauthenticated:
            who: bool | None = True
        elif c.identity is None:
            who = False
        elif a.any_tls:
            who = True
        else:
            who = any(_glob(p, c.identity) for p in a.identities)
        if who is False or nets is False:
            return False
        return None if (who is None or nets is None) else True
    results: list[bool | None] = []
    for r in a.auth_refs:
        kind = str(r.get("kind", ""))
        key = (str(r.get("namespace") or a.namespace), str(r.get("name", "")))
        if kind == "MeshTLSAuthentication":
            obj = m.meshtls.get(key)
            if obj is None:
                return False
            s = spec_of(obj.doc)
            pats = str_list(s.get("identities"))
            for ref in s.get("identityRefs") or ():
                if isinstance(ref, dict) and ref.get("kind") == "ServiceAccount":
                    rns = str(ref.get("namespace") or obj.namespace)
                    name = str(ref.get("name") or "*")
                    pats.append(f"{name}.{rns}.serviceaccount.identity.linkerd.{m.trust_domain}"
                                if name != "*" else f"*.{rns}.serviceaccount.identity.linkerd.{m.trust_domain}")
            results.append(c.identity is not None and any(_glob(p, c.identity) for p in pats))
        elif kind == "NetworkAuthentication":
            obj = m.netauth.get(key)
            if obj is None:
                return False
            results.append(_in_nets(m, _networks(spec_of(obj.doc).get("networks")) or (), c))
        elif kind == "ServiceAccount":
            sa_id = f"{key[1]}.{key[0]}.serviceaccount.identity.linkerd.{m.trust_domain}"
            results.append(c.identity == sa_id)
        else:
            return False
    if any(r is False for r in results):
        return False
    return None if any(r is None for r in results) else True


def decide(m: LinkerdModel, w: Workload, ns: Namespace, port: int, c: LinkerdClient) -> LinkerdDecision:
    """Linkerd's inbound decision at ``w``'s proxy for ``port`` and client ``c``."""
    ann = pod_annotations(w)
    servers = [s for s in m.servers_by_ns.get(w.namespace, ()) if server_matches(s, w, port)]
    if servers:
        s = servers[0]
        ev = [Evidence(f"Server {s.namespace}/{s.name} selects the pod and port", s.locate("spec"))]
        maybe: Authorization | None = None
        route_only: Authorization | None = None
        for a in m.auth_by_ns.get(s.namespace, ()):
            targets = (s.name in a.server_names or a.namespace_wide or
                       (a.server_selector is not None and a.server_selector.matches(s.labels)))
            if not targets and a.route and s.name in m.route_parents.get((a.namespace, a.route), []):
                if _authorizes(m, a, c) is not False and route_only is None:
                    route_only = a
                continue
            if not targets:
                continue
            r = _authorizes(m, a, c)
            if r is True:
                return LinkerdDecision("allow", f"{a.doc.kind} {a.namespace}/{a.name} authorizes the client",
                                       [*ev, Evidence(f"{a.ref} admits the client", a.locate("spec"))])
            if r is None and maybe is None:
                maybe = a
        if maybe is not None:
            return LinkerdDecision("conditional", f"{maybe.ref} admits the client only from some addresses",
                                   [*ev, Evidence(f"{maybe.ref} may admit the client", maybe.locate("spec"))])
        if route_only is not None:
            return LinkerdDecision("conditional", f"{route_only.ref} authorizes only requests on a route",
                                   [*ev, Evidence(f"{route_only.ref} (route {route_only.route})",
                                                  route_only.locate("spec"))])
        fallback = _policy_allows(m, s.access_policy, c)
        if fallback is True:
            return LinkerdDecision("allow", f"no authorization matches; Server accessPolicy {s.access_policy}",
                                   [*ev, Evidence(f"{s.ref} accessPolicy {s.access_policy}", s.locate("spec"))])
        verdict = "deny" if fallback is False else "conditional"
        return LinkerdDecision(verdict, f"no authorization admits the client (Server accessPolicy {s.access_policy})",
                               ev)
    policy, pev = default_policy_of(m, w, ns)
    require = parse_port_list(ann.get(REQUIRE_IDENTITY, ""))
    if require and in_ranges(require, port) and c.identity is None:
        return LinkerdDecision("deny", "the port requires a client identity",
                               [Evidence(f"{w.ref} annotation {REQUIRE_IDENTITY}", w.location)])
    ok = _policy_allows(m, policy, c)
    verdict = "allow" if ok else ("deny" if ok is False else "conditional")
    return LinkerdDecision(verdict, f"no Server selects the port: default inbound policy {policy}", [pev])


def skip_inbound(w: Workload, port: int) -> bool:
    ann = pod_annotations(w)
    return in_ranges(parse_port_list(ann.get(SKIP_IN, "")), port)


def skip_outbound(w: Workload, port: int, dst_ips: Intervals | None) -> bool:
    ann = pod_annotations(w)
    if in_ranges(parse_port_list(ann.get(SKIP_OUT, "")), port):
        return True
    subnets = ann.get(SKIP_SUBNETS, "")
    if subnets and dst_ips:
        nets: Intervals = ()
        for cidr in subnets.split(","):
            try:
                nets = iv.union(nets, parse_cidr(cidr.strip())[0])
            except AddressError:
                continue
        return iv.is_subset(dst_ips, nets)
    return False


def workload_ips(w: Workload) -> Intervals | None:
    vals = []
    for v in w.variants:
        for ip in v.ips:
            try:
                vals.append(parse_address(ip))
            except AddressError:
                continue
    return iv.normalize((x, x) for x in vals) if vals else None
