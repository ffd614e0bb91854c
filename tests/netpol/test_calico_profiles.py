"""Calico profiles of Kubernetes pods: ``kns.<namespace>`` and ``ksa.<namespace>.<serviceaccount>``
(Calico "Profile" reference; kube-controllers create them): pods inherit their ``labelsToApply``,
so selectors can test ``pcns.*`` (namespace labels) and ``pcsa.*`` (service-account labels)."""

from __future__ import annotations

from typing import Any

from .test_calico_helpers import build, cnp, gnp, ns, pod


def profile(name: str, labels: dict[str, str], rules: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    allow = rules if rules is not None else [{"action": "Allow"}]
    return {"apiVersion": "projectcalico.org/v3", "kind": "Profile", "metadata": {"name": name},
            "spec": {"ingress": allow, "egress": allow, "labelsToApply": labels}}


def sa(namespace: str, name: str, labels: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": namespace,
                                                                        "labels": labels}}


BASE = [ns("shop", team="red"), ns("ops"),
        pod("shop", "web", {"app": "web"}, sa="web"), pod("shop", "db", {"app": "db"}),
        pod("ops", "tool", {"app": "tool"}, sa="tool")]
DB_FROM = "pcsa.role == 'frontend'"


def _db_policy(source_selector: str) -> dict[str, Any]:
    return cnp("shop", "db-in", {"selector": "app == 'db'", "ingress": [
        {"action": "Allow", "source": {"selector": source_selector}}]})


def test_service_account_labels_as_pcsa() -> None:
    cluster = build([*BASE, sa("shop", "web", {"role": "frontend"}), _db_policy(DB_FROM)], cni="calico")
    assert cluster.allowed("shop/web", "shop/db", "TCP", 80)
    assert not cluster.allowed("ops/tool", "shop/db", "TCP", 80)


def test_ksa_profile_labels_to_apply() -> None:
    """A ksa.* profile from a calicoctl dump: its labelsToApply reach the pods of that account."""
    objects = [*BASE, profile("ksa.shop.web", {"pcsa.projectcalico.org/name": "web", "pcsa.role": "frontend"}),
               _db_policy(DB_FROM)]
    cluster = build(objects, cni="calico")
    assert cluster.allowed("shop/web", "shop/db", "TCP", 80)


def test_kns_profile_labels_to_apply_and_pcns() -> None:
    gp = gnp("tool-in", {"selector": "app == 'tool'", "ingress": [
        {"action": "Allow", "source": {"selector": "pcns.team == 'red' && pcns.tier == 'gold'"}}]})
    assert not build([*BASE, gp], cni="calico").allowed("shop/web", "ops/tool", "TCP", 80)
    kns = profile("kns.shop", {"pcns.projectcalico.org/name": "shop", "pcns.team": "red", "pcns.tier": "gold"})
    assert build([*BASE, kns, gp], cni="calico").allowed("shop/web", "ops/tool", "TCP", 80)


def test_restrictive_or_custom_profiles_are_reported() -> None:
    import yaml

    from ringwall.analysis.estate import LoadOptions, load_estate

    objects = [*BASE, profile("kns.ops", {}, rules=[{"action": "Deny"}]), profile("edge-hosts", {"role": "edge"})]
    estate = load_estate(["-"], LoadOptions(cni="calico"), stdin_text=yaml.safe_dump_all(objects))
    notes = sorted(d.message.split(":")[0] for d in estate.sink.items if d.code == "calico.approximation")
    assert notes == ["Profile edge-hosts", "Profile kns.ops"]
