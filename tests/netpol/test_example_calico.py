"""examples/calico/README.md as a test: the connectivity it promises, exactly (Calico tiers,
NetworkSets, GlobalNetworkSets, kns/ksa profiles, nets/notNets against the IPPool)."""

from __future__ import annotations

from ringwall.analysis.estate import load_estate
from ringwall.analysis.scan import run_scan
from tests.conftest import REPO_ROOT

EXAMPLE = str(REPO_ROOT / "examples" / "calico")


def test_calico_example_connectivity() -> None:
    estate = load_estate([EXAMPLE])
    assert estate.cni.name == "calico"
    lines = estate.connlist().lines()
    assert lines == [
        "0.0.0.0-192.167.255.255[External] => pay/api[Deployment] : TCP 8443",
        "0.0.0.0-198.51.99.255[External] => ops/prober[Deployment] : All Connections",
        "0.0.0.0-255.255.255.255[External] => kube-system/calico-node[DaemonSet] : All Connections",
        "192.169.0.0-198.51.99.255[External] => pay/api[Deployment] : TCP 8443",
        "198.51.101.0-255.255.255.255[External] => ops/prober[Deployment] : All Connections",
        "198.51.101.0-255.255.255.255[External] => pay/api[Deployment] : TCP 8443",
        "kube-system/calico-node[DaemonSet] => 0.0.0.0-255.255.255.255[External] : All Connections",
        "ops/prober[Deployment] => 0.0.0.0-198.51.99.255[External] : All Connections",
        "ops/prober[Deployment] => 198.51.101.0-255.255.255.255[External] : All Connections",
        "pay/api[Deployment] => 203.0.113.0-203.0.113.255[External] : TCP 443",
        "pay/api[Deployment] => pay/ledger[StatefulSet] : TCP 9000",
    ]
    assert not [d for d in estate.sink.items if d.level.value in ("error", "warning")]


def test_calico_example_findings() -> None:
    report = run_scan(load_estate([EXAMPLE]))
    calico = sorted((f.check.id, f.locations[0].line) for f in report.findings if f.check.id.startswith("RW-CALICO"))
    assert calico == [("RW-CALICO-002", 27), ("RW-CALICO-002", 35), ("RW-CALICO-006", 31)]
