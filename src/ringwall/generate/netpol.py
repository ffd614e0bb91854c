"""Kubernetes NetworkPolicies: default deny per namespace, DNS egress, then one policy per flow side.

Every intended flow between workloads becomes an egress policy in the source namespace and an
ingress policy in the destination namespace, so the flow works however the other side is
isolated and nothing else does. Peers name their namespace with ``kubernetes.io/metadata.name``
*and* their pods in one peer (two peers would mean "or": every pod of the namespace, or those
pods anywhere). External zones become ``ipBlock`` peers that except the pod and Service CIDRs,
so a zone such as ``0.0.0.0/0`` does not quietly admit every pod of the cluster too.

Namespaces listed in ``ignore.namespaces`` (kube-system by default) get nothing: they are not
judged, and isolating them would break the DNS every other namespace needs.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any

import yaml

from ringwall.generate.base import Context, GeneratedFile, describe_conn, port_ranges, register
from ringwall.generate.spec import Network, SpecError
from ringwall.model.connections import ConnectionSet

NS_LABEL = "kubernetes.io/metadata.name"
MANAGED = {"app.kubernetes.io/managed-by": "ringwall"}
DNS = ConnectionSet.of("UDP", [(53, 53)]) | ConnectionSet.of("TCP", [(53, 53)])


@dataclass(frozen=True)
class PodGroup:
    """Pods of one namespace with the given labels (empty: every pod of the namespace)."""

    namespace: str
    labels: tuple[tuple[str, str], ...] = ()

    def selector(self) -> dict[str, Any]:
        return {"matchLabels": dict(self.labels)} if self.labels else {}

    def peer(self) -> dict[str, Any]:
        return {"namespaceSelector": {"matchLabels": {NS_LABEL: self.namespace}}, "podSelector": self.selector()}


def dns_name(text: str) -> str:
    """A DNS-1123 name from a flow name (lower case, digits and dashes, at most 63 characters)."""
    name = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    return name[:63].rstrip("-") or "flow"


def _raw_zone(ctx: Context, name: str) -> dict[str, Any]:
    for z in ctx.intent.raw.get("zones") or []:
        if isinstance(z, dict) and z.get("name") == name:
            return z
    return {}


def groups(ctx: Context, endpoint: str) -> list[PodGroup]:
    """The pod groups an internal zone (or an ``ns/name`` workload) stands for."""
    zone = ctx.intent.zone(endpoint)
    raw = _raw_zone(ctx, endpoint)
    selector = raw.get("selector") if isinstance(raw.get("selector"), dict) else {}
    sel = tuple(sorted((str(k), str(v)) for k, v in selector.items()))
    if zone is None and "/" not in endpoint:
        raise SpecError(f"{ctx.intent.path}: {endpoint!r} is neither a zone of the intent nor a workload (ns/name)")
    workloads = list(zone.workloads) if zone is not None else [endpoint]
    if workloads:
        if ctx.estate is None:
            raise SpecError(f"{ctx.intent.path}: {endpoint!r} names workloads: give the workloads "
                            "(--workloads PATH) so their pod labels can be selected")
        out = []
        for ref in workloads:
            ns, _, name = ref.partition("/")
            hits = [w for w in ctx.estate.cluster.workloads
                    if w.namespace == ns and (w.name == name or w.key == ref) and (zone is None or zone.contains(w))]
            if not hits:
                raise SpecError(f"{ctx.intent.path}: workload {ref!r} (zone {endpoint!r}) is not among the workloads")
            for w in hits:
                labels = dict(w.labels)
                labels.update(dict(sel))
                out.append(PodGroup(ns, tuple(sorted(labels.items()))))
        return sorted(set(out))
    namespaces = list(zone.namespaces) if zone is not None else []
    if not namespaces:
        if ctx.estate is not None:
            namespaces = sorted({w.namespace for w in ctx.estate.cluster.workloads if zone and zone.contains(w)})
        elif ctx.spec.cluster and ctx.spec.cluster.namespaces:
            namespaces = list(ctx.spec.cluster.namespaces)
        else:
            raise SpecError(f"{ctx.intent.path}: zone {endpoint!r} selects by labels only: give its namespaces, "
                            "cluster.namespaces, or the workloads")
    return [PodGroup(ns, sel) for ns in sorted(namespaces)]


def _ports(conn: ConnectionSet) -> list[dict[str, Any]] | None:
    if conn.is_all():
        return None
    out: list[dict[str, Any]] = []
    for proto, lo, hi in port_ranges(conn):
        p: dict[str, Any] = {"protocol": proto}
        if (lo, hi) != (1, 65535):
            p["port"] = lo
            if hi > lo:
                p["endPort"] = hi
        out.append(p)
    return out


def _ip_blocks(ctx: Context, nets: tuple[Network, ...]) -> list[dict[str, Any]]:
    inside: list[Network] = []
    if ctx.spec.cluster:
        inside = [*ctx.spec.cluster.pod_cidrs, *ctx.spec.cluster.service_cidrs]
    out = []
    for net in sorted(set(nets), key=lambda n: (n.version, n)):
        block: dict[str, Any] = {"cidr": str(net)}
        exc = [str(c) for c in sorted(inside, key=lambda n: (n.version, n))
               if c.version == net.version and c != net and c.subnet_of(net)]  # type: ignore[arg-type]
        if exc:
            block["except"] = exc
        out.append({"ipBlock": block})
    return out


def _policy(ctx: Context, name: str, ns: str, pods: dict[str, Any], kind: str, rules: list[dict[str, Any]],
            flow: str | None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": ns, "labels": dict(MANAGED)}
    notes = {"ringwall.dev/intent": ctx.intent.name}
    if flow:
        notes["ringwall.dev/flow"] = flow
    meta["annotations"] = notes
    spec: dict[str, Any] = {"podSelector": pods, "policyTypes": [kind]}
    if rules:
        spec[kind.lower()] = rules
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta, "spec": spec}


def _rule(kind: str, peers: list[dict[str, Any]], conn: ConnectionSet) -> dict[str, Any]:
    rule: dict[str, Any] = {("from" if kind == "Ingress" else "to"): peers}
    ports = _ports(conn)
    if ports is not None:
        rule["ports"] = ports
    return rule


def isolated_namespaces(ctx: Context) -> list[str]:
    """Namespaces that get a default deny: the zones', ``cluster.namespaces`` and the workloads', minus
    the ignored ones."""
    namespaces: set[str] = set(ctx.spec.cluster.namespaces if ctx.spec.cluster else ())
    if ctx.estate is not None:
        namespaces |= {w.namespace for w in ctx.estate.cluster.workloads}
    for z in ctx.intent.zones:
        if not z.external:
            namespaces |= {g.namespace for g in groups(ctx, z.name)}
    return sorted(namespaces - set(ctx.intent.ignore_namespaces))


def build(ctx: Context) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """Per namespace, ``(comment, object)`` in output order."""
    ignored = set(ctx.intent.ignore_namespaces)
    per_ns: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    namespaces = set(isolated_namespaces(ctx))
    flow_objs: list[tuple[str, str, dict[str, Any]]] = []
    for flow in ctx.intent.flows:
        src_ext, dst_ext = ctx.external(flow.src), ctx.external(flow.dst)
        if src_ext and dst_ext:
            ctx.notes.append(f"kubernetes: flow {flow.name} joins two external zones: nothing for Kubernetes")
            continue
        what = f"flow {flow.name}: {flow.src} -> {flow.dst} on {describe_conn(flow.conn)}"
        src_groups = [] if src_ext else groups(ctx, flow.src)
        dst_groups = [] if dst_ext else groups(ctx, flow.dst)
        src_peers = _ip_blocks(ctx, ctx.zone_networks(flow.src)) if src_ext else [g.peer() for g in src_groups]
        dst_peers = _ip_blocks(ctx, ctx.zone_networks(flow.dst)) if dst_ext else [g.peer() for g in dst_groups]
        base = dns_name(flow.name)
        for kind, mine, peers in (("Egress", src_groups, dst_peers), ("Ingress", dst_groups, src_peers)):
            for i, g in enumerate(mine):
                suffix = f"-{i + 1}" if sum(1 for h in mine if h.namespace == g.namespace) > 1 else ""
                name = f"{base[:50]}-{kind.lower()}{suffix}"
                obj = _policy(ctx, name, g.namespace, g.selector(), kind, [_rule(kind, peers, flow.conn)], flow.name)
                flow_objs.append((g.namespace, f"{what} ({kind.lower()} side)", obj))
                namespaces.add(g.namespace)
    for ns in sorted(namespaces - ignored):
        items = per_ns.setdefault(ns, [])
        items.append(("default deny: only what the intent lists below is allowed",
                      _policy(ctx, "default-deny", ns, {}, "Ingress", [], None)))
        items[-1][1]["spec"]["policyTypes"] = ["Ingress", "Egress"]
        if ctx.intent.dns:
            items.append(_dns_policy(ctx, ns))
    for ns, comment, obj in flow_objs:
        if ns in ignored:
            ctx.notes.append(f"kubernetes: {obj['metadata']['name']} not generated: namespace {ns} is ignored")
            continue
        per_ns[ns].append((comment, obj))
    return per_ns


def _dns_policy(ctx: Context, ns: str) -> tuple[str, dict[str, Any]]:
    dns = ctx.spec.cluster.dns if ctx.spec.cluster else None
    dns_ns = dns.namespace if dns else "kube-system"
    labels = dict(dns.labels) if dns else {"k8s-app": "kube-dns"}
    peers: list[dict[str, Any]] = [{"namespaceSelector": {"matchLabels": {NS_LABEL: dns_ns}},
                                    "podSelector": {"matchLabels": labels}}]
    comment = "DNS: every pod resolves names through kube-dns on UDP and TCP 53 (intent dns: true)"
    if dns and dns.nodelocal:
        peers.append({"ipBlock": {"cidr": str(ipaddress.ip_network(dns.nodelocal))}})
        comment += ", and NodeLocal DNSCache"
    return comment, _policy(ctx, "allow-dns", ns, {}, "Egress", [_rule("Egress", peers, DNS)], None)


def _banp(ctx: Context) -> dict[str, Any]:
    ignored = sorted(ctx.intent.ignore_namespaces)
    subject = {"namespaces": {"matchExpressions": [{"key": NS_LABEL, "operator": "NotIn", "values": ignored}]}}
    return {
        "apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "BaselineAdminNetworkPolicy",
        "metadata": {"name": "default", "labels": dict(MANAGED),
                     "annotations": {"ringwall.dev/intent": ctx.intent.name}},
        "spec": {"subject": subject,
                 "ingress": [{"name": "deny-from-cluster", "action": "Deny", "from": [{"namespaces": {}}]}]},
    }


def unique_names(ctx: Context, per_ns: dict[str, list[tuple[str, dict[str, Any]]]]) -> None:
    """Two objects of one kind and name in a namespace would silently replace each other when applied
    (flow names that differ only in characters a Kubernetes name cannot hold): refuse them."""
    for ns, items in per_ns.items():
        seen: dict[tuple[str, str], str] = {}
        for comment, obj in items:
            key = (obj["kind"], obj["metadata"]["name"])
            if key in seen:
                raise SpecError(f"{ctx.intent.path}: {key[0]} {ns}/{key[1]} would serve both '{seen[key]}' and "
                                f"'{comment}': give the flows names that differ in letters or digits")
            seen[key] = comment


def _dump(items: list[tuple[str, dict[str, Any]]], header: str) -> str:
    parts = []
    for i, (comment, obj) in enumerate(items):
        text = yaml.safe_dump(obj, sort_keys=False, default_flow_style=False, width=120)
        lead = f"# {header}\n" if i == 0 else ""
        parts.append(f"{lead}# {comment}\n{text}")
    return "---\n".join(parts)


@register("netpol", "netpol", "Kubernetes NetworkPolicies per namespace (kubernetes/<namespace>.yaml)")
def generate(ctx: Context) -> list[GeneratedFile]:
    per_ns = build(ctx)
    unique_names(ctx, per_ns)
    out = [GeneratedFile(f"kubernetes/{ns}.yaml", _dump(items, ctx.header())) for ns, items in sorted(per_ns.items())]
    if ctx.spec.cluster and ctx.spec.cluster.admin_network_policy:
        guard = ("cluster-wide guard: namespaces whose NetworkPolicies are removed fall back to denying "
                 "ingress from every pod")
        out.append(GeneratedFile("kubernetes/cluster/baseline-admin-network-policy.yaml",
                                 _dump([(guard, _banp(ctx))], ctx.header())))
    return out
