"""``load_live_estate``: an ``Estate`` from live sources, built exactly as ``load_estate`` builds one.

The model half of ``analysis.estate.load_estate`` (inventory, policies, CNI, ...) grows with every
layer, so this module must not copy it. With ``estate_from_load`` in ``analysis/estate.py`` (see
docs/live-integration.patch) it calls that; before, it runs ``load_estate`` itself with the
file loader swapped for the live one for the duration of the call (under a lock), which is
clumsy but cannot drift from what ``load_estate`` does.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ringwall.analysis import estate as core
from ringwall.analysis.estate import Estate, LoadOptions
from ringwall.live.cluster import Fetch
from ringwall.live.source import Capture, LiveOptions, load_live
from ringwall.model.diagnostics import DiagnosticSink
from ringwall.sources.loader import LoadResult

_SWAP_LOCK = threading.Lock()


def load_live_estate(
    live: LiveOptions,
    options: LoadOptions | None = None,
    *,
    paths: Sequence[str | Path] = (),
    fetch: Fetch | None = None,
    workdir: Path | None = None,
) -> tuple[Estate, Capture]:
    """Read the live sources once and build the estate; raises ``LiveError`` when they cannot be read.

    ``parse`` in the timings covers the whole read (network included): that is what the user waits for.
    """
    options = options or LoadOptions()
    shared = getattr(core, "estate_from_load", None)
    if shared is not None:
        sink = DiagnosticSink()
        t0 = time.perf_counter()
        loaded, capture = load_live(live, sink, paths=paths, fetch=fetch, workdir=workdir)
        return shared(loaded, sink, options, time.perf_counter() - t0), capture

    captured: list[Capture] = []

    def live_loader(_paths: Any, sink: DiagnosticSink, *, stdin_text: str | None = None) -> LoadResult:
        loaded, capture = load_live(live, sink, paths=paths, fetch=fetch, workdir=workdir)
        captured.append(capture)
        return loaded

    with _SWAP_LOCK:
        original = core.load_paths
        core.load_paths = live_loader  # type: ignore[assignment]
        try:
            estate = core.load_estate([], options)
        finally:
            core.load_paths = original
    return estate, captured[0]
