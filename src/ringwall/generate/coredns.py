"""CoreDNS hardening: the Corefile, the minimal RBAC and a Service that is not exposed.

What the DNS layer checks, generated the right way round: upstreams over TLS with the server name
that certificates are checked against (RW-DNS-001/002), query and error logging (RW-DNS-004), pod
records only for pods that exist (``pods verified``, not ``insecure``: RW-DNS-005), a ClusterIP
Service only (RW-DNS-006), and the ClusterRole CoreDNS needs - list/watch of endpoints,
endpointslices, services, pods and namespaces - and nothing more (RW-DNS-007). CoreDNS signs
nothing and validates nothing: DNSSEC validation stays with the upstream resolvers.

Intent section (``coredns``)::

    coredns:
      cluster_domain: cluster.local
      service_ip: 10.96.0.10            # optional: the kube-dns ClusterIP
      cache: 30                         # seconds
      upstreams:
        - {address: 9.9.9.9, server_name: dns.quad9.net}
        - {address: "2620:fe::fe", server_name: dns.quad9.net}
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

import yaml

from ringwall.generate.base import Context, GeneratedFile, register
from ringwall.generate.spec import SpecError


@dataclass(frozen=True)
class Upstream:
    address: str
    server_name: str


@dataclass(frozen=True)
class CorednsSpec:
    cluster_domain: str
    upstreams: tuple[Upstream, ...]
    cache: int
    service_ip: str | None


def load_coredns_spec(raw: dict[str, Any], where: str) -> CorednsSpec | None:
    section = raw.get("coredns")
    if section is None:
        return None
    if not isinstance(section, dict):
        raise SpecError(f"{where}: coredns must be a mapping")
    ups = section.get("upstreams") or []
    if not isinstance(ups, list) or not ups:
        raise SpecError(f"{where}: coredns.upstreams must list at least one {{address, server_name}}")
    upstreams = []
    for i, u in enumerate(ups):
        if not isinstance(u, dict) or not u.get("address") or not u.get("server_name"):
            raise SpecError(f"{where}: coredns.upstreams[{i}] needs address and server_name (TLS checks the name)")
        try:
            ipaddress.ip_address(str(u["address"]))
        except ValueError:
            raise SpecError(f"{where}: coredns.upstreams[{i}].address {u['address']!r} is not an IP address") from None
        upstreams.append(Upstream(str(u["address"]), str(u["server_name"])))
    names = {u.server_name for u in upstreams}
    if len(names) > 1:
        raise SpecError(f"{where}: coredns.upstreams use one server_name per forward block "
                        f"({', '.join(sorted(names))})")
    cache = section.get("cache", 30)
    if not isinstance(cache, int) or cache < 0:
        raise SpecError(f"{where}: coredns.cache is a number of seconds")
    service_ip = section.get("service_ip")
    if service_ip is not None:
        try:
            ipaddress.ip_address(str(service_ip))
        except ValueError:
            raise SpecError(f"{where}: coredns.service_ip {service_ip!r} is not an IP address") from None
    return CorednsSpec(str(section.get("cluster_domain") or "cluster.local"), tuple(upstreams), cache,
                       str(service_ip) if service_ip else None)


def corefile(spec: CorednsSpec) -> str:
    targets = " ".join(f"tls://{u.address}" if ":" not in u.address else f"tls://[{u.address}]"
                       for u in spec.upstreams)
    return "\n".join([
        ".:53 {",
        "    errors",
        "    log",
        "    health {",
        "        lameduck 5s",
        "    }",
        "    ready",
        f"    kubernetes {spec.cluster_domain} in-addr.arpa ip6.arpa {{",
        "        pods verified",
        "        fallthrough in-addr.arpa ip6.arpa",
        "        ttl 30",
        "    }",
        "    prometheus :9153",
        f"    forward . {targets} {{",
        f"        tls_servername {spec.upstreams[0].server_name}",
        "        health_check 5s",
        "    }",
        f"    cache {spec.cache}",
        "    loop",
        "    reload",
        "    loadbalance",
        "}",
        "",
    ])


def objects(spec: CorednsSpec) -> list[tuple[str, dict[str, Any]]]:
    labels = {"k8s-app": "kube-dns"}
    service_spec: dict[str, Any] = {
        "type": "ClusterIP",
        "selector": dict(labels),
        "ports": [
            {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
            {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
            {"name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153},
        ],
    }
    if spec.service_ip:
        service_spec["clusterIP"] = spec.service_ip
    return [
        ("the Corefile: upstreams over TLS with the certificate name checked, queries logged, "
         "pod records only for existing pods",
         {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "coredns", "namespace": "kube-system"},
          "data": {"Corefile": corefile(spec)}}),
        ("what CoreDNS must read, and nothing more (list/watch)",
         {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
          "metadata": {"name": "system:coredns"},
          "rules": [
              {"apiGroups": [""], "resources": ["endpoints", "services", "pods", "namespaces"],
               "verbs": ["list", "watch"]},
              {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["list", "watch"]},
          ]}),
        ("bind it to CoreDNS's own service account only",
         {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
          "metadata": {"name": "system:coredns"},
          "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:coredns"},
          "subjects": [{"kind": "ServiceAccount", "name": "coredns", "namespace": "kube-system"}]}),
        ("cluster DNS stays inside the cluster: ClusterIP only, no NodePort, LoadBalancer or externalIPs",
         {"apiVersion": "v1", "kind": "Service",
          "metadata": {"name": "kube-dns", "namespace": "kube-system", "labels": dict(labels)},
          "spec": service_spec}),
    ]


class _BlockDumper(yaml.SafeDumper):
    """Multi-line strings (the Corefile) as ``|`` blocks, so the file reads like a Corefile."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _str)


@register("coredns", "dns", "CoreDNS hardening: Corefile over TLS, minimal RBAC, unexposed Service (dns/coredns.yaml)")
def generate(ctx: Context) -> list[GeneratedFile]:
    spec = load_coredns_spec(ctx.intent.raw, ctx.intent.path)
    if spec is None:
        ctx.notes.append("coredns: the intent has no coredns section; nothing generated")
        return []
    parts = []
    for i, (comment, obj) in enumerate(objects(spec)):
        lead = f"# {ctx.header()}\n" if i == 0 else ""
        text = yaml.dump(obj, Dumper=_BlockDumper, sort_keys=False, default_flow_style=False, width=120)
        parts.append(f"{lead}# {comment}\n{text}")
    return [GeneratedFile("dns/coredns.yaml", "---\n".join(parts))]
