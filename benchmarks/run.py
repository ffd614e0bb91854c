#!/usr/bin/env python3
"""Run Ringwall's NetworkPolicy benchmarks and print the figures the foundation issue asks for.

Usage::

    python benchmarks/run.py [--sizes S,M,L,XL] [--skip-generate] [--with-nca-m] [--no-nca]
                             [--nca-input standalone|workloads] [--ringwall CMD] [--out DIR]

For every size it generates the cluster (``gen_cluster.py``, unless ``--skip-generate`` finds it
already there), runs Ringwall as a subprocess exactly as a user would::

    ringwall matrix DIR --format txt --compat netpol-analyzer -o OUT --timings     (S, M, L)
    ringwall scan DIR --format json --timings                                      (every size)

and reads the ``timing: parse 1.23s`` / ``timing: analysis 0.45s`` lines Ringwall prints on stderr
with ``--timings``. Wall time and peak RSS come from ``wait4`` on the child (``nca_peer.measure``),
so they include interpreter start-up, as a user would see them.

For S (and M with ``--with-nca-m``) it also runs network-config-analyzer 2.1.0 on the same folder
(``nca_peer.py``), runs ``ringwall matrix`` on that folder, and compares the two connectivity lists
by meaning with ``../shared/tools/connlist_compare.py`` (imported from ``--shared``, not copied).
The comparison folder is the standalone-Pods form by default; ``gen_cluster.py``'s docstring says
why, and ``--nca-input workloads`` measures the workload form as well.

Goals checked (the issue's performance section):

* S: Ringwall >= 1,000x faster than NCA (wall time against wall time), and the same connectivity;
* L: ``ringwall matrix`` <= 20 s;
* XL: ``ringwall scan`` <= 60 s and <= 4 GiB peak RSS (on the manifest folder and on the
  ``kubectl get -A -o yaml`` style dump of 150,000 Pods);
* every size and command: analysis time (after parsing) <= YAML parsing time.

Everything goes under ``benchmarks/out/`` (git-ignored); ``results.json`` and ``results.md`` hold
the tables printed at the end. Heavy steps run one at a time: the machine has two cores.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shlex
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import gen_cluster  # noqa: E402 - the benchmark folder is not a package
import nca_peer  # noqa: E402

REPO = HERE.parent
GIB = 2**30

L_MATRIX_LIMIT_S = 20.0
XL_SCAN_LIMIT_S = 60.0
XL_SCAN_LIMIT_RSS = 4 * GIB
NCA_SPEEDUP_GOAL = 1000.0

_TIMING_RE = re.compile(r"^\s*timing:\s*([A-Za-z][\w .-]*?)\s+([0-9]*\.?[0-9]+)\s*(ms|s)\b", re.MULTILINE)


def parse_timings(stderr: str) -> dict[str, float]:
    """``timing: parse 1.23s`` lines as {"parse": 1.23}; later lines with the same name add up."""
    out: dict[str, float] = {}
    for name, value, unit in _TIMING_RE.findall(stderr):
        seconds = float(value) / (1000.0 if unit == "ms" else 1.0)
        key = name.strip().lower()
        out[key] = out.get(key, 0.0) + seconds
    return out


# ----------------------------------------------------------------------------------------------------
# running ringwall


def ringwall_command(spec: str | None) -> list[str]:
    """The command that starts Ringwall: ``--ringwall``, the venv's script, PATH, or ``python -c``."""
    if spec:
        return shlex.split(spec)
    beside = Path(sys.executable).with_name("ringwall")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("ringwall")
    if found:
        return [found]
    return [sys.executable, "-c", "import sys; from ringwall.cli import main; sys.exit(main())"]


@dataclass
class RingwallRun:
    """One Ringwall invocation and what it reported."""

    size: str
    command: str
    input: str
    argv: list[str]
    returncode: int
    wall_s: float
    user_s: float
    max_rss_bytes: int
    timings: dict[str, float]
    output: str
    error_tail: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode in (0, 1)  # 1 = findings at or above --fail-on, still a full run

    @property
    def parse_s(self) -> float | None:
        return self.timings.get("parse")

    @property
    def analysis_s(self) -> float | None:
        return self.timings.get("analysis")

    @property
    def after_parse_s(self) -> float | None:
        """Everything Ringwall timed after parsing (model building, analysis, ...), the strict reading
        of "the analysis after parsing takes no longer than the YAML parsing itself"."""
        if "parse" not in self.timings or "analysis" not in self.timings:
            return None
        return sum(v for k, v in self.timings.items() if k not in ("parse", "total"))


def run_ringwall(base: list[str], size: str, command: str, folder: Path, out_dir: Path, label: str,
                 timeout_s: float) -> RingwallRun:
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{label}.{command}"
    stderr_path = out_dir / f"{stem}.stderr.txt"
    if command == "matrix":
        output = out_dir / f"{stem}.connlist.txt"
        output.unlink(missing_ok=True)
        argv = [*base, "matrix", str(folder), "--format", "txt", "--compat", "netpol-analyzer", "-o", str(output),
                "--timings"]
        stdout_path = out_dir / f"{stem}.stdout.txt"
    else:
        output = out_dir / f"{stem}.json"
        argv = [*base, "scan", str(folder), "--format", "json", "--timings"]
        stdout_path = output
    m = nca_peer.measure(argv, stdout_path=stdout_path, stderr_path=stderr_path, timeout_s=timeout_s)
    err = stderr_path.read_text(errors="replace") if stderr_path.exists() else ""
    tail = "" if m.returncode in (0, 1) else "\n".join(err.strip().splitlines()[-5:])
    return RingwallRun(size, command, label, argv, m.returncode, m.wall_s, m.user_s, m.max_rss_bytes,
                       parse_timings(err), str(output), tail)


# ----------------------------------------------------------------------------------------------------
# generation


@dataclass
class GenRecord:
    """How long one input took to generate and how big it is."""

    size: str
    form: str
    path: str
    seconds: float
    files: int
    megabytes: float
    reused: bool


def _folder_stats(path: Path) -> tuple[int, float]:
    files = [p for p in path.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files) / 1e6


def ensure_input(size: str, form: str, out: Path, seed: int, skip: bool, fragmented: bool = False) -> GenRecord:
    name = size if form == "workloads" else f"{size}-{form}" + ("-fragmented" if fragmented else "")
    path = out / name
    if skip and path.exists() and any(path.iterdir()):
        files, mb = _folder_stats(path)
        return GenRecord(size, form, str(path), 0.0, files, mb, True)
    t0 = time.perf_counter()
    stats = gen_cluster.generate(size, path, seed=seed, pods_as=form, fragmented=fragmented)
    return GenRecord(size, form, str(path), time.perf_counter() - t0, stats.files, stats.bytes / 1e6, False)


# ----------------------------------------------------------------------------------------------------
# NCA comparison


def load_connlist_compare(shared: Path) -> ModuleType | None:
    path = shared / "tools" / "connlist_compare.py"
    if not path.exists():
        return None
    spec = importlib.util.spec_from_file_location("connlist_compare", path)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    sys.modules["connlist_compare"] = module
    spec.loader.exec_module(module)
    return module


@dataclass
class NcaComparison:
    """NCA against Ringwall on one folder."""

    size: str
    input: str
    nca_ok: bool
    nca_wall_s: float
    nca_user_s: float
    nca_reported_s: float | None
    nca_rss_bytes: int
    nca_endpoints: int | None
    nca_lines: int
    ringwall_ok: bool
    ringwall_wall_s: float | None
    ringwall_core_s: float | None  # parse + model + analysis from --timings (no interpreter start-up)
    equal: bool | None
    matched: int | None
    mismatched: int | None
    report: str
    notes: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float | None:
        if not self.ringwall_wall_s:
            return None
        return self.nca_wall_s / self.ringwall_wall_s

    @property
    def ratio_core(self) -> float | None:
        if not self.ringwall_core_s:
            return None
        return self.nca_wall_s / self.ringwall_core_s


def compare_with_nca(size: str, folder: Path, label: str, out_dir: Path, base: list[str],
                     compare_mod: ModuleType | None, timeout_s: float) -> tuple[NcaComparison, RingwallRun]:
    nca_dir = out_dir / f"{label}.nca"
    print(f"[{size}] NCA on {folder} ...", file=sys.stderr, flush=True)
    nca = nca_peer.run_nca(folder, nca_dir, timeout_s=timeout_s)
    print(f"[{size}] {nca.summary()}", file=sys.stderr, flush=True)
    print(f"[{size}] ringwall matrix on {folder} ...", file=sys.stderr, flush=True)
    rw = run_ringwall(base, size, "matrix", folder, out_dir, label, timeout_s)
    notes = []
    if nca.livesim:
        notes.append(f"NCA added its own endpoints (D13): {sorted(nca.livesim)}")
    equal = matched = mismatched = None
    report = ""
    rw_out = Path(rw.output)
    if not rw.ok or not rw_out.exists():
        notes.append(f"ringwall matrix failed (rc={rw.returncode}): {rw.error_tail}")
    elif compare_mod is None:
        notes.append("connlist_compare.py not found (--shared); connectivity not compared")
    elif nca.ok:
        rects_a = compare_mod.parse(rw_out.read_text(), str(rw_out))
        rects_b = compare_mod.parse(nca.connlist_path.read_text(), str(nca.connlist_path))
        result = compare_mod.compare(rects_a, rects_b, ignore_self=True)
        equal, matched, mismatched = result.equal, result.matched, result.mismatched
        report = compare_mod.report(result, "ringwall", "nca")
        (out_dir / f"{label}.compare.txt").write_text(report + "\n")
    core = None
    if rw.parse_s is not None and rw.after_parse_s is not None:
        core = rw.parse_s + rw.after_parse_s
    m = nca.measurement
    cmp = NcaComparison(size, label, nca.ok, m.wall_s, m.user_s, nca.nca_reported_s, m.max_rss_bytes,
                        nca.endpoints, nca.lines, rw.ok, rw.wall_s if rw.ok else None, core, equal, matched,
                        mismatched, report, notes)
    return cmp, rw


# ----------------------------------------------------------------------------------------------------
# tables


def _f(value: float | None, digits: int | None = None) -> str:
    """Seconds with enough digits to be read: 3 below 10 s, 1 above, unless ``digits`` says."""
    if value is None:
        return "—"
    if digits is None:
        digits = 3 if value < 10 else 1
    return f"{value:.{digits}f}"


def _mark(ok: bool | None) -> str:
    return "?" if ok is None else ("✓" if ok else "✗")


def goals_for(run: RingwallRun) -> list[tuple[str, bool | None]]:
    """The issue's goals that apply to this run, each with its verdict (None: cannot tell)."""
    goals: list[tuple[str, bool | None]] = []
    if not run.ok:
        return [("ran", False)]
    after, parse = run.after_parse_s, run.parse_s
    goals.append(("after-parse ≤ parse", None if after is None or parse is None else after <= parse))
    if run.size == "L" and run.command == "matrix":
        goals.append((f"≤ {L_MATRIX_LIMIT_S:.0f} s", run.wall_s <= L_MATRIX_LIMIT_S))
    if run.size == "XL" and run.command == "scan":
        goals.append((f"≤ {XL_SCAN_LIMIT_S:.0f} s", run.wall_s <= XL_SCAN_LIMIT_S))
        goals.append(("≤ 4 GiB", run.max_rss_bytes <= XL_SCAN_LIMIT_RSS))
    return goals


def ringwall_table(runs: list[RingwallRun]) -> list[str]:
    rows = ["| size | command | input | parse s | model s | analysis s | total s (wall) | peak RSS MiB | "
            "after-parse/parse | goal |",
            "|---|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for r in runs:
        after = r.after_parse_s
        ratio = (after / r.parse_s) if (r.ok and r.parse_s and after is not None) else None
        goal = "; ".join(f"{name} {_mark(ok)}" for name, ok in goals_for(r))
        if not r.ok:
            goal += f" (rc={r.returncode})"
        rows.append(f"| {r.size} | {r.command} | {r.input} | {_f(r.parse_s)} | {_f(r.timings.get('model'))} | "
                    f"{_f(r.analysis_s)} | {_f(r.wall_s)} | {r.max_rss_bytes / 2**20:.0f} | {_f(ratio, 2)} | {goal} |")
    return rows


def nca_table(cmps: list[NcaComparison]) -> list[str]:
    rows = ["| size | input | NCA s | NCA peak MiB | NCA endpoints | ringwall s | ratio | ratio (timed work only) | "
            f"≥ {NCA_SPEEDUP_GOAL:.0f}× | same connectivity |",
            "|---|---|---:|---:|---:|---:|---:|---:|---|---|"]
    for c in cmps:
        ratio = c.ratio
        facts = (c.matched or 0) + (c.mismatched or 0)
        same = "?" if c.equal is None else ("✓" if c.equal else f"✗ ({c.mismatched} of {facts} facts differ)")
        rows.append(f"| {c.size} | {c.input} | {_f(c.nca_wall_s, 1)} | {c.nca_rss_bytes / 2**20:.0f} | "
                    f"{c.nca_endpoints if c.nca_endpoints is not None else '—'} | {_f(c.ringwall_wall_s)} | "
                    f"{_f(ratio, 0)}× | {_f(c.ratio_core, 0)}× | "
                    f"{_mark(None if ratio is None else ratio >= NCA_SPEEDUP_GOAL)} | {same} |")
    return rows


def gen_table(gens: list[GenRecord]) -> list[str]:
    rows = ["| size | form | files | MB | generation s |", "|---|---|---:|---:|---:|"]
    for g in gens:
        rows.append(f"| {g.size} | {g.form} | {g.files} | {g.megabytes:.1f} | "
                    f"{'(reused)' if g.reused else f'{g.seconds:.1f}'} |")
    return rows


# ----------------------------------------------------------------------------------------------------
# main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="S,M,L,XL", help="comma list of S, M, L, XL (default all)")
    parser.add_argument("--skip-generate", action="store_true", help="reuse inputs that already exist")
    parser.add_argument("--with-nca-m", action="store_true", help="also compare with NCA on M")
    parser.add_argument("--no-nca", action="store_true", help="skip the NCA comparison")
    parser.add_argument("--nca-input", default="standalone",
                        help="comma list of forms to compare with NCA: standalone, workloads (default standalone)")
    parser.add_argument("--no-xl-pods", action="store_true", help="skip the XL kubectl-dump input (150,000 Pods)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=HERE / "out")
    parser.add_argument("--ringwall", help="command that starts ringwall (default: the venv's ringwall script)")
    parser.add_argument("--shared", type=Path, default=Path(os.environ.get("RINGWALL_SHARED", REPO.parent / "shared")),
                        help="the shared/ folder holding tools/connlist_compare.py")
    parser.add_argument("--timeout", type=float, default=3600.0, help="per-process timeout in seconds")
    args = parser.parse_args(argv)

    sizes = [s.strip().upper() for s in args.sizes.split(",") if s.strip()]
    for s in sizes:
        if s not in gen_cluster.SIZES:
            parser.error(f"unknown size {s!r}")
    nca_forms = [f.strip() for f in args.nca_input.split(",") if f.strip()]
    for f in nca_forms:
        if f not in ("standalone", "workloads"):
            parser.error(f"--nca-input: unknown form {f!r}")
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    base = ringwall_command(args.ringwall)
    compare_mod = load_connlist_compare(args.shared)

    gens: list[GenRecord] = []
    runs: list[RingwallRun] = []
    cmps: list[NcaComparison] = []
    for size in sizes:
        print(f"[{size}] generating ...", file=sys.stderr, flush=True)
        g = ensure_input(size, "workloads", out, args.seed, args.skip_generate)
        gens.append(g)
        folder = Path(g.path)
        if size != "XL":
            print(f"[{size}] ringwall matrix ...", file=sys.stderr, flush=True)
            runs.append(run_ringwall(base, size, "matrix", folder, out / "results", size, args.timeout))
        print(f"[{size}] ringwall scan ...", file=sys.stderr, flush=True)
        runs.append(run_ringwall(base, size, "scan", folder, out / "results", size, args.timeout))
        if size == "XL" and not args.no_xl_pods:
            gp = ensure_input(size, "pods", out, args.seed, args.skip_generate)
            gens.append(gp)
            print(f"[{size}] ringwall scan on the 150,000-Pod dump ...", file=sys.stderr, flush=True)
            runs.append(run_ringwall(base, size, "scan", Path(gp.path), out / "results", f"{size}-pods",
                                     args.timeout))
        want_nca = not args.no_nca and (size == "S" or (size == "M" and args.with_nca_m))
        if want_nca:
            for form in nca_forms:
                gf = g if form == "workloads" else ensure_input(size, form, out, args.seed, args.skip_generate)
                if form != "workloads":
                    gens.append(gf)
                label = f"{size}-{form}"
                cmp, rw = compare_with_nca(size, Path(gf.path), label, out / "results", base, compare_mod,
                                           args.timeout)
                cmps.append(cmp)
                runs.append(rw)

    lines = ["## Inputs", "", *gen_table(gens), "", "## Ringwall", "", *ringwall_table(runs)]
    if cmps:
        lines += ["", "## Ringwall against network-config-analyzer 2.1.0", "", *nca_table(cmps)]
        for c in cmps:
            for note in c.notes:
                lines.append(f"- {c.input}: {note}")
            if c.equal is False:
                lines.append(f"- {c.input}: differences in {out / 'results' / (c.input + '.compare.txt')}")
    failed = [r for r in runs if not r.ok]
    for r in failed:
        lines.append(f"- {r.size} {r.command} {r.input}: rc={r.returncode}: {r.error_tail}")
    text = "\n".join(lines)
    print(text)
    (out / "results.md").write_text(text + "\n")
    payload: dict[str, Any] = {
        "generated": [asdict(g) for g in gens],
        "ringwall": [asdict(r) | {"goals": goals_for(r)} for r in runs],
        "nca": [asdict(c) | {"ratio": c.ratio, "ratio_core": c.ratio_core} for c in cmps],
    }
    (out / "results.json").write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    all_goals = [ok for r in runs for _, ok in goals_for(r)]
    all_goals += [c.equal for c in cmps] + [None if c.ratio is None else c.ratio >= NCA_SPEEDUP_GOAL for c in cmps]
    return 0 if all(ok is True for ok in all_goals) else 1


if __name__ == "__main__":
    sys.exit(main())
