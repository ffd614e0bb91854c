"""Per-flow mesh decision: meshed, mTLS (yes / permissive / no / broken), peer identity, authorization.

``MeshModel`` reads every mesh object of an inventory once (membership, PeerAuthentication,
DestinationRule, AuthorizationPolicy, RequestAuthentication, Linkerd policy) and then answers
``decide(src, dst, protocol, port)`` with the evidence that made each part of the verdict.
``decide_conn`` splits a whole connection set into the port ranges the mesh treats alike, so a
matrix of allowed flows costs one decision per distinct port behaviour, not one per port.

Vocabulary of ``mtls``:
  * ``yes``: mutual TLS with a verified peer identity, and the server refuses plaintext on the port;
  * ``permissive``: this flow is mTLS, but the server also accepts plaintext on the port;
  * ``no``: plaintext (or a TLS the mesh does not verify);
  * ``broken``: the client's configuration cannot work with the server (e.g. DestinationRule
    DISABLE towards STRICT, ISTIO_MUTUAL towards a pod without proxy): the connection fails.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import yaml_rs

from ringwall.model import intervals as iv
from ringwall.model.addresses import AddressError, parse_address, parse_cidr
from ringwall.model.cluster import Namespace, PodVariant, Service, Workload
from ringwall.model.connections import PROTOCOLS, ConnectionSet
from ringwall.model.diagnostics import DiagnosticSink
from ringwall.model.intervals import Intervals
from ringwall.sources.documents import Document
from ringwall.sources.inventory import Inventory

from . import linkerd as lk
from .authorization import (
    ACTIONS,
    AuthorizationIndex,
    AuthorizationPolicy,
    AuthzDecision,
    Request,
    parse_authorization_policy,
)
from .authorization import decide as istio_authorize
from .common import Evidence, MeshOptions, in_ranges, parse_port_list, pod_annotations, str_list
from .destination_rule import TLS_MODES, DestinationRule, DestinationRuleIndex, parse_destination_rule
from .egress import EgressIndex
from .istio_membership import Membership, cluster_uses_istio_labels, istio_membership
from .peer_authentication import MODES, PeerAuthentication, PeerAuthIndex, parse_peer_authentication
from .request_authentication import RequestAuthentication, parse_request_authentication, token_requirement
from .request_authentication import applies as ra_applies

HTTP_PREFIXES = ("http", "http2", "grpc", "grpc-web", "h2c")
TCP_PREFIXES = ("tcp", "tls", "https", "mongo", "mysql", "redis", "kafka")
EXCLUDE_IN = "traffic.sidecar.istio.io/excludeInboundPorts"
INCLUDE_IN = "traffic.sidecar.istio.io/includeInboundPorts"
EXCLUDE_OUT = "traffic.sidecar.istio.io/excludeOutboundPorts"


@dataclass
class FlowDecision:
    """The mesh's verdict on one flow (or a port range that behaves alike)."""

    mesh: str
    src_mode: str
    dst_mode: str
    mtls: str
    identity: str | None
    authz: str
    """``allow``, ``deny``, ``conditional`` or ``n/a`` (no proxy decides)."""
    verdict: str
    """Overall: ``allow``, ``deny`` (refused, broken or unauthorized) or ``conditional``."""
    reason: str
    evidence: list[Evidence] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    condition: str | None = None
    """For ``conditional``: what the verdict depends on, e.g. ``GET /api/*`` or ``host api.example.com``."""
    decided_by: str | None = None
    """For flows leaving the cluster: ``service-entry``, ``egress-gateway``, ``registry-only``,
    ``allow-any``, ``bypass`` or ``none`` (no proxy on the way)."""

    @property
    def meshed(self) -> bool:
        return self.src_mode not in ("none", "external") and self.dst_mode not in ("none", "external")

    @property
    def key(self) -> tuple[str, str, str, str | None, str, str | None]:
        return (self.mtls, self.authz, self.verdict, self.identity, self.reason, self.condition)

    @property
    def refuses_plaintext(self) -> bool:
        """The server refuses this plaintext connection (STRICT): nothing unencrypted flows."""
        return self.mtls == "no" and self.verdict == "deny" and self.authz == "n/a"

    @property
    def verdict_text(self) -> str:
        """``allow``, ``deny`` or ``conditional: GET /api/*``."""
        return f"{self.verdict}: {self.condition}" if self.verdict == "conditional" and self.condition else self.verdict

    def to_json(self) -> dict[str, object]:
        return {
            "mesh": self.mesh, "meshed": self.meshed, "src_mode": self.src_mode, "dst_mode": self.dst_mode,
            "mtls": self.mtls, "peer_identity": self.identity, "identity_verified": self.identity is not None,
            "authorization": self.authz, "verdict": self.verdict, "reason": self.reason,
            "evidence": [e.to_json() for e in self.evidence],
            **({"condition": self.condition} if self.condition else {}),
            **({"decided_by": self.decided_by} if self.decided_by else {}),
            **({"notes": self.notes} if self.notes else {}),
        }


def _not_applicable(mesh: str, sm: str, dm: str, mtls: str, reason: str, ev: list[Evidence]) -> FlowDecision:
    return FlowDecision(mesh, sm, dm, mtls, None, "n/a", "allow", reason, ev)


class MeshModel:
    """Every mesh object of one inventory, indexed for per-flow decisions."""

    def __init__(self, inventory: Inventory, options: MeshOptions | None = None,
                 sink: DiagnosticSink | None = None) -> None:
        t = time.perf_counter()
        self.inventory = inventory
        self.cluster = inventory.cluster
        self.options = options or MeshOptions()
        self.root = self.options.istio_root_namespace
        dns = inventory.default_namespace
        istio_docs = [d for d in inventory.documents("PeerAuthentication", "DestinationRule", "AuthorizationPolicy",
                                                     "RequestAuthentication") if "istio.io/" in d.api_version]
        self.peer_auths: list[PeerAuthentication] = []
        self.dest_rules: list[DestinationRule] = []
        self.authz_policies: list[AuthorizationPolicy] = []
        self.request_auths: list[RequestAuthentication] = []
        self.sink = sink
        for d in istio_docs:
            problem = _invalid(d)
            if problem is not None:
                if sink is not None:
                    sink.error("mesh.invalid", f"{d.ref}: {problem[0]}; the API server rejects it, so it has no effect",
                               d.locate(problem[1]))
                continue
            if d.kind == "PeerAuthentication":
                self.peer_auths.append(parse_peer_authentication(d, dns))
            elif d.kind == "DestinationRule":
                self.dest_rules.append(parse_destination_rule(d, dns))
            elif d.kind == "AuthorizationPolicy":
                self.authz_policies.append(parse_authorization_policy(d, dns))
            else:
                self.request_auths.append(parse_request_authentication(d, dns))
        self.istio_control_plane = self._istio_control_plane()
        self.trust_domain = self.options.trust_domain or self._istio_trust_domain() or "cluster.local"
        self.linkerd = lk.load_linkerd(inventory, self.options)
        forced = self.options.mesh
        self.istio_configured = bool(istio_docs) or cluster_uses_istio_labels(self.cluster)
        self.linkerd_configured = bool(self.linkerd.servers or self.linkerd.authorizations) or any(
            lk.INJECT in ns.annotations for ns in self.cluster.namespaces.values()) or any(
            lk.INJECT in pod_annotations(w) for w in self.cluster.workloads)
        if forced == "none":
            self.istio = self.linkerd_on = False
        else:
            self.istio = forced == "istio" or (forced is None and (bool(self.istio_control_plane) or
                                                                    self.istio_configured))
            self.linkerd_on = forced == "linkerd" or (forced is None and (bool(self.linkerd.control_plane) or
                                                                          self.linkerd_configured))
        self.pa = PeerAuthIndex(self.peer_auths, self.root)
        self.dr = DestinationRuleIndex(self.dest_rules, self.root)
        self.authz = AuthorizationIndex(self.authz_policies, self.root)
        self.services_by_ns: dict[str, list[Service]] = {}
        for s in self.cluster.services:
            self.services_by_ns.setdefault(s.namespace, []).append(s)
        self._svc_protocols = self._service_app_protocols()
        # Memberships and pod addresses are computed on first use: an estate without a mesh pays nothing.
        self.members: dict[tuple[str, int], Membership] = {}
        self._ips: dict[tuple[str, int], Intervals | None] = {}
        self._svc_cache: dict[tuple[tuple[str, int], int], tuple[Service | None, int | None, str]] = {}
        self._ports_cache: dict[tuple[str, int], list[int]] = {}
        self._views: dict[str, list[tuple[Workload, str]]] = {}
        self._tags: dict[int, int] = {}
        self._authz_cache: dict[tuple[object, ...], AuthzDecision] = {}
        self._jwt_cache: dict[tuple[str, int], str | None] = {}
        self._egress: EgressIndex | None = None
        self._pod_network: Intervals | None = None
        self.build_seconds = time.perf_counter() - t

    # ------------------------------------------------------------ detection
    def _istio_control_plane(self) -> list[str]:
        found = []
        for d in self.inventory.documents("Deployment"):
            labels = d.metadata.get("labels") if isinstance(d.metadata.get("labels"), dict) else {}
            if d.name.startswith("istiod") or labels.get("app") == "istiod":
                found.append(d.ref)
        for d in self.inventory.documents("CustomResourceDefinition"):
            if d.name.endswith(".istio.io"):
                found.append(d.ref)
                break
        return found

    def _istio_trust_domain(self) -> str | None:
        for d in self.inventory.documents("ConfigMap"):
            if d.name == "istio" and d.namespace(self.inventory.default_namespace) == self.root:
                mesh = (d.obj.get("data") or {}).get("mesh")
                if isinstance(mesh, str):
                    try:
                        parsed = yaml_rs.loads(mesh)
                    except Exception:
                        return None
                    if isinstance(parsed, dict) and parsed.get("trustDomain"):
                        return str(parsed["trustDomain"])
        return None

    def _service_app_protocols(self) -> dict[tuple[str, str, int], str]:
        out: dict[tuple[str, str, int], str] = {}
        for d in self.inventory.documents("Service"):
            spec = d.obj.get("spec") if isinstance(d.obj.get("spec"), dict) else {}
            for p in spec.get("ports") or ():
                if isinstance(p, dict) and isinstance(p.get("port"), int) and p.get("appProtocol"):
                    out[(d.namespace(self.inventory.default_namespace), d.name, p["port"])] = str(p["appProtocol"])
        return out

    def namespace(self, name: str) -> Namespace:
        return self.cluster.namespaces.get(name) or Namespace(name, {})

    def _membership(self, w: Workload) -> Membership:
        ns = self.namespace(w.namespace)
        im = istio_membership(w, ns) if self.istio else None
        if im is not None and im.meshed:
            return im
        lm = lk.linkerd_membership(w, ns) if self.linkerd_on else None
        if lm is not None and lm.meshed:
            return lm
        if im is not None:
            return im
        if lm is not None:
            return lm
        return Membership("none", "no service mesh is installed")

    def _mk(self, w: Workload) -> tuple[str, int]:
        """Cache key of a workload, or of one class of its pods (see ``pod_classes``)."""
        return (w.key, self._tags.get(id(w), -1))

    def pod_classes(self, w: Workload) -> list[tuple[Workload, str]]:
        """The workload split into classes of pods the mesh may treat differently (labels and pod
        annotations: injection, selectors, capture annotations), each as a one-variant workload with a
        short description (``pods app=a,track=canary``); one entry when all pods are alike."""
        hit = self._views.get(w.key)
        if hit is not None:
            return hit
        groups: dict[tuple[object, ...], list[PodVariant]] = {}
        for v in w.variants:
            groups.setdefault((tuple(sorted(v.labels.items())), tuple(sorted(v.annotations.items()))), []).append(v)
        if len(groups) <= 1:
            out = [(w, "")]
        else:
            keys = sorted({k for v in w.variants for k in v.labels})
            differ = [k for k in keys if len({v.labels.get(k) for v in w.variants}) > 1]
            out = []
            for i, vs in enumerate(groups.values()):
                view = replace(w, variants=vs)
                self._tags[id(view)] = i
                labels = vs[0].labels
                desc = ",".join(f"{k}={labels.get(k, '<none>')}" for k in differ) or f"#{i + 1}"
                out.append((view, f"pods {desc}"))
        self._views[w.key] = out
        return out

    def membership(self, w: Workload) -> Membership:
        k = self._mk(w)
        m = self.members.get(k)
        if m is None:
            m = self.members[k] = self._membership(w)
        return m

    def pod_ips(self, w: Workload) -> Intervals | None:
        """The workload's pod addresses when the input has them (live dumps), else None."""
        k = self._mk(w)
        if k not in self._ips:
            self._ips[k] = lk.workload_ips(w)
        return self._ips[k]

    @property
    def pod_network(self) -> Intervals:
        """Where pods whose address the input does not know live: the Nodes' podCIDRs, else the
        Calico IPPools, else ``MeshOptions.cluster_networks``. An ipBlock that holds (or misses) all
        of it decides such a pod exactly; one that cuts it leaves the flow conditional on the address."""
        if self._pod_network is None:
            texts = [c for n in self.cluster.nodes for c in n.pod_cidrs]
            if not texts:
                texts = [str((d.obj.get("spec") or {}).get("cidr")) for d in self.inventory.documents("IPPool")
                         if "projectcalico.org" in d.api_version and isinstance(d.obj.get("spec"), dict)]
            out: Intervals = ()
            for group in (texts, list(self.options.cluster_networks)):
                for t in group:
                    try:
                        out = iv.union(out, parse_cidr(t)[0])
                    except AddressError:
                        continue
                if out:
                    break
            self._pod_network = out
        return self._pod_network

    # -------------------------------------------------------------- helpers
    def principal(self, w: Workload) -> str:
        return f"{self.trust_domain}/ns/{w.namespace}/sa/{w.service_account}"

    def services_of(self, w: Workload) -> list[Service]:
        return [s for s in self.services_by_ns.get(w.namespace, ())
                if s.selector and all(w.labels.get(k) == v for k, v in s.selector.items())]

    def workloads_of_service(self, s: Service) -> list[Workload]:
        sel = s.selector
        if not sel:
            return []
        return [w for w in self.cluster.workloads
                if w.namespace == s.namespace and all(w.labels.get(k) == v for k, v in sel.items())]

    def service_port(self, w: Workload, port: int) -> tuple[Service | None, int | None, str]:
        """The Service fronting ``port`` of ``w``, its service port, and the port's protocol (http/tcp/auto)."""
        key = (self._mk(w), port)
        hit = self._svc_cache.get(key)
        if hit is not None:
            return hit
        result: tuple[Service | None, int | None, str] = (None, None, "auto")
        for s in self.services_of(w):
            for sp in s.ports:
                tgt = sp.target
                ok = tgt == port or (isinstance(tgt, str) and any(
                    p.name == tgt and p.port == port for v in w.variants for p in v.ports))
                if not ok:
                    continue
                app = self._svc_protocols.get((s.namespace, s.name, sp.port), "") or (sp.name or "")
                prefix = app.lower().split("-")[0] if app else ""
                if app.lower().startswith("grpc-web"):
                    prefix = "grpc-web"
                proto = "http" if prefix in HTTP_PREFIXES else ("tcp" if prefix in TCP_PREFIXES else "auto")
                result = (s, sp.port, proto)
                break
            if result[0] is not None:
                break
        self._svc_cache[key] = result
        return result

    def relevant_ports(self, w: Workload) -> set[int]:
        """Ports at which the mesh's behaviour towards ``w`` may change (segment boundaries)."""
        pts: set[int] = set()
        for v in w.variants:
            for p in v.ports:
                pts.add(p.port)
        eff = self.pa.effective(w)
        pts.update(eff.port_modes)
        for p in self.authz.for_workload(w):
            for r in p.rules:
                for t in r.get("to") or ():
                    o = t.get("operation") if isinstance(t, dict) else None
                    if isinstance(o, dict):
                        for k in ("ports", "notPorts"):
                            pts.update(int(x) for x in str_list(o.get(k)) if x.isdigit())
                for c in r.get("when") or ():
                    if isinstance(c, dict) and c.get("key") == "destination.port":
                        pts.update(int(x) for x in str_list(c.get("values")) + str_list(c.get("notValues"))
                                   if x.isdigit())
        ann = pod_annotations(w)
        for key in (EXCLUDE_IN, INCLUDE_IN, lk.SKIP_IN, lk.REQUIRE_IDENTITY):
            for lo, hi in parse_port_list(ann.get(key, "")):
                pts.add(lo)
                pts.add(hi + 1)
        for s in self.linkerd.servers:
            if s.namespace == w.namespace and isinstance(s.port, int):
                pts.add(s.port)
        return pts

    def source_boundaries(self, w: Workload) -> list[int]:
        """Addresses where the AuthorizationPolicies of ``w`` may decide differently: the edges of every
        ``ipBlocks``/``notIpBlocks``/``remoteIpBlocks`` and ``source.ip``/``remote.ip`` condition."""
        pts: set[int] = set()
        for p in self.authz.for_workload(w):
            for r in p.rules:
                texts: list[str] = []
                for f in r.get("from") or ():
                    src = f.get("source") if isinstance(f, dict) else None
                    if isinstance(src, dict):
                        for k in ("ipBlocks", "notIpBlocks", "remoteIpBlocks", "notRemoteIpBlocks"):
                            texts += str_list(src.get(k))
                for c in r.get("when") or ():
                    if isinstance(c, dict) and c.get("key") in ("source.ip", "remote.ip"):
                        texts += str_list(c.get("values")) + str_list(c.get("notValues"))
                for t in texts:
                    try:
                        rng, _ = parse_cidr(t) if "/" in t else (((parse_address(t),) * 2,), False)
                    except AddressError:
                        continue
                    for lo, hi in rng:
                        pts.add(lo)
                        pts.add(hi + 1)
        return sorted(pts)

    def split_sources(self, w: Workload, ips: Intervals) -> list[Intervals]:
        """``ips`` cut where ``w``'s AuthorizationPolicies name address ranges, so each piece is
        decided exactly (as the NetworkPolicy engine splits at ipBlocks)."""
        return _split(ips, self.source_boundaries(w))

    def jwt_note(self, w: Workload) -> str | None:
        """What RequestAuthentication means for ``w``: whether a request *without* a token still passes."""
        if self._mk(w) in self._jwt_cache:
            return self._jwt_cache[self._mk(w)]
        ras = [ra for ra in self.request_auths if ra_applies(ra, w, self.root)]
        note = None
        if ras:
            names = ", ".join(ra.ref for ra in ras)
            req = token_requirement(self.authz.for_workload(w))
            note = (f"{names} validates JWTs, but no AuthorizationPolicy requires requestPrincipals: a request "
                    "without a token passes" if req is None else f"{names} validates JWTs and a token is "
                    f"required: {req.text}")
        self._jwt_cache[self._mk(w)] = note
        return note

    # -------------------------------------------------------------- decide
    def decide(self, src: Workload | None, src_ips: Intervals | None, dst: Workload, protocol: str,
               port: int) -> FlowDecision:
        """The mesh verdict for ``src`` (None: an address outside the cluster) -> ``dst`` on protocol/port.

        Decided per class of pods on each side (a DaemonSet whose pods carry different labels may be
        selected by a policy for some pods only); classes that disagree make the flow ``conditional``
        on which pod, and the condition names them."""
        srcs = self.pod_classes(src) if src is not None else [(None, "")]
        dsts = self.pod_classes(dst)
        if len(srcs) == 1 and len(dsts) == 1:
            return self._decide_class(srcs[0][0], src_ips, dsts[0][0], protocol, port)
        return merge_classes([
            (" to ".join(x for x in (sd, dd) if x), self._decide_class(s, src_ips, d, protocol, port))
            for s, sd in srcs for d, dd in dsts])

    def _decide_class(self, src: Workload | None, src_ips: Intervals | None, dst: Workload, protocol: str,
                      port: int) -> FlowDecision:
        sm = self.membership(src) if src is not None else Membership("external", "an address, not a pod")
        dm = self.membership(dst)
        if src_ips is None and src is not None:
            src_ips = self.pod_ips(src)
        if dm.mode == "linkerd" or (sm.mode == "linkerd" and dm.mode == "none"):
            return self._linkerd(src, src_ips, sm, dst, dm, protocol, port)
        if dm.mode == "none":
            return self._to_unmeshed(src, sm, dst, dm, protocol, port)
        return self._istio(src, src_ips, sm, dst, dm, protocol, port)

    def _to_unmeshed(self, src: Workload | None, sm: Membership, dst: Workload, dm: Membership, protocol: str,
                     port: int) -> FlowDecision:
        mesh = "istio" if sm.mode in ("sidecar", "ambient") else "none"
        ev = [Evidence(f"{dst.key} is outside the mesh: {dm.reason}", dm.location)]
        if sm.mode == "sidecar" and src is not None and protocol == "TCP":
            svc, sport, _ = self.service_port(dst, port)
            if svc is not None:
                ct = self.dr.lookup(src, svc, sport)
                if ct.mode == "ISTIO_MUTUAL" and ct.evidence is not None:
                    return FlowDecision(mesh, sm.mode, "none", "broken", None, "n/a", "deny",
                                        "DestinationRule ISTIO_MUTUAL towards a workload without sidecar: the "
                                        "client sends mTLS nobody terminates", [*ev, ct.evidence])
        return _not_applicable(mesh, sm.mode, "none", "no", "the destination has no proxy: nothing encrypts, "
                               "authenticates or authorizes this flow in the mesh", ev)

    def _istio(self, src: Workload | None, src_ips: Intervals | None, sm: Membership, dst: Workload,
               dm: Membership, protocol: str, port: int) -> FlowDecision:
        ev: list[Evidence] = [Evidence(f"{dst.key} is in the mesh ({dm.mode}): {dm.reason}", dm.location)]
        if protocol != "TCP":
            return _not_applicable("istio", sm.mode, dm.mode, "no", f"Istio captures only TCP; {protocol} "
                                   "passes beside the proxy", ev)
        ann = pod_annotations(dst)
        if dm.mode == "sidecar":
            if in_ranges(parse_port_list(ann.get(EXCLUDE_IN, "")), port):
                return _not_applicable("istio", sm.mode, dm.mode, "no", "the port is excluded from inbound "
                                       "capture: the sidecar never sees it",
                                       [*ev, Evidence(f"{dst.ref} annotation {EXCLUDE_IN}", dst.location)])
            inc = ann.get(INCLUDE_IN)
            if inc is not None and inc.strip() != "*" and not in_ranges(parse_port_list(inc), port):
                return _not_applicable("istio", sm.mode, dm.mode, "no", "the port is not in includeInboundPorts:"
                                       " the sidecar never sees it",
                                       [*ev, Evidence(f"{dst.ref} annotation {INCLUDE_IN}={inc}", dst.location)])
        eff = self.pa.effective(dst)
        mode = eff.at(port)
        ev.extend(eff.evidence)
        if port in eff.port_evidence:
            ev.append(eff.port_evidence[port])
        notes: list[str] = []
        jwt = self.jwt_note(dst)
        if jwt:
            notes.append(jwt)
        if dm.mode == "ambient" and mode == "DISABLE":
            mode = "PERMISSIVE"
            notes.append("PeerAuthentication DISABLE is not supported in ambient; ztunnel accepts plaintext")
        # What the client sends.
        svc, sport, proto = self.service_port(dst, port)
        sends = "plaintext"
        client_ev: Evidence | None = None
        if sm.mode == "ambient":
            sends = "mtls"
        elif sm.mode == "sidecar" and src is not None:
            sann = pod_annotations(src)
            if in_ranges(parse_port_list(sann.get(EXCLUDE_OUT, "")), port):
                client_ev = Evidence(f"{src.ref} annotation {EXCLUDE_OUT}: the client's sidecar is bypassed",
                                     src.location)
            elif svc is None:
                client_ev = Evidence(f"no Service of {dst.key} exposes this port: the client's sidecar "
                                     "passes pod-IP traffic through without mTLS")
            elif (hidden := self.egress.hidden_service(src, svc.namespace, svc.name)) is not None:
                out_mode, hidden_ev = hidden
                if out_mode == "REGISTRY_ONLY":
                    return FlowDecision("istio", sm.mode, dm.mode, "no", None, "n/a", "deny",
                                        f"the client's Sidecar does not import {svc.ref} and its outbound policy is "
                                        "REGISTRY_ONLY: the sidecar sends the traffic to BlackHoleCluster",
                                        [*ev, *hidden_ev], notes)
                ev.extend(hidden_ev)
                client_ev = Evidence(f"the client's Sidecar does not import {svc.ref}: with ALLOW_ANY the sidecar "
                                     "passes the traffic through (PassthroughCluster) without mTLS")
            else:
                ct = self.dr.lookup(src, svc, sport)
                if ct.mode is None:
                    sends = "mtls" if mode != "DISABLE" else "plaintext"
                    client_ev = ct.evidence or Evidence(
                        "no DestinationRule TLS setting: auto mTLS " + ("uses mTLS" if sends == "mtls" else
                                                                         "sends plaintext to a DISABLE server"))
                elif ct.mode == "ISTIO_MUTUAL":
                    sends, client_ev = "mtls", ct.evidence
                elif ct.mode == "DISABLE":
                    sends, client_ev = "plaintext-dr", ct.evidence
                else:
                    sends, client_ev = "foreign-tls", ct.evidence
        if client_ev is not None:
            ev.append(client_ev)
        if sends == "mtls":
            mtls = "yes" if mode == "STRICT" else ("permissive" if mode == "PERMISSIVE" else "no")
            if mode == "DISABLE":
                return FlowDecision("istio", sm.mode, dm.mode, "broken", None, "n/a", "deny",
                                    "the client sends mTLS but the server's mode is DISABLE", ev, notes)
        elif mode == "STRICT":
            if sends in ("plaintext-dr", "foreign-tls"):
                return FlowDecision("istio", sm.mode, dm.mode, "broken", None, "n/a", "deny",
                                    "the client's DestinationRule turns Istio mTLS off towards a STRICT server: "
                                    "the server refuses the connection", ev, notes)
            return FlowDecision("istio", sm.mode, dm.mode, "no", None, "n/a", "deny",
                                "STRICT mTLS refuses the client's plaintext", ev, notes)
        else:
            mtls = "no"
        identity = self.principal(src) if (src is not None and mtls in ("yes", "permissive")) else None
        if src is not None and src_ips is None:
            src_ips = self.pod_network or None
        req = Request(identity, src_ips, port)
        policies = self.authz.for_workload(dst)
        akey = (id(policies), dst.key if dm.mode == "ambient" else proto, identity, src_ips, port)
        d = self._authz_cache.get(akey)
        if d is None:
            d = self._authz_cache[akey] = self._authorize(dst, dm, policies, req, proto, port)
        ev.extend(d.evidence)
        reason = d.reason
        if d.verdict == "allow" and not policies:
            reason = "no AuthorizationPolicy applies: allowed"
        return FlowDecision("istio", sm.mode, dm.mode, mtls, identity, d.verdict, d.verdict, reason, ev, notes,
                            condition=d.condition if d.verdict == "conditional" else None)

    def _authorize(self, dst: Workload, dm: Membership, policies: list[AuthorizationPolicy], req: Request,
                   proto: str, port: int) -> AuthzDecision:
        """Istio's decision at ``dst`` (sidecar HTTP/TCP chain, or ztunnel plus waypoint in ambient)."""
        if dm.mode == "ambient":
            d = istio_authorize(policies, req, http=False, ztunnel=True)
            if dm.waypoint:
                wp = self.authz.waypoint_policies(dst, [s.name for s in self.services_of(dst)], dm.waypoint)
                if wp and d.verdict != "deny":
                    d2 = istio_authorize(wp, req, http=True)
                    if d2.verdict != "allow":
                        d = AuthzDecision(d2.verdict, f"waypoint {dm.waypoint}: {d2.reason}", d2.evidence,
                                          d2.condition)
        elif proto == "http":
            d = istio_authorize(policies, req, http=True)
        elif proto == "tcp":
            d = istio_authorize(policies, req, http=False)
        else:
            dh = istio_authorize(policies, req, http=True)
            dt = istio_authorize(policies, req, http=False)
            if dh.verdict == dt.verdict and dh.reason == dt.reason:
                d = dh
            elif dh.verdict == dt.verdict:
                d = AuthzDecision(dh.verdict, dh.reason, dh.evidence)
            else:
                http_part = dh.condition if dh.verdict == "conditional" and dh.condition else dh.verdict
                d = AuthzDecision("conditional", f"port {port} has no declared protocol: HTTP requests -> "
                                  f"{dh.verdict} ({dh.reason}); other TCP -> {dt.verdict} ({dt.reason})",
                                  dh.evidence + dt.evidence, f"HTTP {http_part}; other TCP {dt.verdict}")
        return d

    def _linkerd(self, src: Workload | None, src_ips: Intervals | None, sm: Membership, dst: Workload,
                 dm: Membership, protocol: str, port: int) -> FlowDecision:
        ev: list[Evidence] = [Evidence(f"{dst.key}: {dm.reason}", dm.location)]
        if dm.mode == "none":
            return _not_applicable("linkerd", sm.mode, "none", "no", "the destination has no proxy: plaintext, "
                                   "no policy", ev)
        if protocol != "TCP":
            return _not_applicable("linkerd", sm.mode, dm.mode, "no", f"Linkerd proxies only TCP; {protocol} "
                                   "passes beside the proxy", ev)
        if lk.skip_inbound(dst, port):
            return _not_applicable("linkerd", sm.mode, dm.mode, "no", "the port is in skip-inbound-ports: the "
                                   "proxy never sees it (no mTLS, no policy)",
                                   [*ev, Evidence(f"{dst.ref} annotation {lk.SKIP_IN}", dst.location)])
        client_meshed = sm.mode == "linkerd" and src is not None
        if client_meshed and src is not None and lk.skip_outbound(src, port, self.pod_ips(dst)):
            client_meshed = False
            ev.append(Evidence(f"{src.ref} skips its proxy for this port", src.location))
        ident = lk.identity(src, self.linkerd.trust_domain) if (client_meshed and src is not None) else None
        client = lk.LinkerdClient(ident, src_ips, src is not None)
        d = lk.decide(self.linkerd, dst, self.namespace(dst.namespace), port, client)
        ev.extend(d.evidence)
        if ident is None:
            mtls = "no"
        else:
            plain = lk.decide(self.linkerd, dst, self.namespace(dst.namespace), port,
                              lk.LinkerdClient(None, None, True))
            mtls = "permissive" if plain.verdict != "deny" else "yes"
        return FlowDecision("linkerd", sm.mode, dm.mode, mtls, ident, d.verdict, d.verdict, d.reason, ev)

    # ------------------------------------------------------------ egress
    @property
    def egress(self) -> EgressIndex:
        """ServiceEntries, Sidecars and the outbound traffic policy (read on first use)."""
        if self._egress is None:
            self._egress = EgressIndex(self.inventory, self.root)
        return self._egress

    def decide_external(self, src: Workload, ips: Intervals,
                        conn: ConnectionSet) -> list[tuple[Intervals, ConnectionSet, FlowDecision]]:
        """``src`` -> addresses outside the cluster: split at ServiceEntry addresses and ports, one
        decision per (address range, port group). mTLS is always ``no``: the flow leaves the mesh."""
        views = self.pod_classes(src)
        sm = self.membership(src)
        if len(views) == 1 and sm.mode in ("none", "linkerd", "ambient"):
            mesh = {"none": "none", "linkerd": "linkerd", "ambient": "istio"}[sm.mode]
            reason = {"none": "the source has no proxy: nothing in the mesh sees this flow",
                      "linkerd": "linkerd-proxy forwards traffic to outside addresses as sent: no mTLS, no policy",
                      "ambient": "ztunnel forwards traffic to outside addresses as sent (no egress waypoint or "
                                 "gateway in the model): no mTLS, no policy"}[sm.mode]
            d = FlowDecision(mesh, sm.mode, "external", "no", None, "n/a", "allow", reason,
                             [Evidence(f"{src.key}: {sm.reason}", sm.location)],
                             decided_by="none")
            return [(ips, conn, d)]
        pts = sorted({p for se in self.egress.entries for p in se.ports} | {
            p for view, _ in views for lo, hi in parse_port_list(pod_annotations(view).get(EXCLUDE_OUT, ""))
            for p in (lo, hi + 1)})
        out: list[tuple[Intervals, ConnectionSet, FlowDecision]] = []
        for piece in _split(ips, self.egress.boundaries()):
            groups: dict[tuple[object, ...], tuple[list[tuple[str, int, int]], FlowDecision]] = {}
            for proto in PROTOCOLS:
                for lo, hi in conn.ports(proto):
                    for a, b in _segments(lo, hi, pts):
                        d = merge_classes([(desc, self._egress_one(view, self.membership(view), piece, proto, a))
                                           for view, desc in views])
                        groups.setdefault(d.key, ([], d))[0].append((proto, a, b))
            for pieces, d in groups.values():
                by: dict[str, list[tuple[int, int]]] = {}
                for proto, a, b in pieces:
                    by.setdefault(proto, []).append((a, b))
                out.append((piece, ConnectionSet({p: tuple(r) for p, r in by.items()}), d))
        return out

    def _egress_one(self, src: Workload, sm: Membership, ips: Intervals, protocol: str, port: int) -> FlowDecision:
        if sm.mode in ("none", "linkerd", "ambient"):
            [(_, _, d)] = self.decide_external(src, ips, ConnectionSet.of(protocol, [(port, port)]))
            return d
        ev = [Evidence(f"{src.key} is in the mesh ({sm.mode}): {sm.reason}", sm.location)]
        if protocol != "TCP":
            return FlowDecision("istio", sm.mode, "external", "no", None, "n/a", "allow",
                                f"Istio captures only TCP; {protocol} passes beside the proxy", ev, decided_by="none")
        if in_ranges(parse_port_list(pod_annotations(src).get(EXCLUDE_OUT, "")), port):
            return FlowDecision("istio", sm.mode, "external", "no", None, "n/a", "allow",
                                "the port is excluded from outbound capture: the sidecar never sees it",
                                [*ev, Evidence(f"{src.ref} annotation {EXCLUDE_OUT}", src.location)],
                                decided_by="bypass")
        e = self.egress.decide(src, ips, port)
        authz = "n/a" if e.decided_by in ("allow-any", "bypass") else e.verdict
        return FlowDecision("istio", sm.mode, "external", "no", None, authz, e.verdict, e.reason, [*ev, *e.evidence],
                            condition=e.condition, decided_by=e.decided_by)

    # ------------------------------------------------------- connection sets
    def decide_conn(self, src: Workload | None, src_ips: Intervals | None, dst: Workload,
                    conn: ConnectionSet) -> list[tuple[ConnectionSet, FlowDecision]]:
        """Split ``conn`` into port ranges the mesh decides alike; one decision per range group."""
        pts = self._ports_cache.get(self._mk(dst))
        if pts is None:
            pts = sorted({p for view, _ in self.pod_classes(dst) for p in self.relevant_ports(view)})
            self._ports_cache[self._mk(dst)] = pts
        groups: dict[tuple[object, ...], tuple[list[tuple[str, int, int]], FlowDecision]] = {}
        for proto in PROTOCOLS:
            ranges = conn.ports(proto)
            if not ranges:
                continue
            for lo, hi in ranges:
                for a, b in _segments(lo, hi, pts):
                    d = self.decide(src, src_ips, dst, proto, a)
                    k = d.key
                    if k in groups:
                        groups[k][0].append((proto, a, b))
                    else:
                        groups[k] = ([(proto, a, b)], d)
        out = []
        for pieces, d in groups.values():
            by: dict[str, list[tuple[int, int]]] = {}
            for proto, a, b in pieces:
                by.setdefault(proto, []).append((a, b))
            out.append((ConnectionSet({p: tuple(r) for p, r in by.items()}), d))
        return out


_MTLS_ORDER = ("yes", "permissive", "no", "broken")


def merge_classes(items: list[tuple[str, FlowDecision]]) -> FlowDecision:
    """One decision for a flow whose pod classes (``items``: description, decision) may disagree."""
    first = items[0][1]
    if all(d.key == first.key for _, d in items):
        return first
    verdicts = {d.verdict for _, d in items}
    authz = {d.authz for _, d in items}
    parts = [f"{desc or 'other pods'}: {d.verdict_text}" for desc, d in items]
    evidence: list[Evidence] = []
    for _, d in items:
        evidence += [e for e in d.evidence if e not in evidence]
    modes = [d.src_mode for _, d in items], [d.dst_mode for _, d in items]
    return FlowDecision(
        first.mesh, modes[0][0] if len(set(modes[0])) == 1 else "mixed",
        modes[1][0] if len(set(modes[1])) == 1 else "mixed",
        max((d.mtls for _, d in items), key=_MTLS_ORDER.index),
        first.identity if all(d.identity == first.identity for _, d in items) else None,
        authz.pop() if len(authz) == 1 else "conditional",
        verdicts.pop() if len(verdicts) == 1 else "conditional",
        "the workload's pods are decided differently: " + "; ".join(
            f"{desc or 'other pods'}: {d.reason}" for desc, d in items),
        evidence, [n for _, d in items for n in d.notes],
        condition="; ".join(parts) if len({d.verdict for _, d in items}) > 1 else first.condition,
        decided_by=first.decided_by if all(d.decided_by == first.decided_by for _, d in items) else None)


def _invalid(doc: Document) -> tuple[str, tuple[str | int, ...]] | None:
    """The CRD validation error that makes the API server reject an Istio object, if any."""
    spec = doc.obj.get("spec", {})
    if spec is None:
        return None
    if not isinstance(spec, dict):
        return "spec must be an object", ("spec",)
    if doc.kind == "PeerAuthentication":
        mtls = spec.get("mtls")
        mode = mtls.get("mode") if isinstance(mtls, dict) else None
        if mode is not None and str(mode).upper() not in MODES:
            return f"mtls.mode {mode!r} is not one of {', '.join(MODES)}", ("spec", "mtls", "mode")
        if spec.get("portLevelMtls") and not spec.get("selector"):
            return "portLevelMtls requires selector", ("spec", "portLevelMtls")
    elif doc.kind == "AuthorizationPolicy":
        action = spec.get("action")
        if action is not None and str(action).upper() not in ACTIONS:
            return f"action {action!r} is not one of {', '.join(ACTIONS)}", ("spec", "action")
        rules = spec.get("rules")
        if rules is not None and (not isinstance(rules, list) or not all(isinstance(r, dict) for r in rules)):
            return "rules must be a list of objects", ("spec", "rules")
        if spec.get("selector") and (spec.get("targetRef") or spec.get("targetRefs")):
            return "selector and targetRefs are mutually exclusive", ("spec", "selector")
    elif doc.kind == "DestinationRule":
        tp = spec.get("trafficPolicy")
        tls = tp.get("tls") if isinstance(tp, dict) else None
        mode = tls.get("mode") if isinstance(tls, dict) else None
        if mode is not None and str(mode).upper() not in TLS_MODES:
            return f"trafficPolicy.tls.mode {mode!r} is not one of {', '.join(TLS_MODES)}", (
                "spec", "trafficPolicy", "tls", "mode")
    return None


def _segments(lo: int, hi: int, points: list[int]) -> list[tuple[int, int]]:
    """Cut [lo, hi] so that every relevant port is a segment of its own."""
    out: list[tuple[int, int]] = []
    cur = lo
    for p in points:
        if p < cur:
            continue
        if p > hi:
            break
        if p > cur:
            out.append((cur, p - 1))
        out.append((p, p))
        cur = p + 1
    if cur <= hi:
        out.append((cur, hi))
    return out


def _split(ips: Intervals, points: list[int]) -> list[Intervals]:
    """Cut address ranges at ``points`` (starts of ranges that behave differently)."""
    out: list[Intervals] = []
    for lo, hi in ips:
        cur = lo
        for p in points:
            if cur < p <= hi:
                out.append(((cur, p - 1),))
                cur = p
        out.append(((cur, hi),))
    return out


def merge_ranges(items: list[tuple[int, int]]) -> Intervals:
    return iv.normalize(items)
