"""API server and kubelet exposure (mesh-edge-access §7; kube-bench cis-1.12), alone and with a host firewall."""

from __future__ import annotations

from pathlib import Path

import pytest

import ringwall.analysis.edge_layers as edge
from ringwall.analysis.estate import load_estate

KUBELET = """\
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous:
    enabled: true
authorization:
  mode: AlwaysAllow
readOnlyPort: 10255
"""
KUBELET_OK = """\
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  x509:
    clientCAFile: /etc/kubernetes/pki/ca.crt
"""
APISERVER = """\
apiVersion: v1
kind: Pod
metadata:
  name: kube-apiserver
  namespace: kube-system
spec:
  hostNetwork: true
  containers:
    - name: kube-apiserver
      image: registry.k8s.io/kube-apiserver:v1.31.0
      command:
        - kube-apiserver
        - --authorization-mode=AlwaysAllow
        - --token-auth-file=/etc/kubernetes/tokens.csv
"""
KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters:
  - name: prod
    cluster:
      server: https://34.120.0.10:6443
  - name: lab
    cluster:
      server: https://10.20.0.10:6443
"""

# (name, files, expected [(id, message, line)], rule)
CASES = [
    ("kubelet legacy-unsafe settings", {"kubelet.yaml": KUBELET}, [
        ("RW-K8S-007", "authentication.anonymous.enabled: true", 5),
        ("RW-K8S-008", "authorization.mode: AlwaysAllow", 7),
        ("RW-K8S-009", "no authentication.x509.clientCAFile", 1),
        ("RW-K8S-010", "readOnlyPort: 10255", 8),
    ], "KubeletConfiguration defaults (defaults.go); kube-bench 4.2.1-4.2.4"),
    ("kubelet config-file defaults are safe", {"kubelet.yaml": KUBELET_OK}, [],
     "KubeletConfiguration file defaults: anonymous off, Webhook, readOnlyPort 0"),
    ("api server flags", {"apiserver.yaml": APISERVER}, [
        ("RW-K8S-002", "--anonymous-auth=true (default)", 9),
        ("RW-K8S-004", "--authorization-mode=AlwaysAllow", 9),
        ("RW-K8S-005", "--token-auth-file=/etc/kubernetes/tokens.csv", 9),
    ], "kube-bench 1.2.1, 1.2.2, 1.2.6-1.2.8"),
    ("public kubeconfig endpoint", {"kubeconfig.yaml": KUBECONFIG}, [
        ("RW-K8S-001", "kubeconfig server https://34.120.0.10:6443 is a public address", 6),
    ], "mesh-edge-access §7: 6443 from admin networks only"),
]


@pytest.mark.parametrize(("name", "files", "expected", "rule"), CASES, ids=[c[0] for c in CASES])
def test_manifest_exposure(tmp_path: Path, name: str, files: dict[str, str], expected: list[tuple[str, str, int]],
                           rule: str) -> None:
    for fname, text in files.items():
        (tmp_path / fname).write_text(text)
    report = edge.scan_access_layer(load_estate([str(tmp_path)]))
    got = sorted((f.check.id, f.message, f.locations[0].line) for f in report.findings)
    assert got == sorted(expected), rule


RULESET = """\
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p tcp --dport 6443 -j ACCEPT
-A INPUT -s 10.0.0.0/8 -p tcp --dport 10250 -j ACCEPT
-A INPUT -p udp --dport 51820 -j ACCEPT
COMMIT
"""
WG_SITE = """\
[Interface]
PrivateKey = <node-private-key>
ListenPort = 51820
[Peer]
PublicKey = <site-b-public-key>
PresharedKey = <psk>
Endpoint = 198.51.100.20:51820
AllowedIPs = 10.60.0.0/16
"""


def test_host_firewall_joined_with_access(tmp_path: Path) -> None:
    """The access layer asks hostfw which sources reach 6443/10250/2379 and the WireGuard port."""
    (tmp_path / "node.rules").write_text(RULESET)
    (tmp_path / "wg0.conf").write_text(WG_SITE)
    report = edge.scan_access_layer(load_estate([str(tmp_path)]))
    got = sorted((f.check.id, f.message) for f in report.findings)
    assert got == [
        ("RW-K8S-001", "kube-apiserver port 6443/tcp is accepted from any public address (outside the admin and "
                       "cluster networks: 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, "
                       "100.64.0.0/10, 127.0.0.0/8, 169.254.0.0/16)"),
        ("RW-WG-012", "ListenPort 51820/udp of wg0 is accepted from any address although every peer has a fixed "
                      "Endpoint"),
    ]
    ports = {d["port"]: d["accepted_from"] for d in report.details["control_plane_ports"]}  # type: ignore[union-attr]
    assert ports[10250] == "10.0.0.0/8" and ports[2379] == "nothing"
