"""Real-world gateway shapes with the verdicts their documentation states.

References: the Kubernetes Ingress API (v1beta1 ``serviceName``/``servicePort``, removed in 1.22;
IngressClass and its default annotation), ingress-nginx annotations (basic auth, limit-rps),
Kong Ingress Controller guides (Gateway API with ``konghq.com/kic-gateway-controller``,
``konghq.com/plugins`` on HTTPRoute, ExtensionRef filters, KongConsumer credentials labelled
``konghq.com/credential``), the Kong plugin schemas (ACL: exactly one of allow/deny; Kong 3.0
renamed whitelist/blacklist; rate-limiting needs a limit).
"""

from __future__ import annotations

import json

from tests.realworld.helpers import DATA, findings, run

GATEWAY = DATA / "gateway"


def _routes(path) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    code, out, err = run("gateway", "routes", path, "--format", "json")
    assert code == 0, err
    return json.loads(out)["routes"]


def _messages(path, check: str) -> list[str]:  # type: ignore[no-untyped-def]
    _, out, _ = run("scan", path, "--format", "json")
    return sorted(f["message"] for f in json.loads(out)["findings"] if f["id"] == check)


def test_legacy_ingress_backends_are_read_and_the_removed_api_is_reported() -> None:
    """Issue #14 point 9: serviceName/servicePort were lost (backend ``default/:``), so the route
    reached no workload and explain dropped its basic-auth protection silently."""
    path = GATEWAY / "legacy-ingress.yaml"
    routes = [(r["source"], r["host"], r["path"], r["backend"], r["workloads"],
               [a["kind"] for a in r["authentication"]], r["tls"]) for r in _routes(path)]
    assert routes == [
        ("Ingress/monitoring/grafana", "grafana.example.com", "/", "monitoring/grafana:80",
         ["Deployment/monitoring/grafana"], ["basic"], True),
        ("Ingress/monitoring/grafana-fallback", "*", "/*", "monitoring/grafana:http",
         ["Deployment/monitoring/grafana"], ["basic"], False),
    ]
    assert _messages(path, "RW-GW-017") == [
        "Ingress/monitoring/grafana is extensions/v1beta1, removed in Kubernetes 1.22: current API servers refuse "
        "it, so this route exists only where an old cluster still serves it (its backends are read as written)",
        "Ingress/monitoring/grafana-fallback is networking.k8s.io/v1beta1, removed in Kubernetes 1.22: current API "
        "servers refuse it, so this route exists only where an old cluster still serves it (its backends are read "
        "as written)",
    ]
    code, out, _ = run("explain", path, "--src", "203.0.113.7", "--dst", "monitoring/grafana", "--port", "3000/TCP",
                       "--format", "json")
    assert code == 0
    assert "request-authenticated" in out


def test_rw_gw_008_says_how_the_class_was_known() -> None:
    """Issue #14 point 12: "class by annotation" was said when the class came from nowhere and
    ingress-nginx was inferred from nginx.ingress.kubernetes.io/* annotations."""
    assert _messages(GATEWAY / "legacy-ingress.yaml", "RW-GW-008") == [
        "Ingress/monitoring/grafana uses ingress-nginx (class nginx from the kubernetes.io/ingress.class "
        "annotation), retired in March 2026 with no further security fixes",
        "Ingress/monitoring/grafana-fallback uses ingress-nginx (no ingress class; ingress-nginx inferred from its "
        "nginx.ingress.kubernetes.io/* annotations), retired in March 2026 with no further security fixes",
    ]


def test_an_ingressclass_object_names_the_controller(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A class called "public" is ingress-nginx when its IngressClass says so, and an Ingress with
    no class takes the default IngressClass."""
    text = (GATEWAY / "legacy-ingress.yaml").read_text()
    text = text.replace("kubernetes.io/ingress.class: nginx", "kubernetes.io/ingress.class: public")
    text = text.replace("    nginx.ingress.kubernetes.io/auth-type: basic\n    nginx.ingress.kubernetes.io/auth-secret:"
                        " grafana-basic-auth\nspec:\n  backend:", "spec:\n  backend:")
    text += ("---\napiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata:\n  name: public\n  annotations: "
             "{ingressclass.kubernetes.io/is-default-class: \"true\"}\nspec: {controller: k8s.io/ingress-nginx}\n")
    (tmp_path / "i.yaml").write_text(text)
    assert _messages(tmp_path / "i.yaml", "RW-GW-008") == [
        "Ingress/monitoring/grafana uses ingress-nginx (class public from the kubernetes.io/ingress.class annotation, "
        "IngressClass controller k8s.io/ingress-nginx), retired in March 2026 with no further security fixes",
        "Ingress/monitoring/grafana-fallback uses ingress-nginx (the default IngressClass public, IngressClass "
        "controller k8s.io/ingress-nginx), retired in March 2026 with no further security fixes",
    ]


def test_kong_plugins_on_gateway_api_routes_consumers_and_acl() -> None:
    """Issue #14 point 8: HTTPRoutes under KIC's GatewayClass were shown ``auth: none`` with a
    high RW-GW-001, though Kong enforces their plugins."""
    path = GATEWAY / "kong-gateway-api.yaml"
    routes = [(r["controller"], r["source"], r["path"], [(a["kind"], a["source"]) for a in r["authentication"]],
               r["consumers"], r["rate_limit"]) for r in _routes(path)]
    assert routes == [
        # key-auth + ACL allow admin: only alex holds an API key AND the admin group.
        ("kong", "HTTPRoute/shop/orders", "/orders",
         [("api-key", "KongPlugin/shop/key-auth"), ("authorization", "KongPlugin/shop/acl-group-1")], ["alex"], []),
        # ExtensionRef filters: key-auth applies; the ACL with the Kong 2 "whitelist" is refused,
        # so every consumer with a key gets through.
        ("kong", "HTTPRoute/shop/reports", "/reports", [("api-key", "KongPlugin/shop/key-auth")], ["alex", "dana"],
         []),
    ]
    assert [f for f in findings(path, prefix="RW-GW-") if f[0] in ("RW-GW-001", "RW-GW-018")] == [
        ("RW-GW-018", "KongPlugin/shop/orders-rate"), ("RW-GW-018", "KongPlugin/shop/reports-acl")]
    assert _messages(path, "RW-GW-018") == [
        "KongPlugin/shop/orders-rate (rate-limiting): config.minutes: unknown field; Kong refuses this plugin, so "
        "HTTPRoute/shop/orders runs without it",
        "KongPlugin/shop/reports-acl (acl): config.whitelist: unknown field (renamed allow in Kong 3.0); Kong refuses "
        "this plugin, so HTTPRoute/shop/reports runs without it",
    ]


def test_kong_acl_deny_list_and_a_plugin_with_both_lists(tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = (GATEWAY / "kong-gateway-api.yaml").read_text()
    (tmp_path / "deny.yaml").write_text(text.replace("  allow: [admin]\n", "  deny: [dev]\n"))
    assert _routes(tmp_path / "deny.yaml")[0]["consumers"] == ["alex"]
    (tmp_path / "both.yaml").write_text(text.replace("  allow: [admin]\n", "  allow: [admin]\n  deny: [dev]\n"))
    assert _routes(tmp_path / "both.yaml")[0]["consumers"] == ["alex", "dana"]
    assert "KongPlugin/shop/acl-group-1 (acl): config.allow and config.deny are both set; only one of them may be" \
        in "\n".join(_messages(tmp_path / "both.yaml", "RW-GW-018"))


def test_without_any_kong_plugin_the_route_is_unauthenticated(tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = (GATEWAY / "kong-gateway-api.yaml").read_text()
    text = text.replace("    konghq.com/plugins: key-auth,acl-group-1,orders-rate\n", "")
    (tmp_path / "k.yaml").write_text(text)
    assert ("RW-GW-001", "HTTPRoute/shop/orders") in findings(tmp_path / "k.yaml", prefix="RW-GW-")


def test_envoy_gateway_security_policy_precedence() -> None:
    """Envoy Gateway: a route-level SecurityPolicy replaces the Gateway-level one (no mergeType),
    so /foo has JWT and not the gateway's basic auth, /admin (CORS only) has nothing, /docs
    inherits the basic auth; BackendTrafficPolicy rateLimit limits /foo."""
    path = GATEWAY / "envoy-gateway.yaml"
    routes = [(r["controller"], r["path"], [(a["kind"], a["enforced"]) for a in r["authentication"]]
               if r["authentication"] != "none" else [], bool(r["rate_limit"])) for r in _routes(path)]
    assert routes == [("envoy-gateway", "/foo", [("jwt", True)], True),
                      ("envoy-gateway", "/admin", [], False),
                      ("envoy-gateway", "/docs", [("basic", True)], False)]
    got = findings(path, prefix="RW-GW-00")
    assert [f for f in got if f[0] in ("RW-GW-001", "RW-GW-006")] == [
        ("RW-GW-001", "HTTPRoute/default/admin"), ("RW-GW-006", "HTTPRoute/default/admin"),
        ("RW-GW-006", "HTTPRoute/default/backend")]


def test_ingress_nginx_external_auth_client_certificates_and_global_auth() -> None:
    """ingress-nginx: auth-url is external auth; auth-tls-verify-client on is a client
    certificate, optional is not (RW-GW-003, and RW-GW-001 since nothing else authenticates);
    the ConfigMap global-auth-url covers every Ingress that does not opt out (RW-GW-013)."""
    path = GATEWAY / "ingress-nginx.yaml"
    routes = [(r["host"], [(a["kind"], a["enforced"]) for a in r["authentication"]], bool(r["rate_limit"]))
              for r in _routes(path)]
    assert routes == [("external-auth.example.com", [("external", True)], False),
                      ("mtls.example.com", [("client-cert", True)], True),
                      ("optional.example.com", [("client-cert", False)], False),
                      ("global.example.com", [("external", True)], False)]
    got = findings(path, prefix="RW-GW-0")
    assert [f for f in got if f[0] in ("RW-GW-001", "RW-GW-003", "RW-GW-013")] == [
        ("RW-GW-001", "Ingress/apps/mtls-optional"), ("RW-GW-003", "Ingress/apps/mtls-optional"),
        ("RW-GW-013", "Ingress/apps/mtls"), ("RW-GW-013", "Ingress/apps/mtls-optional")]
    assert _messages(path, "RW-GW-008")[0] == (
        "Ingress/apps/external-auth uses ingress-nginx (class nginx, IngressClass controller k8s.io/ingress-nginx), "
        "retired in March 2026 with no further security fixes")


def test_kong_acl_is_explicit_authorization_for_explain() -> None:
    path = GATEWAY / "kong-gateway-api.yaml"
    code, out, _ = run("explain", path, "--src", "203.0.113.9", "--dst", "shop/orders", "--port", "8080/TCP")
    assert code == 0
    assert "API gateway: allows; protections: encrypted, explicitly-authorized, request-authenticated" in out
    code, out, _ = run("explain", path, "--src", "203.0.113.9", "--dst", "shop/reports", "--port", "8080/TCP")
    assert "API gateway: allows; protections: encrypted, request-authenticated\n" in out


def test_the_same_kong_plugins_on_an_ingress(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """KIC reads konghq.com/plugins on an Ingress of class kong exactly as on an HTTPRoute."""
    text = (GATEWAY / "kong-gateway-api.yaml").read_text()
    start = text.index("apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: orders")
    end = text.index("---", start)
    ingress = ("apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: orders\n  namespace: shop\n"
               "  annotations:\n    konghq.com/plugins: key-auth,acl-group-1\nspec:\n  ingressClassName: kong\n"
               "  tls: [{hosts: [api.example.com], secretName: api-tls}]\n  rules:\n  - host: api.example.com\n"
               "    http:\n      paths:\n      - {path: /orders, pathType: Prefix, backend: {service: {name: orders, "
               "port: {number: 80}}}}\n")
    (tmp_path / "k.yaml").write_text(text[:start] + ingress + text[end:])
    orders = next(r for r in _routes(tmp_path / "k.yaml") if r["source"] == "Ingress/shop/orders")
    assert (orders["controller"], orders["consumers"]) == ("kong", ["alex"])
    assert [a["kind"] for a in orders["authentication"]] == ["api-key", "authorization"]


def test_kong_consumers_are_unknown_without_their_credential_secrets(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A live read never fetches Secrets: then who gets through is unknown, not "nobody"."""
    text = (GATEWAY / "kong-gateway-api.yaml").read_text()
    (tmp_path / "k.yaml").write_text(text[:text.index("---\napiVersion: v1\nkind: Secret")])
    assert [("consumers" in r, [a["kind"] for a in r["authentication"]]) for r in _routes(tmp_path / "k.yaml")] == [
        (False, ["api-key", "authorization"]), (False, ["api-key"])]
