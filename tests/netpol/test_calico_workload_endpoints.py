"""Calico WorkloadEndpoints as a source of workloads (issue 19.7).

A ``calicoctl get workloadendpoints -o json`` dump is a WorkloadEndpointList; each endpoint stands
for one pod: its labels (Calico's own ``projectcalico.org/*`` labels removed), named ports,
``ipNetworks`` and service account (Calico "Workload endpoint" reference).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ringwall.analysis.connlist import compute_connlist
from ringwall.analysis.estate import LoadOptions, load_estate


def wep(ns: str, pod: str, app: str, ip: str, ports: list[tuple[str, int]], sa: str = "default") -> dict[str, Any]:
    return {"kind": "WorkloadEndpoint", "apiVersion": "projectcalico.org/v3",
            "metadata": {"name": f"node1-k8s-{pod.replace('-', '--')}-eth0", "namespace": ns,
                         "labels": {"app": app, "projectcalico.org/namespace": ns,
                                    "projectcalico.org/orchestrator": "k8s", "projectcalico.org/serviceaccount": sa}},
            "spec": {"orchestrator": "k8s", "node": "node1", "pod": pod, "endpoint": "eth0", "serviceAccountName": sa,
                     "ipNetworks": [f"{ip}/32"], "profiles": [f"kns.{ns}", f"ksa.{ns}.{sa}"],
                     "interfaceName": "cali0", "ports": [{"name": n, "port": p, "protocol": "TCP"} for n, p in ports]}}


def test_workload_endpoint_dump_is_read_as_pods(tmp_path: Path) -> None:
    dump = {"kind": "WorkloadEndpointList", "apiVersion": "projectcalico.org/v3", "metadata": {},
            "items": [wep("shop", "web-5d8c-x2l", "web", "10.244.1.5", [("http", 8080)], sa="web"),
                      wep("shop", "db-0", "db", "10.244.1.9", [("pg", 5432)])]}
    policy = {"apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkPolicy", "metadata": {"name": "db-in"},
              "spec": {"selector": "app == 'db'", "ingress": [
                  {"action": "Allow", "protocol": "TCP",
                   "source": {"serviceAccounts": {"names": ["web"]}}, "destination": {"ports": ["pg"]}}]}}
    (tmp_path / "weps.json").write_text(json.dumps(dump))
    (tmp_path / "policy.json").write_text(json.dumps(policy))
    estate = load_estate([str(tmp_path)], LoadOptions(cni="calico"))
    web, db = estate.cluster.workloads[1], estate.cluster.workloads[0]
    assert (web.key, web.service_account, web.labels) == ("shop/web-5d8c-x2l[Pod]", "web", {"app": "web"})
    assert (db.variants[0].ips, db.variants[0].ports[0].name) == (("10.244.1.9",), "pg")
    into_db = [c.line() for c in compute_connlist(estate.engine()).connections if c.dst == "shop/db-0[Pod]"]
    assert into_db == ["shop/web-5d8c-x2l[Pod] => shop/db-0[Pod] : TCP 5432"]


def test_a_pod_in_the_input_wins_over_its_endpoint(tmp_path: Path) -> None:
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": "db-0", "namespace": "shop", "labels": {"app": "db"}},
           "spec": {"containers": [{"name": "db", "image": "x"}]}}
    (tmp_path / "all.json").write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": [
        pod, wep("shop", "db-0", "db", "10.244.1.9", [("pg", 5432)])]}))
    estate = load_estate([str(tmp_path)])
    assert [w.key for w in estate.cluster.workloads] == ["shop/db-0[Pod]"]
