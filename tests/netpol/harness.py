"""Build small clusters from corpus-style descriptions and query verdicts pod by pod."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from ringwall.analysis.estate import Estate, LoadOptions, load_estate
from ringwall.layers.netpol.engine import PodClass, egress_conn, ingress_conn, pair_conn


def pod_manifest(ns: str, name: str, ports: list[int], protocols: list[str], ip: str | None = None,
                 labels: dict[str, str] | None = None) -> dict[str, Any]:
    containers = [
        {
            "name": f"cont-{p}-{proto.lower()}",
            "image": "registry.example/agnhost:2.0",
            "ports": [{"containerPort": p, "protocol": proto, "name": f"serve-{p}-{proto.lower()}"}],
        }
        for p in ports
        for proto in protocols
    ]
    pod: dict[str, Any] = {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "labels": labels or {"pod": name}},
        "spec": {"containers": containers},
    }
    if ip:
        pod["status"] = {"podIP": ip, "podIPs": [{"ip": ip}]}
    return pod


def namespace_manifest(name: str, labels: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": dict(labels)}}


@dataclass
class Cluster:
    estate: Estate

    def cls(self, pod: str) -> PodClass:
        engine = self.estate.engine(enforced=True)
        ns, name = pod.split("/")
        key = f"{ns}/{name}[Pod]"
        mask = engine.workload_classes[key]
        return next(engine.classes_in(mask))

    def allowed(self, src: str, dst: str, protocol: str, port: int) -> bool:
        engine = self.estate.engine(enforced=True)
        return pair_conn(engine, self.cls(src), self.cls(dst)).allows(protocol, port)

    def ingress_allowed(self, src: str, dst: str, protocol: str, port: int) -> bool:
        engine = self.estate.engine(enforced=True)
        return ingress_conn(engine, self.cls(dst), self.cls(src)).allows(protocol, port)

    def egress_allowed(self, src: str, dst: str, protocol: str, port: int) -> bool:
        engine = self.estate.engine(enforced=True)
        return egress_conn(engine, self.cls(src), self.cls(dst)).allows(protocol, port)


def build(objects: list[dict[str, Any]], ipblock_pods: str = "auto") -> Cluster:
    text = yaml.safe_dump_all(objects, sort_keys=False)
    estate = load_estate(["-"], LoadOptions(ipblock_pods=ipblock_pods, host_network="pod"), stdin_text=text)
    errors = [str(d) for d in estate.sink.items if d.level.value == "error"]
    assert not errors, errors
    return Cluster(estate)
