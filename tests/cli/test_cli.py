"""The ``ringwall`` command end to end: exact outputs, findings and exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ringwall.cli import app
from tests.conftest import REPO_ROOT

SHOP = str(REPO_ROOT / "examples" / "shop")
runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_scan_shop_finds_exactly_the_deliberate_gaps() -> None:
    code, out, _ = run("scan", SHOP, "--format", "json")
    assert code == 1  # high findings, default --fail-on high
    data = json.loads(out)
    assert data["schema"] == "ringwall.scan/v1"
    got = sorted((f["id"], f["subject"]) for f in data["findings"])
    assert got == [
        ("RW-DEPTH-002", "StatefulSet/data/postgres"),
        ("RW-DEPTH-002", "StatefulSet/data/redis"),
        ("RW-DEPTH-013", "DaemonSet/monitoring/node-exporter"),
        ("RW-DEPTH-021", "layer/mesh"),
        ("RW-DEPTH-021", "layer/netpol"),
        ("RW-DNS-001", "ConfigMap/kube-system/coredns"),
        ("RW-DNS-013", "Deployment/kube-system/coredns"),
        ("RW-GW-011", "Service/frontend/web"),
        ("RW-ISTIO-006", "DestinationRule/data/postgres"),
        ("RW-ISTIO-012", "DaemonSet/monitoring/node-exporter"),
        ("RW-NP-001", "Namespace/monitoring"),
        ("RW-NP-002", "Deployment/monitoring/prometheus"),
        ("RW-NP-004", "NetworkPolicy/backend/checkout-to-payments"),
        ("RW-NP-005", "NetworkPolicy/data/redis-ingress"),
        ("RW-NP-008", "NetworkPolicy/data/redis-ingress"),
        ("RW-NP-013", "NetworkPolicy/data/redis-ingress"),
        ("RW-NP-030", "NetworkPolicy/backend/payments-ingress"),
    ]
    typo = next(f for f in data["findings"] if f["id"] == "RW-NP-004")
    loc = typo["locations"][0]
    assert loc["path"].endswith("examples/shop/policies/backend.yaml")
    line = Path(loc["path"]).read_text().splitlines()[loc["line"] - 1]
    assert "podSelector" in line
    netpol = next(layer for layer in data["layers"] if layer["name"] == "netpol")
    assert netpol["enforced"] is True and netpol["details"]["cni"]["name"] == "calico"
    assert data["inventory"]["workloads"] == 11  # + istio-system/istiod (examples/shop/mesh)


def test_scan_fail_on_threshold() -> None:
    assert run("scan", SHOP, "--fail-on", "critical")[0] == 0
    assert run("scan", SHOP, "--fail-on", "low")[0] == 1
    code, _, err = run("scan", SHOP, "--fail-on", "severe")
    assert code == 2 and "unknown severity" in err


def test_scan_flannel_makes_policies_void() -> None:
    code, out, _ = run("scan", SHOP, "--cni", "flannel", "--format", "json")
    data = json.loads(out)
    ids = [f["id"] for f in data["findings"]]
    assert code == 1 and ids[0] == "RW-DEPTH-003"
    assert data["connectivity"]["as_enforced"] is False
    assert data["connectivity"]["pairs_allowed"] == data["connectivity"]["pairs_possible"]


def test_scan_sarif_is_valid(shared_dir: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    code, out, _ = run("scan", SHOP, "--format", "sarif")
    assert code == 1
    log = json.loads(out)
    schema = json.loads((shared_dir / "schemas" / "sarif-schema-2.1.0.json").read_text())
    errors = list(jsonschema.Draft4Validator(schema).iter_errors(log))
    assert not errors, [e.message for e in errors[:3]]
    results = log["runs"][0]["results"]
    assert len(results) == 17
    assert {r["ruleId"] for r in results} >= {"RW-NP-004", "RW-DEPTH-002"}


def test_scan_text_and_md() -> None:
    code, out, _ = run("scan", SHOP)
    assert code == 1
    assert "Kubernetes NetworkPolicy" in out and "RW-NP-008" in out
    code, out, _ = run("scan", SHOP, "--format", "md")
    assert out.startswith("# Ringwall scan") and "| high | RW-NP-001 NamespaceWithoutNetworkPolicy |" in out


def test_matrix_focus_txt() -> None:
    code, out, _ = run("matrix", SHOP, "--focus", "backend/payments")
    assert code == 0
    assert out.splitlines() == [
        "backend/payments[Deployment] => 203.0.113.0-203.0.113.255[External] : TCP 443",
        "backend/payments[Deployment] => istio-system/istiod[Deployment] : TCP 15012",
        "backend/payments[Deployment] => kube-system/coredns[Deployment] : TCP 53,UDP 53",
        "kube-system/coredns[Deployment] => backend/payments[Deployment] : TCP 8443",
        "monitoring/prometheus[Deployment] => backend/payments[Deployment] : TCP 8443,9102",
    ]


def test_matrix_formats() -> None:
    code, out, _ = run("matrix", SHOP, "--focus", "frontend/web", "--format", "json")
    data = json.loads(out)
    assert data["schema"] == "ringwall.connlist/v1"
    web_in = next(c for c in data["connections"] if c["src"].endswith("[External]"))
    assert web_in == {"src": "0.0.0.0-255.255.255.255[External]", "dst": "frontend/web[Deployment]",
                      "conn": "TCP 8080", "ports": {"TCP": [[8080, 8080]]}}
    _, out, _ = run("matrix", SHOP, "--focus", "frontend/web", "--format", "csv")
    assert out.splitlines()[0] == "src,dst,conn"
    _, out, _ = run("matrix", SHOP, "--focus", "frontend/web", "--format", "md")
    assert out.splitlines()[0] == "| src | dst | conn |"
    _, out, _ = run("matrix", SHOP, "--format", "dot")
    assert out.startswith("digraph ringwall {") and 'subgraph "cluster_backend"' in out
    if shutil.which("dot"):
        code, out, _ = run("matrix", SHOP, "--format", "svg")
        assert code == 0 and "<svg" in out


def test_matrix_unknown_focus_is_usage_error() -> None:
    code, _, err = run("matrix", SHOP, "--focus", "nope")
    assert code == 2 and "no workload matches 'nope'" in err


def test_explain_denied_by_typo_and_allowed_flow() -> None:
    code, out, _ = run("explain", SHOP, "--src", "backend/checkout", "--dst", "backend/payments",
                       "--port", "8443/TCP", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["verdict"] == "denied"
    eg = data["layers"]["netpol"]["egress"]
    assert eg["isolated"] and eg["matching_rules"] == []
    code, out, _ = run("explain", SHOP, "--src", "frontend/web", "--dst", "backend/api", "--port", "8080/TCP")
    assert code == 0 and "Verdict: ALLOWED" in out and "<- allows this port" in out


def test_explain_errors() -> None:
    assert run("explain", SHOP, "--src", "ghost", "--dst", "web")[0] == 2
    code, _, err = run("explain", SHOP, "--src", "web", "--dst", "api", "--port", "http")
    assert code == 2 and "--port" in err


def test_diff_and_fail_on_change(tmp_path: Path) -> None:
    old = tmp_path / "old"
    shutil.copytree(SHOP, old)
    new = tmp_path / "new"
    shutil.copytree(SHOP, new)
    pol = new / "policies" / "backend.yaml"
    pol.write_text(pol.read_text().replace("app: chekout", "app: checkout"))
    code, out, _ = run("diff", str(old), str(new), "--layer", "netpol")
    assert code == 0
    assert out.splitlines() == [
        "diff-type: added, layer: netpol, source: backend/checkout[Deployment], "
        "destination: backend/payments[Deployment], dir1: No Connections, dir2: TCP 8443",
        "diff-type: removed, layer: netpol, finding: RW-NP-004 PolicySelectsNothing, "
        "subject: NetworkPolicy/backend/checkout-to-payments, medium: NetworkPolicy/backend/checkout-to-payments: "
        "podSelector [app=chekout] matches no workload in namespace backend; the policy has no effect.  "
        f"({old}/policies/backend.yaml:164)",
    ]
    assert run("diff", str(old), str(new), "--fail-on-change")[0] == 1
    assert run("diff", str(old), str(old), "--fail-on-change")[0] == 0
    data = json.loads(run("diff", str(old), str(new), "--format", "json")[1])
    assert data["changes"][0]["diff-type"] == "added"


def test_bad_input_names_file_and_line(tmp_path: Path) -> None:
    shutil.copytree(SHOP, tmp_path / "shop")
    (tmp_path / "shop" / "broken.yaml").write_text("kind: Pod\nmetadata:\n  name: [unclosed\n")
    result = runner.invoke(app, ["scan", str(tmp_path / "shop"), "--format", "json"])
    assert result.exit_code == 2
    assert f"{tmp_path / 'shop' / 'broken.yaml'}:" in result.stderr and "invalid YAML" in result.stderr
    assert len(json.loads(result.stdout)["findings"]) == 17  # the rest was still analysed


def test_missing_path_is_input_error() -> None:
    code, _, err = run("matrix", "/nonexistent/dir")
    assert code == 2 and "no such file or directory: /nonexistent/dir" in err


def test_invalid_policy_is_finding_not_crash(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: bad, namespace: x}\n"
        "spec:\n  podSelector: {}\n  ingress:\n  - from:\n    - {}\n"
    )
    code, out, err = run("scan", str(tmp_path), "--format", "json")
    data = json.loads(out)
    f = next(f for f in data["findings"] if f["id"] == "RW-NP-020")
    assert "must specify a peer" in f["message"] and f["locations"][0]["line"] == 8
    assert code == 1 and "p.yaml:8" in err


def test_checks_list() -> None:
    code, out, _ = run("checks", "--list", "--format", "json")
    ids = [c["id"] for c in json.loads(out)["checks"]]
    assert code == 0 and "RW-NP-001" in ids and "RW-DEPTH-002" in ids and ids == sorted(ids)
    for c in json.loads(out)["checks"]:
        assert c["remediation"].endswith(".")


def test_scan_joins_host_firewall_layer(tmp_path: Path) -> None:
    shutil.copytree(SHOP, tmp_path / "estate")
    shutil.copy(REPO_ROOT / "examples" / "hosts" / "k8s-worker.rules", tmp_path / "estate" / "worker.rules")
    code, out, _ = run("scan", str(tmp_path / "estate"), "--format", "json")
    data = json.loads(out)
    assert [layer["name"] for layer in data["layers"]] == ["netpol", "hostfw", "mesh", "gateway", "dns", "access"]
    hostfw = data["layers"][1]
    assert hostfw["found"] is True and hostfw["details"]["hosts"]["worker"]["rules"] > 0
    ids = {f["id"] for f in data["findings"]}
    assert "RW-HOSTFW-022" in ids  # the NodePort DNAT that bypasses INPUT
    assert code == 1


def test_scan_without_host_ruleset_says_so() -> None:
    data = json.loads(run("scan", SHOP, "--format", "json")[1])
    hostfw = next(layer for layer in data["layers"] if layer["name"] == "hostfw")
    assert hostfw["found"] is False and hostfw["status"] == "no host ruleset given"


def test_hostfw_commands_are_mounted() -> None:
    rules = str(REPO_ROOT / "examples" / "hosts" / "k8s-worker.rules")
    code, out, _ = run("hostfw", "trace", rules, "--src", "203.0.113.7", "--dst", "192.0.2.10",
                       "--proto", "tcp", "--dport", "22", "--format", "json")
    assert code == 0
    assert json.loads(out)["verdict"] == "drop"
    code, _, _ = run("hostfw", "checks", rules, "--fail-on", "critical")
    assert code == 0
