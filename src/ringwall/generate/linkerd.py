"""Linkerd: injection with a deny default, then a Server per destination port and an AuthorizationPolicy
per flow that requires the source's mesh identity (or, from outside the mesh, its networks).

The namespaces the intent isolates get ``linkerd.io/inject: enabled`` and
``config.linkerd.io/default-inbound-policy: deny``: a port no Server describes refuses everyone,
and a port a Server describes admits only what an AuthorizationPolicy names. One Server per pod
group and port (Linkerd refuses two Servers for one port of one pod), shared by the flows to it.
Linkerd authorizes TCP only; UDP flows are left to the other layers.

Enabled by ``mesh: {provider: linkerd}`` (``service_accounts: {zone: [sa, ...]}`` optional, as for Istio).
"""

from __future__ import annotations

from typing import Any

from ringwall.generate.base import Context, GeneratedFile, port_ranges, register
from ringwall.generate.istio import MAX_PORTS, _dump, _meta
from ringwall.generate.netpol import PodGroup, dns_name, groups, isolated_namespaces, unique_names
from ringwall.generate.spec import SpecError

GROUP = "policy.linkerd.io"


def _settings(ctx: Context) -> dict[str, Any] | None:
    mesh = ctx.intent.raw.get("mesh")
    if not isinstance(mesh, dict) or mesh.get("provider") != "linkerd":
        return None
    sas = mesh.get("service_accounts") or {}
    if not isinstance(sas, dict) or not all(isinstance(v, list) for v in sas.values()):
        raise SpecError(f"{ctx.intent.path}: mesh.service_accounts maps zone names to lists of service accounts")
    return {"sas": {str(k): [str(x) for x in v] for k, v in sas.items()}}


def _ports(ctx: Context, flow_name: str, conn: Any) -> list[int]:
    out: list[int] = []
    for proto, lo, hi in port_ranges(conn):
        if proto != "TCP":
            ctx.notes.append(f"linkerd: flow {flow_name}: {proto} is not authorized by Linkerd (TCP only)")
            continue
        if hi - lo + 1 > MAX_PORTS:
            raise SpecError(f"{ctx.intent.path}: flow {flow_name}: Linkerd needs one Server per port; "
                            f"{lo}-{hi} is more than {MAX_PORTS} ports")
        out += list(range(lo, hi + 1))
    return out


def _authentication(ctx: Context, s: dict[str, Any], endpoint: str, name: str, ns: str,
                    flow: str) -> dict[str, Any]:
    if ctx.external(endpoint) is not None:
        cluster = ctx.spec.cluster
        inside = list(cluster.pod_cidrs + cluster.service_cidrs) if cluster else []
        networks = []
        for net in ctx.zone_networks(endpoint):
            entry: dict[str, Any] = {"cidr": str(net)}
            exc = [str(c) for c in inside if c.version == net.version and c != net and c.subnet_of(net)]  # type: ignore[arg-type]
            if exc:
                entry["except"] = exc
            networks.append(entry)
        return {"apiVersion": f"{GROUP}/v1alpha1", "kind": "NetworkAuthentication",
                "metadata": _meta(ctx, name, ns, flow), "spec": {"networks": networks}}
    src_groups = groups(ctx, endpoint)
    refs: list[dict[str, str]]
    if endpoint in s["sas"]:
        refs = [{"kind": "ServiceAccount", "name": sa, "namespace": g.namespace}
                for g in src_groups for sa in s["sas"][endpoint]]
    elif ctx.estate is not None:
        refs = [{"kind": "ServiceAccount", "name": w.service_account, "namespace": w.namespace}
                for g in src_groups for w in ctx.estate.cluster.workloads
                if w.namespace == g.namespace and all(w.labels.get(k) == v for k, v in g.labels)]
    else:
        if any(g.labels for g in src_groups):
            ctx.notes.append(f"linkerd: zone {endpoint} is authenticated by namespace (service accounts unknown: "
                             "give mesh.service_accounts or --workloads), wider than its label selector")
        refs = [{"kind": "Namespace", "name": g.namespace} for g in src_groups]
    unique = sorted({tuple(sorted(r.items())) for r in refs})
    return {"apiVersion": f"{GROUP}/v1alpha1", "kind": "MeshTLSAuthentication",
            "metadata": _meta(ctx, name, ns, flow), "spec": {"identityRefs": [dict(r) for r in unique]}}


def build(ctx: Context, s: dict[str, Any]) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    namespaces = isolated_namespaces(ctx)
    per_ns: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    servers: dict[tuple[PodGroup, int], str] = {}
    for flow in ctx.intent.flows:
        if ctx.external(flow.dst) is not None:
            continue
        ports = _ports(ctx, flow.name, flow.conn) if not flow.conn.is_all() else None
        if ports is None:
            raise SpecError(f"{ctx.intent.path}: flow {flow.name}: Linkerd authorizes per port: give the flow ports")
        for g in (g for g in groups(ctx, flow.dst) if g.namespace in namespaces):
            items = per_ns.setdefault(g.namespace, [])
            auth = f"{dns_name(flow.name)[:50]}-clients"
            if not any(o["metadata"]["name"] == auth for _, o in items):
                items.append((f"flow {flow.name}: who {flow.src} is", _authentication(
                    ctx, s, flow.src, auth, g.namespace, flow.name)))
            for port in ports:
                key = (g, port)
                if key not in servers:
                    base = dns_name("-".join(v for _, v in g.labels) or "all-pods")[:50]
                    name = f"{base}-{port}"
                    taken = set(servers.values())
                    n = 2
                    while f"{g.namespace}/{name}" in taken:
                        name, n = f"{base}-{n}-{port}", n + 1
                    servers[key] = f"{g.namespace}/{name}"
                    items.append((f"port {port} of {dict(g.labels) or 'every pod'}: denied unless authorized", {
                        "apiVersion": f"{GROUP}/v1beta3", "kind": "Server",
                        "metadata": _meta(ctx, name, g.namespace),
                        "spec": {"podSelector": g.selector() or {"matchLabels": {}}, "port": port}}))
                server = servers[key].split("/", 1)[1]
                kind = "NetworkAuthentication" if ctx.external(flow.src) else "MeshTLSAuthentication"
                items.append((f"flow {flow.name}: {flow.src} -> {flow.dst} on TCP/{port}", {
                    "apiVersion": f"{GROUP}/v1alpha1", "kind": "AuthorizationPolicy",
                    "metadata": _meta(ctx, f"{dns_name(flow.name)[:44]}-{port}", g.namespace, flow.name),
                    "spec": {"targetRef": {"group": GROUP, "kind": "Server", "name": server},
                             "requiredAuthenticationRefs": [{"group": GROUP, "kind": kind, "name": auth}]}}))
    return per_ns


def _namespaces(ctx: Context) -> str:
    docs = [("injection, and deny what no Server authorizes (merged into the namespace by kubectl apply)", {
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": ns,
                     "annotations": {"linkerd.io/inject": "enabled",
                                     "config.linkerd.io/default-inbound-policy": "deny"}}})
        for ns in isolated_namespaces(ctx)]
    return _dump(docs, ctx.header())


@register("linkerd", "mesh", "Linkerd Servers, authentications and AuthorizationPolicies (mesh/linkerd/...)")
def generate(ctx: Context) -> list[GeneratedFile]:
    s = _settings(ctx)
    if s is None:
        if not ctx.intent.raw.get("mesh"):
            ctx.notes.append("mesh: no 'mesh: {provider: linkerd}' in the intent: no Linkerd policies generated")
        return []
    per_ns = build(ctx, s)
    unique_names(ctx, per_ns)
    out = [GeneratedFile(f"mesh/linkerd/{ns}.yaml", _dump(items, ctx.header()))
           for ns, items in sorted(per_ns.items())]
    out.append(GeneratedFile("mesh/linkerd/namespaces.yaml", _namespaces(ctx)))
    return out
