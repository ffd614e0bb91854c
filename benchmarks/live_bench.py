#!/usr/bin/env python3
"""Live read vs files: a 10,000-pod cluster read from a recorded API server and analysed, against
the same objects read from files. Target: live <= 2x files.

Usage::

    python benchmarks/live_bench.py [--size L] [--repeat 3] [--data DIR]

The cluster comes from ``gen_cluster.py SIZE --pods-as pods --format json`` (generated into a
temporary folder unless ``--data`` names one). The recorded server runs in its own process on
127.0.0.1, as an API server would; the client reads it through the official ``kubernetes``
client with the reader's default page size (500). Both sides are timed from nothing loaded to a
computed connectivity list (``matrix``), best of ``--repeat`` after one warm-up run each, so
that one-off import costs (the ``kubernetes`` package takes ~0.3 s) are excluded from both.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import orjson

from ringwall.analysis.connlist import compute_connlist
from ringwall.analysis.estate import LoadOptions, load_estate
from ringwall.live.estate import load_live_estate
from ringwall.live.fakeapi import objects_from_documents
from ringwall.live.source import LiveOptions
from ringwall.model.diagnostics import DiagnosticSink
from ringwall.sources.loader import load_paths

HERE = Path(__file__).resolve().parent
TARGET = 2.0


def _best(fn: Callable[[], int], repeat: int) -> tuple[float, int]:
    fn()  # warm-up: imports, caches
    best, result = float("inf"), 0
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t)
    return best, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="L", help="gen_cluster.py size (L = 10,000 pods)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", type=Path, help="an existing gen_cluster.py --format json folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ringwall-live-bench-") as tmp_name:
        tmp = Path(tmp_name)
        data = args.data
        if data is None:
            data = tmp / "files"
            subprocess.run([sys.executable, str(HERE / "gen_cluster.py"), args.size, "--pods-as", "pods",
                            "--format", "json", "-o", str(data)], check=True, capture_output=True)
        # The recorded API responses: one list per resource, as the API server would hold them.
        docs = load_paths([data], DiagnosticSink()).documents
        objects = objects_from_documents(d.obj for d in docs)
        recorded = tmp / "recorded"
        recorded.mkdir()
        for resource, items in objects.items():
            (recorded / f"{resource}.json").write_bytes(orjson.dumps({"kind": "List", "items": items}))
        kubeconfig = tmp / "kubeconfig.yaml"
        server = subprocess.Popen([sys.executable, "-m", "ringwall.live.fakeapi", str(recorded),
                                   "--kubeconfig", str(kubeconfig)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True)
        try:
            assert server.stdout is not None
            url = server.stdout.readline().strip()
            live_opts = LiveOptions(kubeconfig=str(kubeconfig), context="fake")

            def from_files() -> int:
                estate = load_estate([data], LoadOptions())
                return len(compute_connlist(estate.engine()).connections)

            def from_live() -> int:
                estate, _ = load_live_estate(live_opts, LoadOptions())
                return len(compute_connlist(estate.engine()).connections)

            t_files, n_files = _best(from_files, args.repeat)
            t_live, n_live = _best(from_live, args.repeat)
        finally:
            if server.stdin is not None:
                server.stdin.close()
            server.wait(timeout=10)
    pods = len(objects.get("pods", []))
    ratio = t_live / t_files
    print(f"cluster: {pods} pods, {sum(len(v) for v in objects.values())} objects; server {url}")
    print(f"files: {t_files:.2f}s  live: {t_live:.2f}s  ({n_files} connections from files, {n_live} live)")
    print(f"ratio live/files: {ratio:.2f} (target <= {TARGET:.1f}) {'OK' if ratio <= TARGET else 'TOO SLOW'}")
    if n_files != n_live:
        print("MISMATCH: live and files give different connectivity", file=sys.stderr)
        return 1
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
