"""RW-GW checks: per-route judgements (authentication, rate limit, TLS, bypass) and configuration issues.

Per-route checks follow mesh-edge-access §3.6. A route annotated ``ringwall.io/exposure: public``
is an intentionally anonymous entrypoint (a storefront, a login page): RW-GW-001 does not apply
to it, the rate-limit and TLS checks still do.
"""

from __future__ import annotations

from ringwall.model.findings import Check, Finding, Severity, register

from .model import Issue, Route
from .routes import GatewayResult

_DOC = "https://gateway-api.sigs.k8s.io/"
C, H, M, L, INFO = Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO


def _c(cid: str, name: str, sev: Severity, summary: str, remediation: str) -> Check:
    return register(Check(cid, name, sev, "gateway", summary, remediation, _DOC, ("gateway",)))


CHECKS = {c.id: c for c in (
    _c("RW-GW-001", "UnauthenticatedEntrypoint", H, "An external route reaches a workload without authentication.",
       "Authenticate at the edge (JWT/OIDC, API keys, client certificates or external auth), or annotate the route "
       "ringwall.io/exposure: public if it is meant to be anonymous."),
    _c("RW-GW-002", "NoRateLimit", M, "An external route has no rate limit (API keys without limits can be abused "
       "at full speed).", "Add a rate limit at the gateway (limit-rps, Kong rate-limiting, BackendTrafficPolicy "
       "rateLimit)."),
    _c("RW-GW-003", "ClientCertificateNotEnforced", M, "Client-certificate verification is optional or off.",
       "Require verification (auth-tls-verify-client on, RequireAndVerify, AllowValidOnly, MUTUAL)."),
    _c("RW-GW-004", "NoTlsOnExposedRoute", H, "An exposed HTTP route is served without TLS and without a redirect "
       "to HTTPS.", "Serve the route on an HTTPS listener (or Ingress spec.tls) and redirect plain HTTP."),
    _c("RW-GW-005", "AuthenticationMadeOptional", H, "Authentication is configured but optional (Kong anonymous, "
       "jwt optional/failOpen, satisfy any).", "Remove the anonymous consumer, optional/failOpen or satisfy: any."),
    _c("RW-GW-006", "RoutePolicyReplacesGatewayAuth", H, "A route-level SecurityPolicy without mergeType replaces the "
       "gateway-level policy and drops its authentication.", "Repeat the authentication in the route-level policy "
       "or set mergeType: StrategicMerge."),
    _c("RW-GW-007", "NginxSnippetsEnabled", C, "ingress-nginx snippet annotations are in use or allowed.",
       "Remove snippet annotations and keep allow-snippet-annotations false and annotations-risk-level High."),
    _c("RW-GW-008", "IngressNginxEndOfLife", M, "ingress-nginx is retired (no fixes after March 2026).",
       "Migrate to a maintained Gateway API implementation."),
    _c("RW-GW-009", "OpenRouteAttachment", M, "A public listener accepts routes from every namespace.",
       "Use allowedRoutes.namespaces.from: Same or a Selector."),
    _c("RW-GW-010", "JwtExpiryNotVerified", M, "Kong jwt does not verify exp.",
       "Add exp to config.claims_to_verify (and set maximum_expiration)."),
    _c("RW-GW-011", "BackendExposedBesideGateway", M, "A workload behind a gateway also has its own public "
       "LoadBalancer or NodePort Service, which bypasses the gateway's authentication and limits.",
       "Make the Service ClusterIP (or an internal load balancer restricted to the gateway)."),
    _c("RW-GW-012", "AuthTypeWithoutSecret", H, "ingress-nginx auth-type without auth-secret applies no "
       "authentication.", "Set auth-secret to the htpasswd Secret."),
    _c("RW-GW-013", "GlobalAuthDisabled", M, "An Ingress opts out of the controller's global external auth.",
       "Remove enable-global-auth: \"false\" or give the Ingress its own auth-url."),
    _c("RW-GW-014", "AnnotationReplacesGlobalAllowlist", INFO, "A source-range annotation replaces the ConfigMap "
       "value instead of adding to it.", "Repeat the global ranges in the annotation if they must still apply."),
    _c("RW-GW-015", "KongGlobalLabelIgnored", M, "A namespaced KongPlugin labelled global has no global effect.",
       "Use a KongClusterPlugin labelled global: \"true\", or attach the plugin explicitly."),
    _c("RW-GW-017", "IngressApiVersionRemoved", M, "An Ingress uses extensions/v1beta1 or networking.k8s.io/v1beta1, "
       "removed in Kubernetes 1.22: current API servers refuse it.",
       "Rewrite it as networking.k8s.io/v1 (backend.service.name and backend.service.port.number or .name, "
       "pathType on every path)."),
    _c("RW-GW-018", "KongPluginConfigRejected", H, "Kong refuses a plugin's config (unknown field, allow and deny "
       "together, no limit...): the plugin never runs on the routes that name it.",
       "Fix the config field the message names (the Kong plugin reference lists the schema)."),
    _c("RW-GW-016", "BackendTlsNotVerified", L, "HTTPS to the backend without verifying its certificate.",
       "Set proxy-ssl-verify: \"on\" with proxy-ssl-secret."),
)}


def check_gateway(result: GatewayResult) -> list[Finding]:
    out: list[Finding] = []
    gated = {w for r in result.routes if r.controller != "service" for w in r.workloads}
    seen: set[tuple[str, str, str]] = set()

    def add(cid: str, msg: str, route: Route, detail: str) -> None:
        key = (cid, route.source, detail)
        if key not in seen:
            seen.add(key)
            out.append(Finding(CHECKS[cid], msg, (route.location,), route.source, detail))

    for r in result.routes:
        where = f"{r.host or '*'}{r.path}" if r.controller != "service" else r.listener
        target = ", ".join(r.workloads) or r.backend
        if r.controller == "service":
            bypass = [w for w in r.workloads if w in gated]
            if bypass:
                add("RW-GW-011", f"{r.source} ({r.listener}) exposes {', '.join(bypass)}, which is also behind a "
                    "gateway: clients can skip the gateway", r, "bypass")
            elif not r.public and r.workloads:
                add("RW-GW-001", f"{r.source} ({r.listener}) exposes {target} with no authentication in front",
                    r, "service")
            continue
        if r.backend == "redirect" or not r.backend:
            continue
        if not r.enforced_auth and not r.public:
            add("RW-GW-001", f"{where} on {r.listener or r.source} reaches {target} without enforced authentication",
                r, f"{r.host}|{r.path}|{r.listener}")
        if not r.rate_limit:
            keyed = " (API key)" if any(a.kind == "api-key" for a in r.auth) else ""
            add("RW-GW-002", f"{where}{keyed} to {target} has no rate limit", r, f"{r.host}|{r.path}|{r.listener}")
        if not r.tls and not r.https_redirect:
            add("RW-GW-004", f"{where} to {target} is served over plain HTTP without redirect", r,
                f"{r.host}|{r.path}|{r.listener}")
    for i in result.issues:
        for f in _issue(i):
            key = (f.check.id, f.subject, f.detail)
            if key not in seen:
                seen.add(key)
                out.append(f)
    return out


def _issue(i: Issue) -> list[Finding]:
    if i.check not in CHECKS:
        return []
    return [Finding(CHECKS[i.check], i.message, (i.location, *i.extra), i.subject, i.detail)]
