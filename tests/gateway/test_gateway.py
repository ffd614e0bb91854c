"""External routes and RW-GW checks: ingress-nginx annotations, Envoy Gateway SecurityPolicy precedence, Kong.

Each case names the rule it checks (mesh-edge-access §3 and the products' reference docs).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import ringwall.analysis.edge_layers as edge
from ringwall.analysis.estate import load_estate
from tests.conftest import REPO_ROOT

BACKEND = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: app, namespace: shop}
spec:
  selector: {matchLabels: {app: app}}
  template:
    metadata: {labels: {app: app}}
    spec:
      containers: [{name: app, image: app:1, ports: [{containerPort: 8080}]}]
---
apiVersion: v1
kind: Service
metadata: {name: app, namespace: shop}
spec:
  selector: {app: app}
  ports: [{port: 80, targetPort: 8080}]
"""


def ingress(annotations: dict[str, str], tls: bool = True, cls: str = "nginx") -> str:
    ann = "".join(f'    {k}: "{v}"\n' for k, v in annotations.items())
    tls_part = "  tls:\n    - hosts: [shop.example.com]\n      secretName: shop-tls\n" if tls else ""
    return f"""\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: app
  namespace: shop
  annotations:
{ann or '    {}'}
spec:
  ingressClassName: {cls}
{tls_part}  rules:
    - host: shop.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend: {{service: {{name: app, port: {{number: 80}}}}}}
"""


N = "nginx.ingress.kubernetes.io/"
EOL = ("RW-GW-008", "Ingress/shop/app uses ingress-nginx (class nginx), retired in March 2026 with no further "
       "security fixes")
NO_RATE = ("RW-GW-002", "shop.example.com/ to Deployment/shop/app has no rate limit")
NO_AUTH = ("RW-GW-001", "shop.example.com/ on Ingress/shop/app reaches Deployment/shop/app without enforced "
           "authentication")

# (name, manifests, expected [(id, message)], route auth summary, rule)
NGINX_CASES = [
    ("basic auth with secret and rate limit",
     ingress({N + "auth-type": "basic", N + "auth-secret": "shop/htpasswd", N + "limit-rps": "10"}),
     [EOL], [("basic", True)], "ingress-nginx annotations: auth-type + auth-secret; limit-rps"),
    ("auth-type without secret", ingress({N + "auth-type": "basic", N + "limit-rps": "10"}),
     [EOL, NO_AUTH, ("RW-GW-012", "Ingress/shop/app sets auth-type basic without auth-secret: no authentication "
                                  "is applied")], [], "§3.2: auth-type without auth-secret means no auth"),
    ("client cert optional",
     ingress({N + "auth-tls-secret": "shop/ca", N + "auth-tls-verify-client": "optional_no_ca",
              N + "limit-connections": "20"}),
     [EOL, NO_AUTH, ("RW-GW-003", "Ingress/shop/app auth-tls-verify-client optional_no_ca: requests without a "
                                  "valid client certificate reach the backend")],
     [("client-cert", False)], "auth-tls-verify-client: optional/optional_no_ca let requests through"),
    ("satisfy any", ingress({N + "auth-url": "https://auth.example.com/check", N + "satisfy": "any",
                             N + "whitelist-source-range": "10.0.0.0/8"}),
     [EOL, NO_AUTH, NO_RATE, ("RW-GW-005", "Ingress/shop/app satisfy: any: one requirement (for example the address "
                                           "allow-list) suffices, the others become optional")],
     [("external", False)], "ingress-nginx satisfy: any"),
    ("plain http, snippet, backend tls unverified",
     ingress({N + "auth-url": "https://auth.example.com/check", N + "limit-rpm": "600",
              N + "configuration-snippet": "more_set_headers x;", N + "backend-protocol": "HTTPS"}, tls=False),
     [EOL, ("RW-GW-004", "shop.example.com/ to Deployment/shop/app is served over plain HTTP without redirect"),
      ("RW-GW-007", "Ingress/shop/app uses the configuration-snippet annotation (risk level Critical)"),
      ("RW-GW-016", "Ingress/shop/app backend-protocol HTTPS without proxy-ssl-verify: \"on\": the backend "
                    "certificate is not checked")],
     [("external", True)], "annotations-risk.md: snippets are Critical; proxy-ssl-verify default off"),
    ("global auth disabled",
     ingress({N + "enable-global-auth": "false", N + "limit-rps": "5"}) +
     "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: ingress-nginx-controller, namespace: ingress-nginx}\n"
     "data:\n  global-auth-url: https://auth.example.com/check\n",
     [EOL, NO_AUTH, ("RW-GW-013", "Ingress/shop/app sets enable-global-auth: \"false\" while global-auth-url is "
                                  "configured")], [], "configmap.md: global-auth-url unless enable-global-auth false"),
]


def _auth(route: dict[str, object]) -> list[tuple[str, bool]]:
    if route["authentication"] == "none":
        return []
    return [(a["kind"], a["enforced"]) for a in route["authentication"]]  # type: ignore[union-attr,index]


def _scan(tmp_path: Path, manifests: str):  # type: ignore[no-untyped-def]
    (tmp_path / "m.yaml").write_text(BACKEND + "---\n" + manifests)
    return edge.scan_gateway_layer(load_estate([str(tmp_path)]))


@pytest.mark.parametrize(("name", "manifests", "expected", "auth", "rule"), NGINX_CASES,
                         ids=[c[0] for c in NGINX_CASES])
def test_ingress_nginx(tmp_path: Path, name: str, manifests: str, expected: list[tuple[str, str]],
                       auth: list[tuple[str, bool]], rule: str) -> None:
    report = _scan(tmp_path, manifests)
    assert sorted((f.check.id, f.message) for f in report.findings) == sorted(expected), rule
    route = report.details["routes"][0]  # type: ignore[index]
    assert _auth(route) == auth


GATEWAY = """\
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: shop}
spec:
  gatewayClassName: eg
  listeners:
    - name: https
      port: 443
      protocol: HTTPS
      tls: {certificateRefs: [{name: cert}]}
      allowedRoutes: {namespaces: {from: All}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: app, namespace: shop}
spec:
  parentRefs: [{name: gw}]
  hostnames: [api.example.com]
  rules:
    - matches: [{path: {type: PathPrefix, value: /v1}}]
      backendRefs: [{name: app, port: 80}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: gw-jwt, namespace: shop}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: gw}]
  jwt:
    providers: [{name: idp, issuer: https://id.example.com, remoteJWKS: {uri: https://id.example.com/jwks}}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: rl, namespace: shop}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: gw}]
  rateLimit: {type: Local, local: {rules: [{limit: {requests: 10, unit: Second}}]}}
"""
ROUTE_CORS = """\
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: app-cors, namespace: shop}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: app}]
  cors: {allowOrigins: ["https://www.example.com"]}
"""
OPEN_ATTACH = ("RW-GW-009", "Gateway/shop/gw listener https accepts routes from all namespaces")
GW_NO_AUTH = ("RW-GW-001", "api.example.com/v1 on Gateway/shop/gw/https reaches Deployment/shop/app without enforced "
              "authentication")

ENVOY_CASES = [
    ("gateway-level JWT covers the route", GATEWAY, [OPEN_ATTACH], [("jwt", True)],
     "securitypolicy_types.go: a Gateway target covers its routes"),
    ("route-level policy without mergeType replaces gateway JWT", GATEWAY + ROUTE_CORS,
     [OPEN_ATTACH, GW_NO_AUTH,
      ("RW-GW-006", "SecurityPolicy/shop/app-cors targets HTTPRoute/shop/app without mergeType and replaces "
                    "SecurityPolicy/shop/gw-jwt: the route loses jwt")], [],
     "Envoy Gateway: only the most specific SecurityPolicy applies without mergeType"),
    ("route-level policy with mergeType keeps gateway JWT",
     GATEWAY + ROUTE_CORS.replace("  cors:", "  mergeType: StrategicMerge\n  cors:"), [OPEN_ATTACH], [("jwt", True)],
     "Envoy Gateway mergeType StrategicMerge"),
    ("jwt optional", GATEWAY.replace("    providers:", "    optional: true\n    providers:"),
     [OPEN_ATTACH, GW_NO_AUTH, ("RW-GW-005", "SecurityPolicy/shop/gw-jwt jwt.optional: HTTPRoute/shop/app accepts "
                                             "requests without a token")], [("jwt", False)],
     "jwt_types.go: optional accepts requests without a token"),
    ("client validation optional",
     GATEWAY + "---\napiVersion: gateway.envoyproxy.io/v1alpha1\nkind: ClientTrafficPolicy\n"
     "metadata: {name: mtls, namespace: shop}\nspec:\n  targetRefs: [{kind: Gateway, name: gw}]\n"
     "  tls:\n    clientValidation: {mode: VerifyIfGiven, caCertificateRefs: [{name: ca}]}\n",
     [OPEN_ATTACH, ("RW-GW-003", "ClientTrafficPolicy/shop/mtls clientValidation mode VerifyIfGiven: client "
                                 "certificates are not strictly verified")], [("jwt", True), ("client-cert", False)],
     "clienttrafficpolicy_types.go: only RequireAndVerify enforces; the listener's client check counts for "
     "its routes, as optional"),
]


@pytest.mark.parametrize(("name", "manifests", "expected", "auth", "rule"), ENVOY_CASES,
                         ids=[c[0] for c in ENVOY_CASES])
def test_envoy_gateway(tmp_path: Path, name: str, manifests: str, expected: list[tuple[str, str]],
                       auth: list[tuple[str, bool]], rule: str) -> None:
    report = _scan(tmp_path, manifests)
    assert sorted((f.check.id, f.message) for f in report.findings) == sorted(expected), rule
    route = report.details["routes"][0]  # type: ignore[index]
    assert _auth(route) == auth


def kong(plugins: str, config: str, annotation: str = "key-auth") -> str:
    return ingress({"konghq.com/plugins": annotation}, cls="kong") + "---\n" + plugins + config


KEYAUTH = "apiVersion: configuration.konghq.com/v1\nkind: KongPlugin\nmetadata: {name: key-auth, namespace: shop}\n" \
          "plugin: key-auth\n"
KONG_CASES = [
    ("key-auth without rate limit", kong(KEYAUTH, ""), [
        ("RW-GW-002", "shop.example.com/ (API key) to Deployment/shop/app has no rate limit")], [("api-key", True)],
     "Kong key-auth; issue 6: API keys need per-key rate limits"),
    ("anonymous consumer", kong(KEYAUTH, "config: {anonymous: guest}\n"), [
        NO_AUTH, ("RW-GW-002", "shop.example.com/ (API key) to Deployment/shop/app has no rate limit"),
        ("RW-GW-005", "KongPlugin/shop/key-auth (key-auth) sets config.anonymous: guest: requests without valid "
                      "credentials pass as that consumer")], [("api-key", False)],
     "Kong plugin hub: config.anonymous makes authentication optional"),
    ("jwt without exp and a global rate limit",
     kong("apiVersion: configuration.konghq.com/v1\nkind: KongPlugin\nmetadata: {name: jwt, namespace: shop}\n"
          "plugin: jwt\n---\napiVersion: configuration.konghq.com/v1\nkind: KongClusterPlugin\n"
          "metadata: {name: rl, labels: {global: \"true\"}}\nplugin: rate-limiting\n", "config: {minute: 60}\n",
          annotation="jwt"),
     [("RW-GW-010", "KongPlugin/shop/jwt (jwt) does not list exp in config.claims_to_verify: expired tokens are "
                    "accepted")], [("jwt", True)], "Kong jwt: exp checked only when in claims_to_verify"),
    ("namespaced plugin labelled global",
     kong(KEYAUTH + "---\napiVersion: configuration.konghq.com/v1\nkind: KongPlugin\n"
          "metadata: {name: rl, namespace: shop, labels: {global: \"true\"}}\nplugin: rate-limiting\n", "",
          annotation="key-auth"),
     [("RW-GW-002", "shop.example.com/ (API key) to Deployment/shop/app has no rate limit"),
      ("RW-GW-015", "KongPlugin/shop/rl is labelled global: \"true\", which only KongClusterPlugin honours: it "
                    "applies nowhere by itself")], [("api-key", True)],
     "KIC: global label only on KongClusterPlugin"),
]


@pytest.mark.parametrize(("name", "manifests", "expected", "auth", "rule"), KONG_CASES, ids=[c[0] for c in KONG_CASES])
def test_kong(tmp_path: Path, name: str, manifests: str, expected: list[tuple[str, str]],
              auth: list[tuple[str, bool]], rule: str) -> None:
    report = _scan(tmp_path, manifests)
    assert sorted((f.check.id, f.message) for f in report.findings) == sorted(expected), rule
    route = report.details["routes"][0]  # type: ignore[index]
    assert _auth(route) == auth


def test_loadbalancer_services(tmp_path: Path) -> None:
    """§3.1: a LoadBalancer is an entrypoint unless internal; beside a gateway it is a bypass (RW-GW-011)."""
    lb = ("---\napiVersion: v1\nkind: Service\nmetadata: {name: app-lb, namespace: shop}\n"
          "spec: {type: LoadBalancer, selector: {app: app}, ports: [{port: 80}]}\n")
    internal = lb.replace("app-lb, namespace: shop}", "app-int, namespace: shop, annotations: "
                          "{networking.gke.io/load-balancer-type: Internal}}")
    report = _scan(tmp_path, lb.lstrip("-\n") + internal)
    assert [(f.check.id, f.message) for f in report.findings] == [
        ("RW-GW-001", "Service/shop/app-lb (LoadBalancer) exposes Deployment/shop/app with no authentication in front")]
    report = _scan(tmp_path, GATEWAY + lb)
    assert ("RW-GW-011", "Service/shop/app-lb (LoadBalancer) exposes Deployment/shop/app, which is also behind a "
            "gateway: clients can skip the gateway") in [(f.check.id, f.message) for f in report.findings]


def test_shop_edge() -> None:
    """The shop's Gateway: public storefront, JWT partner API, redirect; the old LoadBalancer bypasses it."""
    report = edge.scan_gateway_layer(load_estate([str(REPO_ROOT / "examples" / "shop")]))
    assert [(f.check.id, f.subject) for f in report.findings] == [("RW-GW-011", "Service/frontend/web")]
    routes = {(r["source"], r["host"]): r for r in report.details["routes"]}  # type: ignore[index,union-attr]
    web = routes[("HTTPRoute/frontend/web", "www.shop.example.com")]
    assert web["declared_public"] and web["tls"] and web["workloads"] == ["Deployment/frontend/web"]
    api = routes[("HTTPRoute/backend/partner-api", "api.shop.example.com")]
    assert [a["kind"] for a in api["authentication"]] == ["jwt"] and api["rate_limit"]
    assert report.status == ("3 gateway route(s): 1 of 1 non-public with enforced authentication, 1 declared public, "
                             "1 redirect(s); 1 LoadBalancer/NodePort Service(s)")


ISTIO = """\
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: public, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
    - port: {number: 443, name: https, protocol: HTTPS}
      hosts: [shop.example.com]
      tls: {mode: SIMPLE, credentialName: shop-tls}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: app, namespace: shop}
spec:
  hosts: [shop.example.com]
  gateways: [istio-system/public]
  http:
    - match: [{uri: {prefix: /api}}]
      route: [{destination: {host: app.shop.svc.cluster.local, port: {number: 80}}}]
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  jwtRules: [{issuer: https://id.example.com}]
---
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {name: rl, namespace: istio-system}
spec:
  workloadSelector: {labels: {istio: ingressgateway}}
  configPatches:
    - applyTo: HTTP_FILTER
      match: {context: GATEWAY}
      patch: {operation: INSERT_BEFORE, value: {name: envoy.filters.http.local_ratelimit}}
"""
REQUIRE = """\
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: require-jwt, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  action: ALLOW
  rules: [{from: [{source: {requestPrincipals: ["*"]}}]}]
"""
ISTIO_NO_AUTH = ("RW-GW-001", "shop.example.com/api on Gateway/istio-system/public/server0 reaches Deployment/shop/app "
                 "without enforced authentication")
ISTIO_CASES = [
    ("RequestAuthentication alone admits tokenless requests", ISTIO, [ISTIO_NO_AUTH], [("jwt", False)],
     "mesh-edge-access §1.5/§3.5: RequestAuthentication alone admits requests without a token"),
    ("with an AuthorizationPolicy requiring requestPrincipals", ISTIO + REQUIRE, [], [("jwt", True)],
     "mesh-edge-access §3.5"),
    ("optional mutual TLS and hosts *",
     ISTIO.replace("hosts: [shop.example.com]\n      tls: {mode: SIMPLE", "hosts: [\"*\"]\n      tls: {mode: "
                   "OPTIONAL_MUTUAL") + REQUIRE,
     [("RW-GW-003", "Gateway/istio-system/public server 0 tls.mode OPTIONAL_MUTUAL: client certificates are optional"),
      ("RW-GW-009", "Gateway/istio-system/public server 0 has hosts \"*\": any VirtualService may bind to it")],
     [("jwt", True)], "Istio Gateway ServerTLSSettings: OPTIONAL_MUTUAL"),
]


@pytest.mark.parametrize(("name", "manifests", "expected", "auth", "rule"), ISTIO_CASES,
                         ids=[c[0] for c in ISTIO_CASES])
def test_istio_ingress_gateway(tmp_path: Path, name: str, manifests: str, expected: list[tuple[str, str]],
                               auth: list[tuple[str, bool]], rule: str) -> None:
    report = _scan(tmp_path, manifests)
    assert sorted((f.check.id, f.message) for f in report.findings) == sorted(expected), rule
    route = report.details["routes"][0]  # type: ignore[index]
    assert route["controller"] == "istio" and route["rate_limit"] and _auth(route) == auth


ISTIO_INGRESS_JWT = """\
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  jwtRules: [{issuer: https://id.example.com}]
"""


@pytest.mark.parametrize(("cls", "extra", "auth"), [
    ("istio", ISTIO_INGRESS_JWT + REQUIRE, [("jwt", True)]),
    ("istio", ISTIO_INGRESS_JWT, [("jwt", False)]),
    ("mesh-edge", ISTIO_INGRESS_JWT + REQUIRE + "---\napiVersion: networking.k8s.io/v1\nkind: IngressClass\n"
     "metadata: {name: mesh-edge}\nspec: {controller: istio.io/ingress-controller}\n", [("jwt", True)]),
])
def test_kubernetes_ingress_served_by_istio(tmp_path: Path, cls: str, extra: str,
                                            auth: list[tuple[str, bool]]) -> None:
    """Issue 19.5: Istio serves Ingresses of class istio (IngressClass controller
    istio.io/ingress-controller) through its ingress gateway, whose RequestAuthentication and
    AuthorizationPolicies then protect the route (Istio "Kubernetes Ingress" task)."""
    report = _scan(tmp_path, ingress({}, cls=cls) + extra)
    route = report.details["routes"][0]  # type: ignore[index]
    assert route["controller"] == "istio" and _auth(route) == auth
