"""API server and kubelet exposure from manifests: KubeletConfiguration, static pods, kubeconfig.

The kubelet's defaults depend on *how* it is configured (mesh-edge-access §7): a
``KubeletConfiguration`` file defaults to anonymous off, Webhook authorization and no read-only
port, while the legacy flags default to the opposite. A KubeletConfiguration document is judged
with the file defaults; kubelet flags in a static pod or systemd drop-in are not read here.

Reachability of 6443/10250/2379 from outside is a question for the host firewall; the scan layer
(``analysis/edge_layers.py``) asks it and raises RW-K8S-001/011/012 with ``exposure_findings``.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from ringwall.model.findings import Finding
from ringwall.model.location import Location
from ringwall.sources.documents import Document

from . import catalogue as K

CONTROL_PORTS = {6443: "kube-apiserver", 10250: "kubelet", 2379: "etcd"}


@dataclass(frozen=True)
class ApiEndpoint:
    """Where clients reach the API server, and whether that address is public."""

    server: str
    host: str
    port: int
    public: bool | None  # None: a host name, cannot tell statically
    location: Location


def _get(obj: Any, *path: str) -> Any:
    for p in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(p)
    return obj


def api_endpoints(docs: list[Document]) -> list[ApiEndpoint]:
    """``clusters[].cluster.server`` of kubeconfig documents (kind Config)."""
    out: list[ApiEndpoint] = []
    for doc in docs:
        clusters = doc.obj.get("clusters")
        if not isinstance(clusters, list):
            continue
        for i, c in enumerate(clusters):
            server = _get(c, "cluster", "server")
            if not isinstance(server, str):
                continue
            u = urlparse(server)
            host = u.hostname or ""
            try:
                ip = ipaddress.ip_address(host)
                public: bool | None = ip.is_global
            except ValueError:
                public = None
            out.append(ApiEndpoint(server, host, u.port or 443, public,
                                   doc.locate(("clusters", i, "cluster", "server"))))
    return out


def _flags(container: dict[str, Any]) -> dict[str, str]:
    flags: dict[str, str] = {}
    for item in [*(container.get("command") or []), *(container.get("args") or [])]:
        if isinstance(item, str) and item.startswith("--"):
            k, _, v = item[2:].partition("=")
            flags.setdefault(k, v if _ else "true")
    return flags


def check_kube_exposure(kubelet_docs: list[Document], pod_docs: list[Document], kubeconfigs: list[Document],
                        cluster_configs: list[Document]) -> list[Finding]:
    """RW-K8S findings that need only manifests (no host firewall)."""
    out: list[Finding] = []
    for doc in kubelet_docs:
        subj = doc.ref
        obj = doc.obj
        if _get(obj, "authentication", "anonymous", "enabled") is True:
            out.append(Finding(K.K8S_KUBELET_ANON, "authentication.anonymous.enabled: true",
                               (doc.locate(("authentication", "anonymous", "enabled")),), subj))
        if _get(obj, "authorization", "mode") == "AlwaysAllow":
            out.append(Finding(K.K8S_KUBELET_AUTHZ, "authorization.mode: AlwaysAllow",
                               (doc.locate(("authorization", "mode")),), subj))
        if not _get(obj, "authentication", "x509", "clientCAFile"):
            out.append(Finding(K.K8S_KUBELET_NO_CA, "no authentication.x509.clientCAFile", (doc.locate(),), subj))
        ro = obj.get("readOnlyPort")
        if isinstance(ro, int) and ro != 0:
            out.append(Finding(K.K8S_KUBELET_RO, f"readOnlyPort: {ro}", (doc.locate(("readOnlyPort",)),), subj))
    for doc in pod_docs:
        containers = _get(doc.obj, "spec", "containers") or []
        for ci, c in enumerate(containers):
            if not isinstance(c, dict):
                continue
            cmd = " ".join(str(x) for x in (c.get("command") or [])[:1])
            if "kube-apiserver" not in cmd and c.get("name") != "kube-apiserver":
                continue
            f = _flags(c)
            loc = doc.locate(("spec", "containers", ci))
            subj = doc.ref
            if f.get("anonymous-auth", "true") != "false":
                out.append(Finding(K.K8S_API_ANON, f"--anonymous-auth={f.get('anonymous-auth', 'true (default)')}",
                                   (loc,), subj))
            if f.get("insecure-port", "0") != "0" or "insecure-bind-address" in f:
                out.append(Finding(K.K8S_API_INSECURE, "insecure port or bind address set", (loc,), subj))
            modes = f.get("authorization-mode", "AlwaysAllow").split(",")
            if "AlwaysAllow" in modes or "Node" not in modes or "RBAC" not in modes:
                out.append(Finding(K.K8S_API_AUTHZ, f"--authorization-mode={','.join(modes)}", (loc,), subj))
            if "token-auth-file" in f:
                out.append(Finding(K.K8S_API_TOKEN_FILE, f"--token-auth-file={f['token-auth-file']}", (loc,), subj))
    for ep in api_endpoints(kubeconfigs):
        if ep.public:
            out.append(Finding(K.K8S_API_PUBLIC, f"kubeconfig server {ep.server} is a public address",
                               (ep.location,), f"ApiServer/{ep.host}", ep.server))
    for doc in cluster_configs:  # eksctl ClusterConfig
        public = _get(doc.obj, "vpc", "clusterEndpoints", "publicAccess")
        cidrs = _get(doc.obj, "vpc", "publicAccessCIDRs")
        if public is True and (not cidrs or "0.0.0.0/0" in cidrs):
            out.append(Finding(K.K8S_API_PUBLIC, "vpc.clusterEndpoints.publicAccess: true from any address",
                               (doc.locate(("vpc", "clusterEndpoints", "publicAccess")),), doc.ref))
    return out


def exposure_findings(port: int, open_to: list[str], allowed_nets: list[str], location: Location,
                      subject: str) -> list[Finding]:
    """RW-K8S-001/011/012 for a control port that the host firewall accepts from ``open_to``.

    ``open_to`` are the source networks (CIDRs) accepted beyond ``allowed_nets`` (admin, VPN and
    cluster networks).
    """
    if not open_to:
        return []
    check = {6443: K.K8S_API_PUBLIC, 10250: K.K8S_KUBELET_EXPOSED, 2379: K.K8S_ETCD_EXPOSED}[port]
    shown = ", ".join(open_to[:4]) + (" …" if len(open_to) > 4 else "")
    allowed = ", ".join(allowed_nets) or "none"
    return [Finding(check, f"{CONTROL_PORTS[port]} port {port}/tcp is accepted from {shown} "
                    f"(outside the admin and cluster networks: {allowed})", (location,), subject, str(port))]
