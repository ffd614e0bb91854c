"""Shared fixtures.

``../shared`` (schemas, corpora, references) sits next to the checkout, not inside it, so
tests that need it must find it and skip cleanly when it is absent (a plain clone, a sdist).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def find_shared_dir() -> Path | None:
    """``$RINGWALL_SHARED`` if set, else ``<repo>/../shared``; None when neither exists."""
    env = os.environ.get("RINGWALL_SHARED")
    candidate = Path(env) if env else REPO_ROOT.parent / "shared"
    return candidate.resolve() if candidate.is_dir() else None


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The shared directory, or skip the test when it is not available."""
    found = find_shared_dir()
    if found is None:
        pytest.skip("../shared not found (set RINGWALL_SHARED to point at it)")
    return found
