"""`explain` through every layer: the combined verdict and each layer's say (flow model)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from ringwall.cli import app
from tests.conftest import REPO_ROOT

SHOP = str(REPO_ROOT / "examples" / "shop")


def test_explain_json_has_every_layer() -> None:
    result = CliRunner().invoke(app, ["explain", SHOP, "--src", "203.0.113.9", "--dst", "backend/api",
                                      "--port", "8080/TCP", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    everything = data["all_layers"]
    assert everything["flow_endpoints"] == {"src": "zone:internet", "dst": "backend/api[Deployment]"}
    by_layer = {x["layer"]: x for x in everything["by_layer"]}
    assert by_layer["netpol"]["allowed"] == "No Connections"
    assert by_layer["gateway"]["allowed"] == "All Connections"
    assert by_layer["gateway"]["protections"] == ["encrypted", "request-authenticated"]
    assert everything["combined"] == "No Connections"
    assert data["verdict"] == "denied"


def _explain(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["explain", SHOP, *args])
    return result.exit_code, result.stdout


def test_explain_text_starts_and_ends_with_the_combined_verdict() -> None:
    code, out = _explain("--src", "frontend/web", "--dst", "backend/api", "--port", "8080/TCP")
    assert code == 0
    lines = out.splitlines()
    assert lines[1] == "Verdict: ALLOWED - through every layer"
    assert lines[-1] == "Through every layer: ALLOWED"


def test_headline_is_the_verdict_through_every_layer_not_netpol() -> None:
    """Issue 13.1: NetworkPolicy allows api -> postgres but the mesh refuses it (DestinationRule
    disables mTLS towards a STRICT server): the first line a user reads says DENIED."""
    code, out = _explain("--src", "backend/api", "--dst", "data/postgres", "--port", "5432/TCP")
    assert code == 0
    assert out.splitlines()[1:5] == [
        "Verdict: DENIED - through every layer",
        "  Kubernetes NetworkPolicy: allows",
        "  Service mesh: blocks",
        "  API gateway: does not see this flow",
    ]
    assert "\nKubernetes NetworkPolicy: allows\n" in out and "\nService mesh: blocks\n" in out
    assert "ALLOWED" not in out
    code, out = _explain("--src", "backend/api", "--dst", "data/postgres", "--port", "5432/TCP", "-f", "json")
    data = json.loads(out)
    assert (data["verdict"], data["allowed"]) == ("denied", "No Connections")
    assert data["verdict_by_layer"] == {"netpol": "allowed", "mesh": "denied", "gateway": "not seen"}
    assert (data["layers"]["netpol"]["verdict"], data["layers"]["netpol"]["allowed"]) == ("allowed", "TCP 5432")
    assert data["all_layers"]["combined"] == "No Connections"


def test_prometheus_to_payments_without_port_is_denied_through_every_layer() -> None:
    """NetworkPolicy opens TCP 8443,9102, the mesh only UDP/SCTP: nothing gets through both."""
    code, out = _explain("--src", "monitoring/prometheus", "--dst", "backend/payments", "-f", "json")
    data = json.loads(out)
    assert (code, data["verdict"], data["allowed_ports"]) == (0, "denied", {})
    assert data["verdict_by_layer"] == {"netpol": "partly allowed", "mesh": "partly allowed", "gateway": "not seen"}
    assert data["layers"]["netpol"]["allowed"] == "TCP 8443,9102"
    code, out = _explain("--src", "monitoring/prometheus", "--dst", "backend/payments")
    assert out.splitlines()[1:3] == ["Verdict: DENIED - through every layer",
                                     "  Kubernetes NetworkPolicy: allows TCP 8443,9102"]


def test_partly_allowed_without_port_names_what_passes() -> None:
    code, out = _explain("--src", "frontend/web", "--dst", "backend/api")
    assert code == 0
    assert out.splitlines()[1] == "Verdict: PARTLY ALLOWED (allowed: TCP 8080) - through every layer"
    data = json.loads(_explain("--src", "frontend/web", "--dst", "backend/api", "-f", "json")[1])
    assert (data["verdict"], data["allowed"]) == ("partly allowed", "TCP 8080")


def test_explain_is_a_gate() -> None:
    """--fail-on-deny: exit 1 when the flow does not get through; --fail-on-allow: exit 1 when it does."""
    denied = ("--src", "backend/api", "--dst", "data/postgres", "--port", "5432/TCP")
    allowed = ("--src", "frontend/web", "--dst", "backend/api", "--port", "8080/TCP")
    assert _explain(*denied, "--fail-on-deny")[0] == 1
    assert _explain(*denied, "--fail-on-allow")[0] == 0
    assert _explain(*allowed, "--fail-on-deny")[0] == 0
    assert _explain(*allowed, "--fail-on-allow", "-f", "json")[0] == 1
    assert _explain(*denied)[0] == 0  # without a gate option, explain answers and exits 0
    # partly allowed (no port) is not denied, and lets something through
    assert _explain("--src", "frontend/web", "--dst", "backend/api", "--fail-on-deny")[0] == 0
    assert _explain("--src", "frontend/web", "--dst", "backend/api", "--fail-on-allow")[0] == 1
    # input errors keep exit 2 whatever the gate says
    assert _explain("--src", "ghost", "--dst", "backend/api", "--fail-on-deny")[0] == 2
