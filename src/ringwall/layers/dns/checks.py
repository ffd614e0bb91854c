"""RW-DNS checks: the Corefile, the exposure and RBAC of CoreDNS, and NodeLocal DNSCache.

RW-DNS-009 (malformed DNS allowance in egress policies) belongs to the netpol layer and is
registered there; everything else in the RW-DNS table is raised here (mesh-edge-access §4).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from ringwall.model.findings import Check, Finding, Severity, register
from ringwall.model.location import Location
from ringwall.sources.documents import Document
from ringwall.sources.inventory import Inventory

from .corefile import Corefile, ServerBlock

_DOC = "https://coredns.io/plugins/"


def _c(cid: str, name: str, sev: Severity, summary: str, remediation: str) -> Check:
    return register(Check(cid, name, sev, "dns", summary, remediation, _DOC, ("dns",)))


UNENCRYPTED_UPSTREAM = _c("RW-DNS-001", "UnencryptedUpstream", Severity.MEDIUM,
    "External names are forwarded in clear text (dns:// or /etc/resolv.conf): on-path observers see and may forge "
    "answers.",
    "Forward external zones to tls:// upstreams with tls_servername (DNS over TLS), ideally validating resolvers.")
TLS_NO_SERVERNAME = _c("RW-DNS-002", "TlsUpstreamWithoutServerName", Severity.HIGH,
    "forward to tls:// without tls_servername: the upstream's certificate name is not checked, so anyone on the path "
    "can intercept.",
    "Add tls_servername NAME to the forward block, or use tls://IP%NAME per endpoint.")
DNSSEC_ASSUMED = _c("RW-DNS-003", "DnssecAssumedValidated", Severity.INFO,
    "The dnssec plugin signs answers; CoreDNS never validates DNSSEC.",
    "Get validation from a validating upstream reached over DNS over TLS; keep dnssec only for zones you sign.")
NO_QUERY_LOG = _c("RW-DNS-004", "NoQueryLogging", Severity.LOW,
    "A server block lacks log (query log) or errors.",
    "Add errors and log (log . {class denial error} keeps the volume down).")
PODS_INSECURE = _c("RW-DNS-005", "PodsInsecureMode", Severity.MEDIUM,
    "kubernetes pods insecure answers any a-b-c-d.ns.pod name without checking that the pod exists.",
    "Use pods verified (or disabled if nothing needs pod A records).")
DNS_EXPOSED = _c("RW-DNS-006", "DnsServiceExposed", Severity.HIGH,
    "Cluster DNS is reachable from outside the cluster (open resolver, amplification, name disclosure).",
    "Keep kube-dns a ClusterIP Service without externalIPs and run CoreDNS without hostNetwork or hostPort.")
RBAC_EXCESSIVE = _c("RW-DNS-007", "CorednsRbacExcessive", Severity.MEDIUM,
    "CoreDNS's ClusterRole grants more than list/watch on endpoints, services, pods, namespaces and endpointslices.",
    "Reduce system:coredns to the upstream rules (list and watch on those five resources).")
COREFILE_WRITABLE = _c("RW-DNS-008", "CorefileWritableByNonAdmins", Severity.MEDIUM,
    "Subjects other than cluster administrators can update or patch ConfigMap kube-system/coredns, i.e. rewrite "
    "cluster DNS.",
    "Remove update/patch on configmaps in kube-system from non-admin roles (or restrict resourceNames).")
NODELOCAL_NOT_ALLOWED = _c("RW-DNS-010", "NodeLocalDnsNotAllowed", Severity.MEDIUM,
    "NodeLocal DNSCache is present but egress-isolated namespaces have no ipBlock for its link-local address.",
    "Add an egress rule to ipBlock 169.254.20.10/32 on UDP and TCP 53 next to the kube-dns allowance.")
CLUSTER_NAME_OVERRIDE = _c("RW-DNS-011", "ClusterNameOverride", Severity.LOW,
    "rewrite, hosts or template change answers for names under the cluster domain.",
    "Keep overrides out of the cluster domain, or review them as part of the DNS trust boundary.")
LONG_SERVE_STALE = _c("RW-DNS-012", "LongServeStale", Severity.LOW,
    "cache serve_stale keeps answers longer than an hour after they expire, prolonging poisoned or stale data.",
    "Use serve_stale with at most 1h, or not at all.")
POD_NOT_HARDENED = _c("RW-DNS-013", "CorednsPodNotHardened", Severity.LOW,
    "CoreDNS pods deviate from the upstream security context.",
    "Set allowPrivilegeEscalation: false, capabilities drop [ALL] add [NET_BIND_SERVICE], "
    "readOnlyRootFilesystem: true and seccompProfile RuntimeDefault.")

MINIMAL_RBAC = {("", "endpoints"), ("", "services"), ("", "pods"), ("", "namespaces"),
                ("discovery.k8s.io", "endpointslices")}
NODELOCAL_ADDRESSES = ("169.254.20.10", "169.254.25.10")
_DURATION = re.compile(r"(\d+)(ms|s|m|h)")


def duration_seconds(text: str) -> float | None:
    """Go duration (``90s``, ``1h30m``) in seconds; None when it is not one."""
    parts = _DURATION.findall(text)
    if not parts or "".join(a + b for a, b in parts) != text:
        return None
    mult = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    return sum(int(a) * mult[b] for a, b in parts)


def cluster_zones(server: ServerBlock) -> list[str]:
    zones: list[str] = []
    for k in server.plugins("kubernetes"):
        zones.extend(a.rstrip(".") for a in k.args if not a.endswith("arpa") and not a.endswith("arpa."))
    return zones


def check_corefile(cf: Corefile) -> list[Finding]:
    out: list[Finding] = []
    subject = cf.obj or f"Corefile:{cf.path}"

    def add(check: Check, msg: str, loc: Location, detail: str) -> None:
        out.append(Finding(check, msg, (loc,), subject, detail))

    all_cluster = [z for s in cf.servers for z in cluster_zones(s)] or ["cluster.local"]
    has_dnssec = False
    tls_upstream = False
    for s in cf.servers:
        zone = " ".join(s.keys)
        names = {d.name for d in s.directives}
        for needed in ("errors", "log"):
            if needed not in names:
                add(NO_QUERY_LOG, f"server block {zone} has no {needed} plugin", s.location, f"{zone}|{needed}")
        for fwd in s.plugins("forward"):
            if not fwd.args:
                continue
            frm, targets = fwd.args[0], fwd.args[1:]
            servername = fwd.sub("tls_servername")
            for t in targets:
                low = t.lower()
                if low.startswith("tls://"):
                    tls_upstream = True
                    if "%" not in t and servername is None:
                        add(TLS_NO_SERVERNAME, f"forward {frm} {t} without tls_servername", fwd.location, f"{zone}|{t}")
                elif low.startswith("https://"):
                    continue
                elif frm.rstrip(".") in ("", ) or frm == ".":
                    what = "the node's resolv.conf resolvers" if "/" in t and not low.startswith("dns://") else t
                    add(UNENCRYPTED_UPSTREAM, f"forward . {t}: external queries go to {what} unencrypted",
                        fwd.location, f"{zone}|{t}")
        if s.plugins("dnssec"):
            has_dnssec = True
        for k in s.plugins("kubernetes"):
            pods = k.sub("pods")
            if pods is not None and pods.args[:1] == ["insecure"]:
                add(PODS_INSECURE, "kubernetes pods insecure", pods.location, zone)
        for name in ("rewrite", "hosts", "template"):
            for d in s.plugins(name):
                text = " ".join([*d.args, *(" ".join([x.name, *x.args]) for x in d.block)])
                hit = next((z for z in all_cluster if z and z in text), None)
                if hit:
                    add(CLUSTER_NAME_OVERRIDE, f"{name} touches names under {hit}", d.location, f"{zone}|{name}|"
                        f"{d.location.line}")
        for c in s.plugins("cache"):
            st = c.sub("serve_stale")
            if st is None:
                continue
            dur = duration_seconds(st.args[0]) if st.args else 3600.0
            if dur is not None and dur > 3600:
                add(LONG_SERVE_STALE, f"cache serve_stale {st.args[0]} (over 1h)", st.location, zone)
    if has_dnssec and not tls_upstream:
        d = next(x for s in cf.servers for x in s.plugins("dnssec"))
        add(DNSSEC_ASSUMED, "dnssec signs answers but nothing validates: no DNS-over-TLS validating upstream",
            d.location, "dnssec")
    return out


def _is_coredns(doc_ns: str, labels: dict[str, str], name: str) -> bool:
    return doc_ns == "kube-system" and (labels.get("k8s-app") == "kube-dns" or name == "coredns")


def check_exposure(inv: Inventory) -> list[Finding]:
    """RW-DNS-006 and RW-DNS-013 from Services and CoreDNS workloads."""
    out: list[Finding] = []
    for svc in inv.cluster.services:
        if svc.namespace != "kube-system" or svc.name != "kube-dns":
            continue
        loc = svc.location or Location("", None, None, svc.ref)
        if svc.type in ("LoadBalancer", "NodePort"):
            out.append(Finding(DNS_EXPOSED, f"Service kube-system/kube-dns is type {svc.type}", (loc,), svc.ref,
                               "type"))
        if svc.external_ips:
            out.append(Finding(DNS_EXPOSED, f"Service kube-system/kube-dns has externalIPs "
                               f"{', '.join(svc.external_ips)}", (loc,), svc.ref, "externalIPs"))
    for w in inv.cluster.workloads:
        if not _is_coredns(w.namespace, w.labels, w.name):
            continue
        loc = w.location or Location("", None, None, w.ref)
        if w.host_network:
            out.append(Finding(DNS_EXPOSED, f"{w.ref} runs with hostNetwork: every node answers DNS on its own "
                               "addresses", (loc,), w.ref, "hostNetwork"))
        spec = w.spec
        for c in spec.get("containers") or []:
            if not isinstance(c, dict):
                continue
            for p in c.get("ports") or []:
                if isinstance(p, dict) and p.get("hostPort") == 53:
                    out.append(Finding(DNS_EXPOSED, f"container {c.get('name')} of {w.ref} binds hostPort 53",
                                       (loc,), w.ref, f"hostPort|{c.get('name')}"))
            gaps = _hardening_gaps(spec, c)
            if gaps:
                out.append(Finding(POD_NOT_HARDENED, f"container {c.get('name')} of {w.ref}: {'; '.join(gaps)}",
                                   (loc,), w.ref, str(c.get("name"))))
    return out


def _hardening_gaps(spec: dict[str, Any], c: dict[str, Any]) -> list[str]:
    sc = c.get("securityContext") or {}
    psc = spec.get("securityContext") or {}
    gaps = []
    if sc.get("allowPrivilegeEscalation") is not False:
        gaps.append("allowPrivilegeEscalation is not false")
    caps = sc.get("capabilities") or {}
    if "ALL" not in [str(x).upper() for x in caps.get("drop") or []]:
        gaps.append("capabilities do not drop ALL")
    extra = [x for x in caps.get("add") or [] if str(x).upper() not in ("NET_BIND_SERVICE",)]
    if extra:
        gaps.append(f"adds capabilities {', '.join(map(str, extra))}")
    if sc.get("readOnlyRootFilesystem") is not True:
        gaps.append("root filesystem is writable")
    seccomp = (sc.get("seccompProfile") or psc.get("seccompProfile") or {}).get("type")
    if seccomp not in ("RuntimeDefault", "Localhost"):
        gaps.append("no seccompProfile RuntimeDefault")
    return gaps


def _rules(doc: Document) -> list[dict[str, Any]]:
    rules = doc.obj.get("rules")
    return [r for r in rules if isinstance(r, dict)] if isinstance(rules, list) else []


def check_rbac(inv: Inventory) -> list[Finding]:
    """RW-DNS-007 (CoreDNS's own role) and RW-DNS-008 (who may rewrite the Corefile)."""
    out: list[Finding] = []
    bindings = inv.documents("ClusterRoleBinding", "RoleBinding")
    coredns_roles: set[str] = {"system:coredns"}
    for b in bindings:
        if b.kind != "ClusterRoleBinding":
            continue
        for s in b.obj.get("subjects") or []:
            if isinstance(s, dict) and s.get("kind") == "ServiceAccount" and s.get("name") == "coredns" \
                    and s.get("namespace") == "kube-system":
                ref = b.obj.get("roleRef") or {}
                if ref.get("kind") == "ClusterRole":
                    coredns_roles.add(str(ref.get("name")))
    for role in inv.documents("ClusterRole"):
        if role.name not in coredns_roles:
            continue
        for i, r in enumerate(_rules(role)):
            groups = r.get("apiGroups") or [""]
            resources = r.get("resources") or []
            verbs = r.get("verbs") or []
            excess_verbs = sorted(set(map(str, verbs)) - {"list", "watch"})
            excess_res = sorted(f"{g}/{res}" if g else str(res) for g in groups for res in resources
                                if (g, res) not in MINIMAL_RBAC)
            if excess_verbs or excess_res or r.get("nonResourceURLs"):
                parts = []
                if excess_verbs:
                    parts.append(f"verbs {', '.join(excess_verbs)}")
                if excess_res:
                    parts.append(f"resources {', '.join(excess_res)}")
                if r.get("nonResourceURLs"):
                    parts.append("nonResourceURLs")
                out.append(Finding(RBAC_EXCESSIVE, f"ClusterRole {role.name} rule {i} grants {'; '.join(parts)}",
                                   (role.locate(("rules", i)),), role.ref, str(i)))
    writers = _corefile_writer_roles(inv)
    for b in bindings:
        ref = b.obj.get("roleRef") or {}
        key = (str(ref.get("kind")), str(ref.get("name")), b.namespace("") if ref.get("kind") == "Role" else "")
        if key not in writers:
            continue
        if b.kind == "RoleBinding" and b.namespace("") != "kube-system":
            continue
        for s in b.obj.get("subjects") or []:
            if not isinstance(s, dict) or s.get("name") in ("system:masters", "cluster-admin"):
                continue
            if ref.get("name") in ("cluster-admin", "admin", "system:controller:bootstrap-signer"):
                continue
            who = f"{s.get('kind')} {s.get('namespace') + '/' if s.get('namespace') else ''}{s.get('name')}"
            out.append(Finding(COREFILE_WRITABLE, f"{who} may update ConfigMap kube-system/coredns through "
                               f"{ref.get('kind')} {ref.get('name')}", (b.locate(),), b.ref, who))
    return out


def _corefile_writer_roles(inv: Inventory) -> set[tuple[str, str, str]]:
    out: set[tuple[str, str, str]] = set()
    for role in inv.documents("ClusterRole", "Role"):
        ns = role.namespace("") if role.kind == "Role" else ""
        if role.kind == "Role" and ns != "kube-system":
            continue
        for r in _rules(role):
            groups = r.get("apiGroups") or []
            res = r.get("resources") or []
            verbs = r.get("verbs") or []
            names = r.get("resourceNames") or []
            if ("" in groups or "*" in groups) and ("configmaps" in res or "*" in res) and (
                    {"update", "patch", "*"} & set(verbs)) and (not names or "coredns" in names):
                out.add((role.kind, role.name, ns))
    return out


def nodelocal_address(inv: Inventory, corefiles: list[Corefile]) -> str | None:
    """The link-local address of NodeLocal DNSCache when it is deployed, else None."""
    for w in inv.cluster.workloads:
        if w.name == "node-local-dns" or w.labels.get("k8s-app") == "node-local-dns":
            text = str(w.spec)
            for a in NODELOCAL_ADDRESSES:
                if a in text:
                    return a
            for cm in inv.documents("ConfigMap"):
                if cm.name == "node-local-dns":
                    for a in NODELOCAL_ADDRESSES:
                        if a in str(cm.obj.get("data")):
                            return a
            return NODELOCAL_ADDRESSES[0]
    return None


def check_nodelocal(inv: Inventory, address: str) -> list[Finding]:
    """RW-DNS-010: namespaces whose egress policies never allow the NodeLocal address."""
    ip = ipaddress.ip_address(address)
    out: list[Finding] = []
    by_ns: dict[str, list[Document]] = {}
    for p in inv.documents("NetworkPolicy"):
        spec = p.obj.get("spec") or {}
        if "Egress" in (spec.get("policyTypes") or []) or spec.get("egress") is not None:
            by_ns.setdefault(p.namespace(inv.default_namespace), []).append(p)
    for ns, pols in sorted(by_ns.items()):
        allowed = False
        for p in pols:
            for rule in (p.obj.get("spec") or {}).get("egress") or []:
                if not isinstance(rule, dict):
                    continue
                if not rule.get("to"):
                    allowed = True
                for peer in rule.get("to") or []:
                    cidr = (peer.get("ipBlock") or {}).get("cidr") if isinstance(peer, dict) else None
                    try:
                        if cidr and ip in ipaddress.ip_network(cidr, strict=False):
                            allowed = True
                    except ValueError:
                        continue
        if not allowed:
            out.append(Finding(NODELOCAL_NOT_ALLOWED, f"namespace {ns} restricts egress but no rule allows NodeLocal "
                               f"DNSCache at {address}", (pols[0].locate(),), f"Namespace/{ns}", address))
    return out
