"""`diff` through every layer (issue 13.2): connectivity, protections and findings, per layer."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from ringwall.cli import app
from tests.conftest import REPO_ROOT

SHOP = REPO_ROOT / "examples" / "shop"
HOSTS = REPO_ROOT / "examples" / "hosts"
API_PG = ("backend/api[Deployment]", "data/postgres[StatefulSet]")
CHECKOUT_PG = ("backend/checkout[Deployment]", "data/postgres[StatefulSet]")
MESH_PROTECTIONS = "encrypted, explicitly-authorized, peer-authenticated"


def _run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(app, list(args))
    return r.exit_code, r.stdout, r.stderr


def _pair(tmp_path: Path) -> tuple[str, str]:
    """The issue's reproduction: a copy of the shop without the DestinationRule that disables mTLS."""
    old, new = tmp_path / "old", tmp_path / "new"
    shutil.copytree(SHOP, old)
    shutil.copytree(SHOP, new)
    (new / "mesh" / "postgres-tls.yaml").unlink()
    return str(old), str(new)


def test_mesh_only_change_is_reported_and_fails_the_gate(tmp_path: Path) -> None:
    old, new = _pair(tmp_path)
    code, out, _ = _run("diff", old, new, "--fail-on-change", "-f", "json")
    assert code == 1
    rows = {(c["diff-type"], c["layer"], c["aspect"], c.get("src"), c.get("dst"), c["old"], c["new"])
            for c in json.loads(out)["changes"] if c["aspect"] != "finding"}
    assert rows == {
        ("added", "all", "connectivity", *API_PG, "No Connections", "TCP 5432"),
        ("added", "all", "connectivity", *CHECKOUT_PG, "No Connections", "TCP 5432"),
        ("added", "all", "protections", *API_PG, "none", MESH_PROTECTIONS),
        ("added", "all", "protections", *CHECKOUT_PG, "none", MESH_PROTECTIONS),
        ("changed", "mesh", "connectivity", *API_PG, "SCTP 1-65535,UDP 1-65535", "SCTP 1-65535,TCP 5432,UDP 1-65535"),
        ("changed", "mesh", "connectivity", *CHECKOUT_PG, "SCTP 1-65535,UDP 1-65535",
         "SCTP 1-65535,TCP 5432,UDP 1-65535"),
        ("added", "mesh", "protections", *API_PG, "none", MESH_PROTECTIONS),
        ("added", "mesh", "protections", *CHECKOUT_PG, "none", MESH_PROTECTIONS),
    }
    findings = [c for c in json.loads(out)["changes"] if c["aspect"] == "finding"]
    assert [(f["diff-type"], f["layer"], f["check"], f["subject"]) for f in findings] == [
        ("removed", "mesh", "RW-ISTIO-006 DestinationRuleDisablesMtls", "DestinationRule/data/postgres")]
    assert findings[0]["location"].endswith("mesh/postgres-tls.yaml:10")
    # NetworkPolicy did not change: narrowed to it, nothing to report and the gate passes.
    assert _run("diff", old, new, "--layer", "netpol", "--fail-on-change") == (0, "", "")


def test_identical_trees_compare_equal(tmp_path: Path) -> None:
    old, _ = _pair(tmp_path)
    assert _run("diff", str(SHOP), old, "--fail-on-change") == (0, "", "")


def test_layer_narrows_and_every_format_carries_the_rows(tmp_path: Path) -> None:
    old, new = _pair(tmp_path)
    code, out, _ = _run("diff", old, new, "--layer", "all")
    assert code == 0
    assert out.splitlines()[0] == (f"diff-type: added, layer: all, source: {API_PG[0]}, destination: {API_PG[1]}, "
                                   "dir1: No Connections, dir2: TCP 5432")
    assert len(out.splitlines()) == 4 and all(", layer: all, " in line for line in out.splitlines())
    table = list(csv.reader(io.StringIO(_run("diff", old, new, "-f", "csv")[1])))
    assert table[0] == ["diff-type", "layer", "aspect", "source", "destination", "dir1", "dir2", "location"]
    assert len(table) == 10
    assert table[-1][:5] == ["removed", "mesh", "finding", "RW-ISTIO-006 DestinationRuleDisablesMtls",
                             "DestinationRule/data/postgres"]
    md = _run("diff", old, new, "-f", "md", "--layer", "mesh")[1].splitlines()
    assert md[0] == "| diff-type | layer | aspect | source | destination | dir1 | dir2 | location |"
    assert len(md) == 2 + 5


def test_unknown_layer_is_a_usage_error(tmp_path: Path) -> None:
    old, new = _pair(tmp_path)
    code, out, err = _run("diff", old, new, "--layer", "netpl")
    assert (code, out) == (2, "")
    assert "unknown layer 'netpl' (did you mean 'netpol'?)" in err


def test_netpol_fix_shows_in_netpol_all_protections_and_findings(tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    shutil.copytree(SHOP, old)
    shutil.copytree(SHOP, new)
    pol = new / "policies" / "backend.yaml"
    pol.write_text(pol.read_text().replace("app: chekout", "app: checkout"))
    code, out, _ = _run("diff", str(old), str(new), "-f", "json")
    got = {(c["layer"], c["aspect"], c["diff-type"]) for c in json.loads(out)["changes"]}
    assert got == {("all", "connectivity", "added"), ("all", "protections", "added"),
                   ("netpol", "connectivity", "added"), ("mesh", "protections", "added"),
                   ("netpol", "finding", "removed")}
    # netpol-analyzer's own diff: NetworkPolicy only, its format
    code, out, _ = _run("diff", str(old), str(new), "--compat", "netpol-analyzer")
    assert (code, out) == (0, "diff-type: added, source: backend/checkout[Deployment], "
                              "destination: backend/payments[Deployment], dir1: No Connections, dir2: TCP 8443\n")


def test_hostfw_compare_fails_on_change() -> None:
    bastion, worker = str(HOSTS / "bastion.nft"), str(HOSTS / "k8s-worker.rules")
    assert _run("hostfw", "compare", bastion, bastion, "--fail-on-change")[0] == 0
    code, out, _ = _run("hostfw", "compare", bastion, worker, "--fail-on-change")
    assert code == 1 and "DIFFERENT" in out
    assert _run("hostfw", "compare", bastion, worker)[0] == 0  # without the option: a report, exit 0
