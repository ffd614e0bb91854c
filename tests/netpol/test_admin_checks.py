"""Findings about cluster-wide policies (catalogue §1: RW-NP-021, 023, 025, 026, 027; RW-ANP-002)."""

from __future__ import annotations

from typing import Any

from ringwall.analysis.scan import run_scan

from .harness import build, namespace_manifest, pod_manifest


def anp(name: str, priority: int, rules: list[dict[str, Any]], kind: str = "AdminNetworkPolicy",
        subject: dict[str, Any] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"subject": subject or {"namespaces": {}}, "ingress": rules}
    if kind == "AdminNetworkPolicy":
        spec["priority"] = priority
    return {"apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": kind, "metadata": {"name": name}, "spec": spec}


def findings(objs: list[dict[str, Any]]) -> list[tuple[str, str]]:
    base = [namespace_manifest("a", {}), pod_manifest("a", "x", [80], ["TCP"])]
    result = run_scan(build(base + objs).estate)
    return sorted((f.check.id, f.subject) for f in result.findings if f.check.id.startswith(("RW-ANP", "RW-NP-02")))


ALL_NS = [{"namespaces": {}}]


def test_priority_tie_and_pass_to_default_allow() -> None:
    got = findings([
        anp("one", 10, [{"action": "Deny", "from": ALL_NS, "ports": [{"portNumber": {"port": 22}}]}]),
        anp("two", 10, [{"action": "Pass", "from": ALL_NS}]),
    ])
    assert got == [("RW-NP-021", "AdminNetworkPolicy/two"), ("RW-NP-023", "AdminNetworkPolicy/two")]


def test_pass_caught_by_baseline_is_fine() -> None:
    got = findings([
        anp("two", 10, [{"action": "Pass", "from": ALL_NS}]),
        anp("default", 0, [{"action": "Deny", "from": ALL_NS}], kind="BaselineAdminNetworkPolicy"),
    ])
    assert got == []


def test_invalid_baseline_and_allow_all() -> None:
    got = findings([
        anp("base", 0, [{"action": "Deny", "from": ALL_NS}], kind="BaselineAdminNetworkPolicy"),
        anp("open", 1, [{"action": "Allow", "from": ALL_NS}]),
    ])
    assert got == [("RW-ANP-002", "AdminNetworkPolicy/open"), ("RW-NP-025", "BaselineAdminNetworkPolicy/base")]


def test_domain_names_in_deny_and_api_mix() -> None:
    egress_deny = anp("names", 3, [])
    egress_deny["spec"]["egress"] = [{"action": "Deny", "to": [{"domainNames": ["*.example.com"]}]}]
    cnp = {"apiVersion": "policy.networking.k8s.io/v1alpha2", "kind": "ClusterNetworkPolicy",
           "metadata": {"name": "c"}, "spec": {"tier": "Admin", "priority": 50, "subject": {"namespaces": {}},
                                               "ingress": [{"action": "Deny", "from": ALL_NS}]}}
    got = findings([egress_deny, cnp])
    assert got == [("RW-NP-026", "AdminNetworkPolicy/names"), ("RW-NP-027", "ClusterNetworkPolicy/c")]
