"""Istio: mesh-wide STRICT mTLS, allow-nothing per namespace, one ALLOW policy per flow destination.

This is the second, independent layer behind the NetworkPolicies: a flow must also present the
right workload identity (service-account principal) to get in. Sources are principals when the
workloads are known (``--workloads``) and namespaces otherwise (wider than a label-selected zone:
the command says so). Flows from external zones reach pods without a sidecar identity (a NodePort),
so their destination port is PERMISSIVE for that workload only and the ALLOW rule names the zone's
address blocks. Istio authorization speaks TCP: UDP ports of a flow are left to the other layers.

Enabled by ``mesh: {provider: istio}`` in the intent (``root_namespace``, ``trust_domain`` and
``service_accounts: {zone: [sa, ...]}`` optional).
"""

from __future__ import annotations

from typing import Any

import yaml

from ringwall.generate.base import Context, GeneratedFile, describe_conn, port_ranges, register
from ringwall.generate.netpol import PodGroup, dns_name, groups, isolated_namespaces, unique_names
from ringwall.generate.spec import SpecError
from ringwall.model.connections import ConnectionSet

MANAGED = {"app.kubernetes.io/managed-by": "ringwall"}
MAX_PORTS = 32


def _settings(ctx: Context) -> dict[str, Any] | None:
    mesh = ctx.intent.raw.get("mesh")
    if not isinstance(mesh, dict) or mesh.get("provider") != "istio":
        return None
    sas = mesh.get("service_accounts") or {}
    if not isinstance(sas, dict) or not all(isinstance(v, list) for v in sas.values()):
        raise SpecError(f"{ctx.intent.path}: mesh.service_accounts maps zone names to lists of service accounts")
    for zone in sas:
        z = ctx.intent.zone(str(zone))
        if z is None or z.external:
            raise SpecError(f"{ctx.intent.path}: mesh.service_accounts: {zone!r} is not an internal zone")
    return {"root": str(mesh.get("root_namespace") or "istio-system"),
            "trust": str(mesh.get("trust_domain") or "cluster.local"),
            "sas": {str(k): [str(x) for x in v] for k, v in sas.items()}}


def _ports(ctx: Context, conn: ConnectionSet, flow: str) -> list[str] | None:
    """Istio ports (strings, one per port); None: every port."""
    if conn.is_all() or conn.ports("TCP") == ((1, 65535),):
        return None
    out: list[str] = []
    for proto, lo, hi in port_ranges(conn):
        if proto != "TCP":
            ctx.notes.append(f"istio: flow {flow}: {proto} is not authorized by Istio (TCP only); left to the "
                             "other layers")
            continue
        if hi - lo + 1 > MAX_PORTS:
            ctx.notes.append(f"istio: flow {flow}: range {lo}-{hi} is too wide to list: every port allowed")
            return None
        out += [str(p) for p in range(lo, hi + 1)]
    return out


def _sources(ctx: Context, endpoint: str, s: dict[str, Any]) -> dict[str, Any]:
    trust = s["trust"]
    ext = ctx.external(endpoint)
    if ext is not None:
        # Clients outside the mesh: no identity (notPrincipals "*" matches only requests without one),
        # from the zone's addresses but not from the pods' (a pod without a sidecar is not the zone).
        source: dict[str, Any] = {"ipBlocks": [str(n) for n in ctx.zone_networks(endpoint)]}
        cluster = ctx.spec.cluster
        inside = [str(c) for c in (cluster.pod_cidrs + cluster.service_cidrs if cluster else ())
                  if any(c.version == n.version and c.subnet_of(n) for n in ctx.zone_networks(endpoint))]
        if inside:
            source["notIpBlocks"] = inside
        source["notPrincipals"] = ["*"]
        return source
    src_groups = groups(ctx, endpoint)
    if endpoint in s["sas"]:
        return {"principals": sorted({f"{trust}/ns/{g.namespace}/sa/{sa}" for g in src_groups
                                      for sa in s["sas"][endpoint]})}
    if ctx.estate is None:
        if any(g.labels for g in src_groups):
            ctx.notes.append(f"istio: zone {endpoint} is allowed by namespace (service accounts unknown: give "
                             "mesh.service_accounts or --workloads), wider than its label selector")
        return {"namespaces": sorted({g.namespace for g in src_groups})}
    principals = sorted({f"{trust}/ns/{w.namespace}/sa/{w.service_account}"
                         for g in src_groups for w in ctx.estate.cluster.workloads
                         if w.namespace == g.namespace and all(w.labels.get(k) == v for k, v in g.labels)})
    return {"principals": principals or [f"{trust}/ns/none/sa/none"]}


def _meta(ctx: Context, name: str, ns: str, flow: str | None = None) -> dict[str, Any]:
    notes = {"ringwall.dev/intent": ctx.intent.name}
    if flow:
        notes["ringwall.dev/flow"] = flow
    return {"name": name, "namespace": ns, "labels": dict(MANAGED), "annotations": notes}


def build(ctx: Context, s: dict[str, Any]) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    per_ns: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    namespaces = isolated_namespaces(ctx)
    root = per_ns.setdefault(s["root"], [])
    root.append(("mesh-wide mutual TLS: every workload requires a mesh identity", {
        "apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
        "metadata": _meta(ctx, "default", s["root"]), "spec": {"mtls": {"mode": "STRICT"}}}))
    for ns in namespaces:
        per_ns.setdefault(ns, []).append(("allow nothing: only the ALLOW policies below admit requests", {
            "apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
            "metadata": _meta(ctx, "allow-nothing", ns), "spec": {}}))
    for flow in ctx.intent.flows:
        if ctx.external(flow.dst) is not None:
            continue  # leaving the mesh: egress is not authorized here
        source = _sources(ctx, flow.src, s)
        ports = _ports(ctx, flow.conn, flow.name)
        if ports == []:
            continue
        dst_groups: list[PodGroup] = [g for g in groups(ctx, flow.dst) if g.namespace in namespaces]
        for i, g in enumerate(dst_groups):
            suffix = f"-{i + 1}" if sum(1 for h in dst_groups if h.namespace == g.namespace) > 1 else ""
            name = f"{dns_name(flow.name)[:50]}{suffix}"
            rule: dict[str, Any] = {"from": [{"source": source}]}
            if ports is not None:
                rule["to"] = [{"operation": {"ports": ports}}]
            spec: dict[str, Any] = {"action": "ALLOW", "rules": [rule]}
            if g.labels:
                spec["selector"] = {"matchLabels": dict(g.labels)}
            what = f"flow {flow.name}: {flow.src} -> {flow.dst} on {describe_conn(flow.conn)}"
            per_ns[g.namespace].append((what, {"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
                                               "metadata": _meta(ctx, name, g.namespace, flow.name), "spec": spec}))
            if "ipBlocks" in source:
                if not g.labels or ports is None:
                    ctx.notes.append(f"istio: flow {flow.name} from outside the mesh needs a pod selector and ports "
                                     "for a PERMISSIVE port: it stays STRICT (blocked without an ingress gateway)")
                    continue
                per_ns[g.namespace].append((f"{what}: clients outside the mesh have no identity on these ports", {
                    "apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
                    "metadata": _meta(ctx, f"{name}-plaintext", g.namespace, flow.name),
                    "spec": {"selector": {"matchLabels": dict(g.labels)}, "mtls": {"mode": "STRICT"},
                             "portLevelMtls": {p: {"mode": "PERMISSIVE"} for p in ports}}}))
    return per_ns


def _dump(items: list[tuple[str, dict[str, Any]]], header: str) -> str:
    parts = []
    for i, (comment, obj) in enumerate(items):
        text = yaml.safe_dump(obj, sort_keys=False, default_flow_style=False, width=120)
        parts.append((f"# {header}\n" if i == 0 else "") + f"# {comment}\n{text}")
    return "---\n".join(parts)


def _namespaces(ctx: Context) -> str:
    docs = [("sidecar injection for the namespaces the intent isolates (merged into the existing labels by "
             "kubectl apply)", {"apiVersion": "v1", "kind": "Namespace",
                                "metadata": {"name": ns, "labels": {"istio-injection": "enabled"}}})
            for ns in isolated_namespaces(ctx)]
    return _dump(docs, ctx.header())


@register("istio", "mesh", "Istio PeerAuthentication and AuthorizationPolicies (mesh/istio/...)")
def generate(ctx: Context) -> list[GeneratedFile]:
    s = _settings(ctx)
    if s is None:
        if not ctx.intent.raw.get("mesh"):
            ctx.notes.append("mesh: no 'mesh: {provider: istio}' in the intent: no Istio policies generated")
        return []
    per_ns = build(ctx, s)
    unique_names(ctx, per_ns)
    out = [GeneratedFile(f"mesh/istio/{ns}.yaml", _dump(items, ctx.header())) for ns, items in sorted(per_ns.items())]
    out.append(GeneratedFile("mesh/istio/namespaces.yaml", _namespaces(ctx)))
    return out
