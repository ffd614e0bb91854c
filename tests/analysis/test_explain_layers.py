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


def test_explain_text_ends_with_the_combined_verdict() -> None:
    result = CliRunner().invoke(app, ["explain", SHOP, "--src", "frontend/web", "--dst", "backend/api",
                                      "--port", "8080/TCP"])
    assert result.exit_code == 0
    assert result.stdout.rstrip().splitlines()[-1].startswith("  Through every layer: ALLOWED")
