"""`explain` names the Calico/Cilium policies on the decision and says when the CNI voids them
(issue: "which rules are real depends on the CNI ... explain shows it on the decision")."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from ringwall.cli import app

DATA = str(Path(__file__).parent / "data" / "calico-explain.yaml")


def _explain(*extra: str) -> dict:  # type: ignore[type-arg]
    result = CliRunner().invoke(app, ["explain", DATA, "--src", "cli", "--dst", "web", "--port", "80/TCP",
                                      "--format", "json", *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_calico_deny_is_shown_with_tier_and_order() -> None:
    data = _explain("--cni", "calico")
    assert data["verdict"] == "denied"
    ingress = data["layers"]["netpol"]["ingress"]
    assert [p["policy"] for p in ingress["cni_policies"]] == ["GlobalNetworkPolicy/deny-app"]
    assert ingress["cni_policies"][0]["order"] == "tier default, order 10"
    assert data["cni"]["void_policies"] == []


def test_calico_policies_are_void_under_flannel() -> None:
    data = _explain("--cni", "flannel")
    assert data["verdict"] == "allowed"
    assert data["cni"]["void_policies"] == ["1 Calico policies are void: the CNI is flannel"]


def test_calico_policies_are_void_under_cilium() -> None:
    data = _explain("--cni", "cilium")
    assert data["verdict"] == "allowed"
    assert data["cni"]["void_policies"] == ["1 Calico policies are void: the CNI is cilium"]
