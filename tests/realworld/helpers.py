"""Run the CLI on a real-world shape and read its answers (connectivity lines, findings)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from ringwall.cli import app
from tests.conftest import REPO_ROOT

DATA = REPO_ROOT / "tests" / "realworld" / "data"


def run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def matrix(path: Path, *options: str) -> set[tuple[str, str, str]]:
    """(src, dst, conn) of every allowed connection, as ``ringwall matrix --format json`` says."""
    code, out, err = run("matrix", path, *options, "--format", "json")
    assert code == 0, err
    return {(c["src"], c["dst"], c["conn"]) for c in json.loads(out)["connections"]}


def findings(path: Path, *options: str, prefix: str = "RW-") -> list[tuple[str, str]]:
    """Sorted (check id, subject) of ``scan`` findings whose id starts with ``prefix``."""
    _, out, _ = run("scan", path, *options, "--format", "json")
    return sorted((f["id"], f["subject"]) for f in json.loads(out)["findings"] if f["id"].startswith(prefix))
