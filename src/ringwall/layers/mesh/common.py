"""Shared vocabulary of the mesh layer: options, evidence, string and selector matching.

Kept in one small module so that every mesh reader speaks the same evidence type and the
decision code can carry it to ``explain``, findings and JSON without conversion.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ringwall.model.cluster import Workload
from ringwall.model.location import Location
from ringwall.sources.documents import Document

SYSTEM_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease", "local-path-storage"})
"""Namespaces Istio's injector never touches (inject.go ``injectRequired``)."""

DEFAULT_CLUSTER_NETWORKS = ("10.0.0.0/8", "100.64.0.0/10", "172.16.0.0/12", "192.168.0.0/16", "fd00::/8")


@dataclass(frozen=True)
class MeshOptions:
    """How the mesh is installed, for what manifests cannot show.

    ``mesh``: ``None`` detects from the input; ``istio``, ``linkerd`` force one (as if its control
    plane were installed); ``none`` disables the layer.
    """

    mesh: str | None = None
    istio_root_namespace: str = "istio-system"
    trust_domain: str | None = None
    """Istio trust domain; ``None`` reads meshConfig ``trustDomain`` or defaults to cluster.local."""
    linkerd_default_policy: str | None = None
    """Linkerd ``proxy.defaultInboundPolicy``; ``None`` reads linkerd-config or uses all-unauthenticated."""
    linkerd_trust_domain: str = "cluster.local"
    cluster_networks: tuple[str, ...] = DEFAULT_CLUSTER_NETWORKS


@dataclass(frozen=True, slots=True)
class Evidence:
    """One object (and field) that contributed to a verdict, with where it is written."""

    text: str
    location: Location | None = None

    def __str__(self) -> str:
        return f"{self.text}  ({self.location})" if self.location else self.text

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"text": self.text}
        if self.location is not None:
            out["location"] = self.location.to_json()
        return out


@dataclass
class ParsedObject:
    """Base of every parsed mesh resource: the document it came from, for locations."""

    doc: Document
    namespace: str
    name: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ref(self) -> str:
        return f"{self.doc.kind}/{self.namespace}/{self.name}"

    def locate(self, *path: str | int) -> Location:
        """Where ``path`` is written; cached, because every verdict citing the rule asks again."""
        cache = self.extra.setdefault("_locations", {})
        loc = cache.get(path)
        if loc is None:
            loc = cache[path] = self.doc.locate(tuple(path), self.ref)
        return loc


def spec_of(doc: Document) -> dict[str, Any]:
    spec = doc.obj.get("spec")
    return spec if isinstance(spec, dict) else {}


def match_labels(raw: object) -> dict[str, str] | None:
    """An Istio WorkloadSelector's ``matchLabels``; None when absent or empty (= no selector)."""
    if not isinstance(raw, dict):
        return None
    ml = raw.get("matchLabels")
    if not isinstance(ml, dict) or not ml:
        return None
    return {str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in ml.items()}


def labels_match(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def istio_string_match(pattern: str, value: str) -> bool:
    """Istio's string match: exact, prefix ``abc*``, suffix ``*abc`` or presence ``*``."""
    if pattern == "*":
        return value != ""
    if pattern.endswith("*"):
        return value.startswith(pattern[:-1])
    if pattern.startswith("*"):
        return value.endswith(pattern[1:])
    return value == pattern


def str_list(raw: object) -> list[str]:
    if isinstance(raw, list):
        return [str(x) for x in raw if x is not None]
    if isinstance(raw, str):
        return [raw]
    return []


def pod_labels(w: Workload) -> dict[str, str]:
    return w.labels


def pod_annotations(w: Workload) -> dict[str, str]:
    """Annotations of the pod template (where injectors read them)."""
    return w.variants[0].annotations if w.variants else {}


def containers(w: Workload) -> list[dict[str, Any]]:
    out = w.spec.get("containers")
    return [c for c in out if isinstance(c, dict)] if isinstance(out, list) else []


def parse_port_list(text: str) -> list[tuple[int, int]]:
    """``"80,8000-8080"`` -> intervals; ``*`` is every port. Bad items are skipped."""
    out: list[tuple[int, int]] = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        if item == "*":
            return [(1, 65535)]
        lo, _, hi = item.partition("-")
        if lo.isdigit() and (not hi or hi.isdigit()):
            out.append((int(lo), int(hi or lo)))
    return out


def in_ranges(ranges: list[tuple[int, int]], port: int) -> bool:
    return any(lo <= port <= hi for lo, hi in ranges)
