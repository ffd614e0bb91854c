"""Fixtures for the host firewall tests: the example rulesets and a loader for inline text."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ringwall.layers.hostfw.api import load_ruleset
from ringwall.layers.hostfw.model import Ruleset
from ringwall.model.diagnostics import DiagnosticSink

DATA = Path(__file__).parent / "data"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "hosts"


def load_paths(*paths: Path) -> Ruleset:
    return load_ruleset(list(paths), DiagnosticSink())


@pytest.fixture
def load_text(tmp_path: Path) -> Callable[..., tuple[Ruleset, DiagnosticSink]]:
    """Write text to a file with the given name and load it: (ruleset, diagnostics)."""

    def load(text: str, name: str = "rules.txt") -> tuple[Ruleset, DiagnosticSink]:
        path = tmp_path / name
        path.write_text(text)
        sink = DiagnosticSink()
        return load_ruleset([path], sink), sink

    return load


@pytest.fixture(scope="session")
def demo_rulesets() -> dict[str, Ruleset]:
    """The hostfw-semantics demo ruleset in its three formats."""
    return {fmt: load_paths(DATA / f"demo.{fmt}") for fmt in ("rules", "nft", "json")}
