"""Collect the NetworkPolicies of an inventory: parse, validate, de-duplicate."""

from __future__ import annotations

from dataclasses import dataclass, field

from ringwall.model.diagnostics import DiagnosticSink
from ringwall.sources.documents import Document
from ringwall.sources.inventory import Inventory

from .policy import NetworkPolicy, PolicyInvalid, parse_policy


@dataclass
class Rejected:
    document: Document
    message: str
    field_path: str
    path: tuple[str | int, ...]


@dataclass
class PolicySet:
    policies: list[NetworkPolicy] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    duplicates: list[tuple[Document, Document]] = field(default_factory=list)
    """(kept, dropped): the same namespace/name twice; the later document wins, as with ``kubectl apply``."""

    def in_namespace(self, namespace: str) -> list[NetworkPolicy]:
        return [p for p in self.policies if p.namespace == namespace]


def load_policies(inventory: Inventory, sink: DiagnosticSink) -> PolicySet:
    result = PolicySet()
    # The inventory keeps the later copy of an object given twice (and says so once); the
    # NetworkPolicy checks still report the pair (RW-NP-028).
    result.duplicates = [(kept, dropped) for kept, dropped in inventory.duplicates
                         if kept.kind == "NetworkPolicy" and _is_kubernetes_policy(kept)]
    # Rejected while the inventory was built (wrong types, unknown fields): RW-NP-020 all the same.
    for doc, problems in inventory.rejected:
        if doc.kind == "NetworkPolicy" and _is_kubernetes_policy(doc):
            first = problems[0]
            result.rejected.append(Rejected(doc, first.message, first.field, first.path))
    for doc in inventory.documents("NetworkPolicy"):
        if not _is_kubernetes_policy(doc):
            continue  # e.g. Calico's projectcalico.org NetworkPolicy: another layer's object
        try:
            policy = parse_policy(doc, inventory.default_namespace, sink)
        except PolicyInvalid as exc:
            loc = doc.locate(exc.path)
            sink.warning(
                "netpol.invalid",
                f"NetworkPolicy {doc.namespace(inventory.default_namespace)}/{doc.name}: "
                f"{exc.field_path}: {exc}; the API server rejects it, so it has no effect",
                loc,
            )
            result.rejected.append(Rejected(doc, str(exc), exc.field_path, exc.path))
            continue
        result.policies.append(policy)
    return result


def _is_kubernetes_policy(doc: Document) -> bool:
    """networking.k8s.io (or the old extensions group), not e.g. Calico's projectcalico.org NetworkPolicy."""
    return doc.api_version.startswith("networking.k8s.io/") or doc.api_version == "extensions/v1beta1"
