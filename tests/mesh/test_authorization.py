"""Istio AuthorizationPolicy decisions, rule by rule.

Reference: refs/mesh-edge-access-semantics.md §1.4 (decision order CUSTOM -> DENY -> ALLOW,
matching, HTTP attributes on TCP from authz/model/model.go ``checkError``, ambient ztunnel from
ambient/authorization.go, idioms) and §1.4 "PERMISSIVE interaction".
"""

from __future__ import annotations

import pytest

from .helpers import ap, deployment, flow, model, namespace, pa, service

NS = namespace("shop", {"istio-injection": "enabled"})
OTHER = namespace("other", {})
SRV = deployment("shop", "srv", ports=[("http", 8080), ("tcp-db", 5432)])
SVC = service("shop", "srv", [("http", 80, 8080), ("tcp-db", 5432, 5432)])
CLI = deployment("shop", "cli")
STRICT = pa("istio-system", "default", {"mtls": {"mode": "STRICT"}})
SEL = {"matchLabels": {"app": "srv"}}
CLI_P = "cluster.local/ns/shop/sa/cli"


def allow(name: str, rules: list[object], ns: str = "shop", selector: object = SEL) -> str:
    spec: dict[str, object] = {"action": "ALLOW", "rules": rules}
    if selector is not None:
        spec["selector"] = selector
    return ap(ns, name, spec)


def deny(name: str, rules: list[object], selector: object = SEL) -> str:
    return ap("shop", name, {"selector": selector, "action": "DENY", "rules": rules})


FROM_CLI = {"from": [{"source": {"principals": [CLI_P]}}]}
GET_ONLY = {"to": [{"operation": {"methods": ["GET"]}}]}

CASES = [
    # (rule, policies, port, expected authz, policy named in the first evidence or None)
    ("§1.4.3 no ALLOW policy applies -> allow", [], 8080, "allow", None),
    (
        "§1.4 allow-nothing spec {} denies everything",
        [ap("shop", "nothing", {})],
        8080,
        "deny",
        "AuthorizationPolicy/shop/nothing",
    ),
    (
        "§1.4 allow-nothing in the root namespace applies mesh-wide",
        [ap("istio-system", "nothing", {})],
        8080,
        "deny",
        "AuthorizationPolicy/istio-system/nothing",
    ),
    (
        "§1.4 root-namespace selector matches in every namespace",
        [allow("only-other", [{"from": [{"source": {"namespaces": ["nope"]}}]}], ns="istio-system")],
        8080,
        "deny",
        "AuthorizationPolicy/istio-system/only-other",
    ),
    ("§1.4.4 ALLOW by principal matches", [allow("a", [FROM_CLI])], 8080, "allow", "AuthorizationPolicy/shop/a"),
    (
        "§1.4.5 ALLOW by another principal -> deny",
        [allow("a", [{"from": [{"source": {"principals": ["x/ns/y/sa/z"]}}]}])],
        8080,
        "deny",
        "AuthorizationPolicy/shop/a",
    ),
    (
        "§1.4 principal prefix match",
        [allow("a", [{"from": [{"source": {"principals": ["cluster.local/ns/shop/*"]}}]}])],
        8080,
        "allow",
        "AuthorizationPolicy/shop/a",
    ),
    (
        "§1.4 namespaces match",
        [allow("a", [{"from": [{"source": {"namespaces": ["shop"]}}]}])],
        8080,
        "allow",
        "AuthorizationPolicy/shop/a",
    ),
    (
        "§1.4 notNamespaces excludes",
        [allow("a", [{"from": [{"source": {"notNamespaces": ["shop"]}}]}])],
        8080,
        "deny",
        "AuthorizationPolicy/shop/a",
    ),
    (
        "§1.4 to.ports restricts the port",
        [allow("a", [{**FROM_CLI, "to": [{"operation": {"ports": ["9999"]}}]}])],
        8080,
        "deny",
        "AuthorizationPolicy/shop/a",
    ),
    (
        "§1.4 allow-all rules [{}]",
        [ap("shop", "nothing", {}), allow("all", [{}])],
        8080,
        "allow",
        "AuthorizationPolicy/shop/all",
    ),
    (
        "§1.4.2 deny-all beats every ALLOW",
        [allow("all", [{}]), deny("deny-all", [{}])],
        8080,
        "deny",
        "AuthorizationPolicy/shop/deny-all",
    ),
    ("§1.4.2 DENY by principal", [deny("d", [FROM_CLI])], 8080, "deny", "AuthorizationPolicy/shop/d"),
    (
        "§1.4 HTTP methods on an HTTP port: conditional",
        [allow("a", [GET_ONLY])],
        8080,
        "conditional",
        "AuthorizationPolicy/shop/a",
    ),
    (
        "§1.4 HTTP-only ALLOW rule on a TCP port is dropped -> deny",
        [allow("a", [GET_ONLY])],
        5432,
        "deny",
        "AuthorizationPolicy/shop/a",
    ),
    (
        "§1.4 HTTP-only DENY field on a TCP port is dropped -> the rule widens to deny all",
        [deny("d", [{"to": [{"operation": {"paths": ["/admin"]}}]}])],
        5432,
        "deny",
        "AuthorizationPolicy/shop/d",
    ),
    (
        "§1.4 HTTP-only DENY on an HTTP port: conditional",
        [deny("d", [{"to": [{"operation": {"paths": ["/admin"]}}]}])],
        8080,
        "conditional",
        "AuthorizationPolicy/shop/d",
    ),
    (
        "§1.4 when destination.port is known statically",
        [allow("a", [{"when": [{"key": "destination.port", "values": ["8080"]}]}])],
        8080,
        "allow",
        "AuthorizationPolicy/shop/a",
    ),
    (
        "§1.4 when request.headers is HTTP-only: dropped ALLOW rule on TCP",
        [allow("a", [{"when": [{"key": "request.headers[x]", "values": ["1"]}]}])],
        5432,
        "deny",
        "AuthorizationPolicy/shop/a",
    ),
    (
        "§1.5 requestPrincipals on HTTP: depends on the token",
        [allow("jwt", [{"from": [{"source": {"requestPrincipals": ["*"]}}]}])],
        8080,
        "conditional",
        "AuthorizationPolicy/shop/jwt",
    ),
    (
        "§1.4 dry-run policies are not enforced",
        [ap("shop", "dry", {"selector": SEL}, annotations={"istio.io/dry-run": "true"})],
        8080,
        "allow",
        None,
    ),
    (
        "§1.4 AUDIT never decides",
        [ap("shop", "audit", {"selector": SEL, "action": "AUDIT", "rules": [{}]})],
        8080,
        "allow",
        None,
    ),
    (
        "§1.4.1 CUSTOM: the external authorizer decides",
        [ap("shop", "ext", {"selector": SEL, "action": "CUSTOM", "provider": {"name": "opa"}, "rules": [{}]})],
        8080,
        "conditional",
        "AuthorizationPolicy/shop/ext",
    ),
    (
        "§1.4 ipBlocks with unknown pod address: conditional",
        [allow("a", [{"from": [{"source": {"ipBlocks": ["10.0.0.0/8"]}}]}])],
        8080,
        "conditional",
        "AuthorizationPolicy/shop/a",
    ),
    (
        "§1.4 selector of another workload does not apply",
        [ap("shop", "x", {"selector": {"matchLabels": {"app": "x"}}})],
        8080,
        "allow",
        None,
    ),
]


@pytest.mark.parametrize(("rule", "policies", "port", "expected", "evidence"), CASES, ids=[c[0] for c in CASES])
def test_authorization(rule: str, policies: list[str], port: int, expected: str, evidence: str | None) -> None:
    m = model(NS, SRV, SVC, CLI, STRICT, *policies)
    d = flow(m, "shop/cli", "shop/srv", port)
    assert d.mtls == "yes"
    assert d.authz == expected, (rule, d.reason)
    ev = [
        e.location.obj
        for e in d.evidence
        if e.location and e.location.obj and e.location.obj.startswith("AuthorizationPolicy")
    ]
    assert (ev[0] if ev else None) == evidence, rule


PERMISSIVE = pa("istio-system", "default", {"mtls": {"mode": "PERMISSIVE"}})


def test_identity_deny_is_bypassed_by_plaintext_under_permissive() -> None:
    """§1.4 PERMISSIVE interaction: a DENY keyed on namespaces does not match plaintext (no identity)."""
    policy = deny("no-other", [{"from": [{"source": {"namespaces": ["other"]}}]}])
    m = model(NS, OTHER, SRV, SVC, deployment("other", "cli"), PERMISSIVE, policy)
    d = flow(m, "other/cli", "shop/srv", 8080)
    assert (d.mtls, d.identity, d.authz) == ("no", None, "allow")


def test_allow_by_principal_denies_plaintext() -> None:
    """§1.4 PERMISSIVE interaction: an ALLOW that requires principals denies plaintext (safe)."""
    m = model(
        NS,
        OTHER,
        SRV,
        SVC,
        deployment("other", "cli"),
        PERMISSIVE,
        allow("a", [{"from": [{"source": {"principals": ["*"]}}]}]),
    )
    assert flow(m, "other/cli", "shop/srv", 8080).authz == "deny"


def test_not_principals_star_refuses_plaintext() -> None:
    """§1.4 idiom "refuse plaintext under PERMISSIVE": DENY notPrincipals ["*"]."""
    m = model(
        NS,
        OTHER,
        SRV,
        SVC,
        deployment("other", "cli"),
        PERMISSIVE,
        deny("plain", [{"from": [{"source": {"notPrincipals": ["*"]}}]}]),
    )
    assert flow(m, "other/cli", "shop/srv", 8080).authz == "deny"
    assert flow(m, "other/cli", "shop/srv", 8080).verdict == "deny"


def test_ip_blocks_for_external_source() -> None:
    """§1.4 ipBlocks: the packet source address (known for an external endpoint)."""
    from ringwall.model.addresses import parse_address

    m = model(NS, SRV, SVC, PERMISSIVE, allow("a", [{"from": [{"source": {"ipBlocks": ["203.0.113.0/24"]}}]}]))
    assert flow(m, None, "shop/srv", 8080, src_ip=parse_address("203.0.113.7")).authz == "allow"
    assert flow(m, None, "shop/srv", 8080, src_ip=parse_address("198.51.100.7")).authz == "deny"


def test_ambient_without_waypoint_ignores_http_only_deny() -> None:
    """§1.4 ambient at ztunnel: a DENY whose rules are all HTTP-only has no effect."""
    amb = namespace("amb", {"istio.io/dataplane-mode": "ambient"})
    m = model(
        amb,
        deployment("amb", "cli"),
        deployment("amb", "srv"),
        service("amb", "srv", [("http", 80, 8080)]),
        ap("amb", "d", {"selector": SEL, "action": "DENY", "rules": [{"to": [{"operation": {"paths": ["/admin"]}}]}]}),
    )
    assert flow(m, "amb/cli", "amb/srv", 8080).authz == "allow"


def test_ambient_allow_with_http_fields_is_stricter() -> None:
    """§1.4 ambient at ztunnel: ALLOW rules with HTTP attributes are omitted (stricter)."""
    amb = namespace("amb", {"istio.io/dataplane-mode": "ambient"})
    m = model(
        amb,
        deployment("amb", "cli"),
        deployment("amb", "srv"),
        service("amb", "srv", [("http", 80, 8080)]),
        ap("amb", "a", {"selector": SEL, "rules": [GET_ONLY]}),
    )
    assert flow(m, "amb/cli", "amb/srv", 8080).authz == "deny"


def test_unnamed_port_protocol_is_split() -> None:
    """§1.4: a port without declared protocol is sniffed; HTTP and TCP decisions differ -> conditional."""
    m = model(
        NS,
        CLI,
        deployment("shop", "srv", ports=[("web", 8080)]),
        service("shop", "srv", [("web", 80, 8080)]),
        STRICT,
        allow("a", [GET_ONLY]),
    )
    d = flow(m, "shop/cli", "shop/srv", 8080)
    assert d.authz == "conditional" and "HTTP requests" in d.reason


RA = (
    '{"apiVersion": "security.istio.io/v1", "kind": "RequestAuthentication", "metadata": {"name": "jwt", '
    '"namespace": "shop"}, "spec": {"selector": {"matchLabels": {"app": "srv"}}, "jwtRules": [{"issuer": "https://idp"}]}}'
)


def test_request_authentication_without_requirement_lets_tokenless_requests_pass() -> None:
    """§1.5: no token -> accepted with no request identity, unless an AuthorizationPolicy requires one."""
    m = model(NS, SRV, SVC, CLI, STRICT, RA)
    d = flow(m, "shop/cli", "shop/srv", 8080)
    assert d.authz == "allow"
    assert d.notes == [
        "RequestAuthentication/shop/jwt validates JWTs, but no AuthorizationPolicy requires requestPrincipals: "
        "a request without a token passes"
    ]
    m = model(
        NS, SRV, SVC, CLI, STRICT, RA, deny("no-token", [{"from": [{"source": {"notRequestPrincipals": ["*"]}}]}])
    )
    d = flow(m, "shop/cli", "shop/srv", 8080)
    assert d.authz == "conditional" and d.notes[0].startswith(
        "RequestAuthentication/shop/jwt validates JWTs and a token"
    )


SA_CASES = [
    ("§1.4 serviceAccounts ns/sa matches", {"serviceAccounts": ["shop/cli"]}, "allow"),
    ("§1.4 notServiceAccounts excludes", {"notServiceAccounts": ["shop/cli"]}, "deny"),
    ("§1.4 notPrincipals of another identity matches", {"notPrincipals": ["cluster.local/ns/x/sa/y"]}, "allow"),
    ("§1.4 remoteIpBlocks with unknown address: conditional", {"remoteIpBlocks": ["10.0.0.0/8"]}, "conditional"),
    ("§1.4 principals AND namespaces in one source", {"principals": [CLI_P], "namespaces": ["other"]}, "deny"),
]


@pytest.mark.parametrize(("rule", "source", "expected"), SA_CASES, ids=[c[0] for c in SA_CASES])
def test_source_fields(rule: str, source: dict[str, object], expected: str) -> None:
    m = model(NS, SRV, SVC, CLI, STRICT, allow("a", [{"from": [{"source": source}]}]))
    assert flow(m, "shop/cli", "shop/srv", 8080).authz == expected, rule


def test_waypoint_enforces_l7_policy_on_service() -> None:
    """§1.1/§1.4 ambient: with a waypoint, targetRefs policies on the Service are evaluated at L7."""
    amb = namespace("amb", {"istio.io/dataplane-mode": "ambient", "istio.io/use-waypoint": "waypoint"})
    l7 = ap(
        "amb",
        "l7",
        {
            "targetRefs": [{"kind": "Service", "group": "", "name": "srv"}],
            "rules": [{"to": [{"operation": {"methods": ["GET"]}}]}],
        },
    )
    m = model(amb, deployment("amb", "cli"), deployment("amb", "srv"), service("amb", "srv", [("http", 80, 8080)]), l7)
    d = flow(m, "amb/cli", "amb/srv", 8080)
    assert (d.mtls, d.authz) == ("permissive", "conditional") and d.reason.startswith("waypoint waypoint:")


def test_istio_crd_marks_control_plane() -> None:
    """§1.1: Istio CRDs count as an installed control plane."""
    crd = (
        '{"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", '
        '"metadata": {"name": "authorizationpolicies.security.istio.io"}}'
    )
    m = model(crd, deployment("shop", "srv"))
    assert m.istio and m.istio_control_plane == ["CustomResourceDefinition/authorizationpolicies.security.istio.io"]
