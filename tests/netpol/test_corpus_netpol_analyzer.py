"""netpol-analyzer goldens: every core-NetworkPolicy, ANP/BANP and no-policy folder, compared by meaning.

Run with ``--compat netpol-analyzer`` (ipBlocks never match pods, hostNetwork pods are pods), as
the goldens were produced under those modelling choices. Comparison uses the shared
``tools/connlist_compare.py`` (imported from ../shared, never copied).
"""

from __future__ import annotations

import functools
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from typer.testing import CliRunner

from ringwall.cli import app
from tests.conftest import find_shared_dir

SHARED = find_shared_dir()
ROOT = SHARED / "corpora" / "netpol-analyzer" if SHARED else None
INDEX: list[dict[str, Any]] = (
    json.loads((ROOT / "index.json").read_text())["dirs"] if ROOT and (ROOT / "index.json").exists() else []
)
CORE = [d for d in INDEX if d["category"] in ("core-np", "no-policy")]
ANP = [d for d in INDEX if d["category"] == "anp-banp"]


@functools.cache
def _compare_module() -> ModuleType:
    assert SHARED is not None
    spec = importlib.util.spec_from_file_location("connlist_compare", SHARED / "tools" / "connlist_compare.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.corpus
@pytest.mark.skipif(not CORE, reason="../shared/corpora/netpol-analyzer not available")
@pytest.mark.parametrize("entry", CORE + ANP, ids=[d["dir"] for d in CORE + ANP])
def test_golden_connlist(entry: dict[str, Any], tmp_path: Path) -> None:
    assert ROOT is not None
    folder = ROOT / entry["dir"]
    out = tmp_path / "actual.txt"
    inputs = [str(folder / name) for name in entry["inputs"]]
    result = CliRunner().invoke(app, ["matrix", *inputs, "--compat", "netpol-analyzer", "-o", str(out)])
    assert result.exit_code == 0, result.output
    cmp = _compare_module()
    assert cmp.main([str(folder / "expected" / "connlist.txt"), str(out)]) == 0


def test_core_folder_count() -> None:
    if not INDEX:
        pytest.skip("../shared/corpora/netpol-analyzer not available")
    assert len(CORE) == 26
    assert len(ANP) == 30
