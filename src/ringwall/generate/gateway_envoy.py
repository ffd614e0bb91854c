"""Gateway API + Envoy Gateway: one HTTPS Gateway, one HTTPRoute per intended edge route, and the
Envoy Gateway policies that authenticate and rate-limit each route.

Why this shape:

* Policies attach to the *route* (SecurityPolicy, BackendTrafficPolicy), never to the Gateway: in
  Envoy Gateway the most specific SecurityPolicy wins, so a gateway-wide policy would be silently
  replaced on any route that has one (RW-GW-006) and would authenticate the public routes too.
* Client certificates are validated per listener (ClientTrafficPolicy ``clientValidation``), so a
  certificate route gets its own hostname and HTTPS listener (``edge_spec`` insists on it).
* Plain HTTP exists only to redirect to HTTPS; the HTTPS listeners admit routes from the backend
  namespaces only (``from: Selector``: RW-GW-009), and each HTTPRoute lives in its backend's
  namespace, so no ReferenceGrant is needed.
* Anonymous routes carry ``ringwall.io/exposure: public``, the gateway reader's convention for
  "anonymous on purpose".

Enabled by ``edge: {provider: envoy-gateway}`` (see ``edge_spec.py`` and docs/generate.md, "Edge").
"""

from __future__ import annotations

from typing import Any

import yaml

from ringwall.generate.base import Context, GeneratedFile, register
from ringwall.generate.edge_spec import EdgeRoute, EdgeSpec, describe, load_edge, meta

GW = "gateway.networking.k8s.io"
EG = "gateway.envoyproxy.io/v1alpha1"


def listener_name(spec: EdgeSpec, hostname: str) -> str:
    """``https`` for the gateway's hostname, ``https-<host>`` for a route with its own hostname."""
    if hostname == spec.hostname:
        return "https"
    return f"https-{hostname.replace('.', '-').replace('*', 'wildcard')}"[:63].rstrip("-")


def _gateway(ctx: Context, spec: EdgeSpec) -> list[tuple[str, dict[str, Any]]]:
    namespaces = sorted({r.backend.namespace for r in spec.routes})
    allowed = {"namespaces": {"from": "Selector", "selector": {"matchExpressions": [
        {"key": "kubernetes.io/metadata.name", "operator": "In", "values": namespaces or [spec.namespace]}]}}}
    listeners: list[dict[str, Any]] = [{"name": "http", "port": 80, "protocol": "HTTP",
                                        "allowedRoutes": {"namespaces": {"from": "Same"}}}]
    for host in spec.hostnames():
        listeners.append({"name": listener_name(spec, host), "hostname": host, "port": 443, "protocol": "HTTPS",
                          "tls": {"mode": "Terminate", "certificateRefs": [
                              {"kind": "Secret", "name": spec.tls_for(host)}]},
                          "allowedRoutes": allowed})
    out: list[tuple[str, dict[str, Any]]] = [(
        "the edge: HTTPS per hostname (TLS terminated here), plain HTTP only to redirect",
        {"apiVersion": f"{GW}/v1", "kind": "Gateway", "metadata": meta(ctx, spec.name, spec.namespace),
         "spec": {"gatewayClassName": spec.gateway_class, "listeners": listeners}})]
    out.append(("plain HTTP: every request is redirected to HTTPS, nothing is served", {
        "apiVersion": f"{GW}/v1", "kind": "HTTPRoute", "metadata": meta(ctx, "http-to-https", spec.namespace),
        "spec": {"parentRefs": [{"group": GW, "kind": "Gateway", "name": spec.name, "sectionName": "http"}],
                 "rules": [{"filters": [{"type": "RequestRedirect",
                                         "requestRedirect": {"scheme": "https", "statusCode": 301}}]}]}}))
    for r in spec.routes:
        if r.auth != "client_certificate":
            continue
        out.append((f"{describe(r)}: the listener requires a client certificate signed by {r.get('ca_secret')}", {
            "apiVersion": EG, "kind": "ClientTrafficPolicy",
            "metadata": meta(ctx, f"{r.name}-client-cert", spec.namespace, r.flow),
            "spec": {"targetRefs": [{"group": GW, "kind": "Gateway", "name": spec.name,
                                     "sectionName": listener_name(spec, r.hostname)}],
                     "tls": {"clientValidation": {"caCertificateRefs": [
                         {"group": "", "kind": "Secret", "name": str(r.get("ca_secret"))}]}}}}))
    return out


def _route(ctx: Context, spec: EdgeSpec, r: EdgeRoute) -> list[tuple[str, dict[str, Any]]]:
    ns = r.backend.namespace
    target = [{"group": GW, "kind": "HTTPRoute", "name": r.name}]
    what = describe(r)
    out: list[tuple[str, dict[str, Any]]] = [(what, {
        "apiVersion": f"{GW}/v1", "kind": "HTTPRoute", "metadata": meta(ctx, r.name, ns, r.flow, r.public),
        "spec": {"parentRefs": [{"group": GW, "kind": "Gateway", "namespace": spec.namespace, "name": spec.name,
                                 "sectionName": listener_name(spec, r.hostname)}],
                 "hostnames": [r.hostname],
                 "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": r.path}}],
                            "backendRefs": [{"name": r.backend.service, "port": r.backend.port}]}]}})]
    security: dict[str, Any] | None = None
    if r.auth == "jwt":
        provider: dict[str, Any] = {"name": "issuer", "issuer": str(r.get("issuer"))}
        if r.get("audiences"):
            provider["audiences"] = list(r.get("audiences"))
        provider["remoteJWKS"] = {"uri": str(r.get("jwks_uri"))}
        security = {"jwt": {"providers": [provider]}}
    elif r.auth == "api_key":
        security = {"apiKeyAuth": {"credentialRefs": [{"group": "", "kind": "Secret", "name": str(r.get("secret"))}],
                                   "extractFrom": [{"headers": [str(r.get("header"))]}]}}
    if security is not None:
        out.append((f"{what}: requests without valid credentials are refused (never optional)", {
            "apiVersion": EG, "kind": "SecurityPolicy", "metadata": meta(ctx, f"{r.name}-auth", ns, r.flow),
            "spec": {"targetRefs": target, **security}}))
    if r.rate_limit is not None:
        out.append((f"{what}: local rate limit (per gateway replica)", {
            "apiVersion": EG, "kind": "BackendTrafficPolicy", "metadata": meta(ctx, f"{r.name}-rate-limit", ns, r.flow),
            "spec": {"targetRefs": target, "rateLimit": {"type": "Local", "local": {"rules": [
                {"limit": {"requests": r.rate_limit.requests, "unit": r.rate_limit.unit}}]}}}}))
    return out


class _NoAliases(yaml.SafeDumper):
    """Shared sub-objects written out in full: anchors and aliases make reviewed output harder to read."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump(items: list[tuple[str, dict[str, Any]]], header: str) -> str:
    """Objects as one YAML stream, each preceded by a comment naming the flow it serves."""
    parts = []
    for i, (comment, obj) in enumerate(items):
        text = yaml.dump(obj, Dumper=_NoAliases, sort_keys=False, default_flow_style=False, width=120)
        parts.append((f"# {header}\n" if i == 0 else "") + f"# {comment}\n{text}")
    return "---\n".join(parts)


@register("gateway-envoy", "gateway", "Gateway API + Envoy Gateway: Gateway, HTTPRoutes, Security/Client/"
          "BackendTrafficPolicies (edge/envoy-gateway/...)")
def generate(ctx: Context) -> list[GeneratedFile]:
    spec = load_edge(ctx)
    if spec is None or spec.provider != "envoy-gateway":
        if spec is None:
            ctx.notes.append("edge: no 'edge:' section in the intent: no gateway routes generated")
        return []
    out = [GeneratedFile("edge/envoy-gateway/gateway.yaml", dump(_gateway(ctx, spec), ctx.header()))]
    for r in spec.routes:
        out.append(GeneratedFile(f"edge/envoy-gateway/routes/{r.name}.yaml", dump(_route(ctx, spec, r), ctx.header())))
    return out
