"""Linkerd membership, default inbound policy, Server and authorizations, skip ports.

Reference: refs/mesh-edge-access-semantics.md §2.1 (pkg/inject/report.go), §2.2 (default
inbound policy values and precedence), §2.3 (policy resources, authorization_policy.rs: all
requiredAuthenticationRefs must hold, a missing one voids the authorization), §2.4 (skip ports
bypass the proxy; Linkerd requires mTLS only when both ends are meshed).
"""

from __future__ import annotations

import pytest

from ringwall.layers.mesh.common import MeshOptions

from .helpers import deployment, flow, model, namespace, obj, wl

INJ = "linkerd.io/inject"
POL = "config.linkerd.io/default-inbound-policy"

MEMBERSHIP = [
    ("§2.1 namespace enabled, pod empty: injected", {INJ: "enabled"}, {}, False, "linkerd"),
    ("§2.1 namespace enabled, pod disabled: not injected", {INJ: "enabled"}, {INJ: "disabled"}, False, "none"),
    ("§2.1 namespace empty, pod enabled: injected", {}, {INJ: "enabled"}, False, "linkerd"),
    ("§2.1 namespace disabled, pod enabled: injected", {INJ: "disabled"}, {INJ: "enabled"}, False, "linkerd"),
    ("§2.1 namespace disabled, pod empty: not injected", {INJ: "disabled"}, {}, False, "none"),
    ("§2.1 unknown value is invalid: not injected", {INJ: "enabled"}, {INJ: "yes"}, False, "none"),
    ("§2.1 hostNetwork is skipped", {INJ: "enabled"}, {}, True, "none"),
]


@pytest.mark.parametrize(
    ("rule", "ns_ann", "pod_ann", "host_net", "expected"), MEMBERSHIP, ids=[c[0] for c in MEMBERSHIP]
)
def test_membership(rule: str, ns_ann: dict[str, str], pod_ann: dict[str, str], host_net: bool, expected: str) -> None:
    m = model(
        namespace("app", annotations=ns_ann),
        deployment("app", "srv", annotations=pod_ann, host_network=host_net),
        options=MeshOptions(mesh="linkerd"),
    )
    assert m.membership(wl(m, "app/srv")).mode == expected, rule


MESHED = namespace("app", annotations={INJ: "enabled"})
PLAIN = namespace("plain")


def _m(*extra: str, ns: str = MESHED, policy: str | None = None, srv_ann: dict[str, str] | None = None) -> object:
    return model(
        ns,
        PLAIN,
        deployment("app", "cli"),
        deployment("plain", "legacy"),
        deployment("app", "srv", annotations=srv_ann, ports=[("http", 8080)]),
        *extra,
        options=MeshOptions(mesh="linkerd", linkerd_default_policy=policy),
    )


DEFAULTS = [
    # (rule, cluster default, namespace annotation, client, expected (mtls, authz))
    ("§2.2 all-unauthenticated admits plaintext: mTLS only permissive", None, None, "app/cli", ("permissive", "allow")),
    ("§2.2 all-unauthenticated admits unmeshed clients", None, None, "plain/legacy", ("no", "allow")),
    ("§2.2 all-authenticated refuses unmeshed clients", "all-authenticated", None, "plain/legacy", ("no", "deny")),
    ("§2.2 all-authenticated: meshed client is mTLS yes", "all-authenticated", None, "app/cli", ("yes", "allow")),
    (
        "§2.2 cluster-unauthenticated admits in-cluster plaintext",
        "cluster-unauthenticated",
        None,
        "plain/legacy",
        ("no", "allow"),
    ),
    ("§2.2 cluster-authenticated refuses plaintext", "cluster-authenticated", None, "plain/legacy", ("no", "deny")),
    ("§2.2 deny refuses everyone", "deny", None, "app/cli", ("yes", "deny")),
    ("§2.2 namespace annotation overrides the install value", None, "deny", "app/cli", ("yes", "deny")),
    ("§2.2 audit behaves like all-unauthenticated", "audit", None, "plain/legacy", ("no", "allow")),
]


@pytest.mark.parametrize(("rule", "default", "ns_policy", "client", "expected"), DEFAULTS, ids=[c[0] for c in DEFAULTS])
def test_default_inbound_policy(
    rule: str, default: str | None, ns_policy: str | None, client: str, expected: tuple[str, str]
) -> None:
    ann = {INJ: "enabled", **({POL: ns_policy} if ns_policy else {})}
    m = _m(ns=namespace("app", annotations=ann), policy=default)
    d = flow(m, client, "app/srv", 8080)  # type: ignore[arg-type]
    assert (d.mtls, d.authz) == expected, rule


def test_pod_annotation_beats_namespace() -> None:
    """§2.2: the workload's annotation takes precedence over the namespace's."""
    m = _m(ns=namespace("app", annotations={INJ: "enabled", POL: "deny"}), srv_ann={POL: "all-unauthenticated"})
    assert flow(m, "plain/legacy", "app/srv", 8080).authz == "allow"  # type: ignore[arg-type]


SERVER = obj(
    "policy.linkerd.io/v1beta3",
    "Server",
    "app",
    "srv-http",
    {"podSelector": {"matchLabels": {"app": "srv"}}, "port": "http", "proxyProtocol": "HTTP/1"},
)
MTLS_CLI = obj(
    "policy.linkerd.io/v1alpha1",
    "MeshTLSAuthentication",
    "app",
    "cli",
    {"identityRefs": [{"kind": "ServiceAccount", "name": "cli"}]},
)


def authz(name: str, refs: list[dict[str, str]], target: str = "srv-http") -> str:
    return obj(
        "policy.linkerd.io/v1alpha1",
        "AuthorizationPolicy",
        "app",
        name,
        {
            "targetRef": {"group": "policy.linkerd.io", "kind": "Server", "name": target},
            "requiredAuthenticationRefs": refs,
        },
    )


REF_CLI = {"group": "policy.linkerd.io", "kind": "MeshTLSAuthentication", "name": "cli"}

SERVERS = [
    ("§2.3 a Server denies by default once it exists", [SERVER], "app/cli", "deny"),
    (
        "§2.3 AuthorizationPolicy with MeshTLSAuthentication admits the identity",
        [SERVER, MTLS_CLI, authz("a", [REF_CLI])],
        "app/cli",
        "allow",
    ),
    ("§2.3 the same policy refuses another client", [SERVER, MTLS_CLI, authz("a", [REF_CLI])], "plain/legacy", "deny"),
    (
        "§2.3 a missing authentication ref voids the authorization (fail closed)",
        [SERVER, authz("a", [{"group": "policy.linkerd.io", "kind": "MeshTLSAuthentication", "name": "ghost"}])],
        "app/cli",
        "deny",
    ),
    (
        "§2.3 all refs must hold: identity and network",
        [
            SERVER,
            MTLS_CLI,
            obj(
                "policy.linkerd.io/v1alpha1",
                "NetworkAuthentication",
                "app",
                "nowhere",
                {"networks": [{"cidr": "203.0.113.0/24"}]},
            ),
            authz("a", [REF_CLI, {"group": "policy.linkerd.io", "kind": "NetworkAuthentication", "name": "nowhere"}]),
        ],
        "app/cli",
        "deny",  # a pod's address is in the cluster networks, never in 203.0.113.0/24 (issue 19.1 stance)
    ),
    (
        "§2.3 Server accessPolicy all-unauthenticated is the fallback",
        [
            obj(
                "policy.linkerd.io/v1beta3",
                "Server",
                "app",
                "srv-http",
                {"podSelector": {"matchLabels": {"app": "srv"}}, "port": 8080, "accessPolicy": "all-unauthenticated"},
            )
        ],
        "plain/legacy",
        "allow",
    ),
    (
        "§2.3 ServerAuthorization unauthenticated admits everyone",
        [
            SERVER,
            obj(
                "policy.linkerd.io/v1beta1",
                "ServerAuthorization",
                "app",
                "open",
                {"server": {"name": "srv-http"}, "client": {"unauthenticated": True}},
            ),
        ],
        "plain/legacy",
        "allow",
    ),
    (
        "§2.3 ServerAuthorization meshTLS serviceAccounts admits that identity only",
        [
            SERVER,
            obj(
                "policy.linkerd.io/v1beta1",
                "ServerAuthorization",
                "app",
                "cli-only",
                {"server": {"name": "srv-http"}, "client": {"meshTLS": {"serviceAccounts": [{"name": "cli"}]}}},
            ),
        ],
        "app/cli",
        "allow",
    ),
    (
        "§2.3 AuthorizationPolicy targeting the Namespace covers its Servers",
        [
            SERVER,
            MTLS_CLI,
            obj(
                "policy.linkerd.io/v1alpha1",
                "AuthorizationPolicy",
                "app",
                "ns-wide",
                {"targetRef": {"kind": "Namespace", "name": "app"}, "requiredAuthenticationRefs": [REF_CLI]},
            ),
        ],
        "app/cli",
        "allow",
    ),
]


@pytest.mark.parametrize(("rule", "objs", "client", "expected"), SERVERS, ids=[c[0] for c in SERVERS])
def test_servers(rule: str, objs: list[str], client: str, expected: str) -> None:
    m = _m(*objs)
    assert flow(m, client, "app/srv", 8080).authz == expected, rule  # type: ignore[arg-type]


def test_skip_inbound_port_bypasses_proxy() -> None:
    """§2.4: skip-inbound-ports takes the port past the proxy: no mTLS, no policy (even under deny)."""
    m = _m(policy="deny", srv_ann={"config.linkerd.io/skip-inbound-ports": "8080"})
    d = flow(m, "app/cli", "app/srv", 8080)  # type: ignore[arg-type]
    assert (d.mtls, d.authz, d.verdict) == ("no", "n/a", "allow")


def test_skip_outbound_port_sends_plaintext() -> None:
    """§2.4: skip-outbound-ports on the client: the server sees an unauthenticated client."""
    m = model(
        MESHED,
        deployment("app", "cli", annotations={"config.linkerd.io/skip-outbound-ports": "8080"}),
        deployment("app", "srv"),
        options=MeshOptions(mesh="linkerd", linkerd_default_policy="all-authenticated"),
    )
    d = flow(m, "app/cli", "app/srv", 8080)
    assert (d.mtls, d.identity, d.authz) == ("no", None, "deny")


def test_default_policy_from_install_values() -> None:
    """§2.2: proxy.defaultInboundPolicy in linkerd-config is the cluster default."""
    cfg = (
        '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "linkerd-config", "namespace": "linkerd"},'
        ' "data": {"values": "proxy:\\n  defaultInboundPolicy: deny\\n"}}'
    )
    m = model(MESHED, deployment("app", "cli"), deployment("app", "srv"), cfg)
    assert m.linkerd_on and m.linkerd.default_policy == "deny"
    assert flow(m, "app/cli", "app/srv", 8080).authz == "deny"


def test_opaque_server_is_still_mtls() -> None:
    """§2.4: opaque ports skip protocol detection only; meshed traffic is still mTLS."""
    opaque = obj(
        "policy.linkerd.io/v1beta3",
        "Server",
        "app",
        "srv-http",
        {"podSelector": {"matchLabels": {"app": "srv"}}, "port": 8080, "proxyProtocol": "opaque"},
    )
    m = _m(opaque, MTLS_CLI, authz("a", [REF_CLI]))
    d = flow(m, "app/cli", "app/srv", 8080)  # type: ignore[arg-type]
    assert (d.mtls, d.authz) == ("yes", "allow")


def test_route_level_authorization_is_conditional() -> None:
    """§2.3: a policy targeting an HTTPRoute of the Server authorizes only requests on that route."""
    route = obj(
        "policy.linkerd.io/v1beta3",
        "HTTPRoute",
        "app",
        "health",
        {"parentRefs": [{"group": "policy.linkerd.io", "kind": "Server", "name": "srv-http"}]},
    )
    by_route = obj(
        "policy.linkerd.io/v1alpha1",
        "AuthorizationPolicy",
        "app",
        "health-any",
        {
            "targetRef": {"group": "policy.linkerd.io", "kind": "HTTPRoute", "name": "health"},
            "requiredAuthenticationRefs": [],
        },
    )
    m = _m(SERVER, route, by_route)
    assert flow(m, "plain/legacy", "app/srv", 8080).authz == "conditional"  # type: ignore[arg-type]
