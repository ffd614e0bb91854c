"""Calico NetworkPolicy / GlobalNetworkPolicy semantics, table-driven.

Each case names the Calico documentation rule it checks (docs.tigera.io, Calico Open Source:
"Tier" and "Global network policy" / "Network policy" resource references, "Get started with
policy tiers", "Selectors"). Pods: a/web (app=web, sa web-sa, 10.0.0.1), a/db (app=db,
10.0.0.2), b/cli (app=cli, sa cli-sa, 10.0.1.1); namespaces a (team=red), b (team=blue).
"""

from __future__ import annotations

from typing import Any

import pytest

from ringwall.layers.netpol.selector_expr import ExprError, parse_expr

from .test_calico_helpers import BASE, build, cnp, gnp, knp, tier

ALLOW_ALL = [{"action": "Allow"}]
ANP_ALLOW_WEB = {
    "apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "AdminNetworkPolicy", "metadata": {"name": "web"},
    "spec": {"priority": 10,
             "subject": {"pods": {"namespaceSelector": {}, "podSelector": {"matchLabels": {"app": "db"}}}},
             "ingress": [{"action": "Allow", "from": [{"pods": {"namespaceSelector": {},
                                                                "podSelector": {"matchLabels": {"app": "web"}}}}]},
                         {"action": "Allow", "from": [{"namespaces": {}}]}]}}

# (documentation rule, objects, [(src, dst, proto, port, allowed)])
CASES: list[tuple[str, list[dict[str, Any]], list[tuple[str, str, str, int, bool]]]] = [
    ("No policy selects an endpoint: the profile allows everything",
     [], [("b/cli", "a/db", "TCP", 80, True)]),
    ("Rules are evaluated in order; the first Allow/Deny match decides",
     [gnp("p", {"order": 10, "selector": "app == 'db'",
                "ingress": [{"action": "Deny", "source": {"selector": "app == 'cli'"}}, *ALLOW_ALL]})],
     [("b/cli", "a/db", "TCP", 80, False), ("a/web", "a/db", "TCP", 80, True)]),
    ("A tier that selects the endpoint and decides nothing drops the packet (default action Deny)",
     [gnp("p", {"selector": "app == 'db'", "ingress": [{"action": "Allow", "source": {"selector": "app == 'web'"}}]})],
     [("b/cli", "a/db", "TCP", 80, False), ("a/web", "a/db", "TCP", 80, True)]),
    ("Tier defaultAction Pass: undecided traffic goes on to the next tier (here none: profile allows)",
     [tier("sec", 100, "Pass"),
      gnp("sec.p", {"tier": "sec", "selector": "app == 'db'",
                    "ingress": [{"action": "Allow", "source": {"selector": "app == 'web'"}}]})],
     [("b/cli", "a/db", "TCP", 80, True)]),
    ("Policies inside a tier are ordered by order, lowest first",
     [gnp("late", {"order": 200, "selector": "app == 'db'", "ingress": ALLOW_ALL}),
      gnp("early", {"order": 100, "selector": "app == 'db'", "ingress": [{"action": "Deny"}]})],
     [("a/web", "a/db", "TCP", 80, False)]),
    ("Equal order: policies sort by name, as Felix does (a-deny before b-allow, whatever the input order)",
     [gnp("b-allow", {"order": 100, "selector": "app == 'db'", "ingress": ALLOW_ALL}),
      gnp("a-deny", {"order": 100, "selector": "app == 'db'", "ingress": [{"action": "Deny"}]})],
     [("a/web", "a/db", "TCP", 80, False)]),
    ("Equal order, reversed names: the name still decides (a-allow before b-deny)",
     [gnp("b-deny", {"order": 100, "selector": "app == 'db'", "ingress": [{"action": "Deny"}]}),
      gnp("a-allow", {"order": 100, "selector": "app == 'db'", "ingress": ALLOW_ALL})],
     [("a/web", "a/db", "TCP", 80, True)]),
    ("Missing order on both: by name (a-allow before b-deny)",
     [gnp("b-deny", {"selector": "app == 'db'", "ingress": [{"action": "Deny"}]}),
      gnp("a-allow", {"selector": "app == 'db'", "ingress": ALLOW_ALL})],
     [("a/web", "a/db", "TCP", 80, True)]),
    ("A policy without order comes after every ordered policy",
     [gnp("a-unordered", {"selector": "app == 'db'", "ingress": [{"action": "Deny"}]}),
      gnp("z-ordered", {"order": 5000, "selector": "app == 'db'", "ingress": ALLOW_ALL})],
     [("a/web", "a/db", "TCP", 80, True)]),
    ("Tiers are evaluated by order: a Deny in an earlier tier beats an Allow in a later one",
     [tier("sec", 100), gnp("sec.deny", {"tier": "sec", "selector": "app == 'db'",
                                         "ingress": [{"action": "Deny", "source": {"selector": "app == 'cli'"}},
                                                     {"action": "Pass"}]}),
      gnp("allow", {"selector": "app == 'db'", "ingress": ALLOW_ALL})],
     [("b/cli", "a/db", "TCP", 80, False), ("a/web", "a/db", "TCP", 80, True)]),
    ("Pass skips to the next tier that selects the endpoint",
     [tier("sec", 100), gnp("sec.pass", {"tier": "sec", "selector": "all()", "ingress": [{"action": "Pass"}]}),
      gnp("deny-cli", {"selector": "app == 'db'",
                       "ingress": [{"action": "Deny", "source": {"selector": "app == 'cli'"}}, *ALLOW_ALL]})],
     [("b/cli", "a/db", "TCP", 80, False), ("b/cli", "a/web", "TCP", 80, True)]),
    ("Log is not a decision: evaluation continues with the next rule",
     [gnp("p", {"selector": "app == 'db'", "ingress": [{"action": "Log"}, {"action": "Deny"}]})],
     [("a/web", "a/db", "TCP", 80, False)]),
    ("Kubernetes NetworkPolicies are default-tier policies with order 1000: a Pass from an earlier tier reaches them",
     [tier("sec", 100), gnp("sec.pass", {"tier": "sec", "selector": "all()", "ingress": [{"action": "Pass"}]}),
      knp("a", "db", {"podSelector": {"matchLabels": {"app": "db"}},
                      "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}]}]})],
     [("a/web", "a/db", "TCP", 80, True), ("b/cli", "a/db", "TCP", 80, False)]),
    ("A default-tier Calico policy with order below 1000 is evaluated before Kubernetes NetworkPolicies",
     [gnp("deny-web", {"order": 100, "selector": "app == 'db'",
                       "ingress": [{"action": "Deny", "source": {"selector": "app == 'web'"}}]}),
      knp("a", "db", {"podSelector": {}, "ingress": [{}]})],
     [("a/web", "a/db", "TCP", 80, False), ("b/cli", "a/db", "TCP", 80, True)]),
    ("Equal order 1000 in the default tier: names break the tie (default.<name> sorts before knp.default.<name>)",
     [gnp("deny-web", {"order": 1000, "selector": "app == 'db'",
                       "ingress": [{"action": "Deny", "source": {"selector": "app == 'web'"}}]}),
      knp("a", "all", {"podSelector": {}, "ingress": [{}]})],
     [("a/web", "a/db", "TCP", 80, False), ("b/cli", "a/db", "TCP", 80, True)]),
    ("AdminNetworkPolicies form a tier of order 1000: before the default tier, after a tier of order 100",
     [ANP_ALLOW_WEB, tier("sec", 100),
      gnp("sec.deny-cli", {"tier": "sec", "selector": "app == 'db'",
                           "ingress": [{"action": "Deny", "source": {"selector": "app == 'cli'"}},
                                       {"action": "Pass"}]}),
      gnp("deny-all", {"selector": "app == 'db'", "ingress": [{"action": "Deny"}]})],
     [("a/web", "a/db", "TCP", 80, True), ("b/cli", "a/db", "TCP", 80, False)]),
    ("An earlier-tier Allow is final even if a Kubernetes NetworkPolicy would deny",
     [tier("sec", 100), gnp("sec.allow", {"tier": "sec", "selector": "app == 'db'", "ingress": ALLOW_ALL}),
      knp("a", "deny", {"podSelector": {}, "policyTypes": ["Ingress"]})],
     [("b/cli", "a/db", "TCP", 80, True), ("b/cli", "a/web", "TCP", 80, False)]),
    ("types defaults to Egress only when the policy has egress rules and no ingress rules",
     [gnp("p", {"selector": "app == 'web'", "egress": [{"action": "Deny"}]})],
     [("b/cli", "a/web", "TCP", 80, True), ("a/web", "a/db", "TCP", 80, False)]),
    ("types defaults to Ingress when the policy has no rules (it isolates ingress only)",
     [gnp("p", {"selector": "app == 'web'"})],
     [("b/cli", "a/web", "TCP", 80, False), ("a/web", "a/db", "TCP", 80, True)]),
    ("A namespaced NetworkPolicy selects endpoints of its namespace; rule selectors look in it too",
     [cnp("a", "p", {"selector": "all()", "ingress": [{"action": "Allow", "source": {"selector": "has(app)"}}]})],
     [("a/web", "a/db", "TCP", 80, True), ("b/cli", "a/db", "TCP", 80, False), ("a/db", "b/cli", "TCP", 80, True)]),
    ("A rule namespaceSelector selects endpoints in the matching namespaces",
     [cnp("a", "p", {"selector": "all()",
                     "ingress": [{"action": "Allow", "source": {"namespaceSelector": "team == 'blue'"}}]})],
     [("b/cli", "a/db", "TCP", 80, True), ("a/web", "a/db", "TCP", 80, False)]),
    ("GlobalNetworkPolicy namespaceSelector restricts the endpoints the policy applies to",
     [gnp("p", {"namespaceSelector": "projectcalico.org/name == 'b'", "selector": "all()", "ingress": []})],
     [("a/web", "b/cli", "TCP", 80, False), ("b/cli", "a/web", "TCP", 80, True)]),
    ("ports take numbers and 'a:b' ranges, notPorts excludes; ports need a protocol",
     [gnp("p", {"selector": "app == 'db'", "ingress": [
         {"action": "Allow", "protocol": "TCP", "destination": {"ports": ["80:500"], "notPorts": [443]}}]})],
     [("a/web", "a/db", "TCP", 80, True), ("a/web", "a/db", "TCP", 443, False), ("a/web", "a/db", "UDP", 80, False)]),
    ("Named ports resolve on the destination endpoint",
     [gnp("p", {"selector": "app == 'db'", "ingress": [
         {"action": "Allow", "protocol": "TCP", "destination": {"ports": ["serve-443-tcp"]}}]})],
     [("a/web", "a/db", "TCP", 443, True), ("a/web", "a/db", "TCP", 80, False)]),
    ("notProtocol matches every protocol but the one named",
     [gnp("p", {"selector": "app == 'db'", "ingress": [{"action": "Allow", "notProtocol": "UDP"}]})],
     [("a/web", "a/db", "TCP", 80, True), ("a/web", "a/db", "UDP", 80, False)]),
    ("An ICMP rule matches no TCP/UDP/SCTP connection (ICMP itself is not modelled)",
     [gnp("p", {"selector": "app == 'db'", "ingress": [{"action": "Deny", "protocol": "ICMP"}, *ALLOW_ALL]})],
     [("a/web", "a/db", "TCP", 80, True)]),
    ("nets match endpoint addresses; notNets exclude them",
     [gnp("p", {"selector": "app == 'db'", "ingress": [
         {"action": "Allow", "source": {"nets": ["10.0.0.0/16"], "notNets": ["10.0.1.0/24"]}}]})],
     [("a/web", "a/db", "TCP", 80, True), ("b/cli", "a/db", "TCP", 80, False)]),
    ("serviceAccounts.names matches endpoints running as those service accounts",
     [gnp("p", {"selector": "app == 'db'", "ingress": [
         {"action": "Allow", "source": {"serviceAccounts": {"names": ["cli-sa"]}}}]})],
     [("b/cli", "a/db", "TCP", 80, True), ("a/web", "a/db", "TCP", 80, False)]),
    ("serviceAccountSelector on the policy selects endpoints by service account (projectcalico.org/name)",
     [gnp("p", {"serviceAccountSelector": "projectcalico.org/name == 'web-sa'", "ingress": []})],
     [("b/cli", "a/web", "TCP", 80, False), ("b/cli", "a/db", "TCP", 80, True)]),
    ("An ingress rule's destination selector narrows the endpoints the rule applies to",
     [gnp("p", {"selector": "all()", "ingress": [
         {"action": "Deny", "destination": {"selector": "app == 'db'"}}, *ALLOW_ALL]})],
     [("b/cli", "a/db", "TCP", 80, False), ("b/cli", "a/web", "TCP", 80, True)]),
    ("crd.projectcalico.org/v1 objects are read like projectcalico.org/v3",
     [gnp("p", {"selector": "app == 'db'", "ingress": [{"action": "Deny"}]}, api="crd.projectcalico.org/v1")],
     [("a/web", "a/db", "TCP", 80, False)]),
    ("preDNAT/doNotTrack policies apply to host endpoints only: pods are unaffected",
     [gnp("p", {"selector": "all()", "preDNAT": True, "applyOnForward": True, "ingress": [{"action": "Deny"}]})],
     [("a/web", "a/db", "TCP", 80, True)]),
]


@pytest.mark.parametrize(("rule", "objects", "expect"), CASES, ids=[c[0][:60] for c in CASES])
def test_calico_semantics(
    rule: str, objects: list[dict[str, Any]], expect: list[tuple[str, str, str, int, bool]]
) -> None:
    cluster = build(BASE + objects)
    got = [(s, d, p, n, cluster.allowed(s, d, p, n)) for s, d, p, n, _ in expect]
    assert got == expect, rule


def test_calico_void_without_calico() -> None:
    """Calico objects take effect only when Calico (or Canal) is the CNI."""
    objs = [*BASE, gnp("p", {"selector": "all()", "ingress": [{"action": "Deny"}]})]
    assert build(objs, cni="cilium").allowed("a/web", "a/db", "TCP", 80) is True
    assert build(objs, cni="calico").allowed("a/web", "a/db", "TCP", 80) is False
    assert build(objs, cni="canal").allowed("a/web", "a/db", "TCP", 80) is False


def test_egress_to_outside_nets() -> None:
    """Egress nets and notNets decide outside addresses; a selector never matches them."""
    from ringwall.model.addresses import parse_address

    objs = [*BASE, gnp("p", {"selector": "app == 'web'", "egress": [
        {"action": "Allow", "destination": {"nets": ["192.0.2.0/24"], "notNets": ["192.0.2.128/25"]}},
        {"action": "Allow", "destination": {"selector": "all()"}}]})]
    engine = build(objs).estate.engine(enforced=True)
    web = build(objs).cls("a/web")
    allowed_ips = [ips for mask, ips, conn in engine.egress_to_ips() if mask & (1 << web.index) and conn]
    from ringwall.model import intervals as iv
    union = ()
    for r in allowed_ips:
        union = iv.union(union, r)
    assert iv.contains(union, parse_address("192.0.2.1"))
    assert not iv.contains(union, parse_address("192.0.2.200"))
    assert not iv.contains(union, parse_address("198.51.100.1"))


@pytest.mark.parametrize(("expr", "labels", "expected"), [
    ("app == 'web'", {"app": "web"}, True),
    ("app == 'web'", {}, False),
    ("app != 'web'", {}, True),  # != matches endpoints without the label
    ("app != 'web'", {"app": "web"}, False),
    ("app in {'a', 'b'}", {"app": "b"}, True),
    ("app not in {'a', 'b'}", {}, True),  # not in matches endpoints without the label
    ("app not in {'a', 'b'}", {"app": "a"}, False),
    ("has(app)", {"app": ""}, True),
    ("!has(app)", {"app": "x"}, False),
    ("all()", {}, True),
    ("global()", {}, False),
    ("app == 'x' || tier == 'y' && env == 'z'", {"tier": "y", "env": "z"}, True),  # && binds tighter
    ("(app == 'x' || tier == 'y') && env == 'z'", {"tier": "y"}, False),
    ("!(app == 'x')", {"app": "y"}, True),
    ('app contains "eb"', {"app": "web"}, True),
    ("app starts with 'w' && app ends with 'b'", {"app": "web"}, True),
    ("", {}, True),
])
def test_selector_language(expr: str, labels: dict[str, str], expected: bool) -> None:
    """Calico "Selectors" reference: operators and precedence."""
    assert parse_expr(expr).matches(labels) is expected


@pytest.mark.parametrize("bad", ["app ==", "app = 'x'", "has(app", "app in {'a'", "&& x == 'y'", "app == 'x' )"])
def test_selector_errors(bad: str) -> None:
    with pytest.raises(ExprError):
        parse_expr(bad)


def test_invalid_selector_is_diagnosed() -> None:
    import yaml

    from ringwall.analysis.estate import LoadOptions, load_estate
    objs = [*BASE, gnp("p", {"selector": "app = 'db'", "ingress": [{"action": "Deny"}]})]
    estate = load_estate(["-"], LoadOptions(), stdin_text=yaml.safe_dump_all(objs))
    assert any(d.code == "calico.invalid" for d in estate.sink.items)
    assert not estate.calico.policies
