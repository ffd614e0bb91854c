"""The example intents generate exactly the checked-in reference outputs.

A change in what is generated shows up here as a diff to review. To accept it, regenerate the
references with ``RINGWALL_UPDATE_REFERENCE=1 pytest tests/generate/test_reference.py`` and commit them.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from ringwall.generate.cli import diff_against, generate, write

from .helpers import INTENTS

REFERENCE = Path(__file__).with_name("reference")
NAMES = sorted(p.stem for p in INTENTS.glob("*.yaml"))


@pytest.mark.parametrize("name", NAMES)
def test_reference_output(name: str) -> None:
    files, _ = generate(INTENTS / f"{name}.yaml")
    ref = REFERENCE / name
    if os.environ.get("RINGWALL_UPDATE_REFERENCE") == "1":
        shutil.rmtree(ref, ignore_errors=True)
        write(files, ref)
    assert ref.is_dir(), f"no reference for {name}: run with RINGWALL_UPDATE_REFERENCE=1"
    on_disk = sorted(str(p.relative_to(ref)) for p in ref.rglob("*") if p.is_file())
    assert on_disk == [f.path for f in files], "the set of generated files changed"
    assert diff_against(files, ref) == ""


@pytest.mark.parametrize("name", NAMES)
def test_generation_is_deterministic(name: str) -> None:
    first, _ = generate(INTENTS / f"{name}.yaml")
    second, _ = generate(INTENTS / f"{name}.yaml")
    assert [(f.path, f.content.encode()) for f in first] == [(f.path, f.content.encode()) for f in second]
