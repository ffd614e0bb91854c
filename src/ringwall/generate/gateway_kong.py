"""Kong (Kong Ingress Controller): one Ingress per intended edge route with its KongPlugins.

Why this shape:

* Plugins are attached per Ingress (``konghq.com/plugins``), never as global KongClusterPlugins, so
  the authentication of one route cannot leak onto (or be missing from) another, and anonymous
  routes carry ``ringwall.io/exposure: public`` instead of an auth plugin.
* No auth plugin sets ``config.anonymous`` (that makes authentication optional: RW-GW-005) and
  ``jwt`` verifies ``exp`` (RW-GW-010).
* Each Ingress serves HTTPS only (``konghq.com/protocols: https``) and redirects plain HTTP with 301.
* Kong OSS verifies JWTs against a consumer's credential, not a JWKS URL, and client certificates
  (``mtls-auth``) are Kong Enterprise only: the command says what is left to the operator, and
  certificate routes are not generated here (use ``provider: envoy-gateway`` or ``istio``).

Enabled by ``edge: {provider: kong}``.
"""

from __future__ import annotations

from typing import Any

from ringwall.generate.base import Context, GeneratedFile, register
from ringwall.generate.edge_spec import EdgeRoute, EdgeSpec, describe, load_edge, meta
from ringwall.generate.gateway_envoy import dump

KONG_UNIT = {"Second": "second", "Minute": "minute", "Hour": "hour"}


def _route(ctx: Context, spec: EdgeSpec, r: EdgeRoute) -> list[tuple[str, dict[str, Any]]]:
    ns = r.backend.namespace
    what = describe(r)
    plugins: list[tuple[str, dict[str, Any]]] = []
    if r.auth == "api_key":
        plugins.append((f"{what}: the key is required (no anonymous consumer)", {
            "apiVersion": "configuration.konghq.com/v1", "kind": "KongPlugin",
            "metadata": meta(ctx, f"{r.name}-auth", ns, r.flow), "plugin": "key-auth",
            "config": {"key_names": [str(r.get("header"))], "hide_credentials": True}}))
        plugins.append((f"{what}: the clients whose keys are in Secret {ns}/{r.get('secret')}", {
            "apiVersion": "configuration.konghq.com/v1", "kind": "KongConsumer",
            "metadata": {**meta(ctx, f"{r.name}-clients", ns, r.flow),
                         "annotations": {**meta(ctx, "", ns, r.flow)["annotations"],
                                         "kubernetes.io/ingress.class": "kong"}},
            "username": f"{r.name}-clients", "credentials": [str(r.get("secret"))]}))
        ctx.notes.append(f"gateway-kong: route {r.flow}: label Secret {ns}/{r.get('secret')} "
                         "konghq.com/credential=key-auth (one key per client)")
    elif r.auth == "jwt":
        plugins.append((f"{what}: a valid, unexpired token is required (no anonymous consumer)", {
            "apiVersion": "configuration.konghq.com/v1", "kind": "KongPlugin",
            "metadata": meta(ctx, f"{r.name}-auth", ns, r.flow), "plugin": "jwt",
            "config": {"claims_to_verify": ["exp"], "key_claim_name": "iss", "header_names": ["authorization"]}}))
        ctx.notes.append(f"gateway-kong: route {r.flow}: Kong OSS checks JWTs against a consumer's jwt credential: "
                         f"create one with key {r.get('issuer')} and the public key from {r.get('jwks_uri')}")
    if r.rate_limit is not None:
        plugins.append((f"{what}: rate limit (per Kong node)", {
            "apiVersion": "configuration.konghq.com/v1", "kind": "KongPlugin",
            "metadata": meta(ctx, f"{r.name}-rate-limit", ns, r.flow), "plugin": "rate-limiting",
            "config": {KONG_UNIT[r.rate_limit.unit]: r.rate_limit.requests, "policy": "local"}}))
    md = meta(ctx, r.name, ns, r.flow, r.public)
    names = [o["metadata"]["name"] for _, o in plugins if o["kind"] == "KongPlugin"]
    md["annotations"].update({"konghq.com/protocols": "https", "konghq.com/https-redirect-status-code": "301",
                              **({"konghq.com/plugins": ",".join(names)} if names else {})})
    ingress = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": md, "spec": {
        "ingressClassName": "kong", "tls": [{"hosts": [r.hostname], "secretName": r.tls_secret}],
        "rules": [{"host": r.hostname, "http": {"paths": [{"path": r.path, "pathType": "Prefix", "backend": {
            "service": {"name": r.backend.service, "port": {"number": r.backend.port}}}}]}}]}}
    return [(what, ingress), *plugins]


@register("gateway-kong", "gateway", "Kong Ingress Controller: Ingresses with KongPlugins (edge/kong/...)")
def generate(ctx: Context) -> list[GeneratedFile]:
    spec = load_edge(ctx)
    if spec is None or spec.provider != "kong":
        return []
    out = []
    for r in spec.routes:
        if r.auth == "client_certificate":
            ctx.notes.append(f"gateway-kong: route {r.flow}: client certificates need Kong Enterprise mtls-auth; "
                             "not exposed (use edge.provider envoy-gateway or istio)")
            continue
        out.append(GeneratedFile(f"edge/kong/routes/{r.name}.yaml", dump(_route(ctx, spec, r), ctx.header())))
    if out:
        ctx.notes.append("gateway-kong: an Ingress reads TLS Secrets of its own namespace: create them in each "
                         "route's namespace")
    return out
