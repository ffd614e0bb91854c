"""The API resources a live read lists: every kind some layer of Ringwall reads, and nothing else.

Kept as data so that three things agree by construction: the reader (what it lists), the
ClusterRole in the docs (what it may list) and the fake API server in the tests (what it serves).
Secrets are deliberately absent: no layer needs them, and a reader that never asks for them
cannot leak them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Resource:
    """One listable resource. ``versions`` are in order of preference (newest served wins)."""

    group: str  # "" for the core group
    versions: tuple[str, ...]
    plural: str
    kind: str
    namespaced: bool = True
    optional: bool = True
    """A CRD (or an API that may be switched off): absent means "not installed", not an error."""
    namespace: str | None = None
    """List only in this namespace (the CoreDNS ConfigMap lives in kube-system)."""
    yaml: bool = False
    """Store as YAML rather than indented JSON. Only for small resources whose readers need field
    lines: the DNS layer maps Corefile lines through the ``data`` block scalar, which JSON lacks.
    (Indented JSON is 50x faster to write than YAML from Python; 10,000 pods must stay fast.)"""

    @property
    def resource(self) -> str:
        """``plural.group`` as RBAC and ``kubectl`` name it (``networkpolicies.networking.k8s.io``)."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def file_name(self) -> str:
        """The file a snapshot stores it in: unique even when two groups share a plural."""
        return f"{self.resource}.{'yaml' if self.yaml else 'json'}"

    def path(self, version: str) -> str:
        """The list URL path for ``version`` (cluster-wide, or in ``namespace`` when restricted)."""
        base = f"/api/{version}" if not self.group else f"/apis/{self.group}/{version}"
        if self.namespace:
            return f"{base}/namespaces/{self.namespace}/{self.plural}"
        return f"{base}/{self.plural}"


def _core(plural: str, kind: str, namespaced: bool = True, namespace: str | None = None, yaml: bool = False
          ) -> Resource:
    return Resource("", ("v1",), plural, kind, namespaced, optional=False, namespace=namespace, yaml=yaml)


def _builtin(group: str, version: str, plural: str, kind: str, namespaced: bool = True) -> Resource:
    return Resource(group, (version,), plural, kind, namespaced, optional=False)


def _crd(group: str, versions: tuple[str, ...], plural: str, kind: str, namespaced: bool = True) -> Resource:
    return Resource(group, versions, plural, kind, namespaced, optional=True)


_ISTIO_SEC = ("v1", "v1beta1")
_ISTIO_NET = ("v1", "v1beta1", "v1alpha3")
_LINKERD = ("v1beta3", "v1beta2", "v1beta1", "v1alpha1")
_GATEWAY = ("v1", "v1beta1", "v1alpha2")
_CALICO_CRD = ("v1",)

RESOURCES: tuple[Resource, ...] = (
    # Inventory: what runs, where, with which addresses.
    _core("namespaces", "Namespace", namespaced=False),
    _core("nodes", "Node", namespaced=False),
    _core("pods", "Pod"),
    _core("services", "Service"),
    _core("replicationcontrollers", "ReplicationController"),
    _core("serviceaccounts", "ServiceAccount"),
    _core("configmaps", "ConfigMap", namespace="kube-system", yaml=True),  # the CoreDNS Corefile
    _builtin("apps", "v1", "deployments", "Deployment"),
    _builtin("apps", "v1", "replicasets", "ReplicaSet"),
    _builtin("apps", "v1", "statefulsets", "StatefulSet"),
    _builtin("apps", "v1", "daemonsets", "DaemonSet"),
    _builtin("batch", "v1", "jobs", "Job"),
    _builtin("batch", "v1", "cronjobs", "CronJob"),
    # Kubernetes policy and edge.
    _builtin("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy"),
    _builtin("networking.k8s.io", "v1", "ingresses", "Ingress"),
    _builtin("networking.k8s.io", "v1", "ingressclasses", "IngressClass", namespaced=False),
    # RBAC: the DNS layer checks who may change CoreDNS.
    _builtin("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", namespaced=False),
    _builtin("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", namespaced=False),
    _builtin("rbac.authorization.k8s.io", "v1", "roles", "Role"),
    _builtin("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding"),
    _builtin("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition",
             namespaced=False),
    # Admin network policies (sig-network policy API).
    _crd("policy.networking.k8s.io", ("v1alpha1",), "adminnetworkpolicies", "AdminNetworkPolicy", False),
    _crd("policy.networking.k8s.io", ("v1alpha1",), "baselineadminnetworkpolicies",
         "BaselineAdminNetworkPolicy", False),
    _crd("policy.networking.k8s.io", ("v1alpha2",), "clusternetworkpolicies", "ClusterNetworkPolicy", False),
    # Calico: the projectcalico.org/v3 API server when installed, else the CRD datastore.
    _crd("projectcalico.org", ("v3",), "networkpolicies", "NetworkPolicy"),
    _crd("projectcalico.org", ("v3",), "globalnetworkpolicies", "GlobalNetworkPolicy", False),
    _crd("projectcalico.org", ("v3",), "tiers", "Tier", False),
    _crd("projectcalico.org", ("v3",), "hostendpoints", "HostEndpoint", False),
    _crd("projectcalico.org", ("v3",), "globalnetworksets", "GlobalNetworkSet", False),
    _crd("projectcalico.org", ("v3",), "networksets", "NetworkSet"),
    _crd("crd.projectcalico.org", _CALICO_CRD, "networkpolicies", "NetworkPolicy"),
    _crd("crd.projectcalico.org", _CALICO_CRD, "globalnetworkpolicies", "GlobalNetworkPolicy", False),
    _crd("crd.projectcalico.org", _CALICO_CRD, "tiers", "Tier", False),
    _crd("crd.projectcalico.org", _CALICO_CRD, "hostendpoints", "HostEndpoint", False),
    _crd("crd.projectcalico.org", _CALICO_CRD, "globalnetworksets", "GlobalNetworkSet", False),
    _crd("crd.projectcalico.org", _CALICO_CRD, "networksets", "NetworkSet"),
    # Cilium.
    _crd("cilium.io", ("v2",), "ciliumnetworkpolicies", "CiliumNetworkPolicy"),
    _crd("cilium.io", ("v2",), "ciliumclusterwidenetworkpolicies", "CiliumClusterwideNetworkPolicy", False),
    # Istio.
    _crd("security.istio.io", _ISTIO_SEC, "authorizationpolicies", "AuthorizationPolicy"),
    _crd("security.istio.io", _ISTIO_SEC, "peerauthentications", "PeerAuthentication"),
    _crd("security.istio.io", _ISTIO_SEC, "requestauthentications", "RequestAuthentication"),
    _crd("networking.istio.io", _ISTIO_NET, "destinationrules", "DestinationRule"),
    _crd("networking.istio.io", _ISTIO_NET, "gateways", "Gateway"),
    _crd("networking.istio.io", _ISTIO_NET, "virtualservices", "VirtualService"),
    _crd("networking.istio.io", _ISTIO_NET, "sidecars", "Sidecar"),
    _crd("networking.istio.io", _ISTIO_NET, "serviceentries", "ServiceEntry"),
    # Linkerd policy.
    _crd("policy.linkerd.io", _LINKERD, "servers", "Server"),
    _crd("policy.linkerd.io", _LINKERD, "serverauthorizations", "ServerAuthorization"),
    _crd("policy.linkerd.io", _LINKERD, "authorizationpolicies", "AuthorizationPolicy"),
    _crd("policy.linkerd.io", _LINKERD, "meshtlsauthentications", "MeshTLSAuthentication"),
    _crd("policy.linkerd.io", _LINKERD, "networkauthentications", "NetworkAuthentication"),
    _crd("policy.linkerd.io", _LINKERD, "httproutes", "HTTPRoute"),
    # Gateway API.
    _crd("gateway.networking.k8s.io", _GATEWAY, "gatewayclasses", "GatewayClass", False),
    _crd("gateway.networking.k8s.io", _GATEWAY, "gateways", "Gateway"),
    _crd("gateway.networking.k8s.io", _GATEWAY, "httproutes", "HTTPRoute"),
    _crd("gateway.networking.k8s.io", _GATEWAY, "grpcroutes", "GRPCRoute"),
    _crd("gateway.networking.k8s.io", ("v1alpha2",), "tlsroutes", "TLSRoute"),
    _crd("gateway.networking.k8s.io", ("v1alpha2",), "tcproutes", "TCPRoute"),
    _crd("gateway.networking.k8s.io", ("v1beta1",), "referencegrants", "ReferenceGrant"),
    # Envoy Gateway.
    _crd("gateway.envoyproxy.io", ("v1alpha1",), "securitypolicies", "SecurityPolicy"),
    _crd("gateway.envoyproxy.io", ("v1alpha1",), "clienttrafficpolicies", "ClientTrafficPolicy"),
    _crd("gateway.envoyproxy.io", ("v1alpha1",), "backendtrafficpolicies", "BackendTrafficPolicy"),
    # Kong.
    _crd("configuration.konghq.com", ("v1",), "kongplugins", "KongPlugin"),
    _crd("configuration.konghq.com", ("v1",), "kongclusterplugins", "KongClusterPlugin", False),
    _crd("configuration.konghq.com", ("v1",), "kongconsumers", "KongConsumer"),
    _crd("configuration.konghq.com", ("v1",), "kongingresses", "KongIngress"),
)


SUPERSEDED_BY = {"crd.projectcalico.org": "projectcalico.org"}
"""When the second group is served, the first holds the same objects again (Calico's API server
fronts its CRD datastore); reading both would count every Calico policy twice."""


def rbac_rules() -> list[dict[str, object]]:
    """The ClusterRole rules (get/list only) that cover the cluster-wide ``RESOURCES``.

    Resources restricted to one namespace (ConfigMaps in kube-system) are left to a Role there,
    so the reader never needs to read every ConfigMap of the cluster.
    """
    by_group: dict[str, list[str]] = {}
    for r in RESOURCES:
        if r.namespace:
            continue
        plurals = by_group.setdefault(r.group, [])
        if r.plural not in plurals:
            plurals.append(r.plural)
    return [{"apiGroups": [g], "resources": sorted(p), "verbs": ["get", "list"]} for g, p in by_group.items()]
