"""Findings of the mesh layer (RW-ISTIO-*, RW-LINKERD-*), raised from the ``MeshModel``.

Each check reads the composed model (effective modes, memberships, matched policies), never
the raw YAML again, so a finding and a per-flow verdict cannot disagree. Messages name the
object and what goes wrong for whom; the first location is the object to change.
"""

from __future__ import annotations

from collections.abc import Iterator

from ringwall.model import intervals as iv
from ringwall.model.addresses import ALL_V4
from ringwall.model.cluster import Workload
from ringwall.model.findings import Check, Finding, Severity, register
from ringwall.model.location import Location

from . import linkerd as lk
from .authorization import rule_uses_http
from .common import SYSTEM_NAMESPACES, containers, pod_annotations, spec_of, str_list
from .decision import EXCLUDE_IN, EXCLUDE_OUT, INCLUDE_IN, MeshModel
from .destination_rule import fqdn, host_matches
from .istio_membership import DATAPLANE, INJECT, NS_INJECTION, REV, namespace_meshed
from .request_authentication import applies as ra_applies
from .request_authentication import token_requirement

_ISTIO_DOC = "https://istio.io/latest/docs/reference/config/security/"
_LINKERD_DOC = "https://linkerd.io/2-edge/reference/authorization-policy/"


def _c(cid: str, name: str, sev: Severity, summary: str, remediation: str) -> Check:
    layer_doc = _ISTIO_DOC if "ISTIO" in cid else _LINKERD_DOC
    return register(Check(cid, name, sev, "mesh", summary, remediation, layer_doc,
                          ("mesh", "istio" if "ISTIO" in cid else "linkerd")))


H, M, L = Severity.HIGH, Severity.MEDIUM, Severity.LOW
NO_MESH_STRICT = _c("RW-ISTIO-001", "NoMeshWideStrictMtls", H,
                    "No selector-less STRICT PeerAuthentication in the root namespace: the mesh default is "
                    "PERMISSIVE, so every workload accepts plaintext.",
                    "Add a PeerAuthentication without selector and with mtls.mode STRICT in the root namespace.")
NOT_STRICT = _c("RW-ISTIO-002", "WorkloadMtlsNotStrict", H,
                "The effective PeerAuthentication mode of a namespace or workload is PERMISSIVE or DISABLE.",
                "Finish the migration and set the namespace or workload policy to STRICT (or delete it to inherit).")
PORT_HOLE = _c("RW-ISTIO-003", "PortLevelMtlsHole", H,
               "portLevelMtls sets DISABLE or PERMISSIVE on a port of an otherwise STRICT workload.",
               "Remove the port override, or restrict who may reach the port with NetworkPolicy.")
ROOT_SELECTOR = _c("RW-ISTIO-004", "RootNamespacePeerAuthenticationWithSelector", M,
                   "A PeerAuthentication with a selector in the root namespace is ignored by Istio.",
                   "Move the policy into the workload's namespace, or drop the selector to make it mesh-wide.")
AMBIGUOUS_PA = _c("RW-ISTIO-005", "AmbiguousPeerAuthentication", M,
                  "Several PeerAuthentications at one scope: only the oldest counts, which manifests cannot show.",
                  "Keep one PeerAuthentication per scope (mesh, namespace, workload).")
DR_DISABLES = _c("RW-ISTIO-006", "DestinationRuleDisablesMtls", H,
                 "A DestinationRule turns Istio mTLS off (DISABLE, SIMPLE or MUTUAL) towards an in-mesh host: an "
                 "outage where the server is STRICT, plaintext where it is PERMISSIVE.",
                 "Use tls.mode ISTIO_MUTUAL (or drop the tls block and let auto mTLS decide) for in-mesh hosts.")
NO_VERIFY = _c("RW-ISTIO-007", "UpstreamCertificateNotVerified", M,
               "A DestinationRule originates TLS without verifying the server certificate.",
               "Set caCertificates or credentialName (with cacert), and never insecureSkipVerify.")
NS_NOT_IN_MESH = _c("RW-ISTIO-008", "NamespaceNotInMesh", H,
                    "A namespace with application workloads has no istio-injection, istio.io/rev or ambient label.",
                    "Label the namespace istio-injection=enabled (or istio.io/rev, or ambient) and restart its pods.")
OPTS_OUT = _c("RW-ISTIO-009", "PodOptsOutOfMesh", H,
              "A pod opts out of the mesh (sidecar.istio.io/inject=false, or dataplane-mode none in ambient).",
              "Remove the opt-out, or document the exception and protect the workload with NetworkPolicy.")
INEFFECTIVE_INJECT = _c("RW-ISTIO-010", "InjectAnnotationIneffective", M,
                        "sidecar.istio.io/inject=true does nothing here: as an annotation in an unlabelled namespace, "
                        "or in a namespace with istio-injection=disabled.",
                        "Use the pod label sidecar.istio.io/inject=true, or label the namespace for injection.")
CAPTURE_BYPASS = _c("RW-ISTIO-011", "SidecarCaptureBypass", H,
                    "traffic.sidecar.istio.io exclude/include annotations take ports or ranges out of the sidecar: "
                    "no mTLS and no authorization there.",
                    "Remove the exclusion, or cover the bypassed ports with NetworkPolicy.")
HOSTNET_ISTIO = _c("RW-ISTIO-012", "HostNetworkPodInMeshedNamespace", H,
                   "A hostNetwork pod in a meshed namespace is never in the mesh.",
                   "Accept and document it (node agents), and protect its ports with host firewall rules.")
NO_DEFAULT_DENY = _c("RW-ISTIO-013", "NoAuthorizationDefaultDeny", H,
                     "No allow-nothing AuthorizationPolicy (spec: {}) mesh-wide or in the namespace.",
                     "Add an AuthorizationPolicy with an empty spec in the root namespace (or the namespace) and "
                     "allow what is needed.")
BYPASSABLE = _c("RW-ISTIO-014", "BypassableMatchPattern", H,
                "ALLOW with negative matches (notPaths, notHosts, notMethods, notValues) or DENY with positive "
                "paths/hosts can be bypassed (path normalisation, host case).",
                "Use positive matches in ALLOW and negative matches in DENY.")
IDENTITY_DENY_PERMISSIVE = _c("RW-ISTIO-015", "IdentityDenyUnderPermissive", H,
                              "A DENY keyed on principals or namespaces applies to a workload that accepts "
                              "plaintext: plaintext requests carry no identity and slip through.",
                              "Make the workload STRICT, or also deny notPrincipals: [\"*\"].")
DENY_HTTP_NO_PORT = _c("RW-ISTIO-016", "DenyWithHttpFieldsWithoutPort", M,
                       "A DENY rule with HTTP-only fields and no ports applies to TCP ports, where Istio drops those "
                       "fields and the rule denies more than written.",
                       "Give DENY rules with HTTP fields the ports they are meant for.")
ALLOW_HTTP_ON_TCP = _c("RW-ISTIO-033", "AllowHttpRuleOnTcpPort", M,
                      "An ALLOW rule with HTTP-only fields (methods, paths, hosts, requestPrincipals, request.* "
                      "conditions) applies to a port Istio treats as plain TCP: Istio drops the whole rule there, "
                      "so it allows nothing on that port.",
                      "Name the Service port http-* (or set appProtocol: http) if the traffic is HTTP; otherwise "
                      "write the rule with L4 fields only (principals, namespaces, ipBlocks, ports).")
AMBIENT_DENY = _c("RW-ISTIO-017", "AmbientHttpOnlyDenyIneffective", H,
                  "In ambient without a waypoint, a DENY whose rules are all HTTP-only has no effect.",
                  "Deploy a waypoint and target the policy at it, or express the DENY at L4.")
TOKEN_NOT_REQUIRED = _c("RW-ISTIO-018", "TokenNotRequired", H,
                        "RequestAuthentication without an AuthorizationPolicy requiring requestPrincipals: requests "
                        "without a token pass.",
                        "Add an ALLOW with from.source.requestPrincipals: [\"*\"], or a DENY with "
                        "notRequestPrincipals: [\"*\"].")
MATCHES_NOTHING = _c("RW-ISTIO-019", "PolicyMatchesNothing", M,
                     "A PeerAuthentication, AuthorizationPolicy or RequestAuthentication selector matches no workload.",
                     "Fix the selector labels (often a typo) or delete the policy.")
DRY_RUN = _c("RW-ISTIO-020", "DryRunAuthorizationPolicy", M,
             "An AuthorizationPolicy is annotated istio.io/dry-run=true: it is evaluated and logged, not enforced.",
             "Remove the dry-run annotation once the policy is verified.")
ALLOW_ALL = _c("RW-ISTIO-021", "AllowAllAuthorizationPolicy", M,
               "An ALLOW policy with an empty rule allows every request in its scope.",
               "Replace the empty rule with the sources and operations that are needed.")
PROXY_UID = _c("RW-ISTIO-026", "AppRunsAsProxyUid", L,
               "An application container runs as UID 1337, the proxy's UID, which the capture rules let through.",
               "Run the application as another UID.")
MUTUAL_NO_SIDECAR = _c("RW-ISTIO-027", "IstioMutualToWorkloadWithoutSidecar", M,
                       "A DestinationRule sets ISTIO_MUTUAL for a host whose pods have no proxy: connections fail.",
                       "Inject the destination, or remove the tls block for that host.")
CONFLICTING_LABELS = _c("RW-ISTIO-028", "ConflictingInjectionLabels", L,
                        "The namespace carries both istio-injection and istio.io/rev; istio-injection wins.",
                        "Keep one of the two labels.")
CUSTOM_PROVIDERS = _c("RW-ISTIO-032", "CustomAuthzMultipleProviders", M,
                      "More than one CUSTOM provider applies to one workload, which Istio rejects.",
                      "Use one external authorizer per workload.")

LD_DEFAULT = _c("RW-LINKERD-001", "DefaultInboundAllowsUnauthenticated", H,
                "The effective default inbound policy admits unauthenticated clients (all-unauthenticated or "
                "cluster-unauthenticated) and nothing stricter is set on the namespace or workload.",
                "Set config.linkerd.io/default-inbound-policy: all-authenticated (or deny plus Servers) on the "
                "namespace, or install with proxy.defaultInboundPolicy all-authenticated.")
LD_NOT_MESHED = _c("RW-LINKERD-002", "WorkloadNotMeshed", H,
                   "linkerd.io/inject is disabled on the namespace or pod, or an application namespace is not "
                   "enabled.",
                   "Annotate the namespace linkerd.io/inject: enabled and restart its workloads.")
LD_SKIP = _c("RW-LINKERD-003", "SkipPortsBypassProxy", H,
             "skip-inbound-ports, skip-outbound-ports or skip-subnets take traffic past the proxy: no mTLS, no policy.",
             "Remove the skip annotations; use opaque ports for protocols the proxy cannot detect.")
LD_SERVER_OPEN = _c("RW-LINKERD-005", "ServerAllowsUnauthenticated", H,
                    "A Server's accessPolicy or a ServerAuthorization admits unauthenticated clients from anywhere.",
                    "Authorize MeshTLSAuthentication identities (or specific networks) instead.")
LD_ANY_ID = _c("RW-LINKERD-006", "AnyMeshedIdentityAllowed", M,
               "MeshTLSAuthentication identities [\"*\"] admits every meshed workload.",
               "List the service accounts that need access (identityRefs).")
LD_DANGLING = _c("RW-LINKERD-007", "DanglingAuthorizationReference", M,
                 "An AuthorizationPolicy references a missing Server, route or authentication: Linkerd ignores it "
                 "(the intended access is denied).",
                 "Create the referenced object or fix the reference.")
LD_HOSTNET = _c("RW-LINKERD-009", "HostNetworkPodInMeshedNamespace", M,
                "A hostNetwork pod in a meshed namespace is never injected.",
                "Accept and document it, and protect its ports with host firewall rules.")
LD_LEGACY = _c("RW-LINKERD-010", "DeprecatedServerAuthorization", L,
               "ServerAuthorization is deprecated in favour of AuthorizationPolicy.",
               "Replace it with an AuthorizationPolicy and a MeshTLSAuthentication or NetworkAuthentication.")


def _loc(w: Workload) -> tuple[Location, ...]:
    return (w.location,) if w.location else ()


def app_workloads(model: MeshModel, ns: str) -> list[Workload]:
    """Workloads that are applications (not node agents, not a control plane)."""
    out = []
    for w in model.cluster.workloads:
        if w.namespace != ns or w.host_network:
            continue
        if w.name.startswith(("istiod", "linkerd-")) or "linkerd.io/control-plane-component" in w.labels:
            continue
        out.append(w)
    return out


def app_namespaces(model: MeshModel) -> list[str]:
    skip = SYSTEM_NAMESPACES | {model.root, "linkerd", "linkerd-viz", "cert-manager"}
    return sorted(ns for ns in {w.namespace for w in model.cluster.workloads}
                  if ns not in skip and app_workloads(model, ns))


def entrypoint_ports(model: MeshModel, w: Workload) -> set[int]:
    """Container ports exposed by a LoadBalancer or NodePort Service (meant to take outside traffic)."""
    out: set[int] = set()
    for s in model.services_of(w):
        if s.type not in ("LoadBalancer", "NodePort"):
            continue
        for sp in s.ports:
            if isinstance(sp.target, int):
                out.add(sp.target)
            else:
                out.update(p.port for v in w.variants for p in v.ports if p.name == sp.target)
    return out


def run_checks(model: MeshModel) -> list[Finding]:
    findings: list[Finding] = []
    if model.istio:
        for fn in (_mtls, _destination_rules, _membership, _authorization, _request_auth, _matches_nothing):
            findings.extend(fn(model))
    if model.linkerd_on:
        findings.extend(_linkerd(model))
    return findings


# ----------------------------------------------------------------- Istio mTLS
def _mtls(model: MeshModel) -> Iterator[Finding]:
    pa = model.pa
    meshed = [w for w in model.cluster.workloads if model.membership(w).mode in ("sidecar", "ambient")]
    mp = pa.mesh_policy
    if meshed and (mp is None or mp.mode not in ("STRICT",)):
        what = "no mesh-wide PeerAuthentication" if mp is None else f"{mp.ref} sets mode {mp.mode}"
        locs = (mp.locate("spec"),) if mp is not None else ()
        yield Finding(NO_MESH_STRICT, f"Mesh {model.root}: {what}; the mesh default is "
                      f"{'PERMISSIVE' if mp is None or mp.mode == 'UNSET' else mp.mode}, so {len(meshed)} meshed "
                      "workload(s) accept plaintext unless a narrower policy says STRICT.",
                      locs, f"Mesh/{model.root}")
    for p in pa.ignored_root_selector:
        yield Finding(ROOT_SELECTOR, f"{p.ref} has a selector in the root namespace {model.root}: Istio ignores "
                      "it for PeerAuthentication, so its mode applies to no workload.",
                      (p.locate("spec", "selector"),), p.ref)
    for scope, pols in pa.ambiguous:
        first = pols[0]
        yield Finding(AMBIGUOUS_PA, f"{len(pols)} PeerAuthentications at {scope} ({', '.join(p.ref for p in pols)}): "
                      "Istio uses the oldest, which static manifests cannot tell.",
                      tuple(p.locate() for p in pols), first.ref, scope)
    seen_ns: set[str] = set()
    reported_ambiguous: set[str] = set()
    for w in meshed:
        eff = pa.effective(w)
        amb = pa.workload_ambiguity(w)
        if amb:
            key = ",".join(p.ref for p in amb)
            if key not in reported_ambiguous:
                reported_ambiguous.add(key)
                yield Finding(AMBIGUOUS_PA, f"{len(amb)} PeerAuthentications select {w.key} "
                              f"({', '.join(p.ref for p in amb)}): only the oldest counts.",
                              tuple(p.locate() for p in amb), amb[0].ref, w.key)
        if eff.mode in ("PERMISSIVE", "DISABLE"):
            last = eff.evidence[-1].text
            if last.startswith("workload "):
                wp = next(p for p in pa.workload_policies(w) if p.mode != "UNSET")
                yield Finding(NOT_STRICT, f"{w.ref}: effective mTLS mode {eff.mode} set by {wp.ref}: the workload "
                              "accepts plaintext, so callers are neither encrypted nor identified.",
                              (wp.locate("spec", "mtls"), *_loc(w)), w.ref, eff.mode)
            elif last.startswith("namespace-wide ") and w.namespace not in seen_ns:
                seen_ns.add(w.namespace)
                nsp = next(p for p in pa.ns_level[w.namespace] if p.mode != "UNSET")
                yield Finding(NOT_STRICT, f"Namespace {w.namespace}: effective mTLS mode {eff.mode} set by {nsp.ref}: "
                              "its workloads accept plaintext, so callers are neither encrypted nor identified.",
                              (nsp.locate("spec", "mtls"),), f"Namespace/{w.namespace}", eff.mode)
        if eff.mode == "STRICT":
            entry = entrypoint_ports(model, w)
            for port, m in sorted(eff.port_modes.items()):
                if m == "DISABLE" or (m == "PERMISSIVE" and port not in entry):
                    ev = eff.port_evidence[port]
                    yield Finding(PORT_HOLE, f"{w.ref}: portLevelMtls sets port {port} to {m} on a STRICT workload: "
                                  f"port {port} accepts plaintext.", (ev.location,) if ev.location else _loc(w),
                                  w.ref, str(port))


def _destination_rules(model: MeshModel) -> Iterator[Finding]:
    domain = model.dr.domain
    for r in model.dest_rules:
        host = fqdn(r.host, r.namespace, domain)
        targets = [s for ss in model.services_by_ns.values() for s in ss
                   if host_matches(host, f"{s.name}.{s.namespace}.svc.{domain}")]
        meshed_targets = []
        unmeshed_targets = []
        for s in targets:
            ws = model.workloads_of_service(s)
            if not ws:
                continue
            if any(model.membership(w).mode in ("sidecar", "ambient") for w in ws):
                meshed_targets.append(s)
            else:
                unmeshed_targets.append(s)
        settings = [((), r.tls, ("spec", "trafficPolicy", "tls"))] + [
            ((p,), t, ("spec", "trafficPolicy", "portLevelSettings")) for p, t in r.port_tls.items()]
        for port, tls, path in settings:
            if not isinstance(tls, dict) or "mode" not in tls:
                continue
            mode = str(tls.get("mode") or "DISABLE").upper()
            where = f" port {port[0]}" if port else ""
            if mode in ("DISABLE", "SIMPLE", "MUTUAL") and meshed_targets:
                strict = []
                for s in meshed_targets:
                    for w in model.workloads_of_service(s):
                        if model.pa.effective(w).mode == "STRICT":
                            strict.append(s)
                            break
                effect = ("the STRICT server refuses it: an outage" if strict else
                          "the PERMISSIVE server accepts it as plaintext")
                yield Finding(DR_DISABLES, f"{r.ref}: tls.mode {mode}{where} for in-mesh host {r.host} "
                              f"({', '.join(s.ref for s in meshed_targets)}): clients send no Istio mTLS, and "
                              f"{effect}.", (r.locate(*path),), r.ref, f"{mode}{where}")
            if mode in ("SIMPLE", "MUTUAL") and (tls.get("insecureSkipVerify") or not (
                    tls.get("caCertificates") or tls.get("credentialName"))):
                yield Finding(NO_VERIFY, f"{r.ref}: tls.mode {mode}{where} towards {r.host} does not verify the "
                              "server certificate.", (r.locate(*path),), r.ref, f"{mode}{where}")
            if mode == "ISTIO_MUTUAL" and unmeshed_targets and not meshed_targets:
                yield Finding(MUTUAL_NO_SIDECAR, f"{r.ref}: ISTIO_MUTUAL{where} towards {r.host}, whose pods have no "
                              "proxy: connections fail.", (r.locate(*path),), r.ref, where.strip())


# ----------------------------------------------------------- Istio membership
def _membership(model: MeshModel) -> Iterator[Finding]:
    for name in app_namespaces(model):
        ns = model.namespace(name)
        nsl = ns.labels
        if NS_INJECTION in nsl and REV in nsl:
            yield Finding(CONFLICTING_LABELS, f"Namespace {name} has istio-injection={nsl[NS_INJECTION]} and "
                          f"istio.io/rev={nsl[REV]}; istio-injection wins.", (ns.location,) if ns.location else (),
                          f"Namespace/{name}")
        wls = app_workloads(model, name)
        if not namespace_meshed(ns) and not all(model.membership(w).meshed for w in wls):
            if model.linkerd_on and all(model.membership(w).mode == "linkerd" for w in wls):
                continue
            if model.linkerd_on and not model.istio_control_plane and not model.istio_configured:
                continue
            out = [w.key for w in wls if not model.membership(w).meshed]
            yield Finding(NS_NOT_IN_MESH, f"Namespace {name} is not in the mesh: {len(out)} workload(s) "
                          f"({', '.join(out[:5])}) talk plaintext and carry no identity.",
                          (ns.location,) if ns.location else (), f"Namespace/{name}")
    for w in model.cluster.workloads:
        ns = model.namespace(w.namespace)
        labels, ann = w.labels, pod_annotations(w)
        if ns.name in SYSTEM_NAMESPACES:
            continue
        if w.host_network:
            if namespace_meshed(ns):
                yield Finding(HOSTNET_ISTIO, f"{w.ref} uses hostNetwork in meshed namespace {w.namespace}: it is "
                              "never in the mesh, so its ports have no mTLS and no authorization.", _loc(w), w.ref)
            continue
        opt_out = labels.get(INJECT) == "false" or (INJECT not in labels and ann.get(INJECT) == "false")
        if namespace_meshed(ns) and opt_out and ns.labels.get(NS_INJECTION, "enabled") == "enabled":
            yield Finding(OPTS_OUT, f"{w.ref} opts out of the mesh with {INJECT}=false in meshed namespace "
                          f"{w.namespace}.", _loc(w), w.ref)
        if ns.labels.get(DATAPLANE) == "ambient" and labels.get(DATAPLANE) == "none":
            yield Finding(OPTS_OUT, f"{w.ref} opts out of ambient with {DATAPLANE}=none.", _loc(w), w.ref)
        if ns.labels.get(NS_INJECTION) == "disabled" and labels.get(INJECT) == "true":
            yield Finding(INEFFECTIVE_INJECT, f"{w.ref}: label {INJECT}=true in namespace {w.namespace} with "
                          "istio-injection=disabled does not inject.", _loc(w), w.ref)
        elif (NS_INJECTION not in ns.labels and REV not in ns.labels and ann.get(INJECT) == "true"
              and INJECT not in labels):
            yield Finding(INEFFECTIVE_INJECT, f"{w.ref}: the annotation {INJECT}=true does nothing in namespace "
                          f"{w.namespace}, which has no injection label (the webhook reads labels).", _loc(w), w.ref)
        if model.membership(w).mode == "sidecar":
            keys = [k for k in (EXCLUDE_IN, EXCLUDE_OUT, "traffic.sidecar.istio.io/excludeOutboundIPRanges",
                                "traffic.sidecar.istio.io/excludeInterfaces") if ann.get(k)]
            keys += [k for k in (INCLUDE_IN, "traffic.sidecar.istio.io/includeOutboundIPRanges")
                     if k in ann and ann[k].strip() != "*"]
            if keys:
                yield Finding(CAPTURE_BYPASS, f"{w.ref}: {', '.join(f'{k}={ann[k]}' for k in keys)} take traffic "
                              "past the sidecar (no mTLS, no authorization).", _loc(w), w.ref)
            for c in [w.spec, *containers(w)]:
                sc = c.get("securityContext") if isinstance(c.get("securityContext"), dict) else {}
                if sc.get("runAsUser") == 1337 and c.get("name") != "istio-proxy":
                    yield Finding(PROXY_UID, f"{w.ref}: {c.get('name', 'the pod')} runs as UID 1337, which the "
                                  "sidecar's capture rules let through unfiltered.", _loc(w), w.ref,
                                  str(c.get("name", "")))
                    break


# -------------------------------------------------------- Istio authorization
def _authorization(model: MeshModel) -> Iterator[Finding]:
    meshed = [w for w in model.cluster.workloads if model.membership(w).mode in ("sidecar", "ambient")]
    root_nothing = [p for p in model.authz.by_ns.get(model.root, ())
                    if p.is_allow_nothing and p.selector is None and not p.target_refs and not p.dry_run]
    if not root_nothing:
        for ns in sorted({w.namespace for w in meshed}):
            if not any(p.is_allow_nothing and p.selector is None and not p.target_refs and not p.dry_run
                       for p in model.authz.by_ns.get(ns, ())):
                nso = model.namespace(ns)
                yield Finding(NO_DEFAULT_DENY, f"Namespace {ns}: no allow-nothing AuthorizationPolicy mesh-wide or "
                              "in the namespace: workloads without an ALLOW policy accept every caller.",
                              (nso.location,) if nso.location else (), f"Namespace/{ns}")
    for p in model.authz_policies:
        if p.dry_run:
            yield Finding(DRY_RUN, f"{p.ref} is annotated istio.io/dry-run=true: it is not enforced.",
                          (p.locate("metadata", "annotations"),), p.ref)
        if p.is_allow_all:
            i = next(i for i, r in enumerate(p.rules) if not r)
            yield Finding(ALLOW_ALL, f"{p.ref}: rules[{i}] is empty, so the policy allows every request in its scope.",
                          (p.locate("spec", "rules", i),), p.ref)
        for i, r in enumerate(p.rules):
            negs: list[str] = []
            for t in r.get("to") or ():
                o = t.get("operation") if isinstance(t, dict) else None
                if isinstance(o, dict):
                    if p.action == "ALLOW":
                        negs += [k for k in ("notPaths", "notHosts", "notMethods") if k in o]
                    elif p.action == "DENY":
                        negs += [k for k in ("paths", "hosts") if k in o]
            if p.action == "ALLOW":
                negs += ["when.notValues" for c in r.get("when") or () if isinstance(c, dict) and c.get("notValues")]
            if negs:
                yield Finding(BYPASSABLE, f"{p.ref} rules[{i}]: {p.action} with {', '.join(sorted(set(negs)))} can be "
                              "bypassed (path normalisation, host case).", (p.locate("spec", "rules", i),), p.ref,
                              str(i))
    for w in meshed:
        pols = model.authz.for_workload(w)
        mode = model.pa.effective(w)
        plaintext_ok = mode.mode != "STRICT" or any(m != "STRICT" for m in mode.port_modes.values())
        amb = model.membership(w)
        providers = sorted({p.provider or "?" for p in pols if p.action == "CUSTOM" and not p.dry_run})
        if len(providers) > 1:
            yield Finding(CUSTOM_PROVIDERS, f"{w.ref}: {len(providers)} CUSTOM providers apply "
                          f"({', '.join(providers)}); Istio rejects the configuration.", _loc(w), w.ref)
        if amb.mode == "sidecar":
            yield from _allow_http_on_tcp(model, w, pols)
        for p in pols:
            if p.action != "DENY" or p.dry_run:
                continue
            if plaintext_ok and any(
                isinstance(f, dict) and isinstance(f.get("source"), dict) and
                (f["source"].get("principals") or f["source"].get("namespaces"))
                for r in p.rules for f in r.get("from") or ()
            ):
                yield Finding(IDENTITY_DENY_PERMISSIVE, f"{p.ref} denies by principal/namespace at {w.ref}, which "
                              f"accepts plaintext (mTLS {mode.mode}): plaintext requests carry no identity and are "
                              "not denied.", (p.locate("spec", "rules"), *_loc(w)), p.ref, w.key)
            if amb.mode == "ambient" and not amb.waypoint and p.rules and all(rule_uses_http(r) for r in p.rules):
                yield Finding(AMBIENT_DENY, f"{p.ref} applies to ambient workload {w.ref} without a waypoint and all "
                              "its rules are HTTP-only: ztunnel ignores it.", (p.locate("spec"),), p.ref, w.key)
            elif amb.mode == "sidecar":
                tcp_ports = [pt.port for v in w.variants for pt in v.ports if pt.protocol == "TCP"
                             and model.service_port(w, pt.port)[2] == "tcp"]
                for i, r in enumerate(p.rules):
                    if not rule_uses_http(r) or not tcp_ports:
                        continue
                    has_ports = any(isinstance(t, dict) and isinstance(t.get("operation"), dict) and
                                    t["operation"].get("ports") for t in r.get("to") or ())
                    if not has_ports:
                        yield Finding(DENY_HTTP_NO_PORT, f"{p.ref} rules[{i}] uses HTTP-only fields without ports; "
                                      f"on the TCP port(s) {', '.join(map(str, sorted(set(tcp_ports))))} of {w.ref} "
                                      "Istio drops those fields and the rule denies more.",
                                      (p.locate("spec", "rules", i),), p.ref, f"{w.key}#{i}")


def _allow_http_on_tcp(model: MeshModel, w: Workload, pols: list) -> Iterator[Finding]:  # type: ignore[type-arg]
    """ALLOW rules that need HTTP attributes on ports the Service declares TCP (Istio drops them there)."""
    tcp_ports = sorted({pt.port for v in w.variants for pt in v.ports if pt.protocol == "TCP"
                        and model.service_port(w, pt.port)[2] == "tcp"})
    if not tcp_ports:
        return
    for p in pols:
        if p.action != "ALLOW" or p.dry_run:
            continue
        for i, r in enumerate(p.rules):
            if not rule_uses_http(r):
                continue
            named = {int(x) for t in r.get("to") or () if isinstance(t, dict) and isinstance(t.get("operation"), dict)
                     for x in str_list(t["operation"].get("ports")) if x.isdigit()}
            hit = [pt for pt in tcp_ports if not named or pt in named]
            if hit:
                yield Finding(ALLOW_HTTP_ON_TCP, f"{p.ref} rules[{i}] allows by HTTP attributes, but port(s) "
                              f"{', '.join(map(str, hit))} of {w.ref} are plain TCP (Service port name or "
                              "appProtocol): Istio drops the rule there, so it allows nothing on them.",
                              (p.locate("spec", "rules", i), *_loc(w)), p.ref, f"{w.key}#{i}")


def _request_auth(model: MeshModel) -> Iterator[Finding]:
    for ra in model.request_auths:
        open_wls = []
        for w in model.cluster.workloads:
            if model.membership(w).mode not in ("sidecar", "ambient") or not ra_applies(ra, w, model.root):
                continue
            if token_requirement(model.authz.for_workload(w)) is None:
                open_wls.append(w.key)
        if open_wls:
            yield Finding(TOKEN_NOT_REQUIRED, f"{ra.ref} validates JWTs for {', '.join(open_wls[:5])}"
                          f"{' …' if len(open_wls) > 5 else ''}, but no AuthorizationPolicy requires requestPrincipals:"
                          " requests without a token pass.", (ra.locate("spec"),), ra.ref)


def _matches_nothing(model: MeshModel) -> Iterator[Finding]:
    wls = model.cluster.workloads

    def any_match(ns: str, sel: dict[str, str]) -> bool:
        return any((ns == model.root or w.namespace == ns) and all(w.labels.get(k) == v for k, v in sel.items())
                   for w in wls)

    for p in model.peer_auths:
        if p.selector and p.namespace != model.root and not any_match(p.namespace, p.selector):
            yield Finding(MATCHES_NOTHING, f"{p.ref}: selector {p.selector} matches no workload in {p.namespace}.",
                          (p.locate("spec", "selector"),), p.ref)
    for ap in model.authz_policies:
        if ap.selector and not ap.target_refs and not any_match(ap.namespace, ap.selector):
            yield Finding(MATCHES_NOTHING, f"{ap.ref}: selector {ap.selector} matches no workload.",
                          (ap.locate("spec", "selector"),), ap.ref)
    for ra in model.request_auths:
        if ra.selector and not any_match(ra.namespace, ra.selector):
            yield Finding(MATCHES_NOTHING, f"{ra.ref}: selector {ra.selector} matches no workload.",
                          (ra.locate("spec", "selector"),), ra.ref)


# -------------------------------------------------------------------- Linkerd
def _linkerd(model: MeshModel) -> Iterator[Finding]:
    m = model.linkerd
    linkerd_ns = {"linkerd", "linkerd-viz", "linkerd-jaeger"}
    by_ns: dict[str, list[Workload]] = {}
    for w in model.cluster.workloads:
        if model.membership(w).mode == "linkerd" and w.namespace not in linkerd_ns:
            by_ns.setdefault(w.namespace, []).append(w)
    for ns, wls in sorted(by_ns.items()):
        open_wls = []
        for w in wls:
            pol, ev = lk.default_policy_of(m, w, model.namespace(ns))
            if pol in ("all-unauthenticated", "cluster-unauthenticated", "audit") and ev.text.startswith("cluster"):
                open_wls.append(w.key)
        if open_wls:
            nso = model.namespace(ns)
            yield Finding(LD_DEFAULT, f"Namespace {ns}: the default inbound policy is {m.default_policy} "
                          f"({m.default_source}) and nothing stricter is set for {', '.join(open_wls[:5])}: "
                          "unauthenticated clients are admitted wherever no Server applies.",
                          (nso.location,) if nso.location else (), f"Namespace/{ns}")
    for name in app_namespaces(model):
        if name in linkerd_ns:
            continue
        ns = model.namespace(name)
        nsv = ns.annotations.get(lk.INJECT)
        wls = app_workloads(model, name)
        if model.istio and any(model.membership(w).mode in ("sidecar", "ambient") for w in wls):
            continue
        if nsv == "disabled" or (nsv not in ("enabled", "ingress") and
                                 not all(model.membership(w).mode == "linkerd" for w in wls)):
            yield Finding(LD_NOT_MESHED, f"Namespace {name} is not meshed by Linkerd "
                          f"({lk.INJECT}={nsv or 'unset'}): its workloads talk plaintext and carry no identity.",
                          (ns.location,) if ns.location else (), f"Namespace/{name}")
    for w in model.cluster.workloads:
        ns = model.namespace(w.namespace)
        ann = pod_annotations(w)
        meshed_ns = ns.annotations.get(lk.INJECT) in ("enabled", "ingress")
        if w.host_network and meshed_ns:
            yield Finding(LD_HOSTNET, f"{w.ref} uses hostNetwork in meshed namespace {w.namespace}: never injected.",
                          _loc(w), w.ref)
            continue
        if meshed_ns and ann.get(lk.INJECT) == "disabled":
            yield Finding(LD_NOT_MESHED, f"{w.ref} opts out with {lk.INJECT}=disabled in meshed namespace "
                          f"{w.namespace}.", _loc(w), w.ref)
        skips = [k for k in (lk.SKIP_IN, lk.SKIP_OUT, lk.SKIP_SUBNETS) if ann.get(k)]
        if skips and model.membership(w).mode == "linkerd":
            yield Finding(LD_SKIP, f"{w.ref}: {', '.join(f'{k}={ann[k]}' for k in skips)} bypass the proxy: no mTLS "
                          "and no policy on that traffic.", _loc(w), w.ref)
    for s in m.servers:
        if s.access_policy in ("all-unauthenticated", "audit"):
            yield Finding(LD_SERVER_OPEN, f"{s.ref}: accessPolicy {s.access_policy} admits unauthenticated clients "
                          "that no authorization names.", (s.locate("spec"),), s.ref)
    everywhere = iv.normalize(ALL_V4)
    for a in m.authorizations:
        if a.legacy:
            yield Finding(LD_LEGACY, f"{a.ref}: ServerAuthorization is deprecated.", (a.locate(),), a.ref)
            if a.unauthenticated and (a.networks is None or iv.is_subset(everywhere, a.networks)):
                yield Finding(LD_SERVER_OPEN, f"{a.ref}: unauthenticated clients from every address are authorized.",
                              (a.locate("spec", "client"),), a.ref)
    for _key, obj in sorted(m.meshtls.items()):
        spec = spec_of(obj.doc)
        if str_list(spec.get("identities")) == ["*"] and not spec.get("identityRefs"):
            yield Finding(LD_ANY_ID, f"{obj.ref}: identities [\"*\"] admits every meshed workload.",
                          (obj.locate("spec", "identities"),), obj.ref)
    for a, missing in m.dangling:
        yield Finding(LD_DANGLING, f"{a.ref} references {missing}, which does not exist: Linkerd ignores the "
                      "authorization, so the access it grants is denied.", (a.locate("spec"),), a.ref, missing)
