"""Build small estates from YAML text for table-driven mesh tests."""

from __future__ import annotations

import textwrap

from ringwall.layers.mesh.common import MeshOptions
from ringwall.layers.mesh.decision import FlowDecision, MeshModel
from ringwall.model.cluster import Workload
from ringwall.model.diagnostics import DiagnosticSink
from ringwall.sources.inventory import build_inventory
from ringwall.sources.loader import parse_text


def namespace(name: str, labels: dict[str, str] | None = None, annotations: dict[str, str] | None = None) -> str:
    meta = {"name": name, "labels": labels or {}, "annotations": annotations or {}}
    return _doc({"apiVersion": "v1", "kind": "Namespace", "metadata": meta})


def deployment(
    ns: str,
    name: str,
    *,
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    ports: list[tuple[str, int]] | None = None,
    sa: str | None = None,
    host_network: bool = False,
    run_as: int | None = None,
) -> str:
    labels = {"app": name, **(labels or {})}
    container: dict[str, object] = {
        "name": name,
        "image": "x",
        "ports": [{"name": n, "containerPort": p} for n, p in (ports or [("http", 8080)])],
    }
    if run_as is not None:
        container["securityContext"] = {"runAsUser": run_as}
    spec: dict[str, object] = {"serviceAccountName": sa or name, "containers": [container]}
    if host_network:
        spec["hostNetwork"] = True
    return _doc(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "namespace": ns},
            "spec": {
                "selector": {"matchLabels": {"app": name}},
                "template": {"metadata": {"labels": labels, "annotations": annotations or {}}, "spec": spec},
            },
        }
    )


def service(
    ns: str,
    name: str,
    ports: list[tuple[str, int, int | str]],
    selector: dict[str, str] | None = None,
    type_: str = "ClusterIP",
) -> str:
    return _doc(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "namespace": ns},
            "spec": {
                "type": type_,
                "selector": selector or {"app": name},
                "ports": [{"name": n, "port": p, "targetPort": t} for n, p, t in ports],
            },
        }
    )


def obj(api: str, kind: str, ns: str, name: str, spec: object, annotations: dict[str, str] | None = None) -> str:
    meta: dict[str, object] = {"name": name, "namespace": ns}
    if annotations:
        meta["annotations"] = annotations
    return _doc({"apiVersion": api, "kind": kind, "metadata": meta, "spec": spec})


def pa(ns: str, name: str, spec: object) -> str:
    return obj("security.istio.io/v1", "PeerAuthentication", ns, name, spec)


def ap(ns: str, name: str, spec: object, annotations: dict[str, str] | None = None) -> str:
    return obj("security.istio.io/v1", "AuthorizationPolicy", ns, name, spec, annotations)


def dr(ns: str, name: str, spec: object) -> str:
    return obj("networking.istio.io/v1", "DestinationRule", ns, name, spec)


def _doc(d: dict[str, object]) -> str:
    import json

    return json.dumps(d)


def model(*docs: str, options: MeshOptions | None = None) -> MeshModel:
    text = "\n---\n".join(textwrap.dedent(d) for d in docs)
    sink = DiagnosticSink()
    documents = parse_text(text, "test.yaml", sink)
    assert not sink.items, sink.items
    inv = build_inventory(documents, sink)
    return MeshModel(inv, options or MeshOptions(mesh=None))


def wl(m: MeshModel, key: str) -> Workload:
    for w in m.cluster.workloads:
        if f"{w.namespace}/{w.name}" == key:
            return w
    raise KeyError(key)


def flow(
    m: MeshModel, src: str | None, dst: str, port: int, protocol: str = "TCP", src_ip: int | None = None
) -> FlowDecision:
    s = wl(m, src) if src else None
    ips = ((src_ip, src_ip),) if src_ip is not None else None
    return m.decide(s, ips, wl(m, dst), protocol, port)
