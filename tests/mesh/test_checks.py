"""Each RW-ISTIO / RW-LINKERD check on a minimal estate: exactly the expected findings.

Reference: refs/checks-catalogue.md §3 (RW-ISTIO) and §4 (RW-LINKERD); the semantics behind
each trigger are in refs/mesh-edge-access-semantics.md §1 and §2.
"""

from __future__ import annotations

import pytest

from ringwall.layers.mesh.checks import run_checks
from ringwall.layers.mesh.common import MeshOptions

from .helpers import ap, deployment, dr, model, namespace, obj, pa, service

ISTIOD = deployment("istio-system", "istiod")
MESHED = namespace("shop", {"istio-injection": "enabled"})
STRICT = pa("istio-system", "default", {"mtls": {"mode": "STRICT"}})
NOTHING = ap("istio-system", "allow-nothing", {})
BASE = [ISTIOD, MESHED, STRICT, NOTHING, deployment("shop", "srv"), service("shop", "srv", [("http", 80, 8080)])]
SEL = {"matchLabels": {"app": "srv"}}


def findings(*docs: str, options: MeshOptions | None = None) -> list[tuple[str, str]]:
    return sorted((f.check.id, f.subject) for f in run_checks(model(*docs, options=options)))


ISTIO = [
    ("clean baseline has no finding", [], []),
    ("RW-ISTIO-001 no mesh-wide STRICT", None, [("RW-ISTIO-001", "Mesh/istio-system")]),
    (
        "RW-ISTIO-002 namespace PERMISSIVE",
        [pa("shop", "ns", {"mtls": {"mode": "PERMISSIVE"}})],
        [("RW-ISTIO-002", "Namespace/shop")],
    ),
    (
        "RW-ISTIO-002 workload DISABLE",
        [pa("shop", "w", {"selector": SEL, "mtls": {"mode": "DISABLE"}})],
        [("RW-ISTIO-002", "Deployment/shop/srv")],
    ),
    (
        "RW-ISTIO-003 port-level hole",
        [pa("shop", "w", {"selector": SEL, "portLevelMtls": {"9090": {"mode": "DISABLE"}}})],
        [("RW-ISTIO-003", "Deployment/shop/srv")],
    ),
    (
        "RW-ISTIO-004 root selector ignored",
        [pa("istio-system", "sel", {"selector": SEL, "mtls": {"mode": "DISABLE"}})],
        [("RW-ISTIO-004", "PeerAuthentication/istio-system/sel")],
    ),
    (
        "RW-ISTIO-005 two namespace policies",
        [pa("shop", "a", {"mtls": {"mode": "STRICT"}}), pa("shop", "b", {"mtls": {"mode": "STRICT"}})],
        [("RW-ISTIO-005", "PeerAuthentication/shop/a")],
    ),
    (
        "RW-ISTIO-006 DR DISABLE to in-mesh host",
        [dr("shop", "srv", {"host": "srv", "trafficPolicy": {"tls": {"mode": "DISABLE"}}})],
        [("RW-ISTIO-006", "DestinationRule/shop/srv")],
    ),
    (
        "RW-ISTIO-006/007 DR SIMPLE without CA",
        [dr("shop", "srv", {"host": "srv", "trafficPolicy": {"tls": {"mode": "SIMPLE"}}})],
        [("RW-ISTIO-006", "DestinationRule/shop/srv"), ("RW-ISTIO-007", "DestinationRule/shop/srv")],
    ),
    (
        "RW-ISTIO-008 namespace not in mesh",
        [namespace("legacy"), deployment("legacy", "old")],
        [("RW-ISTIO-008", "Namespace/legacy")],
    ),
    (
        "RW-ISTIO-009 pod opts out",
        [deployment("shop", "out", labels={"sidecar.istio.io/inject": "false"})],
        [("RW-ISTIO-009", "Deployment/shop/out")],
    ),
    (
        "RW-ISTIO-010 annotation in unlabelled namespace",
        [namespace("legacy"), deployment("legacy", "old", annotations={"sidecar.istio.io/inject": "true"})],
        [("RW-ISTIO-008", "Namespace/legacy"), ("RW-ISTIO-010", "Deployment/legacy/old")],
    ),
    (
        "RW-ISTIO-011 capture bypass",
        [deployment("shop", "byp", annotations={"traffic.sidecar.istio.io/excludeInboundPorts": "9000"})],
        [("RW-ISTIO-011", "Deployment/shop/byp")],
    ),
    (
        "RW-ISTIO-012 hostNetwork in meshed namespace",
        [deployment("shop", "agent", host_network=True)],
        [("RW-ISTIO-012", "Deployment/shop/agent")],
    ),
    ("RW-ISTIO-013 no default deny", None, [("RW-ISTIO-013", "Namespace/shop")]),
    (
        "RW-ISTIO-014 ALLOW with notPaths",
        [ap("shop", "neg", {"selector": SEL, "rules": [{"to": [{"operation": {"notPaths": ["/admin"]}}]}]})],
        [("RW-ISTIO-014", "AuthorizationPolicy/shop/neg")],
    ),
    (
        "RW-ISTIO-015 identity DENY under PERMISSIVE",
        [
            pa("shop", "ns", {"mtls": {"mode": "PERMISSIVE"}}),
            ap(
                "shop",
                "d",
                {"selector": SEL, "action": "DENY", "rules": [{"from": [{"source": {"namespaces": ["evil"]}}]}]},
            ),
        ],
        [("RW-ISTIO-002", "Namespace/shop"), ("RW-ISTIO-015", "AuthorizationPolicy/shop/d")],
    ),
    (
        "RW-ISTIO-016 DENY with HTTP fields and no port on a TCP port",
        [
            deployment("shop", "db", ports=[("tcp-db", 5432)]),
            service("shop", "db", [("tcp-db", 5432, 5432)]),
            ap(
                "shop",
                "d",
                {
                    "selector": {"matchLabels": {"app": "db"}},
                    "action": "DENY",
                    "rules": [{"to": [{"operation": {"methods": ["DELETE"]}}]}],
                },
            ),
        ],
        [("RW-ISTIO-016", "AuthorizationPolicy/shop/d")],
    ),
    (
        "RW-ISTIO-017 ambient HTTP-only DENY",
        [
            namespace("amb", {"istio.io/dataplane-mode": "ambient"}),
            deployment("amb", "srv"),
            ap(
                "amb",
                "d",
                {"selector": SEL, "action": "DENY", "rules": [{"to": [{"operation": {"methods": ["DELETE"]}}]}]},
            ),
        ],
        [("RW-ISTIO-017", "AuthorizationPolicy/amb/d")],
    ),
    (
        "RW-ISTIO-018 JWT not required",
        [
            obj(
                "security.istio.io/v1",
                "RequestAuthentication",
                "shop",
                "jwt",
                {"selector": SEL, "jwtRules": [{"issuer": "https://idp"}]},
            )
        ],
        [("RW-ISTIO-018", "RequestAuthentication/shop/jwt")],
    ),
    (
        "RW-ISTIO-018 satisfied by requestPrincipals",
        [
            obj(
                "security.istio.io/v1",
                "RequestAuthentication",
                "shop",
                "jwt",
                {"selector": SEL, "jwtRules": [{"issuer": "https://idp"}]},
            ),
            ap("shop", "need-jwt", {"selector": SEL, "rules": [{"from": [{"source": {"requestPrincipals": ["*"]}}]}]}),
        ],
        [],
    ),
    (
        "RW-ISTIO-019 selector matches nothing",
        [ap("shop", "typo", {"selector": {"matchLabels": {"app": "svr"}}})],
        [("RW-ISTIO-019", "AuthorizationPolicy/shop/typo")],
    ),
    (
        "RW-ISTIO-020 dry run",
        [ap("shop", "dry", {"selector": SEL, "rules": [{}]}, {"istio.io/dry-run": "true"})],
        [("RW-ISTIO-020", "AuthorizationPolicy/shop/dry"), ("RW-ISTIO-021", "AuthorizationPolicy/shop/dry")],
    ),
    (
        "RW-ISTIO-021 allow-all",
        [ap("shop", "all", {"selector": SEL, "rules": [{}]})],
        [("RW-ISTIO-021", "AuthorizationPolicy/shop/all")],
    ),
    (
        "RW-ISTIO-026 app runs as 1337",
        [deployment("shop", "uid", run_as=1337)],
        [("RW-ISTIO-026", "Deployment/shop/uid")],
    ),
    (
        "RW-ISTIO-027 ISTIO_MUTUAL to unmeshed",
        [
            namespace("legacy", {"istio-injection": "disabled"}),
            deployment("legacy", "old"),
            service("legacy", "old", [("http", 80, 8080)]),
            dr(
                "shop",
                "old",
                {"host": "old.legacy.svc.cluster.local", "trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL"}}},
            ),
        ],
        [("RW-ISTIO-008", "Namespace/legacy"), ("RW-ISTIO-027", "DestinationRule/shop/old")],
    ),
    (
        "RW-ISTIO-028 conflicting labels",
        [namespace("both", {"istio-injection": "enabled", "istio.io/rev": "canary"}), deployment("both", "x")],
        [("RW-ISTIO-028", "Namespace/both")],
    ),
    (
        "RW-ISTIO-032 two CUSTOM providers",
        [
            ap("shop", "c1", {"selector": SEL, "action": "CUSTOM", "provider": {"name": "opa"}, "rules": [{}]}),
            ap("shop", "c2", {"selector": SEL, "action": "CUSTOM", "provider": {"name": "oauth"}, "rules": [{}]}),
        ],
        [("RW-ISTIO-032", "Deployment/shop/srv")],
    ),
]


@pytest.mark.parametrize(("rule", "extra", "expected"), ISTIO, ids=[c[0] for c in ISTIO])
def test_istio_checks(rule: str, extra: list[str] | None, expected: list[tuple[str, str]]) -> None:
    if extra is None:  # the check needs something removed from the baseline
        docs = [d for d in BASE if d not in ((STRICT,) if "001" in rule else (NOTHING,))]
        assert findings(*docs) == expected, rule
        return
    assert findings(*BASE, *extra) == expected, rule


LMESHED = namespace(
    "app", annotations={"linkerd.io/inject": "enabled", "config.linkerd.io/default-inbound-policy": "all-authenticated"}
)
LBASE = [LMESHED, deployment("app", "srv")]
LOPT = MeshOptions(mesh="linkerd")
SERVER = obj(
    "policy.linkerd.io/v1beta3", "Server", "app", "srv", {"podSelector": {"matchLabels": {"app": "srv"}}, "port": 8080}
)

LINKERD = [
    ("clean baseline has no finding", [], []),
    (
        "RW-LINKERD-001 default all-unauthenticated",
        [namespace("app", annotations={"linkerd.io/inject": "enabled"})],
        [("RW-LINKERD-001", "Namespace/app")],
    ),
    (
        "RW-LINKERD-002 namespace not meshed",
        [namespace("legacy"), deployment("legacy", "old")],
        [("RW-LINKERD-002", "Namespace/legacy")],
    ),
    (
        "RW-LINKERD-002 pod disabled",
        [deployment("app", "out", annotations={"linkerd.io/inject": "disabled"})],
        [("RW-LINKERD-002", "Deployment/app/out")],
    ),
    (
        "RW-LINKERD-003 skip ports",
        [deployment("app", "skip", annotations={"config.linkerd.io/skip-inbound-ports": "9000"})],
        [("RW-LINKERD-003", "Deployment/app/skip")],
    ),
    (
        "RW-LINKERD-005 Server open",
        [
            obj(
                "policy.linkerd.io/v1beta3",
                "Server",
                "app",
                "open",
                {"podSelector": {"matchLabels": {"app": "srv"}}, "port": 8080, "accessPolicy": "all-unauthenticated"},
            )
        ],
        [("RW-LINKERD-005", "Server/app/open")],
    ),
    (
        "RW-LINKERD-006 any meshed identity",
        [obj("policy.linkerd.io/v1alpha1", "MeshTLSAuthentication", "app", "any", {"identities": ["*"]})],
        [("RW-LINKERD-006", "MeshTLSAuthentication/app/any")],
    ),
    (
        "RW-LINKERD-007 dangling reference",
        [
            SERVER,
            obj(
                "policy.linkerd.io/v1alpha1",
                "AuthorizationPolicy",
                "app",
                "a",
                {
                    "targetRef": {"group": "policy.linkerd.io", "kind": "Server", "name": "srv"},
                    "requiredAuthenticationRefs": [{"kind": "MeshTLSAuthentication", "name": "ghost"}],
                },
            ),
        ],
        [("RW-LINKERD-007", "AuthorizationPolicy/app/a")],
    ),
    (
        "RW-LINKERD-009 hostNetwork",
        [deployment("app", "agent", host_network=True)],
        [("RW-LINKERD-009", "Deployment/app/agent")],
    ),
    (
        "RW-LINKERD-010 legacy ServerAuthorization (+005 when open to all)",
        [
            SERVER,
            obj(
                "policy.linkerd.io/v1beta1",
                "ServerAuthorization",
                "app",
                "legacy",
                {"server": {"name": "srv"}, "client": {"unauthenticated": True}},
            ),
        ],
        [("RW-LINKERD-005", "ServerAuthorization/app/legacy"), ("RW-LINKERD-010", "ServerAuthorization/app/legacy")],
    ),
]


@pytest.mark.parametrize(("rule", "extra", "expected"), LINKERD, ids=[c[0] for c in LINKERD])
def test_linkerd_checks(rule: str, extra: list[str], expected: list[tuple[str, str]]) -> None:
    docs = list(LBASE)
    if extra and '"kind": "Namespace"' in extra[0] and '"name": "app"' in extra[0]:
        docs[0] = extra[0]
        extra = extra[1:]
    assert findings(*docs, *extra, options=LOPT) == expected, rule


def test_entrypoint_port_permissive_is_not_a_hole() -> None:
    """RW-ISTIO-003: PERMISSIVE on the port a LoadBalancer exposes is the entrypoint, not a hole."""
    lb = service("shop", "srv", [("http", 80, 8080)], type_="LoadBalancer")
    edge = pa("shop", "edge", {"selector": SEL, "portLevelMtls": {"8080": {"mode": "PERMISSIVE"}}})
    assert findings(ISTIOD, MESHED, STRICT, NOTHING, deployment("shop", "srv"), lb, edge) == []


def test_every_check_has_remediation_sentence() -> None:
    from ringwall.model.findings import catalogue

    mesh = [c for c in catalogue() if c.layer == "mesh"]
    assert len(mesh) == 34  # RW-ISTIO-033 AllowHttpRuleOnTcpPort (issue 19.4)
    assert all(c.remediation.endswith(".") and c.summary.endswith(".") for c in mesh)


def test_invalid_objects_are_diagnosed_and_dropped() -> None:
    """Read leniently, report precisely: objects the API server would reject have no effect."""
    from ringwall.layers.mesh.decision import MeshModel
    from ringwall.model.diagnostics import DiagnosticSink
    from ringwall.sources.inventory import build_inventory
    from ringwall.sources.loader import parse_text

    bad = [
        pa("shop", "typo", {"mtls": {"mode": "STRICTT"}}),
        pa("shop", "nosel", {"portLevelMtls": {"80": {"mode": "DISABLE"}}}),
        ap("shop", "act", {"action": "REJECT", "rules": [{}]}),
        ap("shop", "rules", {"rules": [None]}),
        dr("shop", "tls", {"host": "srv", "trafficPolicy": {"tls": {"mode": "PLAIN"}}}),
    ]
    sink = DiagnosticSink()
    inv = build_inventory(parse_text("\n---\n".join([*BASE, *bad]), "bad.yaml", sink), sink)
    m = MeshModel(inv, None, sink)
    assert [(d.code, d.location.obj) for d in sink.items] == [
        ("mesh.invalid", "PeerAuthentication/shop/typo"),
        ("mesh.invalid", "PeerAuthentication/shop/nosel"),
        ("mesh.invalid", "DestinationRule/shop/tls"),
        ("mesh.invalid", "AuthorizationPolicy/shop/act"),
        ("mesh.invalid", "AuthorizationPolicy/shop/rules"),
    ]
    assert [p.name for p in m.peer_auths] == ["default"] and [p.name for p in m.authz_policies] == ["allow-nothing"]
    assert run_checks(m) == []
