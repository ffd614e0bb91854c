#!/usr/bin/env python3
"""Run the Python peer network-config-analyzer (NCA 2.1.0) on a generated cluster and turn its answer
into the connlist grammar Ringwall and netpol-analyzer print.

Usage::

    python benchmarks/nca_peer.py DIR [-o OUTDIR] [--endpoints deployments|pods] [--venv PATH]
    python benchmarks/nca_peer.py --convert NCA_OUTPUT.txt        # conversion only, to stdout
    python benchmarks/nca_peer.py --install                       # create the venv and exit

Why a separate venv: NCA pins its own PyYAML, networkx and greenery versions and must not leak into
Ringwall's environment; ``/work/nca-venv`` (or ``--venv``) is created on first use with
``python3 -m venv`` and ``pip install network-config-analyzer==2.1.0`` from PyPI.

What is run: ``nca --connectivity -r DIR --output_format txt_no_fw_rules -f OUT``. ``-r`` makes NCA
read topology (Namespaces, Pods, workloads) *and* policies from the folder; NCA's command line adds
``**`` to folders itself, so sub-folders are read. (``--connectivity DIR`` alone reads only the
policies and, without a cluster to ask, analyses an empty topology.) ``txt_no_fw_rules`` is NCA's
pair-by-pair output (``../shared/refs/netpol-semantics.md`` §10.2); its default ``txt`` is an
overlapping fw-rules cover that cannot be compared line by line and costs several times more.

What is measured: wall time of the whole process (interpreter start included, as a user would see
it), user and system CPU, the peak resident set size from ``wait4`` (the figure ``/usr/bin/time -v``
prints, without needing that tool), and NCA's own ``Total run time`` line.

How the output is converted (§10.2 to §10.1):

* endpoints ``ns/name[Kind]`` stay as they are (NCA already prints ``[Deployment]``, ``[Pod]``,
  ``[ReplicaSet]``, ... like netpol-analyzer); address ranges ``a-b`` gain ``[External]``; a CIDR
  becomes a range; a comma list of ranges becomes one line per range;
* ``All connections`` becomes ``All Connections``; ``No connections`` lines are dropped;
* cube lists such as ``{protocols:TCP,dst_ports:80,443},{protocols:UDP,dst_ports:53}`` become
  ``TCP 80,443,UDP 53``; a cube without ``protocols`` means every protocol; ``all but TCP`` means
  UDP and SCTP; ``All but {...}`` is the complement; only TCP, UDP and SCTP are kept, because
  NetworkPolicy says nothing about other protocols (EC-31) and the connlist grammar has no word
  for them;
* several lines for one pair are merged into one, and lines are sorted like netpol-analyzer's.

NCA-only behaviour that may show up as differences (§8): D4 (self pairs: neither side prints
them), D6 (host-network pods: compare with Ringwall's ``--compat netpol-analyzer``), D13
(``*-livesim`` endpoints: the generator avoids the trigger; any such endpoint is reported).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

NCA_VERSION = "2.1.0"
DEFAULT_VENV = Path("/work/nca-venv")
PROTOCOLS = ("SCTP", "TCP", "UDP")  # the connlist order
PORT_MIN, PORT_MAX = 1, 65535
Interval = tuple[int, int]
Conn = dict[str, list[Interval]]


# ----------------------------------------------------------------------------------------------------
# measuring a child process


@dataclass
class Measurement:
    """Wall time, CPU and peak memory of one finished child process."""

    cmd: list[str]
    returncode: int
    wall_s: float
    user_s: float
    sys_s: float
    max_rss_bytes: int
    stdout_path: Path | None = None
    stderr_path: Path | None = None

    @property
    def max_rss_mib(self) -> float:
        return self.max_rss_bytes / 2**20


GNU_TIME = Path("/usr/bin/time")


def _kill_session(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def _gnu_time_works() -> bool:
    if not GNU_TIME.exists():
        return False
    probe = subprocess.run([str(GNU_TIME), "-f", "%M", "true"], capture_output=True, text=True, check=False)
    return probe.returncode == 0 and probe.stderr.strip().isdigit()


def measure(cmd: list[str], stdout_path: Path | None = None, stderr_path: Path | None = None,
            cwd: Path | None = None, env: dict[str, str] | None = None, timeout_s: float | None = None
            ) -> Measurement:
    """Run ``cmd`` to completion and return its wall time, CPU times and peak RSS.

    Peak RSS comes from GNU ``/usr/bin/time`` when it is installed (``apt-get install time``): Linux
    keeps the high-water mark of the memory a process had *before* ``exec``, and a child forked
    from this Python process starts with this process's resident size, so ``wait4`` on a direct
    child over-reports small runs (a 40 MiB ``ringwall`` run showed the harness's 140 MiB). ``time``
    is a small C program, so the command it forks starts small. Without it, ``wait4`` on the direct
    child is used and the figure is an upper bound.
    """
    use_time = _gnu_time_works()
    rss_file = None
    if use_time:
        rss_file = Path(str(stderr_path or stdout_path or Path(os.devnull)) + ".rss") if (
            stderr_path or stdout_path) else None
        if rss_file is None:
            use_time = False
    argv = [str(GNU_TIME), "-q", "-f", "%M", "-o", str(rss_file), *cmd] if use_time else list(cmd)
    out = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL  # noqa: SIM115 - closed below
    err = open(stderr_path, "wb") if stderr_path else subprocess.DEVNULL  # noqa: SIM115
    try:
        start = time.perf_counter()
        # a session of its own, so a timeout can stop the command and not only the ``time`` wrapper
        proc = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=cwd, env=env,
                                start_new_session=True)
        # block in wait4 (exact end time); a timer kills the whole session if it runs too long
        timer = None
        if timeout_s is not None:
            timer = threading.Timer(timeout_s, _kill_session, args=(proc.pid,))
            timer.daemon = True
            timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            if timer is not None:
                timer.cancel()
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
    finally:
        for handle in (out, err):
            if hasattr(handle, "close"):
                handle.close()  # type: ignore[union-attr]
    max_rss = usage.ru_maxrss * 1024
    if use_time and rss_file is not None and rss_file.exists():
        numbers = [ln.strip() for ln in rss_file.read_text().splitlines() if ln.strip().isdigit()]
        if numbers:
            max_rss = int(numbers[-1]) * 1024
        rss_file.unlink()
    return Measurement(list(cmd), proc.returncode, wall, usage.ru_utime, usage.ru_stime, max_rss,
                       stdout_path, stderr_path)


# ----------------------------------------------------------------------------------------------------
# the NCA installation


def nca_executable(venv: Path = DEFAULT_VENV) -> Path:
    return venv / "bin" / "nca"


def ensure_nca(venv: Path = DEFAULT_VENV, python: str = "python3") -> Path:
    """Return the ``nca`` executable, creating the venv and installing NCA from PyPI if needed."""
    exe = nca_executable(venv)
    if exe.exists():
        return exe
    subprocess.run([python, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", f"network-config-analyzer=={NCA_VERSION}"],
                   check=True)
    if not exe.exists():
        raise RuntimeError(f"network-config-analyzer installed but {exe} is missing")
    return exe


# ----------------------------------------------------------------------------------------------------
# conversion of txt_no_fw_rules into connlist lines


class ConversionError(ValueError):
    """An NCA line this converter does not understand; the message quotes it."""


def _merge(intervals: list[Interval]) -> list[Interval]:
    out: list[list[int]] = []
    for lo, hi in sorted(intervals):
        if out and lo <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return [(lo, hi) for lo, hi in out]


def _complement(intervals: list[Interval]) -> list[Interval]:
    out: list[Interval] = []
    cur = PORT_MIN
    for lo, hi in _merge(intervals):
        if lo > cur:
            out.append((cur, lo - 1))
        cur = max(cur, hi + 1)
    if cur <= PORT_MAX:
        out.append((cur, PORT_MAX))
    return out


def _all_conn() -> Conn:
    return {p: [(PORT_MIN, PORT_MAX)] for p in PROTOCOLS}


def _protocols(text: str) -> set[str]:
    """NCA protocol set text (``TCP``, ``TCP, UDP``, ``all but TCP``, ``*``) restricted to TCP/UDP/SCTP."""
    value = text.strip()
    if value == "*":
        return set(PROTOCOLS)
    negate = value.lower().startswith("all but ")
    if negate:
        value = value[len("all but "):]
    names = {n.strip().upper() for n in value.split(",") if n.strip()}
    return set(PROTOCOLS) - names if negate else names & set(PROTOCOLS)


_DIM_RE = re.compile(r"(?:^|,)\s*([a-z_]+):")
_KNOWN_DIMS = {"protocols", "dst_ports", "src_ports", "icmp_type", "icmp_code", "methods", "paths", "hosts"}


def _parse_ports(text: str) -> list[Interval]:
    out: list[Interval] = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        lo, _, hi = item.partition("-")
        try:
            out.append((int(lo), int(hi or lo)))
        except ValueError:
            raise ConversionError(f"bad port {item!r}") from None
    return out


def _parse_cube(body: str) -> Conn:
    """One ``{dim:value,dim:value}`` cube (without braces) as {protocol: ports}."""
    marks = [(m.start(), m.end(), m.group(1)) for m in _DIM_RE.finditer(body) if m.group(1) in _KNOWN_DIMS]
    dims: dict[str, str] = {}
    for i, (_, end, name) in enumerate(marks):
        stop = marks[i + 1][0] if i + 1 < len(marks) else len(body)
        dims[name] = body[end:stop].strip()
    unknown = set(dims) - {"protocols", "dst_ports", "icmp_type", "icmp_code"}
    if unknown:
        raise ConversionError(f"dimension(s) {sorted(unknown)} have no meaning for NetworkPolicy: {{{body}}}")
    protos = _protocols(dims["protocols"]) if "protocols" in dims else set(PROTOCOLS)
    ports = _parse_ports(dims["dst_ports"]) if "dst_ports" in dims else [(PORT_MIN, PORT_MAX)]
    return {p: list(ports) for p in protos}


def _split_cubes(text: str) -> list[str]:
    cubes: list[str] = []
    depth, start = 0, -1
    for i, ch in enumerate(text):
        if ch == "{":
            if depth == 0:
                start = i + 1
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                cubes.append(text[start:i])
    if depth != 0 or not cubes:
        raise ConversionError(f"unbalanced or empty cube list {text!r}")
    return cubes


def parse_nca_conn(text: str) -> Conn:
    """NCA connection text as {protocol: merged ports}; empty dict for no connection."""
    conn = text.strip()
    low = conn.lower()
    if low == "all connections":
        return _all_conn()
    if low == "no connections":
        return {}
    if low.startswith("all but "):
        excluded = parse_nca_conn(conn[len("all but "):])
        return {p: c for p in PROTOCOLS if (c := _complement(excluded.get(p, [])))}
    acc: Conn = defaultdict(list)
    for body in _split_cubes(conn):
        for proto, ports in _parse_cube(body).items():
            acc[proto].extend(ports)
    return {p: _merge(v) for p, v in acc.items() if v}


def format_conn(conn: Conn) -> str:
    """{protocol: ports} in the connlist grammar (``All Connections`` or ``SCTP …,TCP …,UDP …``)."""
    merged = {p: _merge(conn.get(p, [])) for p in PROTOCOLS}
    if all(merged[p] == [(PORT_MIN, PORT_MAX)] for p in PROTOCOLS):
        return "All Connections"
    parts = []
    for proto in PROTOCOLS:
        if merged[proto]:
            ports = ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in merged[proto])
            parts.append(f"{proto} {ports}")
    return ",".join(parts)


_IP_RANGE_RE = re.compile(r"^[0-9A-Fa-f:.]+-[0-9A-Fa-f:.]+$")
_CIDR_RE = re.compile(r"^[0-9A-Fa-f:.]+/\d+$")
_ADDR_RE = re.compile(r"^(?:\d+\.\d+\.\d+\.\d+|[0-9A-Fa-f]*:[0-9A-Fa-f:]*)$")


def convert_endpoint(token: str) -> list[str]:
    """One NCA endpoint as connlist endpoints (a comma list of ranges gives several)."""
    import ipaddress

    parts = [t.strip() for t in token.split(",")] if "," in token else [token.strip()]
    out: list[str] = []
    for part in parts:
        if _IP_RANGE_RE.match(part):
            out.append(f"{part}[External]")
        elif _CIDR_RE.match(part):
            net = ipaddress.ip_network(part, strict=False)
            out.append(f"{net.network_address}-{net.broadcast_address}[External]")
        elif _ADDR_RE.match(part):
            out.append(f"{part}-{part}[External]")
        elif len(parts) > 1:
            raise ConversionError(f"comma list mixes workloads and addresses: {token!r}")
        else:
            out.append(part)
    return out


_LINE_RE = re.compile(r"^(?P<src>\S+) => (?P<dst>\S+) : (?P<conn>.+)$")


@dataclass
class Converted:
    """Connlist lines plus what the converter noticed on the way."""

    lines: list[str]
    skipped: list[str] = field(default_factory=list)  # headers and other non-pair lines
    livesim: set[str] = field(default_factory=set)  # endpoints NCA added itself (D13)


def _ep_key(ep: str) -> tuple[int, str]:
    return (0, ep) if ep[:1].isdigit() else (1, ep)


def convert(text: str) -> Converted:
    """Turn NCA ``txt_no_fw_rules`` output into sorted connlist lines (one per pair)."""
    pairs: dict[tuple[str, str], Conn] = defaultdict(lambda: defaultdict(list))
    skipped: list[str] = []
    livesim: set[str] = set()
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        m = _LINE_RE.match(line)
        if not m:
            skipped.append(line)
            continue
        try:
            conn = parse_nca_conn(m.group("conn"))
        except ConversionError as err:
            raise ConversionError(f"{err} in line {line!r}") from None
        if not conn:
            continue
        for src in convert_endpoint(m.group("src")):
            for dst in convert_endpoint(m.group("dst")):
                for ep in (src, dst):
                    if "-livesim" in ep:
                        livesim.add(ep)
                for proto, ports in conn.items():
                    pairs[(src, dst)][proto].extend(ports)
    keys = sorted(pairs, key=lambda k: (_ep_key(k[0]), _ep_key(k[1])))
    lines = [f"{s} => {d} : {format_conn(pairs[(s, d)])}" for s, d in keys]
    lines = [ln for ln in lines if not ln.endswith(" : ")]
    return Converted(lines, skipped, livesim)


# ----------------------------------------------------------------------------------------------------
# running NCA on a folder


@dataclass
class NcaRun:
    """One NCA run: the measurement, NCA's own timing and the converted connlist."""

    measurement: Measurement
    raw_path: Path
    connlist_path: Path
    lines: int
    endpoints: int | None
    nca_reported_s: float | None
    livesim: set[str]
    ok: bool

    def summary(self) -> str:
        m = self.measurement
        return (f"NCA {NCA_VERSION}: {'ok' if self.ok else f'FAILED rc={m.returncode}'}, wall {m.wall_s:.1f}s "
                f"(NCA's own count {self.nca_reported_s}s), user {m.user_s:.1f}s, peak RSS {m.max_rss_mib:.0f} MiB, "
                f"{self.endpoints} endpoints, {self.lines} connlist lines -> {self.connlist_path}")


def run_nca(cluster_dir: Path, out_dir: Path, endpoints: str = "deployments", venv: Path = DEFAULT_VENV,
            timeout_s: float | None = None) -> NcaRun:
    """Run NCA on ``cluster_dir`` and write ``nca.raw.txt``, ``nca.log`` and ``nca.connlist.txt``."""
    exe = ensure_nca(venv)
    out_dir.mkdir(parents=True, exist_ok=True)
    raw = out_dir / "nca.raw.txt"
    log = out_dir / "nca.log"
    raw.unlink(missing_ok=True)
    cmd = [str(exe), "--connectivity", "-r", str(cluster_dir), "--output_format", "txt_no_fw_rules",
           "--output_endpoints", endpoints, "-f", str(raw)]
    m = measure(cmd, stdout_path=log, stderr_path=out_dir / "nca.stderr.log", timeout_s=timeout_s)
    log_text = log.read_text(errors="replace") if log.exists() else ""
    reported = re.search(r"Total run time:\s*([\d.]+) seconds", log_text)
    eps = re.search(r"cluster has (\d+) unique endpoints", log_text)
    connlist = out_dir / "nca.connlist.txt"
    ok = m.returncode == 0 and raw.exists()
    conv = convert(raw.read_text()) if raw.exists() else Converted([])
    connlist.write_text("".join(f"{ln}\n" for ln in conv.lines))
    return NcaRun(m, raw, connlist, len(conv.lines), int(eps.group(1)) if eps else None,
                  float(reported.group(1)) if reported else None, conv.livesim, ok)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cluster", nargs="?", type=Path, help="generated cluster folder")
    parser.add_argument("-o", "--out", type=Path, help="output folder (default: <cluster>.nca)")
    parser.add_argument("--endpoints", choices=("deployments", "pods"), default="deployments",
                        help="NCA's --output_endpoints (default deployments, the netpol-analyzer naming)")
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV, help=f"NCA venv (default {DEFAULT_VENV})")
    parser.add_argument("--convert", type=Path, metavar="FILE", help="only convert an NCA output file to stdout")
    parser.add_argument("--install", action="store_true", help="create the venv if needed and exit")
    parser.add_argument("--timeout", type=float, default=None, help="kill NCA after this many seconds")
    args = parser.parse_args(argv)
    if args.convert:
        conv = convert(args.convert.read_text())
        sys.stdout.write("".join(f"{ln}\n" for ln in conv.lines))
        return 0
    if args.install:
        print(ensure_nca(args.venv))
        return 0
    if args.cluster is None:
        parser.error("a cluster folder is required")
    out = args.out or args.cluster.with_name(args.cluster.name + ".nca")
    result = run_nca(args.cluster, out, args.endpoints, args.venv, args.timeout)
    print(result.summary())
    if result.livesim:
        print(f"warning: NCA added endpoints of its own (D13): {sorted(result.livesim)}", file=sys.stderr)
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
