"""Watch for drift: re-read the live sources, compare with the previous read, print what changed.

Two things are compared: connectivity (``analysis.diff.diff_connlists``, the same as ``ringwall
diff``) and findings (``run_scan``), the latter by a fingerprint made *relative to the source*
(check, ``cluster/<file>`` or ``hosts/<host>/<file>``, subject, detail). ``Finding.fingerprint``
hashes the absolute path, which differs between a live read (``cluster:ctx/…``) and a snapshot
folder of it; the relative form lets ``--against DIR`` compare a live read with a saved snapshot.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import orjson

if TYPE_CHECKING:
    from ringwall.analysis.connlist import Connlist
    from ringwall.analysis.diff import Change
    from ringwall.analysis.estate import Estate
    from ringwall.model.findings import Finding

WATCH_SCHEMA = "ringwall.watch/v1"
_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")


def parse_interval(text: str) -> float:
    """``5m`` -> 300.0; units ms, s (default), m, h. Raises ValueError on anything else."""
    m = _INTERVAL.match(text)
    if not m:
        raise ValueError(f"--interval {text!r}: write a number with a unit, e.g. 30s, 5m or 1h")
    value = float(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[m.group(2) or "s"]
    if value <= 0:
        raise ValueError("--interval must be positive")
    return value


def relative_source_path(path: str, roots: tuple[str, ...]) -> str:
    """``cluster:ctx/x.json`` and ``DIR/cluster/x.json`` both -> ``cluster/x.json``."""
    if path.startswith("cluster:"):
        return "cluster/" + path.split("/", 1)[1] if "/" in path else "cluster"
    for root in roots:
        prefix = root.rstrip("/") + "/"
        if path.startswith(prefix):
            return path[len(prefix):]
    return path


def finding_key(f: Finding, roots: tuple[str, ...]) -> str:
    uri = relative_source_path(f.locations[0].path, roots) if f.locations else ""
    return hashlib.sha256(f"{f.check.id}|{uri}|{f.subject}|{f.detail}".encode()).hexdigest()


@dataclass
class Observation:
    """What one read says: connectivity and findings (keyed by source-relative fingerprint)."""

    time: str
    connlist: Connlist
    findings: dict[str, Finding]
    errors: int = 0


def observe(estate: Estate, roots: tuple[str, ...] = ()) -> Observation:
    from ringwall.analysis.scan import run_scan
    from ringwall.model.diagnostics import Level

    connlist = estate.connlist()
    findings = {finding_key(f, roots): f for f in run_scan(estate).findings}
    errors = sum(1 for d in estate.sink.items if d.level is Level.ERROR)
    return Observation(_now(), connlist, findings, errors)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Drift:
    time: str
    connectivity: list[Change]
    added: list[Finding] = field(default_factory=list)
    removed: list[Finding] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.connectivity or self.added or self.removed)


def compare(old: Observation, new: Observation) -> Drift:
    from ringwall.analysis.diff import diff_connlists
    from ringwall.model.findings import sort_findings

    added = sort_findings(f for k, f in new.findings.items() if k not in old.findings)
    removed = sort_findings(f for k, f in old.findings.items() if k not in new.findings)
    return Drift(new.time, diff_connlists(old.connlist, new.connlist), added, removed)


def _finding_line(sign: str, f: Finding) -> str:
    loc = f" ({f.locations[0]})" if f.locations else ""
    return f"  {sign} {f.check.id} {f.effective_severity.label} {f.subject}: {f.message}{loc}"


def render_text(event: str, obs: Observation, drift: Drift | None, source: str) -> str:
    if event == "baseline":
        return (f"{obs.time} baseline {source}: {len(obs.connlist.connections)} connections, "
                f"{len(obs.findings)} findings\n")
    assert drift is not None
    if not drift.changed:
        return f"{obs.time} no change\n"
    from ringwall.analysis.diff import render

    out = [f"{obs.time} changed: {len(drift.connectivity)} connectivity change(s), "
           f"{len(drift.added)} finding(s) new, {len(drift.removed)} gone"]
    if drift.connectivity:
        out.extend("  " + line for line in render(drift.connectivity, "txt").rstrip("\n").splitlines())
    out.extend(_finding_line("+", f) for f in drift.added)
    out.extend(_finding_line("-", f) for f in drift.removed)
    return "\n".join(out) + "\n"


def render_jsonl(event: str, iteration: int, obs: Observation | None, drift: Drift | None, source: str,
                 error: str | None = None) -> str:
    rec: dict[str, object] = {"schema": WATCH_SCHEMA, "time": obs.time if obs else _now(), "iteration": iteration,
                              "event": event, "source": source}
    if obs is not None:
        rec["connections"] = len(obs.connlist.connections)
        rec["findings"] = len(obs.findings)
    if drift is not None:
        rec["connectivity"] = [c.to_json() for c in drift.connectivity]
        rec["findings_added"] = [f.to_json() for f in drift.added]
        rec["findings_removed"] = [f.to_json() for f in drift.removed]
    if error is not None:
        rec["error"] = error
    return orjson.dumps(rec).decode() + "\n"


Reader = Callable[[], tuple["Estate", tuple[str, ...]]]
"""Reads the sources once: the estate and the roots its file paths are relative to."""


def watch_loop(
    read: Reader,
    *,
    interval: float,
    count: int | None,
    fmt: str,
    out: TextIO,
    source: str,
    baseline: Observation | None = None,
    sleep: Callable[[float], None] | None = None,
    on_read: Callable[[int], None] | None = None,
    recoverable: tuple[type[BaseException], ...] = (),
) -> int:
    """Read, compare, print; ``count`` reads then return 0. A read that fails after the first is
    reported and the previous state kept (an API server restart must not end a watch)."""
    previous = baseline
    iteration = 0
    while count is None or iteration < count:
        if iteration:
            (sleep or time.sleep)(interval)
        iteration += 1
        try:
            estate, roots = read()
        except recoverable as exc:
            if previous is None:
                raise
            text = (render_jsonl("error", iteration, None, None, source, str(exc)) if fmt == "jsonl"
                    else f"{_now()} read failed: {exc}\n")
            out.write(text)
            out.flush()
            continue
        obs = observe(estate, roots)
        if on_read is not None:
            on_read(iteration)
        if previous is None:
            event, drift = "baseline", None
        else:
            drift = compare(previous, obs)
            event = "change" if drift.changed else "unchanged"
        out.write(render_jsonl(event, iteration, obs, drift, source) if fmt == "jsonl"
                  else render_text(event, obs, drift, source))
        out.flush()
        previous = obs
    return 0


def snapshot_roots(folder: Path) -> tuple[str, ...]:
    return (str(folder),)
