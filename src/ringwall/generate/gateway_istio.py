"""Istio ingress gateway: Gateway servers, one VirtualService per intended edge route, and the
RequestAuthentication + AuthorizationPolicy pair that makes JWT routes *require* a token.

Why this shape:

* RequestAuthentication alone only rejects *bad* tokens; a request with no token passes. JWT is
  enforced only by an ALLOW AuthorizationPolicy whose rule for that route requires
  ``requestPrincipals`` (the gateway reader counts it as enforced only then).
* Once any ALLOW policy selects the gateway pods, requests no rule matches are denied, so every
  route gets a rule: anonymous and certificate routes without a principal requirement, scoped to
  their host and path, and with the more specific routes of the same host excluded (``notPaths``)
  so that a public ``/`` cannot open a token-protected ``/api``.
* Client certificates are a ``MUTUAL`` server per hostname (Istio reads the CA from the
  ``<credentialName>-cacert`` Secret or the ``ca.crt`` key of the credential).
* Rate limits are the gateway's local rate-limit filter, with a token bucket per named route
  (EnvoyFilter); Istio has no API-key authentication of its own, so API-key routes are not
  generated here (use ``provider: envoy-gateway``) and the command says so.

Enabled by ``edge: {provider: istio}`` (``gateway.selector`` and ``gateway.pod_namespace`` say where
the ingress gateway pods run; default ``istio: ingressgateway`` in ``istio-system``).
"""

from __future__ import annotations

from typing import Any

from ringwall.generate.base import Context, GeneratedFile, register
from ringwall.generate.edge_spec import EdgeRoute, EdgeSpec, describe, load_edge, meta
from ringwall.generate.gateway_envoy import dump

NET = "networking.istio.io/v1"
SEC = "security.istio.io/v1"
UNIT_SECONDS = {"Second": 1, "Minute": 60, "Hour": 3600}


def _paths(path: str) -> list[str]:
    """Istio operation paths for a route: ``<prefix>*``, exactly the string-prefix match of the
    VirtualService (``/api`` also routes ``/apix``, so ``/api`` and ``/api/*`` would leave a gap)."""
    return [f"{path}*"]


def _hosts(host: str) -> list[str]:
    return [host, f"{host}:*"]


def _under(inner: str, outer: str) -> bool:
    return inner != outer and inner.startswith(outer)


def _routes(ctx: Context, spec: EdgeSpec) -> list[EdgeRoute]:
    out = []
    for r in spec.routes:
        if r.auth == "api_key":
            ctx.notes.append(f"gateway-istio: route {r.flow}: Istio has no API-key authentication; not exposed "
                             "(use edge.provider envoy-gateway, or an ext-authz provider)")
            continue
        if r.auth == "client_certificate":
            ctx.notes.append(f"gateway-istio: route {r.flow}: Istio reads the client CA from Secret "
                             f"{spec.pod_namespace}/{r.tls_secret}-cacert (or key ca.crt of {r.tls_secret}): "
                             f"put the certificates of {r.get('ca_secret')} there")
        out.append(r)
    return out


def _gateway(ctx: Context, spec: EdgeSpec, routes: list[EdgeRoute]) -> list[tuple[str, dict[str, Any]]]:
    mutual = sorted({r.hostname for r in routes if r.auth == "client_certificate"})
    simple = [h for h in spec.hostnames() if h not in mutual and any(r.hostname == h for r in routes)] \
        or [spec.hostname]
    servers: list[dict[str, Any]] = [
        {"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": sorted({*simple, *mutual}),
         "tls": {"httpsRedirect": True}}]
    for h in simple:
        servers.append({"port": {"number": 443, "name": f"https-{h.replace('.', '-')}"[:63], "protocol": "HTTPS"},
                        "hosts": [h], "tls": {"mode": "SIMPLE", "credentialName": spec.tls_for(h)}})
    for h in mutual:
        servers.append({"port": {"number": 443, "name": f"mtls-{h.replace('.', '-')}"[:63], "protocol": "HTTPS"},
                        "hosts": [h], "tls": {"mode": "MUTUAL", "credentialName": spec.tls_for(h)}})
    return [("the edge: HTTPS per hostname (MUTUAL where the intent asks for client certificates), plain HTTP "
             "only redirects", {"apiVersion": NET, "kind": "Gateway", "metadata": meta(ctx, spec.name, spec.namespace),
                                "spec": {"selector": dict(spec.selector), "servers": servers}})]


def _policies(ctx: Context, spec: EdgeSpec, routes: list[EdgeRoute]) -> list[tuple[str, dict[str, Any]]]:
    sel = {"matchLabels": dict(spec.selector)}
    ns = spec.pod_namespace
    out: list[tuple[str, dict[str, Any]]] = []
    jwt = [r for r in routes if r.auth == "jwt"]
    if jwt:
        rules = []
        for r in jwt:
            rule: dict[str, Any] = {"issuer": str(r.get("issuer")), "jwksUri": str(r.get("jwks_uri"))}
            if r.get("audiences"):
                rule["audiences"] = list(r.get("audiences"))
            if rule not in rules:
                rules.append(rule)
        out.append(("tokens presented at the gateway are verified (alone this admits requests without one)", {
            "apiVersion": SEC, "kind": "RequestAuthentication", "metadata": meta(ctx, f"{spec.name}-jwt", ns),
            "spec": {"selector": sel, "jwtRules": rules}}))
    allow = []
    for r in routes:
        op: dict[str, Any] = {"hosts": _hosts(r.hostname), "paths": _paths(r.path)}
        inner = sorted({p for o in routes if o.hostname == r.hostname and _under(o.path, r.path)
                        for p in _paths(o.path)})
        if inner:
            op["notPaths"] = inner
        rule = {"to": [{"operation": op}]}
        if r.auth == "jwt":
            rule = {"from": [{"source": {"requestPrincipals": [f"{r.get('issuer')}/*"]}}], **rule}
        allow.append(rule)
    out.append(("every route's rule; JWT routes require a verified token (requestPrincipals), anything else is "
                "denied: " + "; ".join(r.flow for r in routes), {
                    "apiVersion": SEC, "kind": "AuthorizationPolicy", "metadata": meta(ctx, f"{spec.name}-routes", ns),
                    "spec": {"selector": sel, "action": "ALLOW", "rules": allow}}))
    limited = [r for r in routes if r.rate_limit is not None]
    if limited:
        patches: list[dict[str, Any]] = [{
            "applyTo": "HTTP_FILTER",
            "match": {"context": "GATEWAY", "listener": {"filterChain": {"filter": {
                "name": "envoy.filters.network.http_connection_manager",
                "subFilter": {"name": "envoy.filters.http.router"}}}}},
            "patch": {"operation": "INSERT_BEFORE", "value": {
                "name": "envoy.filters.http.local_ratelimit",
                "typed_config": {"@type": "type.googleapis.com/udpa.type.v1.TypedStruct",
                                 "type_url": "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3."
                                             "LocalRateLimit",
                                 "value": {"stat_prefix": "ringwall_edge"}}}}}]
        for r in limited:
            assert r.rate_limit is not None
            patches.append({
                "applyTo": "HTTP_ROUTE",
                "match": {"context": "GATEWAY", "routeConfiguration": {"vhost": {"route": {"name": r.name}}}},
                "patch": {"operation": "MERGE", "value": {"typed_per_filter_config": {
                    "envoy.filters.http.local_ratelimit": {
                        "@type": "type.googleapis.com/udpa.type.v1.TypedStruct",
                        "type_url": "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3."
                                    "LocalRateLimit",
                        "value": {"stat_prefix": f"ringwall_{r.name.replace('-', '_')}",
                                  "token_bucket": {"max_tokens": r.rate_limit.requests,
                                                   "tokens_per_fill": r.rate_limit.requests,
                                                   "fill_interval": f"{UNIT_SECONDS[r.rate_limit.unit]}s"},
                                  "filter_enabled": {"runtime_key": "ringwall_edge_enabled",
                                                     "default_value": {"numerator": 100, "denominator": "HUNDRED"}},
                                  "filter_enforced": {"runtime_key": "ringwall_edge_enforced",
                                                      "default_value": {"numerator": 100, "denominator": "HUNDRED"}}}}
                }}}})
        out.append(("local rate limits per route (per gateway replica): " + ", ".join(
            f"{r.flow} {r.rate_limit.requests}/{r.rate_limit.unit}" for r in limited if r.rate_limit), {
            "apiVersion": "networking.istio.io/v1alpha3", "kind": "EnvoyFilter",
            "metadata": meta(ctx, f"{spec.name}-rate-limit", ns),
            "spec": {"workloadSelector": {"labels": dict(spec.selector)}, "configPatches": patches}}))
    return out


def _virtual_service(ctx: Context, spec: EdgeSpec, host: str, routes: list[EdgeRoute]) -> tuple[str, dict[str, Any]]:
    """One VirtualService per hostname, most specific path first: Istio merges several VirtualServices
    of one host on a gateway in no guaranteed order, so a ``/`` route could shadow ``/api``."""
    ordered = sorted(routes, key=lambda r: (-len(r.path.rstrip("/")), r.path))
    http = [{"name": r.name, "match": [{"uri": {"prefix": r.path}}],
             "route": [{"destination": {"host": f"{r.backend.service}.{r.backend.namespace}.svc.cluster.local",
                                        "port": {"number": r.backend.port}}}]} for r in ordered]
    public = all(r.public for r in routes)
    flows = ", ".join(r.flow for r in ordered)
    md = meta(ctx, host.replace(".", "-")[:63], spec.namespace, flows, public)
    return ("; ".join(describe(r) for r in ordered), {
        "apiVersion": NET, "kind": "VirtualService", "metadata": md,
        "spec": {"hosts": [host], "gateways": [f"{spec.namespace}/{spec.name}"], "http": http}})


@register("gateway-istio", "gateway", "Istio ingress gateway: Gateway, VirtualServices, RequestAuthentication, "
          "AuthorizationPolicy, rate-limit EnvoyFilter (edge/istio/...)")
def generate(ctx: Context) -> list[GeneratedFile]:
    spec = load_edge(ctx)
    if spec is None or spec.provider != "istio":
        return []
    routes = _routes(ctx, spec)
    out = [GeneratedFile("edge/istio/gateway.yaml", dump(_gateway(ctx, spec, routes), ctx.header())),
           GeneratedFile("edge/istio/authentication.yaml", dump(_policies(ctx, spec, routes), ctx.header()))]
    for host in sorted({r.hostname for r in routes}):
        mine = [r for r in routes if r.hostname == host]
        out.append(GeneratedFile(f"edge/istio/routes/{host}.yaml",
                                 dump([_virtual_service(ctx, spec, host, mine)], ctx.header())))
    return out
