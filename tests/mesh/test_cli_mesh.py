"""``ringwall mesh flows|coverage`` end to end on the shop (refs mesh §1; examples/shop/README.md "Mesh")."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from ringwall.layers.mesh.cli import app
from tests.conftest import REPO_ROOT

SHOP = str(REPO_ROOT / "examples" / "shop")
runner = CliRunner()


def test_coverage_txt_and_json() -> None:
    r = runner.invoke(app, ["coverage", SHOP])
    assert r.exit_code == 0
    assert r.stdout.splitlines()[:3] == [
        "mTLS coverage of allowed workload pairs: 12/37 (32%)",
        "  backend: 6/6",
        "  data: 3/5",
    ]
    data = json.loads(runner.invoke(app, ["coverage", SHOP, "--format", "json"]).stdout)
    assert (data["schema"], data["pairs"], data["covered"]) == ("ringwall.mesh-coverage/v1", 37, 12)


def test_flows_focus() -> None:
    r = runner.invoke(app, ["flows", SHOP, "--focus", "data/postgres", "--format", "json"])
    assert r.exit_code == 0
    rows = json.loads(r.stdout)["flows"]
    broken = sorted(f["src"] for f in rows if f["mtls"] == "broken")
    assert broken == ["backend/api[Deployment]", "backend/checkout[Deployment]"]


def test_mesh_none_and_bad_option() -> None:
    r = runner.invoke(app, ["coverage", SHOP, "--mesh", "none"])
    assert r.exit_code == 0 and "0/37" in r.stdout
    assert runner.invoke(app, ["coverage", SHOP, "--mesh", "consul"]).exit_code == 2
    assert runner.invoke(app, ["flows", SHOP, "--format", "xml"]).exit_code == 2
