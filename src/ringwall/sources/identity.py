"""Object identity as the API server sees it: (API group, kind, namespace, name).

A folder often holds the same object twice (a base and a rendered copy, two overlays, a dump
beside the manifests). A cluster can hold only one object per identity, so the inventory keeps
one copy per identity, chosen as ``kubectl apply -f`` would: files are applied in the order
they are given (a folder in sorted name order, a file top to bottom) and each apply replaces the
object with the manifest just applied, so the LAST copy takes effect.

The API group is part of the identity (Calico's ``projectcalico.org`` NetworkPolicy is not the
Kubernetes NetworkPolicy of the same name), but a group served under several names counts once:
``extensions`` served Ingress and NetworkPolicy (now ``networking.k8s.io``) and the workload
controllers (now ``apps``); ``crd.projectcalico.org`` is the storage behind ``projectcalico.org``.
Cluster-scoped kinds ignore ``metadata.namespace``, as the API server does.
"""

from __future__ import annotations

from ringwall.sources.documents import Document

CLUSTER_SCOPED_KINDS = frozenset({
    "Namespace", "Node", "PersistentVolume", "StorageClass", "CustomResourceDefinition",
    "ClusterRole", "ClusterRoleBinding", "PriorityClass", "RuntimeClass", "IngressClass",
    "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "APIService",
    "AdminNetworkPolicy", "BaselineAdminNetworkPolicy", "ClusterNetworkPolicy", "GatewayClass",
    "GlobalNetworkPolicy", "GlobalNetworkSet", "HostEndpoint", "Profile", "Tier",
    "CiliumClusterwideNetworkPolicy", "CiliumNode", "CiliumIdentity", "KongClusterPlugin",
    "ClusterIssuer", "MeshConfig",
})

_GROUP_ALIASES = {
    ("extensions", "Ingress"): "networking.k8s.io",
    ("extensions", "NetworkPolicy"): "networking.k8s.io",
    ("extensions", "Deployment"): "apps",
    ("extensions", "DaemonSet"): "apps",
    ("extensions", "ReplicaSet"): "apps",
    ("extensions", "PodSecurityPolicy"): "policy",
}


def api_group(api_version: str) -> str:
    """``apps/v1`` -> ``apps``; ``v1`` (the core group) -> ``""``."""
    return api_version.rsplit("/", 1)[0] if "/" in api_version else ""


def object_identity(doc: Document, default_namespace: str) -> tuple[str, str, str, str] | None:
    """(group, kind, namespace, name), or None for an object without a name (nothing to compare)."""
    if not doc.name or not doc.kind:
        return None
    group = api_group(doc.api_version)
    group = _GROUP_ALIASES.get((group, doc.kind), group)
    if group == "crd.projectcalico.org":
        group = "projectcalico.org"
    namespace = "" if doc.kind in CLUSTER_SCOPED_KINDS else doc.namespace(default_namespace)
    return group, doc.kind, namespace, doc.name


def describe(identity: tuple[str, str, str, str]) -> str:
    """``Deployment default/web`` (or ``Namespace prod``) for messages."""
    _, kind, namespace, name = identity
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"
