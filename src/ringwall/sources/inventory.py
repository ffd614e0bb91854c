"""Build the cluster model (namespaces, workloads, services, nodes) from documents.

Pods in a dump are the truth about what runs; a workload manifest stands for its pods only when
none of them are in the input. Pods are named after their direct controller
(``ns/rs-name[ReplicaSet]``), workloads after themselves (``ns/name[Deployment]``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ringwall.model.cluster import (
    NAMESPACE_NAME_LABEL,
    WORKLOAD_KINDS,
    Cluster,
    ContainerPort,
    Namespace,
    Node,
    PodVariant,
    Service,
    ServicePort,
    Workload,
)
from ringwall.model.diagnostics import DiagnosticSink
from ringwall.model.labels import normalize_labels
from ringwall.sources.documents import Document
from ringwall.sources.identity import describe, object_identity
from ringwall.sources.schema import Problem, validate

PROTOCOLS = ("TCP", "UDP", "SCTP")


@dataclass
class Inventory:
    """The cluster model plus every document a layer may want (grouped by kind)."""

    cluster: Cluster
    by_kind: dict[str, list[Document]] = field(default_factory=dict)
    default_namespace: str = "default"
    duplicates: list[tuple[Document, Document]] = field(default_factory=list)
    """(kept, dropped) for every object given twice; only the kept (later) copy is in ``by_kind``."""
    rejected: list[tuple[Document, list[Problem]]] = field(default_factory=list)
    """Objects the API server would reject (wrong types, unknown fields): not in ``by_kind``."""

    def documents(self, *kinds: str) -> list[Document]:
        out: list[Document] = []
        for k in kinds:
            out.extend(self.by_kind.get(k, ()))
        return out


def build_inventory(
    documents: Iterable[Document], sink: DiagnosticSink, default_namespace: str = "default"
) -> Inventory:
    inv = Inventory(Cluster(), default_namespace=default_namespace)
    for doc in _last_copy_of_each_object(inv, documents, sink):
        problems = validate(doc)
        for problem in problems:
            if not problem.rejects:
                sink.warning("k8s.field-case", f"{doc.kind} {doc.name}: {problem.field}: {problem.message}",
                             doc.locate(problem.path))
        problems = [p for p in problems if p.rejects]
        if problems:
            _reject(inv, doc, problems, sink)
            continue
        inv.by_kind.setdefault(doc.kind, []).append(doc)
    cluster = inv.cluster
    for doc in inv.by_kind.get("Namespace", ()):
        _add_namespace(cluster, doc, sink)
    _add_workloads(inv, sink)
    for doc in inv.by_kind.get("Service", ()):
        svc = _service(doc, default_namespace, sink)
        if svc is not None:
            cluster.services.append(svc)
            cluster.namespace(svc.namespace)
    for doc in inv.by_kind.get("Node", ()):
        cluster.nodes.append(_node(doc))
    return inv


_REJECT_CODES = {"NetworkPolicy": "RW-NP-020"}


def _reject(inv: Inventory, doc: Document, problems: list[Problem], sink: DiagnosticSink) -> None:
    """One error per problem (at most 5 per object), at the line of the field; the object is left out."""
    inv.rejected.append((doc, problems))
    what = f"{doc.kind} {doc.namespace(inv.default_namespace)}/{doc.name}" if doc.name else doc.kind
    code = _REJECT_CODES.get(doc.kind, "k8s.rejected")
    for problem in problems[:5]:
        sink.error(code, f"{what}: {problem.field}: {problem.message}; the API server rejects the object, "
                   "so it takes no effect", doc.locate(problem.path))
    if len(problems) > 5:
        sink.error(code, f"{what}: {len(problems) - 5} more problem(s) of the same object", doc.locate())


def _last_copy_of_each_object(
    inv: Inventory, documents: Iterable[Document], sink: DiagnosticSink
) -> list[Document]:
    """One document per object identity, the later copy winning as with ``kubectl apply``.

    Every kind gets the same handling (workloads, Services, policies, routes...): a diagnostic
    naming both copies, and the earlier copy takes no part in the analysis. The kept copy keeps
    the position of the first one, so the order of objects does not depend on which copy won.
    """
    kept: list[Document] = []
    index: dict[tuple[str, str, str, str], int] = {}
    for doc in documents:
        identity = object_identity(doc, inv.default_namespace)
        if identity is None:
            kept.append(doc)
            continue
        at = index.get(identity)
        if at is None:
            index[identity] = len(kept)
            kept.append(doc)
            continue
        earlier = kept[at]
        inv.duplicates.append((doc, earlier))
        same = "identical copies" if doc.obj == earlier.obj else "the copies differ"
        sink.warning(
            "k8s.duplicate",
            f"{describe(identity)} is defined twice ({same}); the later definition takes effect, as with "
            f"kubectl apply (the earlier one at {earlier.locate()} is ignored)",
            doc.locate(),
        )
        kept[at] = doc
    return kept


def _add_namespace(cluster: Cluster, doc: Document, sink: DiagnosticSink) -> None:
    name = doc.name
    if not name:
        sink.error("k8s.namespace", "Namespace without metadata.name; ignored", doc.locate())
        return
    labels = normalize_labels(doc.metadata.get("labels"))
    labels[NAMESPACE_NAME_LABEL] = name  # immutable label set by the control plane
    cluster.namespaces[name] = Namespace(
        name, labels, normalize_labels(doc.metadata.get("annotations")), doc.locate(), True
    )


def _pod_template(doc: Document) -> dict[str, Any] | None:
    spec = doc.obj.get("spec")
    if not isinstance(spec, dict):
        return None
    if doc.kind == "CronJob":
        jt = spec.get("jobTemplate")
        spec = jt.get("spec") if isinstance(jt, dict) else None
        if not isinstance(spec, dict):
            return None
    tpl = spec.get("template")
    return tpl if isinstance(tpl, dict) else None


def _container_ports(pod_spec: dict[str, Any], doc: Document, sink: DiagnosticSink) -> tuple[ContainerPort, ...]:
    ports: list[ContainerPort] = []
    containers = pod_spec.get("containers")
    if not isinstance(containers, list):
        return ()
    for c in containers:
        if not isinstance(c, dict):
            continue
        for p in c.get("ports") or ():
            if not isinstance(p, dict):
                continue
            number = p.get("containerPort")
            if isinstance(number, str) and number.isdigit():
                number = int(number)
            if not isinstance(number, int) or isinstance(number, bool):
                continue
            proto = str(p.get("protocol") or "TCP").upper()
            if proto not in PROTOCOLS:
                proto = "TCP"
            name = p.get("name")
            ports.append(ContainerPort(str(name) if name else None, number, proto, str(c.get("name") or "")))
    return tuple(ports)


def _controller_owner(meta: dict[str, Any]) -> dict[str, Any] | None:
    refs = meta.get("ownerReferences")
    if not isinstance(refs, list):
        return None
    for ref in refs:
        if isinstance(ref, dict) and ref.get("controller") is True:
            return ref
    return None


def _add_workloads(inv: Inventory, sink: DiagnosticSink) -> None:
    cluster = inv.cluster
    default_ns = inv.default_namespace
    workload_docs = [d for k in WORKLOAD_KINDS for d in inv.by_kind.get(k, ())]
    # (namespace, kind, name) -> owner (kind, name) for workload objects with a controller owner
    owner_of: dict[tuple[str, str, str], tuple[str, str]] = {}
    for d in workload_docs:
        ref = _controller_owner(d.metadata)
        if ref and ref.get("kind") and ref.get("name"):
            owner_of[(d.namespace(default_ns), d.kind, d.name)] = (str(ref["kind"]), str(ref["name"]))

    represented: set[tuple[str, str, str]] = set()
    pods_by_workload: dict[tuple[str, str, str], list[Document]] = {}
    for pod in inv.by_kind.get("Pod", ()):
        ns = pod.namespace(default_ns)
        ref = _controller_owner(pod.metadata)
        if ref and ref.get("kind") == "Node":
            ref = None  # a static (mirror) pod: the kubelet owns it, it is its own workload
        if ref and ref.get("name"):
            kind = str(ref.get("kind") or "Pod")
            key = (ns, kind, str(ref["name"]))
        else:
            key = (ns, "Pod", pod.name)
        pods_by_workload.setdefault(key, []).append(pod)
        # Walk up the ownership chain: every workload object on it is represented by this pod.
        cur: tuple[str, str, str] | None = key
        seen = 0
        while cur is not None and seen < 8:
            represented.add(cur)
            up = owner_of.get(cur)
            cur = (ns, up[0], up[1]) if up else None
            seen += 1

    for (ns, kind, name), pods in pods_by_workload.items():
        wl = _workload_from_pods(ns, kind, name, pods, sink)
        if wl is not None:
            cluster.workloads.append(wl)
            cluster.namespace(ns)

    pod_names = {(p.namespace(default_ns), p.name) for p in inv.by_kind.get("Pod", ())}
    for d in inv.by_kind.get("WorkloadEndpoint", ()):
        wl = _workload_from_endpoint(d, default_ns, pod_names)
        if wl is not None:
            cluster.workloads.append(wl)
            cluster.namespace(wl.namespace)

    present = {(d.namespace(default_ns), d.kind, d.name) for d in workload_docs}
    for d in workload_docs:
        key = (d.namespace(default_ns), d.kind, d.name)
        if key in represented:
            continue
        up = owner_of.get(key)
        if up and (key[0], up[0], up[1]) in present:
            continue  # the owner (e.g. the Deployment of this ReplicaSet) stands for it
        wl = _workload_from_template(d, default_ns, sink)
        if wl is not None:
            cluster.workloads.append(wl)
            cluster.namespace(wl.namespace)
    cluster.workloads.sort(key=lambda w: w.key)


_CALICO_ADDED_LABELS = ("projectcalico.org/namespace", "projectcalico.org/orchestrator",
                        "projectcalico.org/serviceaccount")


def _workload_from_endpoint(doc: Document, default_ns: str, pod_names: set[tuple[str, str]]) -> Workload | None:
    """A Calico WorkloadEndpoint (``calicoctl get workloadendpoints -o yaml|json``) as the pod it stands
    for: labels (without the ones Calico adds), named ports, addresses, service account. A Pod of the
    same name in the input wins (it says more)."""
    if not doc.api_version.startswith(("projectcalico.org/", "crd.projectcalico.org/")):
        return None
    spec = doc.obj.get("spec") if isinstance(doc.obj.get("spec"), dict) else {}
    ns = doc.namespace(default_ns)
    name = str(spec.get("pod") or spec.get("workload") or doc.name)
    if not name or (ns, name) in pod_names:
        return None
    labels = {k: v for k, v in normalize_labels(doc.metadata.get("labels")).items() if k not in _CALICO_ADDED_LABELS}
    ports: list[ContainerPort] = []
    for p in spec.get("ports") or ():
        if isinstance(p, dict) and isinstance(p.get("port"), int) and not isinstance(p.get("port"), bool):
            proto = str(p.get("protocol") or "TCP").upper()
            if proto in PROTOCOLS:
                ports.append(ContainerPort(str(p["name"]) if p.get("name") else None, p["port"], proto))
    ips = tuple(str(n).split("/")[0] for n in spec.get("ipNetworks") or () if isinstance(n, str))
    sa = spec.get("serviceAccountName") or normalize_labels(doc.metadata.get("labels")).get(
        "projectcalico.org/serviceaccount") or "default"
    variant = PodVariant(labels, tuple(ports), ips, None, 1, {}, (name,))
    return Workload(namespace=ns, name=name, kind="Pod", variants=[variant], service_account=str(sa),
                    location=doc.locate(), spec={})


def _automount(spec: dict[str, Any]) -> bool | None:
    v = spec.get("automountServiceAccountToken")
    return v if isinstance(v, bool) else None


def _workload_from_template(doc: Document, default_ns: str, sink: DiagnosticSink) -> Workload | None:
    if not doc.name:
        sink.error("k8s.workload", f"{doc.kind} without metadata.name; ignored", doc.locate())
        return None
    tpl = _pod_template(doc)
    if tpl is None:
        sink.error(
            "k8s.workload",
            f"{doc.kind} {doc.name} has no pod template (spec.template); ignored",
            doc.locate(("spec",)),
        )
        return None
    meta = tpl.get("metadata") if isinstance(tpl.get("metadata"), dict) else {}
    spec = tpl.get("spec") if isinstance(tpl.get("spec"), dict) else {}
    replicas = doc.obj.get("spec", {}).get("replicas", 1)
    if not isinstance(replicas, int) or isinstance(replicas, bool):
        replicas = 1
    variant = PodVariant(
        normalize_labels(meta.get("labels")),
        _container_ports(spec, doc, sink),
        count=max(replicas, 1),
        annotations=normalize_labels(meta.get("annotations")),
    )
    return Workload(
        namespace=doc.namespace(default_ns),
        name=doc.name,
        kind=doc.kind,
        variants=[variant],
        service_account=str(spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"),
        host_network=spec.get("hostNetwork") is True,
        location=doc.locate(),
        annotations=normalize_labels(doc.metadata.get("annotations")),
        replicas=replicas,
        spec=spec,
        automount_token=_automount(spec),
    )


def _pod_ips(pod: Document) -> tuple[tuple[str, ...], str | None]:
    status = pod.obj.get("status")
    if not isinstance(status, dict):
        return (), None
    ips: list[str] = []
    for entry in status.get("podIPs") or ():
        if isinstance(entry, dict) and isinstance(entry.get("ip"), str):
            ips.append(entry["ip"])
    if not ips and isinstance(status.get("podIP"), str):
        ips.append(status["podIP"])
    host_ip = status.get("hostIP")
    return tuple(ips), host_ip if isinstance(host_ip, str) else None


def _workload_from_pods(
    ns: str, kind: str, name: str, pods: list[Document], sink: DiagnosticSink
) -> Workload | None:
    variants: dict[tuple[Any, ...], PodVariant] = {}
    first = pods[0]
    spec0 = first.obj.get("spec") if isinstance(first.obj.get("spec"), dict) else {}
    for pod in pods:
        spec = pod.obj.get("spec") if isinstance(pod.obj.get("spec"), dict) else {}
        labels = normalize_labels(pod.metadata.get("labels"))
        ports = _container_ports(spec, pod, sink)
        ips, host_ip = _pod_ips(pod)
        if spec.get("hostNetwork") is True and host_ip and not ips:
            ips = (host_ip,)
        key = (tuple(sorted(labels.items())), ports)
        v = variants.get(key)
        if v is None:
            variants[key] = PodVariant(
                labels, ports, ips, host_ip, 1, normalize_labels(pod.metadata.get("annotations")), (pod.name,)
            )
        else:
            v.ips = v.ips + ips
            v.count += 1
            v.pod_names = (*v.pod_names, pod.name)
    return Workload(
        namespace=ns,
        name=name,
        kind=kind,
        variants=list(variants.values()),
        service_account=str(spec0.get("serviceAccountName") or spec0.get("serviceAccount") or "default"),
        host_network=spec0.get("hostNetwork") is True,
        location=first.locate(),
        annotations=normalize_labels(first.metadata.get("annotations")),
        replicas=len(pods),
        spec=spec0,
        automount_token=_automount(spec0),
    )


def _service(doc: Document, default_ns: str, sink: DiagnosticSink) -> Service | None:
    spec = doc.obj.get("spec")
    if not isinstance(spec, dict):
        spec = {}
    ports: list[ServicePort] = []
    for p in spec.get("ports") or ():
        if not isinstance(p, dict) or not isinstance(p.get("port"), int):
            continue
        target = p.get("targetPort", p["port"])
        node_port = p.get("nodePort")
        ports.append(
            ServicePort(
                p["port"],
                target if isinstance(target, int | str) else p["port"],
                str(p.get("protocol") or "TCP").upper(),
                str(p["name"]) if p.get("name") else None,
                node_port if isinstance(node_port, int) else None,
            )
        )
    selector = spec.get("selector")
    return Service(
        namespace=doc.namespace(default_ns),
        name=doc.name,
        type=str(spec.get("type") or "ClusterIP"),
        selector=normalize_labels(selector) if isinstance(selector, dict) else None,
        ports=tuple(ports),
        cluster_ip=spec.get("clusterIP") if isinstance(spec.get("clusterIP"), str) else None,
        external_ips=tuple(str(x) for x in spec.get("externalIPs") or ()),
        location=doc.locate(),
        annotations=normalize_labels(doc.metadata.get("annotations")),
    )


def _node(doc: Document) -> Node:
    status = doc.obj.get("status") if isinstance(doc.obj.get("status"), dict) else {}
    spec = doc.obj.get("spec") if isinstance(doc.obj.get("spec"), dict) else {}
    addrs = tuple(
        str(a["address"]) for a in status.get("addresses") or () if isinstance(a, dict) and a.get("address")
    )
    cidrs = tuple(str(c) for c in spec.get("podCIDRs") or ([spec["podCIDR"]] if spec.get("podCIDR") else []))
    return Node(doc.name, normalize_labels(doc.metadata.get("labels")), addrs, cidrs, doc.locate())
