"""Corefile reading and RW-DNS checks, table-driven against the CoreDNS plugin READMEs (mesh-edge-access §4)."""

from __future__ import annotations

from pathlib import Path

import pytest

import ringwall.analysis.edge_layers as edge
from ringwall.analysis.estate import load_estate
from ringwall.layers.dns.checks import check_corefile, duration_seconds
from ringwall.layers.dns.corefile import parse_corefile
from ringwall.model.diagnostics import DiagnosticSink
from tests.conftest import REPO_ROOT

GOOD = """\
.:53 {
    errors
    log . {
        class denial error
    }
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        pods verified
    }
    forward . tls://9.9.9.9 tls://149.112.112.112 {
        tls_servername dns.quad9.net
    }
    cache 30
}
"""

# (name, Corefile, expected [(id, message, line)], rule)
CASES = [
    ("hardened", GOOD, [], "forward/README: tls_servername; kubernetes/README: pods verified"),
    ("resolv.conf upstream", GOOD.replace("tls://9.9.9.9 tls://149.112.112.112", "/etc/resolv.conf"), [
        ("RW-DNS-001", "forward . /etc/resolv.conf: external queries go to the node's resolv.conf resolvers "
                       "unencrypted", 9),
    ], "forward/README: plain DNS to the node's resolvers"),
    ("dns:// upstream and no log", GOOD.replace("tls://9.9.9.9 tls://149.112.112.112", "dns://8.8.8.8").replace(
        "    log . {\n        class denial error\n    }\n", ""), [
        ("RW-DNS-001", "forward . dns://8.8.8.8: external queries go to dns://8.8.8.8 unencrypted", 6),
        ("RW-DNS-004", "server block .:53 has no log plugin", 1),
    ], "forward/README; log/README: without log only errors are logged"),
    ("tls without server name", GOOD.replace("        tls_servername dns.quad9.net\n", ""), [
        ("RW-DNS-002", "forward . tls://9.9.9.9 without tls_servername", 9),
        ("RW-DNS-002", "forward . tls://149.112.112.112 without tls_servername", 9),
    ], "forward/README: TLS without a server name can be intercepted"),
    ("per-endpoint server name", GOOD.replace("tls://9.9.9.9 tls://149.112.112.112",
                                              "tls://9.9.9.9%dns.quad9.net").replace(
        "        tls_servername dns.quad9.net\n", ""), [], "forward/README: tls://IP%NAME"),
    ("pods insecure, dnssec, stale cache, rewrite", """\
cluster.local:53 {
    errors
    log
    kubernetes cluster.local {
        pods insecure
    }
    dnssec
    rewrite name api.cluster.local evil.example.com
    cache 30 {
        serve_stale 24h
    }
}
""", [
        ("RW-DNS-003", "dnssec signs answers but nothing validates: no DNS-over-TLS validating upstream", 7),
        ("RW-DNS-005", "kubernetes pods insecure", 5),
        ("RW-DNS-011", "rewrite touches names under cluster.local", 8),
        ("RW-DNS-012", "cache serve_stale 24h (over 1h)", 10),
    ], "dnssec/README (signs only, coredns#5331); kubernetes/README pods; cache/README serve_stale"),
]


@pytest.mark.parametrize(("name", "text", "expected", "rule"), CASES, ids=[c[0] for c in CASES])
def test_corefile_checks(name: str, text: str, expected: list[tuple[str, str, int]], rule: str) -> None:
    sink = DiagnosticSink()
    cf = parse_corefile(text, "Corefile", sink)
    assert not sink.items
    got = sorted((f.check.id, f.message, f.locations[0].line) for f in check_corefile(cf))
    assert got == sorted(expected), rule


def test_parser_is_lenient_with_line_numbers() -> None:
    text = "stray\n.:53 {\n    errors\n    forward . 1.1.1.1 { } }\n    cache 30\n"
    sink = DiagnosticSink()
    cf = parse_corefile(text, "Corefile", sink, line_offset=10)
    assert [(d.code, d.location.line) for d in sink.items] == [
        ("corefile.syntax", 11), ("corefile.syntax", 14), ("corefile.unclosed", 12)]
    assert [(d.name, d.location.line) for d in cf.servers[0].directives] == [("errors", 13), ("cache", 15)]


def test_snippets_are_imported() -> None:
    cf = parse_corefile("(common) {\n    errors\n    log\n}\n.:53 {\n    import common\n    whoami\n}\n", "C",
                        DiagnosticSink())
    assert [d.name for d in cf.servers[0].directives] == ["errors", "log", "whoami"]


@pytest.mark.parametrize(("text", "value"), [("30s", 30), ("1h30m", 5400), ("24h", 86400), ("1d", None)])
def test_go_durations(text: str, value: float | None) -> None:
    """cache/README: DURATION is a Go duration."""
    assert duration_seconds(text) == value


EXPOSED = """\
apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  namespace: kube-system
spec:
  type: NodePort
  externalIPs: [192.0.2.53]
  selector: {k8s-app: kube-dns}
  ports:
    - {name: dns, port: 53, protocol: UDP}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: coredns
  namespace: kube-system
spec:
  selector: {matchLabels: {k8s-app: kube-dns}}
  template:
    metadata:
      labels: {k8s-app: kube-dns}
    spec:
      hostNetwork: true
      securityContext:
        seccompProfile: {type: RuntimeDefault}
      containers:
        - name: coredns
          image: registry.k8s.io/coredns/coredns:v1.11.3
          ports:
            - {containerPort: 53, hostPort: 53, protocol: UDP}
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: system:coredns
rules:
  - apiGroups: [""]
    resources: [endpoints, services, pods, namespaces]
    verbs: [list, watch]
  - apiGroups: [discovery.k8s.io]
    resources: [endpointslices]
    verbs: [list, watch]
  - apiGroups: [""]
    resources: [secrets]
    verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: dns-editor
  namespace: kube-system
rules:
  - apiGroups: [""]
    resources: [configmaps]
    resourceNames: [coredns]
    verbs: [get, update, patch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: dns-editor
  namespace: kube-system
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: dns-editor}
subjects:
  - {kind: Group, name: developers}
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: node-local-dns
  namespace: kube-system
  labels: {k8s-app: node-local-dns}
spec:
  selector: {matchLabels: {k8s-app: node-local-dns}}
  template:
    metadata:
      labels: {k8s-app: node-local-dns}
    spec:
      hostNetwork: true
      containers:
        - name: node-cache
          image: registry.k8s.io/dns/k8s-dns-node-cache:1.23.1
          args: ["-localip", "169.254.20.10,10.96.0.10"]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny
  namespace: shop
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
"""


def test_exposure_rbac_and_nodelocal(tmp_path: Path) -> None:
    """§4.2 exposure and minimal RBAC (coredns.yaml.base), §4.4 NodeLocal DNSCache ipBlock."""
    (tmp_path / "dns.yaml").write_text(EXPOSED)
    report = edge.scan_dns_layer(load_estate([str(tmp_path)]))
    got = sorted((f.check.id, f.message, f.locations[0].line) for f in report.findings)
    assert got == [
        ("RW-DNS-006", "Deployment/kube-system/coredns runs with hostNetwork: every node answers DNS on its own "
                       "addresses", 13),
        ("RW-DNS-006", "Service kube-system/kube-dns has externalIPs 192.0.2.53", 1),
        ("RW-DNS-006", "Service kube-system/kube-dns is type NodePort", 1),
        ("RW-DNS-006", "container coredns of Deployment/kube-system/coredns binds hostPort 53", 13),
        ("RW-DNS-007", "ClusterRole system:coredns rule 2 grants verbs get; resources secrets", 48),
        ("RW-DNS-008", "Group developers may update ConfigMap kube-system/coredns through Role dns-editor", 63),
        ("RW-DNS-010", "namespace shop restricts egress but no rule allows NodeLocal DNSCache at 169.254.20.10", 90),
    ]
    assert report.details["nodelocal"] == "169.254.20.10"


def test_shop_corefile_from_configmap_points_into_the_manifest() -> None:
    report = edge.scan_dns_layer(load_estate([str(REPO_ROOT / "examples" / "shop")]))
    got = sorted((f.check.id, f.subject, f.locations[0].line) for f in report.findings)
    assert got == [("RW-DNS-001", "ConfigMap/kube-system/coredns", 39),
                   ("RW-DNS-013", "Deployment/kube-system/coredns", 48)]
    line = (REPO_ROOT / "examples" / "shop" / "kube-system.yaml").read_text().splitlines()[38]
    assert line.strip() == "forward . /etc/resolv.conf {"
    assert report.status == "1 Corefile(s); upstreams /etc/resolv.conf (unencrypted); kube-dns ClusterIP"
