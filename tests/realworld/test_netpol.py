"""Real-world NetworkPolicy, Admin and CNI policy shapes with the verdicts their documentation states.

References: the Kubernetes NetworkPolicy concept page and the public recipe collections (deny all
to an app, namespace default deny, namespaceSelector AND podSelector in one peer); Calico's
"default deny" how-to (GlobalNetworkPolicy over all non-system namespaces, DNS allowed) and
Cilium's default-deny pattern (a policy section with no matching rule denies); network-policy-api's
AdminNetworkPolicy reference (v0.1+: ``namespaces`` is the label selector).
"""

from __future__ import annotations

import json

from tests.realworld.helpers import DATA, findings, matrix, run

NETPOL = DATA / "netpol"
EXT = "0.0.0.0-255.255.255.255[External]"


def test_recipes_give_exactly_the_documented_connectivity() -> None:
    got = matrix(NETPOL / "recipes.yaml")
    protected = {"default/web[Pod]", "default/api[Pod]", "secondary/db[Pod]", "secondary/metrics[Pod]"}
    assert {c for c in got if c[1] in protected} == {
        # api: only the bookstore's own pods (the frontend); web: nobody.
        ("default/frontend[Pod]", "default/api[Pod]", "All Connections"),
        # db: pods of namespaces labelled purpose=production (its own namespace).
        ("secondary/metrics[Pod]", "secondary/db[Pod]", "All Connections"),
        # metrics: the monitoring pods of the operations namespace, port 5000 only.
        ("ops/prometheus[Pod]", "secondary/metrics[Pod]", "TCP 5000"),
    }
    # Egress denied but DNS: the debug pod reaches CoreDNS on UDP 53 and nothing else.
    assert {c for c in got if c[0] == "ops/debug[Pod]"} == {
        ("ops/debug[Pod]", "kube-system/coredns[Pod]", "UDP 53")}
    # An unprotected pod still accepts everything (the default allow).
    assert (EXT, "ops/prometheus[Pod]", "All Connections") in got


def test_calico_default_deny_isolates_the_namespace_and_no_check_says_otherwise() -> None:
    """Issue #14 point 7: a namespace isolated by a Calico GlobalNetworkPolicy plus Calico
    NetworkPolicies got HIGH RW-NP-001 "no NetworkPolicy: they accept and send any traffic"."""
    path = NETPOL / "calico-default-deny.yaml"
    assert {c for c in matrix(path, "--cni", "calico") if "shop/" in c[0] + c[1]} == {
        ("shop/frontend[Deployment]", "shop/cart[Deployment]", "TCP 7070"),
        ("shop/frontend[Deployment]", "kube-system/coredns[Deployment]", "UDP 53"),
        ("shop/cart[Deployment]", "kube-system/coredns[Deployment]", "UDP 53")}
    assert findings(path, "--cni", "calico", prefix="RW-NP-") == []
    # The DNS checks also ask the engine: the GlobalNetworkPolicy opens UDP 53 only.
    assert [f for f in findings(path, "--cni", "calico") if f[0] in ("RW-DEPTH-002", "RW-DNS-009")] == [
        ("RW-DNS-009", "Deployment/shop/cart"), ("RW-DNS-009", "Deployment/shop/frontend")]


def test_cilium_default_deny_isolates_both_ways_and_no_check_says_otherwise() -> None:
    path = NETPOL / "cilium-default-deny.yaml"
    assert {c for c in matrix(path, "--cni", "cilium") if "shop/" in c[0] + c[1]} == {
        ("shop/frontend[Deployment]", "shop/cart[Deployment]", "TCP 7070")}
    assert findings(path, "--cni", "cilium", prefix="RW-NP-") == []


def test_cilium_ingress_only_isolation_is_one_finding_not_two_contradicting_ones(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Without the egress section Cilium leaves egress open: RW-NP-003 (ingress only), and no
    RW-NP-001, which would claim nothing isolates the namespace."""
    text = (NETPOL / "cilium-default-deny.yaml").read_text()
    text = text.replace("  egress:\n  - toEndpoints:\n    - matchLabels: {k8s:io.kubernetes.pod.namespace: "
                        "kube-system, k8s-app: kube-dns}\n    toPorts:\n    - ports: [{port: \"53\", protocol: "
                        "UDP}]\n", "")
    text = text[:text.index("---\napiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: "
                            "frontend-egress")]
    (tmp_path / "c.yaml").write_text(text)
    assert findings(tmp_path / "c.yaml", "--cni", "cilium", prefix="RW-NP-") == [
        ("RW-NP-003", "Deployment/shop/cart"), ("RW-NP-003", "Deployment/shop/frontend")]


def test_pre_v01_admin_peer_form_is_refused_not_read_as_every_namespace() -> None:
    """Issue #14 point 6: ``namespaces: {namespaceSelector: ...}`` was read as ``namespaces: {}``,
    so the Deny hit every namespace, the friends' too. kubectl (strict field validation) refuses
    the object: it takes no effect and RW-NP-020 says why and how to write it today."""
    path = NETPOL / "anp-pre-v01-peer.yaml"
    got = matrix(path)
    assert ("friends/client[Deployment]", "tenant/api[Deployment]", "All Connections") in got
    assert ("intruders/scanner[Deployment]", "tenant/api[Deployment]", "All Connections") in got
    code, out, err = run("scan", path, "--format", "json")
    assert code == 1  # RW-NP-020 is high
    (rejected,) = [f for f in json.loads(out)["findings"] if f["id"] == "RW-NP-020"]
    assert rejected["subject"] == "AdminNetworkPolicy/deny-evil-to-tenant"
    assert "spec.ingress[0].from[0].namespaces.namespaceSelector" in rejected["message"]
    assert "pre-v0.1" in rejected["message"] and "namespaces: {matchLabels: ...}" in rejected["message"]
    assert rejected["locations"][0]["line"] == 57
    assert err.count("pre-v0.1") == 1


def test_the_same_policy_in_the_current_form_denies_only_the_labelled_namespace(tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = (NETPOL / "anp-pre-v01-peer.yaml").read_text().replace(
        "    - namespaces:\n        namespaceSelector: {matchLabels: {team: evil}}",
        "    - namespaces: {matchLabels: {team: evil}}")
    (tmp_path / "anp.yaml").write_text(text)
    got = {c for c in matrix(tmp_path / "anp.yaml") if c[1] == "tenant/api[Deployment]"}
    assert ("friends/client[Deployment]", "tenant/api[Deployment]", "All Connections") in got
    assert not any(c[0] == "intruders/scanner[Deployment]" for c in got)
    assert [f for f in findings(tmp_path / "anp.yaml", prefix="RW-NP-0") if f[0] in ("RW-NP-001", "RW-NP-020")] == [
        ("RW-NP-001", "Namespace/friends"), ("RW-NP-001", "Namespace/intruders")]


def test_admin_tiers_user_stories() -> None:
    """network-policy-api user stories: Deny (priority 10) beats Allow (priority 20); Pass hands
    tenant traffic to the NetworkPolicies; the Baseline default deny takes what no
    NetworkPolicy decided; Admin and Baseline namespace peers never match external addresses."""
    got = {c for c in matrix(NETPOL / "admin-tiers-user-stories.yaml") if EXT not in (c[0], c[1])}
    assert got == {
        ("monitoring/prometheus[Pod]", "tenant-a/api[Pod]", "All Connections"),
        ("monitoring/prometheus[Pod]", "tenant-a/web[Pod]", "All Connections"),
        ("monitoring/prometheus[Pod]", "tenant-b/web[Pod]", "All Connections"),
        ("tenant-a/web[Pod]", "tenant-a/api[Pod]", "TCP 8080"),
    }
    outside = {c[1] for c in matrix(NETPOL / "admin-tiers-user-stories.yaml") if c[0] == EXT}
    assert outside == {"monitoring/prometheus[Pod]", "sensitive/vault[Pod]", "tenant-a/web[Pod]", "tenant-b/web[Pod]"}


def test_cilium_star_wars_demo() -> None:
    """Cilium's demo: the empire reaches the deathstar on TCP 80, the alliance does not; the L7
    rule (POST /v1/request-landing) is not statically decidable and is reported as the stated
    approximation (the whole port), RW-CILIUM-002."""
    path = NETPOL / "cilium-star-wars.yaml"
    assert {c for c in matrix(path, "--cni", "cilium") if c[1] == "default/deathstar[Deployment]"} == {
        ("default/tiefighter[Pod]", "default/deathstar[Deployment]", "TCP 80")}
    assert [f for f in findings(path, "--cni", "cilium") if f[0].startswith(("RW-NP", "RW-CILIUM"))] == [
        ("RW-CILIUM-002", "CiliumNetworkPolicy/default/rule1"),
        ("RW-NP-002", "Pod/default/tiefighter"), ("RW-NP-002", "Pod/default/xwing"),
        ("RW-NP-003", "Deployment/default/deathstar")]
