"""PeerAuthentication composition and the per-flow mTLS outcome with DestinationRules.

References: refs/mesh-edge-access-semantics.md §1.2 (``ComposePeerAuthentication``,
policy_applier.go) and §1.3 (DestinationRule TLS modes, auto mTLS, lookup order).
"""

from __future__ import annotations

import pytest

from ringwall.layers.mesh.common import MeshOptions

from .helpers import deployment, dr, flow, model, namespace, pa, service, wl

NS = namespace("shop", {"istio-injection": "enabled"})


def mesh(mode: str) -> str:
    return pa("istio-system", "default", {"mtls": {"mode": mode}})


def nsp(mode: str) -> str:
    return pa("shop", "ns", {"mtls": {"mode": mode}})


def wlp(mode: str, ports: dict[int, str] | None = None) -> str:
    spec: dict[str, object] = {"selector": {"matchLabels": {"app": "srv"}}, "mtls": {"mode": mode}}
    if ports:
        spec["portLevelMtls"] = {str(p): {"mode": m} for p, m in ports.items()}
    return pa("shop", "wl", spec)


COMPOSE = [
    ("§1.2 no policy at all: PERMISSIVE", [], 8080, "PERMISSIVE"),
    ("§1.2 mesh STRICT", [mesh("STRICT")], 8080, "STRICT"),
    ("§1.2 UNSET at mesh level means PERMISSIVE", [mesh("UNSET")], 8080, "PERMISSIVE"),
    ("§1.2 namespace overrides mesh", [mesh("STRICT"), nsp("PERMISSIVE")], 8080, "PERMISSIVE"),
    ("§1.2 namespace UNSET inherits mesh", [mesh("STRICT"), nsp("UNSET")], 8080, "STRICT"),
    ("§1.2 workload overrides namespace", [mesh("PERMISSIVE"), nsp("PERMISSIVE"), wlp("STRICT")], 8080, "STRICT"),
    ("§1.2 workload UNSET inherits namespace", [nsp("DISABLE"), wlp("UNSET")], 8080, "DISABLE"),
    ("§1.2 portLevelMtls overrides the port", [mesh("STRICT"), wlp("UNSET", {9090: "DISABLE"})], 9090, "DISABLE"),
    ("§1.2 portLevelMtls leaves other ports", [mesh("STRICT"), wlp("UNSET", {9090: "DISABLE"})], 8080, "STRICT"),
    (
        "§1.2 portLevelMtls UNSET takes the workload mode",
        [mesh("PERMISSIVE"), wlp("STRICT", {9090: "UNSET"})],
        9090,
        "STRICT",
    ),
    (
        "§1.2 root-namespace policy with selector is ignored",
        [
            mesh("PERMISSIVE"),
            pa("istio-system", "sel", {"selector": {"matchLabels": {"app": "srv"}}, "mtls": {"mode": "STRICT"}}),
        ],
        8080,
        "PERMISSIVE",
    ),
]


@pytest.mark.parametrize(("rule", "policies", "port", "expected"), COMPOSE, ids=[c[0] for c in COMPOSE])
def test_compose(rule: str, policies: list[str], port: int, expected: str) -> None:
    m = model(NS, deployment("shop", "srv", ports=[("http", 8080), ("admin", 9090)]), *policies)
    assert m.pa.effective(wl(m, "shop/srv")).at(port) == expected, rule


def test_two_namespace_policies_are_ambiguous() -> None:
    """§1.2: several policies at one scope - the oldest wins, undecidable without timestamps."""
    m = model(
        NS,
        deployment("shop", "srv"),
        pa("shop", "a", {"mtls": {"mode": "STRICT"}}),
        pa("shop", "b", {"mtls": {"mode": "DISABLE"}}),
    )
    assert [(s, [p.name for p in ps]) for s, ps in m.pa.ambiguous] == [("namespace shop", ["a", "b"])]


def test_oldest_wins_with_timestamps() -> None:
    """§1.2: with creationTimestamp (live dumps) the oldest policy is used and there is no ambiguity."""
    new = pa("shop", "a", {"mtls": {"mode": "DISABLE"}}).replace(
        '"namespace": "shop"', '"namespace": "shop", "creationTimestamp": "2026-02-01T00:00:00Z"'
    )
    old = pa("shop", "b", {"mtls": {"mode": "STRICT"}}).replace(
        '"namespace": "shop"', '"namespace": "shop", "creationTimestamp": "2025-01-01T00:00:00Z"'
    )
    m = model(NS, deployment("shop", "srv"), new, old)
    assert m.pa.ambiguous == [] and m.pa.effective(wl(m, "shop/srv")).mode == "STRICT"


CLIENT = deployment("shop", "cli", ports=[("http", 8080)])
SERVER = deployment("shop", "srv", ports=[("http", 8080)])
SVC = service("shop", "srv", [("http", 80, 8080)])


def drule(mode: str) -> str:
    return dr("shop", "srv", {"host": "srv", "trafficPolicy": {"tls": {"mode": mode}}})


FLOWS = [
    # (rule, extra objects, client meshed, expected mtls, expected verdict)
    ("§1.3 auto mTLS to STRICT: mTLS, identity verified", [mesh("STRICT")], True, "yes", "allow"),
    (
        "§1.3 auto mTLS to PERMISSIVE: mTLS but plaintext also accepted",
        [mesh("PERMISSIVE")],
        True,
        "permissive",
        "allow",
    ),
    ("§1.3 auto mTLS to DISABLE: plaintext", [mesh("DISABLE")], True, "no", "allow"),
    ("§1.3 DR DISABLE towards STRICT: broken (outage)", [mesh("STRICT"), drule("DISABLE")], True, "broken", "deny"),
    (
        "§1.3 DR DISABLE towards PERMISSIVE: plaintext inside the mesh",
        [mesh("PERMISSIVE"), drule("DISABLE")],
        True,
        "no",
        "allow",
    ),
    (
        "§1.3 DR SIMPLE (non-Istio TLS) towards STRICT: broken",
        [mesh("STRICT"), drule("SIMPLE")],
        True,
        "broken",
        "deny",
    ),
    ("§1.3 DR ISTIO_MUTUAL towards STRICT: mTLS", [mesh("STRICT"), drule("ISTIO_MUTUAL")], True, "yes", "allow"),
    ("§1.2 STRICT refuses an unmeshed client's plaintext", [mesh("STRICT")], False, "no", "deny"),
    ("§1.2 PERMISSIVE accepts an unmeshed client's plaintext", [mesh("PERMISSIVE")], False, "no", "allow"),
]


@pytest.mark.parametrize(("rule", "extra", "client_meshed", "mtls", "verdict"), FLOWS, ids=[f[0] for f in FLOWS])
def test_flow_mtls(rule: str, extra: list[str], client_meshed: bool, mtls: str, verdict: str) -> None:
    other = namespace("other", {})
    cli_ns = "shop" if client_meshed else "other"
    client = deployment(cli_ns, "cli")
    m = model(NS, other, client, SERVER, SVC, *extra)
    d = flow(m, f"{cli_ns}/cli", "shop/srv", 8080)
    assert (d.mtls, d.verdict) == (mtls, verdict), rule
    assert (d.identity == f"cluster.local/ns/{cli_ns}/sa/cli") == (mtls in ("yes", "permissive")), rule


def test_dr_lookup_order_client_namespace_first() -> None:
    """§1.3: a DR in the client's namespace is found before the one in the service's namespace."""
    client_ns = namespace("fe", {"istio-injection": "enabled"})
    m = model(
        NS,
        client_ns,
        deployment("fe", "cli"),
        SERVER,
        SVC,
        mesh("STRICT"),
        dr(
            "fe",
            "srv-from-fe",
            {"host": "srv.shop.svc.cluster.local", "trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL"}}},
        ),
        drule("DISABLE"),
    )
    assert flow(m, "fe/cli", "shop/srv", 8080).mtls == "yes"


def test_dr_export_to_dot_hides_rule_from_other_namespaces() -> None:
    """§1.3: exportTo '.' makes the rule visible only in its own namespace."""
    client_ns = namespace("fe", {"istio-injection": "enabled"})
    hidden = dr("shop", "srv", {"host": "srv", "exportTo": ["."], "trafficPolicy": {"tls": {"mode": "DISABLE"}}})
    m = model(NS, client_ns, deployment("fe", "cli"), SERVER, SVC, mesh("STRICT"), hidden)
    assert flow(m, "fe/cli", "shop/srv", 8080).mtls == "yes"


def test_dr_istio_mutual_to_pod_without_sidecar_is_broken() -> None:
    """§1.3 (IST0115, retired): ISTIO_MUTUAL towards a workload without proxy fails."""
    plain = namespace("legacy", {})
    m = model(
        NS,
        plain,
        deployment("shop", "cli"),
        deployment("legacy", "srv"),
        service("legacy", "srv", [("http", 80, 8080)]),
        dr("shop", "srv", {"host": "srv.legacy.svc.cluster.local", "trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL"}}}),
    )
    d = flow(m, "shop/cli", "legacy/srv", 8080)
    assert (d.mtls, d.verdict) == ("broken", "deny")


def test_port_level_dr_setting() -> None:
    """§1.3: portLevelSettings override the rule's TLS for that service port."""
    rule = dr(
        "shop",
        "srv",
        {
            "host": "srv",
            "trafficPolicy": {
                "tls": {"mode": "ISTIO_MUTUAL"},
                "portLevelSettings": [{"port": {"number": 80}, "tls": {"mode": "DISABLE"}}],
            },
        },
    )
    m = model(NS, deployment("shop", "cli"), SERVER, SVC, mesh("PERMISSIVE"), rule)
    assert flow(m, "shop/cli", "shop/srv", 8080).mtls == "no"


def test_udp_is_not_captured() -> None:
    """§1.1: UDP is not captured by the sidecar: no mTLS, no authorization."""
    m = model(NS, deployment("shop", "cli"), SERVER, mesh("STRICT"))
    d = flow(m, "shop/cli", "shop/srv", 53, "UDP")
    assert (d.mtls, d.authz, d.verdict) == ("no", "n/a", "allow")


def test_excluded_inbound_port_bypasses_sidecar() -> None:
    """§1.1 capture escape hatches: excludeInboundPorts takes the port out of mTLS and authorization."""
    srv = deployment("shop", "srv", annotations={"traffic.sidecar.istio.io/excludeInboundPorts": "8080"})
    m = model(NS, namespace("other"), deployment("other", "cli"), srv, mesh("STRICT"))
    d = flow(m, "other/cli", "shop/srv", 8080)
    assert (d.mtls, d.authz, d.verdict) == ("no", "n/a", "allow")


def test_ambient_disable_is_permissive() -> None:
    """§1.2: DISABLE is not supported in ambient; ztunnel still accepts plaintext and mTLS."""
    m = model(
        namespace("amb", {"istio.io/dataplane-mode": "ambient"}),
        deployment("amb", "cli"),
        deployment("amb", "srv"),
        pa("amb", "ns", {"mtls": {"mode": "DISABLE"}}),
    )
    d = flow(m, "amb/cli", "amb/srv", 8080)
    assert (d.mtls, d.verdict) == ("permissive", "allow") and d.notes


def test_trust_domain_option_changes_principal() -> None:
    m = model(
        NS, deployment("shop", "cli"), SERVER, SVC, mesh("STRICT"), options=MeshOptions(trust_domain="corp.example")
    )
    assert flow(m, "shop/cli", "shop/srv", 8080).identity == "corp.example/ns/shop/sa/cli"


HOSTS = [
    ("§1.3 short host is relative to the rule's namespace", "srv", "shop", "broken"),
    ("§1.3 short host in another namespace names another service", "srv", "other", "yes"),
    ("§1.3 wildcard *.shop.svc.cluster.local matches", "*.shop.svc.cluster.local", "shop", "broken"),
    ("§1.3 wildcard of another namespace does not match", "*.other.svc.cluster.local", "shop", "yes"),
]


@pytest.mark.parametrize(("rule", "host", "dr_ns", "expected"), HOSTS, ids=[h[0] for h in HOSTS])
def test_dr_host_matching(rule: str, host: str, dr_ns: str, expected: str) -> None:
    rule_doc = dr(dr_ns, "r", {"host": host, "trafficPolicy": {"tls": {"mode": "DISABLE"}}})
    m = model(NS, namespace("other"), deployment("shop", "cli"), SERVER, SVC, mesh("STRICT"), rule_doc)
    assert flow(m, "shop/cli", "shop/srv", 8080).mtls == expected, rule
