"""Calico ``services`` matches (Calico "Use service rules in policy"): a rule's ``destination.services``
matches the pods backing the Service on its target ports; ``source.services`` the pods backing it."""

from __future__ import annotations

from typing import Any

from .test_calico_helpers import build, cnp, gnp, ns, pod

DNS_SVC = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "kube-dns", "namespace": "kube-system"},
           "spec": {"selector": {"k8s-app": "kube-dns"},
                    "ports": [{"name": "dns", "port": 53, "targetPort": 53, "protocol": "UDP"},
                              {"name": "dns-tcp", "port": 53, "targetPort": "serve-53-tcp", "protocol": "TCP"}]}}
PODS = [ns("kube-system"), ns("app"),
        pod("kube-system", "coredns", {"k8s-app": "kube-dns"}, ports=(53, 9153)),
        pod("app", "web", {"app": "web"}), pod("app", "db", {"app": "db"})]


def _egress_to_dns() -> dict[str, Any]:
    return gnp("dns", {"selector": "all()", "types": ["Egress"], "egress": [
        {"action": "Allow", "destination": {"services": {"name": "kube-dns", "namespace": "kube-system"}}}]})


def test_destination_service_allows_its_pods_on_its_target_ports() -> None:
    cluster = build([*PODS, DNS_SVC, _egress_to_dns()], cni="calico")
    assert cluster.allowed("app/web", "kube-system/coredns", "UDP", 53)
    assert cluster.allowed("app/web", "kube-system/coredns", "TCP", 53)  # named target port serve-53-tcp
    assert not cluster.allowed("app/web", "kube-system/coredns", "TCP", 9153)
    assert not cluster.allowed("app/web", "app/db", "TCP", 80)


def test_source_service_in_the_policy_namespace() -> None:
    web_svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "app"},
               "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 80}]}}
    db_in = cnp("app", "db-in", {"selector": "app == 'db'", "ingress": [
        {"action": "Allow", "protocol": "TCP", "source": {"services": {"name": "web"}},
         "destination": {"ports": [443]}}]})
    cluster = build([*PODS, web_svc, db_in], cni="calico")
    assert cluster.allowed("app/web", "app/db", "TCP", 443)
    assert not cluster.allowed("app/web", "app/db", "TCP", 80)
    assert not cluster.allowed("kube-system/coredns", "app/db", "TCP", 443)


def test_missing_service_matches_nothing() -> None:
    cluster = build([*PODS, _egress_to_dns()], cni="calico")
    assert not cluster.allowed("app/web", "kube-system/coredns", "UDP", 53)
