"""Builders shared by the Calico and Cilium tests (pods, namespaces, policies as dicts); no tests here."""

from __future__ import annotations

from typing import Any

import yaml

from ringwall.analysis.estate import LoadOptions, load_estate

from .harness import Cluster, namespace_manifest, pod_manifest


def pod(ns: str, name: str, labels: dict[str, str] | None = None, ip: str | None = None,
        sa: str | None = None, ports: tuple[int, ...] = (80, 443)) -> dict[str, Any]:
    p = pod_manifest(ns, name, list(ports), ["TCP", "UDP"], ip, labels or {"app": name})
    if sa:
        p["spec"]["serviceAccountName"] = sa
    return p


def ns(name: str, **labels: str) -> dict[str, Any]:
    return namespace_manifest(name, {"kubernetes.io/metadata.name": name, **labels})


def gnp(name: str, spec: dict[str, Any], api: str = "projectcalico.org/v3") -> dict[str, Any]:
    return {"apiVersion": api, "kind": "GlobalNetworkPolicy", "metadata": {"name": name}, "spec": spec}


def cnp(namespace: str, name: str, spec: dict[str, Any], api: str = "projectcalico.org/v3") -> dict[str, Any]:
    return {"apiVersion": api, "kind": "NetworkPolicy", "metadata": {"name": name, "namespace": namespace},
            "spec": spec}


def tier(name: str, order: float | None, default_action: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if order is not None:
        spec["order"] = order
    if default_action:
        spec["defaultAction"] = default_action
    return {"apiVersion": "projectcalico.org/v3", "kind": "Tier", "metadata": {"name": name}, "spec": spec}


def knp(namespace: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def build(objects: list[dict[str, Any]], cni: str | None = None) -> Cluster:
    text = yaml.safe_dump_all(objects, sort_keys=False)
    estate = load_estate(["-"], LoadOptions(host_network="pod", cni=cni), stdin_text=text)
    errors = [str(d) for d in estate.sink.items if d.level.value in ("error", "warning")]
    assert not errors, errors
    return Cluster(estate)


BASE = [ns("a", team="red"), ns("b", team="blue"),
        pod("a", "web", {"app": "web", "tier": "front"}, "10.0.0.1", sa="web-sa"),
        pod("a", "db", {"app": "db", "tier": "back"}, "10.0.0.2"),
        pod("b", "cli", {"app": "cli"}, "10.0.1.1", sa="cli-sa")]
