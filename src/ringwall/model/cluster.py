"""The Kubernetes estate as one small model: namespaces, workloads, pods, services, nodes.

Workloads are what outputs name (``ns/name[Kind]``); each holds one or more pod *variants*
(the distinct label/port/address combinations of its pods). Layers compute on equivalence
classes of variants, never on individual pods.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ringwall.model.location import Location

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
WORKLOAD_KINDS = (
    "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob", "ReplicationController",
    "DeploymentConfig",
)


@dataclass(slots=True)
class Namespace:
    name: str
    labels: dict[str, str]
    annotations: dict[str, str] = field(default_factory=dict)
    location: Location | None = None
    declared: bool = True


@dataclass(frozen=True, slots=True)
class ContainerPort:
    name: str | None
    port: int
    protocol: str  # TCP, UDP, SCTP
    container: str = ""


@dataclass(slots=True)
class PodVariant:
    """Pods of one workload that are indistinguishable to every layer."""

    labels: dict[str, str]
    ports: tuple[ContainerPort, ...]
    ips: tuple[str, ...] = ()
    host_ip: str | None = None
    count: int = 1
    annotations: dict[str, str] = field(default_factory=dict)
    pod_names: tuple[str, ...] = ()

    def named_port(self, name: str, protocol: str) -> int | None:
        for p in self.ports:
            if p.name == name and p.protocol == protocol:
                return p.port
        return None


@dataclass(slots=True)
class Workload:
    namespace: str
    name: str
    kind: str
    variants: list[PodVariant]
    service_account: str = "default"
    host_network: bool = False
    location: Location | None = None
    annotations: dict[str, str] = field(default_factory=dict)
    replicas: int = 1
    spec: dict[str, Any] = field(default_factory=dict, repr=False)
    """The pod spec (for layers that need more: mesh injection, security context)."""
    automount_token: bool | None = None

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}[{self.kind}]"

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}"

    @property
    def labels(self) -> dict[str, str]:
        """Labels of the first variant (all variants of a template share them)."""
        return self.variants[0].labels if self.variants else {}


@dataclass(frozen=True, slots=True)
class ServicePort:
    port: int
    target: int | str
    protocol: str
    name: str | None = None
    node_port: int | None = None


@dataclass(slots=True)
class Service:
    namespace: str
    name: str
    type: str
    selector: dict[str, str] | None
    ports: tuple[ServicePort, ...]
    cluster_ip: str | None = None
    external_ips: tuple[str, ...] = ()
    location: Location | None = None
    annotations: dict[str, str] = field(default_factory=dict)

    @property
    def ref(self) -> str:
        return f"Service/{self.namespace}/{self.name}"


@dataclass(slots=True)
class Node:
    name: str
    labels: dict[str, str]
    addresses: tuple[str, ...] = ()
    pod_cidrs: tuple[str, ...] = ()
    location: Location | None = None


@dataclass
class Cluster:
    namespaces: dict[str, Namespace] = field(default_factory=dict)
    workloads: list[Workload] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)
    nodes: list[Node] = field(default_factory=list)

    def namespace(self, name: str) -> Namespace:
        """The namespace called ``name``, created implicitly (only its name label) if undeclared."""
        ns = self.namespaces.get(name)
        if ns is None:
            ns = Namespace(name, {NAMESPACE_NAME_LABEL: name}, declared=False)
            self.namespaces[name] = ns
        return ns

    def workload(self, key: str) -> Workload | None:
        for w in self.workloads:
            if w.key == key:
                return w
        return None
