"""`matrix --format dot/svg`: graphs Debian's graphviz 2.43 accepts, a focus that drops the rest, and
graphviz failures reported as errors (exit 2) instead of hidden."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import REPO_ROOT
from typer.testing import CliRunner

from ringwall.cli import app

SHOP = str(REPO_ROOT / "examples" / "shop")
DOT = shutil.which("dot")
runner = CliRunner()


def _nodes(dot: str) -> set[str]:
    """Every node declared in the DOT text (the lines ``"name" [...]`` outside edges)."""
    return {m.group(1) for m in re.finditer(r'^\s+"([^"]+)" \[', dot, re.M)}


def test_focus_drops_unconnected_nodes() -> None:
    result = runner.invoke(app, ["matrix", SHOP, "--focus", "frontend/web", "--format", "dot"])
    assert result.exit_code == 0
    assert _nodes(result.stdout) == {
        "frontend/web[Deployment]", "backend/api[Deployment]", "istio-system/istiod[Deployment]",
        "kube-system/coredns[Deployment]", "monitoring/prometheus[Deployment]",
        "0.0.0.0-255.255.255.255[External]",
    }
    assert 'subgraph "cluster_data"' not in result.stdout  # no namespace left with nothing to show
    full = runner.invoke(app, ["matrix", SHOP, "--format", "dot"]).stdout
    assert "data/postgres[StatefulSet]" in _nodes(full)


@pytest.mark.skipif(DOT is None, reason="graphviz not installed (.ci/run installs it)")
@pytest.mark.parametrize("example", sorted(p.name for p in (REPO_ROOT / "examples").iterdir() if p.is_dir()))
def test_graphviz_accepts_every_example(example: str) -> None:
    """Clustered graphs with labelled edges made graphviz 2.43 fail ("trouble in init_rank")."""
    result = runner.invoke(app, ["matrix", str(REPO_ROOT / "examples" / example), "--format", "dot"])
    if result.exit_code == 2:
        pytest.skip("example is not a cluster")
    proc = subprocess.run([DOT, "-Tsvg"], input=result.stdout, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr[:500]
    assert "trouble" not in proc.stderr and "lost" not in proc.stderr


@pytest.mark.skipif(DOT is None, reason="graphviz not installed (.ci/run installs it)")
def test_graphviz_accepts_a_generated_cluster(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(REPO_ROOT / "benchmarks" / "gen_cluster.py"), "S", "-o", str(tmp_path / "c")],
                   check=True, capture_output=True)
    result = runner.invoke(app, ["matrix", str(tmp_path / "c"), "--format", "svg"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.lstrip().startswith(("<?xml", "<svg", "<!DOCTYPE"))


def test_graphviz_failure_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "bin" / "dot"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'Error: trouble in init_rank' >&2\nexit 1\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    result = runner.invoke(app, ["matrix", SHOP, "--format", "svg"])
    assert result.exit_code == 2
    assert "graphviz failed: Error: trouble in init_rank" in result.stderr
    assert "<svg" not in result.stdout


def test_missing_graphviz_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    result = runner.invoke(app, ["matrix", SHOP, "--format", "svg"])
    assert result.exit_code == 2 and "needs graphviz" in result.stderr
