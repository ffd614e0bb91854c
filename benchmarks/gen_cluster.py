#!/usr/bin/env python3
"""Generate synthetic Kubernetes clusters for Ringwall's NetworkPolicy benchmarks.

Usage::

    python benchmarks/gen_cluster.py SIZE -o DIR [--seed N] [--format yaml|json]
                                      [--pods-as workloads|pods|standalone]

Sizes (pod, workload, namespace and policy counts are exact; ``kube-system``, ``ingress-nginx`` and
``monitoring`` count among the namespaces, their workloads and policies among the totals):

====  ==========  =========  ==========  ========  =====
size  namespaces  pods       workloads   policies  nodes
====  ==========  =========  ==========  ========  =====
S     10          300        60          100       3
M     20          1,000      200         200       10
L     100         10,000     1,000       2,000     100
XL    500         150,000    10,000      10,000    5,000
====  ==========  =========  ==========  ========  =====

XL is the largest cluster Kubernetes supports (5,000 nodes, 150,000 pods, at most 110 pods a node).

Why the structure looks the way it does
---------------------------------------
A benchmark on random selectors measures nothing a user cares about: real clusters have few
distinct label keys, many pods per label combination, a default-deny in most namespaces and a
small vocabulary of allow patterns. The generator reproduces that vocabulary:

* namespaces labelled ``team``, ``env``, ``tier`` and ``kubernetes.io/metadata.name`` (some also
  ``compliance: pci`` or ``expose: public``); platform namespaces ``kube-system`` (CoreDNS with
  ``k8s-app: kube-dns``, the ``calico-node`` and ``kube-proxy`` DaemonSets on the host network,
  calico-kube-controllers, metrics-server), ``ingress-nginx`` and ``monitoring`` (Prometheus,
  Grafana, node-exporter);
* workloads, mostly Deployments, data stores as StatefulSets, DaemonSets for node agents, labelled
  ``app``/``tier``/``version``/``team`` (a few ``track: canary``), containers with named ports
  (``http``, ``grpc``, ``metrics`` — the same name on different numbers —, ``postgres``, ``redis``,
  ``statsd`` over UDP, ``sip`` over SCTP, ...), one Service per serving workload;
* policies: per-namespace default deny (ingress and egress; a few namespaces ingress only),
  egress to kube-dns on 53 UDP/TCP, Prometheus scraping on the named port ``metrics``,
  allow-same-namespace, per-workload ingress from callers in the same namespace and from
  specific apps of other namespaces (``namespaceSelector`` + ``podSelector`` in one peer, and in
  a fifth of the cases the same two selectors split into two peers — the classic OR mistake),
  egress to data stores and to other teams' APIs, ``ipBlock`` egress to the internet and to
  partner networks with ``except``, named ports, port ranges (``endPort``), protocol-only ports,
  port-only entries (defaulted to TCP), and ``matchExpressions`` with ``In``, ``NotIn``,
  ``Exists`` and ``DoesNotExist``.

Constructs avoided so that network-config-analyzer (NCA 2.1.0) reads every file exactly as the
Kubernetes API does (``../shared/refs/netpol-semantics.md`` §8):

* D2/D3: ``policyTypes`` is always explicit and in the order ``[Ingress, Egress]``; an ``ingress``
  or ``egress`` key only appears with its type; ``podSelector`` is always present; deny-all is
  written as a type with no rules key (never ``egress: []``);
* D12: ``Exists``/``DoesNotExist`` appear in ``spec.podSelector``, in namespace selectors and in
  peers that select pods of the policy's own namespace, never in a ``podSelector`` that sits next
  to a ``namespaceSelector`` (NCA evaluates those in the policy's namespace only);
* D13: CoreDNS exists, so NCA never adds its ``kube-dns-livesim`` pod; there is no Ingress object.
* Only IPv4 ``ipBlock`` CIDRs, all outside the pod network, so IPv6 printing (D11) and ipBlocks that
  match pod addresses (D1) play no part.

One difference remains and is intended: the node agents run with ``hostNetwork: true`` (as they
do in real clusters). Both np-guard tools treat them as ordinary pods; Ringwall does the same in
``--compat netpol-analyzer`` mode, but by default (D6) treats them as node addresses.

The three pod forms (``--pods-as``)
-----------------------------------
``workloads`` (default)
    A manifest folder: ``namespaces.yaml`` and one sub-folder per namespace with
    ``workloads.yaml`` (Deployments, StatefulSets, DaemonSets with ``replicas``), ``services.yaml``
    and ``networkpolicies.yaml``, each a multi-document YAML file. Pod counts are the sums of
    ``replicas`` (a DaemonSet runs one pod a node).
``pods``
    A live-cluster dump as ``kubectl get namespaces,pods,services,networkpolicies -A -o yaml``
    prints it: a single ``cluster.yaml`` holding one ``kind: List``. Every pod is its own object
    with ``ownerReferences`` (ReplicaSet ``<deployment>-<hash>``, StatefulSet or DaemonSet), a
    ``nodeName``, ``status.hostIP`` and ``status.podIP`` from the node's 10.x.y.0/24 pod range
    (host-network pods carry the node address). The addresses are data only.
``standalone``
    The manifest folder with every pod written as a bare Pod object (no owner, no address),
    named like the pod its workload would have created. This is the form the NCA comparison
    runs on, and the reason is fairness of *size*: NCA keeps at most two pods for every
    (namespace, owner, labels) class, so with workloads the "300 pods" of S shrink to about
    a hundred endpoints on NCA's side before it starts, and the issue's reference figures
    (3 minutes for S, 30 for M) are NCA's times on standalone pods. With bare Pods both tools
    read the same 300 objects and must print the same pod-level answer (``ns/pod[Pod]`` lines);
    what each does inside — NCA's pairwise cubes, Ringwall's equivalence classes — is what the
    benchmark measures. ``benchmarks/run.py --nca-input workloads`` measures the other form too.

Everything is derived from one ``random.Random`` seeded with the size and ``--seed``, and dicts are
written in insertion order, so equal arguments give byte-identical output. Large outputs are
written with ``yaml_rs.dumps`` or ``orjson`` (falling back to PyYAML and ``json``), per document,
which keeps XL well under a minute.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import random
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Obj = dict[str, Any]

try:  # fast writers first; the PyYAML/json fallbacks keep the script usable in a bare venv
    import yaml_rs

    def _dump_yaml_doc(doc: Obj) -> str:
        text = str(yaml_rs.dumps(doc))  # starts with "---", has no final newline
        return text if text.endswith("\n") else text + "\n"

except ImportError:  # pragma: no cover - depends on the environment
    import yaml as _pyyaml

    def _dump_yaml_doc(doc: Obj) -> str:
        return "---\n" + str(_pyyaml.safe_dump(doc, sort_keys=False, default_flow_style=False))

try:
    import orjson

    def _dump_json(doc: Obj) -> bytes:
        return bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))

except ImportError:  # pragma: no cover - depends on the environment

    def _dump_json(doc: Obj) -> bytes:
        return json.dumps(doc, indent=2).encode()


# ----------------------------------------------------------------------------------------------------
# sizes


@dataclass(frozen=True)
class SizeSpec:
    """Exact counts for one benchmark size."""

    name: str
    namespaces: int
    pods: int
    workloads: int
    policies: int
    nodes: int


SIZES: dict[str, SizeSpec] = {
    "S": SizeSpec("S", namespaces=10, pods=300, workloads=60, policies=100, nodes=3),
    "M": SizeSpec("M", namespaces=20, pods=1_000, workloads=200, policies=200, nodes=10),
    "L": SizeSpec("L", namespaces=100, pods=10_000, workloads=1_000, policies=2_000, nodes=100),
    "XL": SizeSpec("XL", namespaces=500, pods=150_000, workloads=10_000, policies=10_000, nodes=5_000),
}

MAX_PODS_PER_NODE = 110  # the kubelet default and the figure behind "150,000 pods on 5,000 nodes"
POD_FORMS = ("workloads", "pods", "standalone")

# ----------------------------------------------------------------------------------------------------
# vocabulary

TEAMS = (
    "payments", "checkout", "catalog", "search", "identity", "orders", "shipping", "billing",
    "analytics", "notifications", "inventory", "reviews", "ads", "recommendations", "media",
    "messaging", "accounts", "pricing", "fraud", "loyalty", "support", "reporting", "geo", "content",
)
ENVS = ("prod", "staging", "dev")
ENV_WEIGHTS = (5, 3, 2)
PCI_TEAMS = frozenset({"payments", "billing", "checkout", "fraud", "accounts"})

# Port = (name, number, protocol)
Port = tuple[str, int, str]


@dataclass(frozen=True)
class Archetype:
    """A kind of service: how it is deployed, which tier it belongs to, what it listens on."""

    name: str
    kind: str
    tier: str
    ports: tuple[Port, ...]
    image: str


_HTTP: Port = ("http", 8080, "TCP")
_GRPC: Port = ("grpc", 9090, "TCP")
_METRICS: Port = ("metrics", 9102, "TCP")

ARCHETYPES: dict[str, Archetype] = {a.name: a for a in (
    Archetype("frontend", "Deployment", "frontend", (_HTTP, ("metrics", 9113, "TCP")), "nginx:1.25"),
    Archetype("web", "Deployment", "frontend", (_HTTP,), "node:20-alpine"),
    Archetype("api", "Deployment", "backend", (_HTTP, _GRPC, _METRICS), "python:3.12-slim"),
    Archetype("gateway", "Deployment", "backend", (_HTTP, ("https", 8443, "TCP"), _METRICS), "envoyproxy/envoy:v1.30"),
    Archetype("auth", "Deployment", "backend", (_GRPC, _METRICS), "golang:1.22"),
    Archetype("search", "Deployment", "backend", (_HTTP, _GRPC), "openjdk:21"),
    Archetype("notifier", "Deployment", "backend", (_HTTP, ("statsd", 8125, "UDP")), "python:3.12-slim"),
    Archetype("worker", "Deployment", "backend", (_METRICS,), "python:3.12-slim"),
    Archetype("scheduler", "Deployment", "backend", (("metrics", 8000, "TCP"),), "golang:1.22"),
    Archetype("signaling", "Deployment", "backend", (("sip", 5060, "SCTP"), _METRICS), "kamailio:5.7"),
    Archetype("postgres", "StatefulSet", "data", (("postgres", 5432, "TCP"), ("metrics", 9187, "TCP")), "postgres:16"),
    Archetype("redis", "StatefulSet", "data", (("redis", 6379, "TCP"), ("metrics", 9121, "TCP")), "redis:7"),
    Archetype("kafka", "StatefulSet", "data", (("kafka", 9092, "TCP"), ("metrics", 9308, "TCP")), "bitnami/kafka:3.7"),
    Archetype("rabbitmq", "StatefulSet", "data", (("amqp", 5672, "TCP"), ("management", 15672, "TCP")),
              "rabbitmq:3.13"),
    Archetype("elasticsearch", "StatefulSet", "data", (("es-http", 9200, "TCP"), ("es-transport", 9300, "TCP")),
              "elasticsearch:8.13"),
)}

# Which archetypes a namespace of a given tier is made of, with weights.
TIER_MIX: dict[str, tuple[tuple[str, int], ...]] = {
    "frontend": (("frontend", 4), ("web", 3), ("api", 4), ("gateway", 2), ("auth", 1), ("redis", 2),
                 ("worker", 1), ("notifier", 1)),
    "backend": (("api", 6), ("auth", 2), ("search", 2), ("worker", 4), ("scheduler", 2), ("notifier", 2),
                ("signaling", 1), ("postgres", 2), ("redis", 2), ("rabbitmq", 1)),
    "data": (("postgres", 3), ("redis", 2), ("kafka", 2), ("elasticsearch", 2), ("rabbitmq", 1), ("api", 3),
             ("worker", 3), ("scheduler", 1)),
}
COMPONENTS = (
    "orders", "ledger", "profile", "cart", "invoice", "session", "catalog", "audit", "events", "export",
    "import", "quota", "tenant", "report", "sync", "media", "pricing", "stock", "rating", "feed",
)

# Per-pod labels of the "fragmented" profile (see --fragmented).
SHARDS = tuple(f"s{i}" for i in range(8))
ZONES = ("zone-a", "zone-b", "zone-c")

PRIVATE_RANGES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
PARTNER_NETS = (
    ("203.0.113.0/24", ("203.0.113.64/26",)),
    ("198.51.100.0/24", ("198.51.100.128/25",)),
    ("192.0.2.0/24", ()),
    ("100.64.0.0/10", ("100.64.0.0/16", "100.127.0.0/16")),
    ("52.94.0.0/16", ("52.94.128.0/17",)),
)


# ----------------------------------------------------------------------------------------------------
# the plan: namespaces and workloads as plain data, before any Kubernetes object is built


@dataclass
class Namespace:
    """A namespace, its labels and what it is made of."""

    name: str
    labels: dict[str, str]
    team: str = "platform"
    env: str = "prod"
    tier: str = "platform"
    platform: bool = False
    workloads: list[Workload] = field(default_factory=list)


@dataclass
class Workload:
    """A pod template with its owner kind and replica count (DaemonSets: one pod a node)."""

    ns: str
    name: str
    kind: str
    labels: dict[str, str]
    selector: dict[str, str]
    ports: tuple[Port, ...]
    image: str
    replicas: int = 1
    tier: str = "backend"
    host_network: bool = False
    service: bool = True
    archetype: str = ""
    # (namespace, app) pairs this workload calls; filled by _wire()
    calls: list[tuple[str, str]] = field(default_factory=list)
    callers: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Cluster:
    """Everything the writers need."""

    size: SizeSpec
    seed: int
    namespaces: list[Namespace]
    policies: list[Obj]
    fragmented: bool = False

    @property
    def workloads(self) -> list[Workload]:
        return [w for ns in self.namespaces for w in ns.workloads]

    def pod_count(self) -> int:
        return sum(self.size.nodes if w.kind == "DaemonSet" else w.replicas for w in self.workloads)


def _ns_labels(name: str, team: str, env: str, tier: str) -> dict[str, str]:
    return {"kubernetes.io/metadata.name": name, "team": team, "env": env, "tier": tier}


def _platform(size: SizeSpec) -> list[Namespace]:
    """kube-system (CoreDNS, Calico, kube-proxy, metrics-server), ingress-nginx and monitoring."""

    def wl(ns: str, name: str, kind: str, labels: dict[str, str], ports: tuple[Port, ...], image: str,
           replicas: int = 1, host: bool = False, service: bool = True) -> Workload:
        return Workload(ns, name, kind, dict(labels), dict(labels), ports, image, replicas, "platform", host,
                        service and bool(ports), name)

    ks = Namespace("kube-system", _ns_labels("kube-system", "platform", "prod", "platform"), platform=True)
    ks.workloads = [
        wl("kube-system", "coredns", "Deployment", {"k8s-app": "kube-dns"},
           (("dns", 53, "UDP"), ("dns-tcp", 53, "TCP"), ("metrics", 9153, "TCP")),
           "registry.k8s.io/coredns/coredns:v1.11.1", replicas=2),
        wl("kube-system", "calico-node", "DaemonSet", {"k8s-app": "calico-node"},
           (("http-metrics", 9091, "TCP"),), "docker.io/calico/node:v3.27.3", host=True, service=False),
        wl("kube-system", "kube-proxy", "DaemonSet", {"k8s-app": "kube-proxy"}, (),
           "registry.k8s.io/kube-proxy:v1.30.1", host=True),
        wl("kube-system", "calico-kube-controllers", "Deployment", {"k8s-app": "calico-kube-controllers"}, (),
           "docker.io/calico/kube-controllers:v3.27.3"),
        wl("kube-system", "metrics-server", "Deployment", {"k8s-app": "metrics-server"},
           (("https", 10250, "TCP"),), "registry.k8s.io/metrics-server/metrics-server:v0.7.1"),
    ]
    ing = Namespace("ingress-nginx", _ns_labels("ingress-nginx", "platform", "prod", "edge"), platform=True)
    ing.workloads = [
        wl("ingress-nginx", "ingress-nginx-controller", "Deployment",
           {"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller"},
           (("http", 80, "TCP"), ("https", 443, "TCP"), ("metrics", 10254, "TCP")),
           "registry.k8s.io/ingress-nginx/controller:v1.10.1", replicas=2),
    ]
    mon = Namespace("monitoring", _ns_labels("monitoring", "platform", "prod", "platform"), platform=True)
    mon.workloads = [
        wl("monitoring", "prometheus", "StatefulSet", {"app.kubernetes.io/name": "prometheus"},
           (("web", 9090, "TCP"),), "quay.io/prometheus/prometheus:v2.52.0", replicas=2),
        wl("monitoring", "grafana", "Deployment", {"app.kubernetes.io/name": "grafana"},
           (("http", 3000, "TCP"),), "grafana/grafana:10.4.2"),
        wl("monitoring", "node-exporter", "DaemonSet", {"app.kubernetes.io/name": "node-exporter"},
           (("metrics", 9100, "TCP"),), "quay.io/prometheus/node-exporter:v1.8.0", host=True),
    ]
    return [ks, ing, mon]


def _split(total: int, parts: int, rng: random.Random, minimum: int, spread: float) -> list[int]:
    """Split ``total`` into ``parts`` integers >= ``minimum`` with random, uneven but bounded sizes."""
    if parts * minimum > total:
        raise ValueError(f"cannot split {total} into {parts} parts of at least {minimum}")
    weights = [rng.uniform(1.0, 1.0 + spread) ** 2 for _ in range(parts)]
    scale = (total - parts * minimum) / sum(weights)
    sizes = [minimum + int(w * scale) for w in weights]
    order = sorted(range(parts), key=lambda i: -weights[i])
    i = 0
    while sum(sizes) < total:
        sizes[order[i % parts]] += 1
        i += 1
    return sizes


def _app_namespaces(count: int, rng: random.Random) -> list[Namespace]:
    out: list[Namespace] = []
    taken: set[str] = set()
    tiers = ("frontend", "backend", "backend", "data")
    for i in range(count):
        team = TEAMS[i % len(TEAMS)]
        env = rng.choices(ENVS, ENV_WEIGHTS)[0]
        name = f"{team}-{env}"
        n = 2
        while name in taken:
            name = f"{team}-{env}-{n}"
            n += 1
        taken.add(name)
        tier = tiers[(i + i // len(TEAMS)) % len(tiers)]
        labels = _ns_labels(name, team, env, tier)
        if team in PCI_TEAMS:
            labels["compliance"] = "pci"
        if tier == "frontend":
            labels["expose"] = "public"
        out.append(Namespace(name, labels, team, env, tier))
    return out


def _fill_workloads(ns: Namespace, count: int, rng: random.Random) -> None:
    mix = TIER_MIX[ns.tier]
    names, weights = zip(*mix, strict=True)
    chosen: list[str] = []
    # every namespace has something that serves HTTP, so cross-namespace calls have a target
    chosen.append("frontend" if ns.tier == "frontend" else "api")
    while len(chosen) < count:
        chosen.append(rng.choices(names, weights)[0])
    used: set[str] = set()
    comps = list(COMPONENTS)
    rng.shuffle(comps)
    for index, arch_name in enumerate(chosen):
        arch = ARCHETYPES[arch_name]
        name = arch.name
        k = 0
        while name in used:
            name = f"{comps[k % len(comps)]}-{arch.name}" + (f"-{k // len(comps) + 1}" if k >= len(comps) else "")
            k += 1
        used.add(name)
        version = rng.choices(("v1", "v2", "v3"), (2, 5, 2))[0]
        labels = {"app": name, "tier": arch.tier, "version": version, "team": ns.team}
        if index % 7 == 3 and arch.kind == "Deployment":
            labels["track"] = "canary"
        labels["app.kubernetes.io/part-of"] = ns.team
        ns.workloads.append(Workload(
            ns.name, name, arch.kind, labels, {"app": name}, arch.ports, arch.image, 1, arch.tier, False,
            any(p[0] not in ("metrics",) for p in arch.ports), arch.name))


def _set_replicas(app: list[Workload], pods: int, rng: random.Random) -> None:
    """Give every app workload >= 1 replica so that the replicas add up to exactly ``pods``."""
    raw = []
    for w in app:
        if w.kind == "StatefulSet":
            raw.append(3.0)
        else:
            raw.append(rng.choice((1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 5.0, 6.0, 8.0, 12.0)))
    scale = pods / sum(raw)
    reps = [max(1, round(r * scale)) for r in raw]
    diff = pods - sum(reps)
    idx = list(range(len(app)))
    rng.shuffle(idx)
    i = 0
    while diff != 0:
        j = idx[i % len(idx)]
        if diff > 0:
            reps[j] += 1
            diff -= 1
        elif reps[j] > 1:
            reps[j] -= 1
            diff += 1
        i += 1
        if i > 100 * len(idx) + abs(diff) * 10:  # pragma: no cover - only with impossible counts
            raise ValueError("cannot reach the pod count")
    for w, r in zip(app, reps, strict=True):
        w.replicas = r


def _wire(app_ns: list[Namespace], rng: random.Random) -> None:
    """Decide who calls whom: same-namespace callers and a few apps from other namespaces."""
    servers: dict[str, list[Workload]] = {}
    for ns in app_ns:
        servers[ns.name] = [w for w in ns.workloads if w.archetype in ("api", "gateway", "auth", "search")]
    by_env: dict[str, list[Namespace]] = {}
    for ns in app_ns:
        by_env.setdefault(ns.env, []).append(ns)
    for ns in app_ns:
        local = ns.workloads
        front = [w for w in local if w.tier == "frontend"]
        back = [w for w in local if w.tier == "backend"]
        data = [w for w in local if w.tier == "data"]
        for w in local:
            if w.tier == "frontend":
                targets = [s for s in back if s.archetype in ("api", "gateway", "auth")]
                for t in rng.sample(targets, min(len(targets), 2)):
                    w.calls.append((ns.name, t.name))
            elif w.tier == "backend":
                for t in rng.sample(data, min(len(data), 2)):
                    w.calls.append((ns.name, t.name))
                others = [s for s in back if s is not w and s.archetype in ("auth", "api")]
                for t in rng.sample(others, min(len(others), 1)):
                    w.calls.append((ns.name, t.name))
        # cross-namespace: one or two clients here call an API of another namespace, mostly the same env
        peers = [p for p in by_env.get(ns.env, []) if p is not ns and servers[p.name]]
        if not peers or rng.random() < 0.2:
            peers = [p for p in app_ns if p is not ns and servers[p.name]]
        clients = [w for w in front + back if w.archetype in ("frontend", "web", "api", "worker", "gateway")]
        for _ in range(min(2, len(peers))):
            if not clients:
                break
            other = rng.choice(peers)
            target = rng.choice(servers[other.name])
            client = rng.choice(clients)
            if (other.name, target.name) not in client.calls:
                client.calls.append((other.name, target.name))
    index = {(w.ns, w.name): w for ns in app_ns for w in ns.workloads}
    for ns in app_ns:
        for w in ns.workloads:
            for callee in w.calls:
                index[callee].callers.append((w.ns, w.name))


# ----------------------------------------------------------------------------------------------------
# NetworkPolicy building blocks


def _sel(match_labels: dict[str, str] | None = None, exprs: list[Obj] | None = None) -> Obj:
    out: Obj = {}
    if match_labels:
        out["matchLabels"] = dict(match_labels)
    if exprs:
        out["matchExpressions"] = exprs
    return out


def _expr(key: str, op: str, values: list[str] | None = None) -> Obj:
    out: Obj = {"key": key, "operator": op}
    if values is not None:
        out["values"] = values
    return out


def _ns_by_name(name: str) -> Obj:
    return _sel({"kubernetes.io/metadata.name": name})


def _port(port: int | str | None = None, protocol: str | None = "TCP", end: int | None = None) -> Obj:
    out: Obj = {}
    if protocol is not None:
        out["protocol"] = protocol
    if port is not None:
        out["port"] = port
    if end is not None:
        out["endPort"] = end
    return out


def _policy(ns: str, name: str, selector: Obj, ingress: list[Obj] | None = None,
            egress: list[Obj] | None = None) -> Obj:
    """A NetworkPolicy with explicit policyTypes in API order; ``[]`` means deny that direction."""
    types = []
    spec: Obj = {"podSelector": selector}
    if ingress is not None:
        types.append("Ingress")
    if egress is not None:
        types.append("Egress")
    spec["policyTypes"] = types
    if ingress:
        spec["ingress"] = ingress
    if egress:
        spec["egress"] = egress
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": ns, "labels": {"app.kubernetes.io/managed-by": "ringwall-bench"}},
        "spec": spec,
    }


DNS_EGRESS: Obj = {
    "to": [{"namespaceSelector": _ns_by_name("kube-system"), "podSelector": _sel({"k8s-app": "kube-dns"})}],
    "ports": [_port(53, "UDP"), _port(53, "TCP")],
}
PROMETHEUS_PEER: Obj = {"namespaceSelector": _ns_by_name("monitoring"),
                        "podSelector": _sel({"app.kubernetes.io/name": "prometheus"})}
INGRESS_NGINX_PEER: Obj = {"namespaceSelector": _ns_by_name("ingress-nginx"),
                           "podSelector": _sel({"app.kubernetes.io/name": "ingress-nginx"})}


def _platform_policies(app_ns: list[Namespace]) -> list[Obj]:
    """Policies of the platform namespaces (always part of the total)."""
    every_ns = {"namespaceSelector": {}}
    return [
        _policy("kube-system", "coredns", _sel({"k8s-app": "kube-dns"}),
                ingress=[{"from": [every_ns], "ports": [_port(53, "UDP"), _port(53, "TCP")]},
                         {"from": [PROMETHEUS_PEER], "ports": [_port("metrics")]}]),
        _policy("ingress-nginx", "controller", _sel({"app.kubernetes.io/name": "ingress-nginx"}),
                ingress=[{"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [_port("http"), _port("https")]},
                         {"from": [PROMETHEUS_PEER], "ports": [_port("metrics")]}],
                egress=[DNS_EGRESS,
                        {"to": [{"namespaceSelector": _sel({"expose": "public"}),
                                 "podSelector": _sel(exprs=[_expr("tier", "In", ["frontend"])])}],
                         "ports": [_port("http")]},
                        {"to": [{"namespaceSelector": _ns_by_name("monitoring"),
                                 "podSelector": _sel({"app.kubernetes.io/name": "grafana"})}],
                         "ports": [_port("http")]}]),
        _policy("monitoring", "prometheus", _sel({"app.kubernetes.io/name": "prometheus"}),
                ingress=[{"from": [{"podSelector": _sel({"app.kubernetes.io/name": "grafana"})}],
                          "ports": [_port("web")]}],
                egress=[DNS_EGRESS,
                        {"to": [{"namespaceSelector": {}}], "ports": [_port("metrics"), _port("http-metrics")]},
                        {"to": [{"ipBlock": {"cidr": "172.16.0.0/12"}}], "ports": [_port(9100), _port(10250)]}]),
        _policy("monitoring", "grafana", _sel({"app.kubernetes.io/name": "grafana"}),
                ingress=[{"from": [INGRESS_NGINX_PEER], "ports": [_port("http")]}],
                egress=[DNS_EGRESS,
                        {"to": [{"podSelector": _sel({"app.kubernetes.io/name": "prometheus"})}],
                         "ports": [_port(9090)]},
                        {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": list(PRIVATE_RANGES)}}],
                         "ports": [_port(443)]}]),
        _policy("kube-system", "metrics-server", _sel({"k8s-app": "metrics-server"}),
                ingress=[{"from": [{"ipBlock": {"cidr": "172.16.0.0/12"}}], "ports": [_port("https")]}]),
        _policy("monitoring", "default-deny-ingress", {}, ingress=[]),
    ]


def _caller_peer(here: str, caller: tuple[str, str], ns_index: dict[str, Namespace], variant: int,
                 frag: random.Random | None = None) -> list[Obj]:
    """Peers admitting ``caller`` (namespace, app) into namespace ``here``; one or two peers."""
    cns, capp = caller
    if cns == here:
        if frag is not None:
            return [{"podSelector": _sel({"app": capp}, [_expr("zone", "In", sorted(frag.sample(ZONES, 2)))])}]
        return [{"podSelector": _sel({"app": capp})}]
    other = ns_index[cns]
    if variant % 5 == 4:
        # the classic mistake: two peers (OR) where one peer (AND) was meant
        return [{"namespaceSelector": _sel({"team": other.team, "env": other.env})},
                {"podSelector": _sel({"app": capp})}]
    if variant % 3 == 1:
        return [{"namespaceSelector": _sel({"team": other.team},
                                           [_expr("env", "In", [other.env])]),
                 "podSelector": _sel({"app": capp})}]
    return [{"namespaceSelector": _ns_by_name(cns), "podSelector": _sel({"app": capp})}]


def _server_ports(w: Workload, variant: int) -> list[Obj]:
    """Port entries that open ``w``'s serving ports, in the several spellings real policies use."""
    out: list[Obj] = []
    for name, number, proto in w.ports:
        if name in ("metrics",):
            continue
        if variant % 4 == 0:
            out.append(_port(name, proto))  # named port
        elif variant % 4 == 1 and proto == "TCP":
            out.append(_port(number, None))  # port only: defaulted to TCP
        elif variant % 4 == 2 and proto == "TCP" and number >= 8000:
            out.append(_port(number, "TCP", number + 9))  # a small range
        else:
            out.append(_port(number, proto))
    return out


def _namespace_candidates(ns: Namespace, ns_index: dict[str, Namespace], rng: random.Random,
                          frag: random.Random | None = None) -> list[Obj]:
    """Every policy this namespace could have, most important first.

    With ``frag`` (the fragmented profile) per-workload policies select a random subset of the
    workload's shards and same-namespace callers a subset of zones, so no two pods need behave alike.
    """
    name = ns.name
    first: list[Obj] = []
    if rng.random() < 0.9:
        first.append(_policy(name, "default-deny-all", {}, ingress=[], egress=[]))
    else:
        first.append(_policy(name, "default-deny-ingress", {}, ingress=[]))
    first.append(_policy(name, "allow-dns-egress", {}, egress=[DNS_EGRESS]))
    first.append(_policy(name, "allow-prometheus-scrape", {},
                         ingress=[{"from": [PROMETHEUS_PEER], "ports": [_port("metrics")]}]))
    rest: list[Obj] = []
    for i, w in enumerate(ns.workloads):
        variant = rng.randrange(60)
        sel = _sel({"app": w.name})
        if frag is not None:
            sel = _sel({"app": w.name}, [_expr("shard", "In", sorted(frag.sample(SHARDS, frag.randint(2, 6))))])
        serving = [p for p in w.ports if p[0] != "metrics"]
        # ingress
        rules: list[Obj] = []
        if w.tier == "frontend":
            rules.append({"from": [INGRESS_NGINX_PEER], "ports": [_port("http")]})
        if w.callers and serving:
            local = sorted({c[1] for c in w.callers if c[0] == name})
            remote = [c for c in w.callers if c[0] != name]
            peers: list[Obj] = []
            if local and w.tier == "data":
                # same-namespace peer, so Exists/DoesNotExist is evaluated the same by every tool
                peers.append({"podSelector": _sel(exprs=[_expr("app", "In", local),
                                                         _expr("track", "DoesNotExist")])})
                if variant % 2 == 0:
                    peers.append({"podSelector": _sel({"track": "canary"},
                                                      [_expr("app", "In", local)])})
            elif local:
                peers.append({"podSelector": _sel(exprs=[_expr("app", "In", local)])})
            for j, caller in enumerate(remote):
                peers.extend(_caller_peer(name, caller, ns_index, variant + j, frag))
            rules.append({"from": peers, "ports": _server_ports(w, variant)})
        if rules:
            rest.append(_policy(name, f"{w.name}-ingress", sel, ingress=rules))
        # egress
        erules: list[Obj] = []
        for callee_ns, callee_app in w.calls:
            callee = next(x for x in ns_index[callee_ns].workloads if x.name == callee_app)
            if callee_ns == name:
                peer: Obj = {"podSelector": _sel({"app": callee_app})}
            elif variant % 2:
                peer = {"namespaceSelector": _ns_by_name(callee_ns), "podSelector": _sel({"app": callee_app})}
            else:
                other = ns_index[callee_ns]
                peer = {"namespaceSelector": _sel({"team": other.team},
                                                  [_expr("env", "NotIn", [e for e in ENVS if e != other.env])]),
                        "podSelector": _sel(exprs=[_expr("app", "In", [callee_app])])}
            erules.append({"to": [peer], "ports": _server_ports(callee, variant + 1) or [_port(None, "TCP")]})
        if w.archetype in ("api", "gateway", "notifier", "worker") and variant % 3 != 2:
            erules.append({"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": list(PRIVATE_RANGES)}}],
                           "ports": [_port(443)]})
        if w.archetype in ("gateway", "api") and variant % 4 == 1:
            cidr, excepts = PARTNER_NETS[variant % len(PARTNER_NETS)]
            block: Obj = {"cidr": cidr}
            if excepts:
                block["except"] = list(excepts)
            erules.append({"to": [{"ipBlock": block}], "ports": [_port(8443, "TCP", 8450)]})
        if w.archetype == "notifier":
            erules.append({"to": [{"ipBlock": {"cidr": "198.51.100.10/32"}}], "ports": [_port(None, "UDP")]})
        if w.archetype == "signaling":
            erules.append({"to": [{"ipBlock": {"cidr": "192.0.2.0/24"}}], "ports": [_port(5060, "SCTP", 5070)]})
        if erules:
            rest.append(_policy(name, f"{w.name}-egress", sel, egress=erules))
        # version/canary pinning, written with NotIn and Exists on the policy's own pods
        # (Exists only where the workload really is a canary, so the policy is not dead)
        if (i % 4 == 1 or "track" in w.labels) and serving:
            rest.append(_policy(
                name, f"{w.name}-canary-from-same-team",
                _sel({"app": w.name}, [_expr("track", "Exists")] if "track" in w.labels else
                     [_expr("version", "NotIn", ["v1"])]),
                ingress=[{"from": [{"namespaceSelector": _sel({"team": ns.team}),
                                    "podSelector": _sel({"tier": "frontend"})}],
                          "ports": [_port(p[0], p[2]) for p in serving]}]))
    # namespace-wide extras
    rest.append(_policy(name, "allow-same-namespace", {},
                        ingress=[{"from": [{"podSelector": {}}]}], egress=[{"to": [{"podSelector": {}}]}]))
    rest.append(_policy(
        name, "allow-from-prod-frontends",
        _sel(exprs=[_expr("tier", "In", ["frontend", "backend"]), _expr("app", "Exists")]),
        ingress=[{"from": [{"namespaceSelector": _sel(exprs=[_expr("env", "In", ["prod"]),
                                                             _expr("compliance", "DoesNotExist")]),
                            "podSelector": _sel({"tier": "frontend"})}],
                  "ports": [_port("http")]}]))
    if "compliance" in ns.labels:
        rest.append(_policy(
            name, "pci-only-from-pci", _sel({"tier": "data"}),
            ingress=[{"from": [{"namespaceSelector": _sel(exprs=[_expr("compliance", "Exists")]),
                                "podSelector": _sel(exprs=[_expr("tier", "NotIn", ["frontend"])])}]}]))
    rest.append(_policy(
        name, "allow-statsd-egress", _sel(exprs=[_expr("tier", "In", ["backend"])]),
        egress=[{"to": [{"podSelector": _sel(exprs=[_expr("app", "In", ["notifier"])])}],
                 "ports": [_port("statsd", "UDP")]}]))
    rng.shuffle(rest)
    # fillers in case the budget is larger than what the namespace naturally has
    for k, w in enumerate(ns.workloads * 3):
        rest.append(_policy(name, f"{w.name}-allow-monitoring-{k // max(1, len(ns.workloads)) + 1}",
                            _sel({"app": w.name}, [_expr("version", "In", ["v1", "v2", "v3"])]),
                            ingress=[{"from": [PROMETHEUS_PEER], "ports": [_port("metrics")]}]))
    return first + rest


def _select_policies(app_ns: list[Namespace], budget: int, rng: random.Random,
                     frag: random.Random | None = None) -> list[Obj]:
    """Round-robin over namespaces, level by level, so that every namespace gets its most important
    policies first (default deny, DNS, scraping) and the total is exactly ``budget``."""
    ns_index = {ns.name: ns for ns in app_ns}
    candidates = [_namespace_candidates(ns, ns_index, rng, frag) for ns in app_ns]
    chosen: list[list[Obj]] = [[] for _ in app_ns]
    taken = 0
    level = 0
    deepest = max(len(c) for c in candidates)
    while taken < budget and level < deepest:
        for i, cands in enumerate(candidates):
            if level < len(cands) and taken < budget:
                chosen[i].append(cands[level])
                taken += 1
        level += 1
    if taken < budget:
        raise ValueError(f"only {taken} policies available for a budget of {budget}")
    return [p for group in chosen for p in group]


def plan(size: SizeSpec, seed: int = 0, fragmented: bool = False) -> Cluster:
    """Build the whole cluster as data; deterministic in (size, seed, fragmented)."""
    rng = random.Random(f"ringwall-bench:{size.name}:{seed}")
    # a separate stream, so the realistic profile is the same with and without the option
    frag = random.Random(f"ringwall-bench-frag:{size.name}:{seed}") if fragmented else None
    platform = _platform(size)
    app_ns = _app_namespaces(size.namespaces - len(platform), rng)
    platform_wl = sum(len(ns.workloads) for ns in platform)
    platform_pods = sum(size.nodes if w.kind == "DaemonSet" else w.replicas for ns in platform for w in ns.workloads)
    counts = _split(size.workloads - platform_wl, len(app_ns), rng, minimum=3, spread=1.5)
    for ns, count in zip(app_ns, counts, strict=True):
        _fill_workloads(ns, count, rng)
    app = [w for ns in app_ns for w in ns.workloads]
    _set_replicas(app, size.pods - platform_pods, rng)
    _wire(app_ns, rng)
    policies = _platform_policies(app_ns)
    policies += _select_policies(app_ns, size.policies - len(policies), rng, frag)
    cluster = Cluster(size, seed, platform + app_ns, policies, fragmented)
    assert cluster.pod_count() == size.pods, (cluster.pod_count(), size.pods)
    assert len(cluster.workloads) == size.workloads
    assert len(policies) == size.policies
    if size.pods > size.nodes * MAX_PODS_PER_NODE:
        raise ValueError(f"{size.name}: {size.pods} pods do not fit on {size.nodes} nodes")
    return cluster


# ----------------------------------------------------------------------------------------------------
# Kubernetes objects

_SAFE = "bcdfghjklmnpqrstvwxz2456789"  # the alphabet Kubernetes uses for generated name suffixes


def _suffix(rng: random.Random, n: int) -> str:
    return "".join(rng.choices(_SAFE, k=n))


def _container(w: Workload) -> Obj:
    c: Obj = {"name": w.name if len(w.name) <= 63 else w.name[:63], "image": w.image}
    if w.ports:
        c["ports"] = [{"name": n, "containerPort": p, "protocol": proto} for n, p, proto in w.ports]
    c["resources"] = {"requests": {"cpu": "50m", "memory": "64Mi"}}
    return c


def _pod_spec(w: Workload) -> Obj:
    spec: Obj = {}
    if w.host_network:
        spec["hostNetwork"] = True
        spec["dnsPolicy"] = "ClusterFirstWithHostNet"
    spec["serviceAccountName"] = w.name if w.ns != "kube-system" else w.name.split("-")[0]
    spec["containers"] = [_container(w)]
    return spec


def namespace_obj(ns: Namespace) -> Obj:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns.name, "labels": dict(ns.labels)}}


def workload_obj(w: Workload) -> Obj:
    meta: Obj = {"name": w.name, "namespace": w.ns, "labels": dict(w.labels)}
    template: Obj = {"metadata": {"labels": dict(w.labels)}, "spec": _pod_spec(w)}
    spec: Obj = {}
    if w.kind != "DaemonSet":
        spec["replicas"] = w.replicas
    if w.kind == "StatefulSet":
        spec["serviceName"] = w.name
    spec["selector"] = {"matchLabels": dict(w.selector)}
    spec["template"] = template
    return {"apiVersion": "apps/v1", "kind": w.kind, "metadata": meta, "spec": spec}


def service_obj(w: Workload) -> Obj:
    ports = [{"name": n, "port": 80 if n == "http" else p, "targetPort": n, "protocol": proto}
             for n, p, proto in w.ports]
    spec: Obj = {"selector": dict(w.selector), "ports": ports}
    if w.kind == "StatefulSet":
        spec["clusterIP"] = "None"
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": w.name, "namespace": w.ns}, "spec": spec}


@dataclass(frozen=True)
class PodInstance:
    """One pod of a workload as a live dump (or a bare manifest) would show it."""

    name: str
    owner_kind: str
    owner_name: str
    node: int
    labels: dict[str, str]


def _node_ip(node: int) -> str:
    return str(ipaddress.IPv4Address(int(ipaddress.IPv4Address("172.16.0.10")) + node))


def _node_name(node: int) -> str:
    return f"node-{node:05d}"


def pod_instances(cluster: Cluster, rng: random.Random) -> Iterator[tuple[Workload, PodInstance]]:
    """Expand every workload into pods with realistic names, owners and node placement.

    In the fragmented profile every pod also gets its own ``shard`` and ``zone`` labels (from a
    separate random stream, so names and placement do not change).
    """
    frag = random.Random(f"ringwall-bench-frag-pods:{cluster.size.name}:{cluster.seed}")
    for w, p in _pod_instances(cluster, rng):
        if cluster.fragmented:
            p = PodInstance(p.name, p.owner_kind, p.owner_name, p.node,
                            p.labels | {"shard": frag.choice(SHARDS), "zone": frag.choice(ZONES)})
        yield w, p


def _pod_instances(cluster: Cluster, rng: random.Random) -> Iterator[tuple[Workload, PodInstance]]:
    nodes = cluster.size.nodes
    next_node = 0
    for w in cluster.workloads:
        if w.kind == "DaemonSet":
            labels = dict(w.labels) | {"controller-revision-hash": _suffix(rng, 10),
                                       "pod-template-generation": "1"}
            for node in range(nodes):
                yield w, PodInstance(f"{w.name}-{_suffix(rng, 5)}", "DaemonSet", w.name, node, labels)
        elif w.kind == "StatefulSet":
            rev = f"{w.name}-{_suffix(rng, 10)}"
            for ordinal in range(w.replicas):
                labels = dict(w.labels) | {"controller-revision-hash": rev,
                                           "statefulset.kubernetes.io/pod-name": f"{w.name}-{ordinal}"}
                yield w, PodInstance(f"{w.name}-{ordinal}", "StatefulSet", w.name, next_node % nodes, labels)
                next_node += 1
        else:
            pth = _suffix(rng, 10)
            rs = f"{w.name}-{pth}"
            labels = dict(w.labels) | {"pod-template-hash": pth}
            for _ in range(w.replicas):
                yield w, PodInstance(f"{rs}-{_suffix(rng, 5)}", "ReplicaSet", rs, next_node % nodes, labels)
                next_node += 1


def pod_obj(w: Workload, p: PodInstance, owned: bool, pod_ip: str | None) -> Obj:
    meta: Obj = {"name": p.name, "namespace": w.ns, "labels": dict(p.labels)}
    if owned:
        api = "apps/v1"
        meta["ownerReferences"] = [{"apiVersion": api, "kind": p.owner_kind, "name": p.owner_name,
                                    "uid": f"00000000-0000-4000-8000-{abs(hash_name(w.ns + '/' + p.owner_name)):012x}",
                                    "controller": True, "blockOwnerDeletion": True}]
    spec = _pod_spec(w)
    if owned:
        spec = {"nodeName": _node_name(p.node)} | spec
    out: Obj = {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}
    if pod_ip is not None:
        out["status"] = {"phase": "Running", "hostIP": _node_ip(p.node), "podIP": pod_ip,
                         "podIPs": [{"ip": pod_ip}]}
    return out


def hash_name(text: str) -> int:
    """A stable 48-bit number for a name (``hash()`` changes between runs)."""
    value = 1469598103934665603
    for ch in text.encode():
        value = ((value ^ ch) * 1099511628211) & 0xFFFFFFFFFFFF
    return value


class _IpAllocator:
    """Pod addresses: node i owns 10.(i >> 8).(i & 255).0/24; host-network pods use the node address."""

    def __init__(self) -> None:
        self.used: dict[int, int] = {}

    def pod_ip(self, node: int) -> str:
        host = self.used.get(node, 1) + 1
        if host > 254:
            raise ValueError(f"node {node} has more than 253 pods")
        self.used[node] = host
        return f"10.{(node >> 8) & 255}.{node & 255}.{host}"


# ----------------------------------------------------------------------------------------------------
# writers


@dataclass
class WriteStats:
    """What was written, for the command line summary and for run.py."""

    files: int = 0
    bytes: int = 0
    objects: int = 0
    seconds: float = 0.0


def _write_docs(path: Path, docs: list[Obj], fmt: str, stats: WriteStats) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "json":
        data = _dump_json({"apiVersion": "v1", "kind": "List", "items": docs})
        path.with_suffix(".json").write_bytes(data)
        stats.bytes += len(data)
    else:
        text = "".join(_dump_yaml_doc(d) for d in docs)
        raw = text.encode()
        path.with_suffix(".yaml").write_bytes(raw)
        stats.bytes += len(raw)
    stats.files += 1
    stats.objects += len(docs)


def _stream_list(path: Path, items: Iterator[Obj], fmt: str, stats: WriteStats) -> None:
    """Write a ``kind: List`` one item at a time, the way ``kubectl get -o yaml|json`` prints it.

    Streaming keeps the generator's memory flat for the 150,000-pod dump (dumping the whole list in
    one call needs several GiB). Items never contain multi-line strings, so re-indenting each
    dumped item by two spaces under ``- `` is exact.
    """
    count = 0
    with path.open("wb") as handle:
        if fmt == "json":
            handle.write(b'{\n  "apiVersion": "v1",\n  "kind": "List",\n  "items": [\n')
            for item in items:
                if count:
                    handle.write(b",\n")
                handle.write(_dump_json(item))
                count += 1
            handle.write(b'\n  ],\n  "metadata": {\n    "resourceVersion": ""\n  }\n}\n')
        else:
            handle.write(b"apiVersion: v1\nitems:\n")
            chunk: list[str] = []
            for item in items:
                body = _dump_yaml_doc(item).removeprefix("---\n").rstrip("\n")
                chunk.append("- " + body.replace("\n", "\n  ") + "\n")
                count += 1
                if len(chunk) >= 2000:
                    handle.write("".join(chunk).encode())
                    chunk.clear()
            handle.write("".join(chunk).encode())
            handle.write(b'kind: List\nmetadata:\n  resourceVersion: ""\n')
    stats.files += 1
    stats.objects += count
    stats.bytes += path.stat().st_size


def _policies_by_ns(cluster: Cluster) -> dict[str, list[Obj]]:
    out: dict[str, list[Obj]] = {ns.name: [] for ns in cluster.namespaces}
    for p in cluster.policies:
        out[p["metadata"]["namespace"]].append(p)
    return out


def write(cluster: Cluster, out: Path, fmt: str = "yaml", pods_as: str = "workloads") -> WriteStats:
    """Write ``cluster`` under ``out`` (emptied first) in the chosen form."""
    if pods_as not in POD_FORMS:
        raise ValueError(f"--pods-as must be one of {POD_FORMS}")
    if cluster.fragmented and pods_as == "workloads":
        raise ValueError("the fragmented profile labels single pods: use --pods-as standalone or pods")
    start = time.perf_counter()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    stats = WriteStats()
    rng = random.Random(f"ringwall-bench-pods:{cluster.size.name}:{cluster.seed}")
    policies = _policies_by_ns(cluster)
    if pods_as == "pods":

        def items() -> Iterator[Obj]:
            yield from (namespace_obj(ns) for ns in cluster.namespaces)
            ips = _IpAllocator()
            for w, p in pod_instances(cluster, rng):
                ip = _node_ip(p.node) if w.host_network else ips.pod_ip(p.node)
                yield pod_obj(w, p, owned=True, pod_ip=ip)
            yield from (service_obj(w) for w in cluster.workloads if w.service)
            yield from cluster.policies

        _stream_list(out / f"cluster.{fmt}", items(), fmt, stats)
    else:
        _write_docs(out / "namespaces", [namespace_obj(ns) for ns in cluster.namespaces], fmt, stats)
        per_ns_pods: dict[str, list[Obj]] = {}
        if pods_as == "standalone":
            for w, p in pod_instances(cluster, rng):
                per_ns_pods.setdefault(w.ns, []).append(pod_obj(w, p, owned=False, pod_ip=None))
        for ns in cluster.namespaces:
            folder = out / ns.name
            if pods_as == "standalone":
                _write_docs(folder / "pods", per_ns_pods.get(ns.name, []), fmt, stats)
            else:
                _write_docs(folder / "workloads", [workload_obj(w) for w in ns.workloads], fmt, stats)
            services = [service_obj(w) for w in ns.workloads if w.service]
            if services:
                _write_docs(folder / "services", services, fmt, stats)
            if policies[ns.name]:
                _write_docs(folder / "networkpolicies", policies[ns.name], fmt, stats)
    stats.seconds = time.perf_counter() - start
    return stats


def generate(size: str, out: Path, seed: int = 0, fmt: str = "yaml", pods_as: str = "workloads",
             fragmented: bool = False) -> WriteStats:
    """Plan and write one cluster; the entry point for run.py and the tests."""
    spec = SIZES[size.upper()]
    return write(plan(spec, seed, fragmented), out, fmt, pods_as)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("size", type=str.upper, choices=sorted(SIZES), help="cluster size")
    parser.add_argument("-o", "--out", required=True, type=Path, help="output folder (replaced)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--format", choices=("yaml", "json"), default="yaml", help="file format")
    parser.add_argument("--pods-as", choices=POD_FORMS, default="workloads",
                        help="workloads: manifest folder; pods: kubectl-style List dump of owned pods with "
                             "addresses; standalone: manifest folder of bare Pods (the NCA comparison form)")
    parser.add_argument("--fragmented", action="store_true",
                        help="stress profile: per-pod shard/zone labels that policies select on, so that "
                             "no two pods behave alike (needs --pods-as standalone or pods)")
    args = parser.parse_args(argv)
    if args.fragmented and args.pods_as == "workloads":
        parser.error("--fragmented needs --pods-as standalone or pods")
    t0 = time.perf_counter()
    cluster = plan(SIZES[args.size], args.seed, args.fragmented)
    t_plan = time.perf_counter() - t0
    stats = write(cluster, args.out, args.format, args.pods_as)
    print(f"{args.size}: {len(cluster.namespaces)} namespaces, {cluster.pod_count()} pods in "
          f"{len(cluster.workloads)} workloads, {len(cluster.policies)} policies, {cluster.size.nodes} nodes -> "
          f"{args.out} ({stats.files} files, {stats.objects} objects, {stats.bytes / 1e6:.1f} MB, "
          f"plan {t_plan:.1f}s, write {stats.seconds:.1f}s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
