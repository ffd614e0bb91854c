"""A live source as the rest of Ringwall sees it: the same ``Document``s and files as a folder.

Cluster objects become documents parsed from synthetic files named ``cluster:<context>/<file>``
(an indented JSON ``List`` per resource, see ``cluster.list_text``); findings therefore point to
``cluster:prod/networkpolicies.networking.k8s.io.json:123`` — a line of the text a snapshot of
the same read stores under ``cluster/``. Host files are written to a private temporary folder (or
the snapshot folder) because the host readers take paths; saved dumps (``--host NAME=PATH``) are
read where they are.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ringwall import __version__
from ringwall.live.cluster import ClusterOptions, ClusterRead, Fetch, read_cluster
from ringwall.live.host import HostRead, parse_host_spec, read_local_host, read_saved_host, write_host
from ringwall.model.diagnostics import DiagnosticSink
from ringwall.model.location import Location
from ringwall.sources.loader import LoadResult, load_paths, parse_text

SNAPSHOT_SCHEMA = "ringwall.snapshot/v1"
SNAPSHOT_KIND = "RingwallSnapshot"
SNAPSHOT_API_VERSION = "ringwall.dev/v1"


@dataclass(frozen=True)
class LiveOptions:
    """Which live sources to read. ``cluster`` is on when any of the cluster options is given."""

    kubeconfig: str | None = None
    context: str | None = None
    in_cluster: bool = False
    hosts: tuple[str, ...] = ()
    timeout: float = 30.0
    page_size: int = 500
    host_prefix: tuple[str, ...] = ()
    """Run host commands under this prefix (``ip netns exec NS``): how the tests read a lab namespace."""
    sshd: bool = True
    wireguard_dir: Path | None = Path("/etc/wireguard")
    kube: bool = False
    """Read the cluster of the current context even though no cluster option names one (``k8s:``)."""

    @property
    def cluster(self) -> bool:
        return bool(self.kube or self.kubeconfig or self.context or self.in_cluster)

    @property
    def any(self) -> bool:
        return self.cluster or bool(self.hosts)

    def describe(self) -> str:
        parts = []
        if self.in_cluster:
            parts.append("cluster:in-cluster")
        elif self.cluster:
            parts.append(f"cluster:{self.context or '(current context)'}")
        parts.extend(f"host:{h}" for h in self.hosts)
        return " ".join(parts)


@dataclass
class Capture:
    """One read of the live sources: what a snapshot stores and what an estate is built from."""

    time: str
    options: LiveOptions
    cluster: ClusterRead | None = None
    hosts: list[HostRead] = field(default_factory=list)
    seconds: float = 0.0

    def manifest(self) -> dict[str, object]:
        """The snapshot manifest, shaped as a Kubernetes-style object so that the folder loader
        treats it as one more (ignored) document instead of warning about a kind-less file."""
        c = self.cluster
        return {
            "apiVersion": SNAPSHOT_API_VERSION,
            "kind": SNAPSHOT_KIND,
            "metadata": {"name": "snapshot"},
            "schema": SNAPSHOT_SCHEMA,
            "time": self.time,
            "source": {
                "cluster": None if c is None else {
                    "context": c.context, "server": c.server, "in_cluster": self.options.in_cluster,
                    "kubeconfig": self.options.kubeconfig,
                },
                "hosts": [{"name": h.name, "origin": h.origin} for h in self.hosts],
            },
            "versions": {
                "ringwall": __version__,
                "kubernetes_client": _client_version(),
                "kubernetes_server": c.server_version if c else None,
                "hosts": {h.name: h.versions for h in self.hosts},
            },
            "resources": {} if c is None else {
                res: {"version": c.versions[res], "count": n, "file": f"cluster/{c.files[res]}"}
                for res, n in sorted(c.counts.items())
            },
            "skipped": [] if c is None else [
                {"resource": s.resource.resource, "reason": s.reason} for s in c.skipped
            ],
            "host_files": {h.name: [f"hosts/{h.name}/{f.name}" for f in h.files] for h in self.hosts},
            "read_seconds": round(self.seconds, 3),
        }


def _client_version() -> str | None:
    try:
        from kubernetes import __version__ as v
    except ImportError:
        return None
    return str(v)


def read_live(options: LiveOptions, *, fetch: Fetch | None = None) -> Capture:
    """Read every requested live source once. Raises ``LiveError`` (or ValueError for bad --host)."""
    t = time.perf_counter()
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    capture = Capture(now, options)
    specs = [parse_host_spec(h) for h in options.hosts]  # bad specs fail before any network traffic
    names = [n for n, _ in specs]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise ValueError(f"--host: the host name {sorted(dup)[0]!r} is given twice")
    if options.cluster:
        capture.cluster = read_cluster(
            ClusterOptions(options.kubeconfig, options.context, options.in_cluster, options.timeout,
                           options.page_size),
            fetch,
            options.context or "",
            "",
        )
    for name, path in specs:
        if path is None:
            capture.hosts.append(read_local_host(name, prefix=options.host_prefix, sshd=options.sshd,
                                                 wireguard_dir=options.wireguard_dir))
        else:
            capture.hosts.append(read_saved_host(name, path))
    capture.seconds = time.perf_counter() - t
    return capture


def cluster_path(context: str, name: str) -> str:
    """The path documents of a live read carry: ``cluster:<context>/<file>``."""
    return f"cluster:{context or 'current'}/{name}"


def capture_to_load(capture: Capture, sink: DiagnosticSink, workdir: Path | None = None) -> LoadResult:
    """Documents and host files of a capture, as ``load_paths`` would give them for a folder."""
    result = LoadResult()
    c = capture.cluster
    if c is not None:
        for name, text in c.texts.items():
            path = cluster_path(c.context, name)
            result.files.append(path)
            result.documents.extend(parse_text(text, path, sink))
        _report_skipped(c, sink)
    nodes = {d.name for d in result.documents if d.kind == "Node"} if c is not None else set()
    for host in capture.hosts:
        where = Location(f"host:{host.name}")
        if nodes and host.name != "local" and host.name not in nodes:
            sink.warning("live.host-unknown", f"host {host.name} is not a node of cluster {c.context if c else ''} "
                         f"(nodes: {', '.join(sorted(nodes)[:5])}{', ...' if len(nodes) > 5 else ''})", where)
        for level, message in host.problems:
            getattr(sink, level if level in ("error", "warning", "info") else "warning")("live.host", message, where)
        if host.source_paths:
            result.other_files.extend(host.source_paths)
            continue
        if workdir is None:
            workdir = private_workdir()
        result.other_files.extend(write_host(host, workdir / "hosts" / host.name))
    return result


def _report_skipped(c: ClusterRead, sink: DiagnosticSink) -> None:
    """One line per reason, resources grouped by API group: dozens of absent CRDs are normal."""
    by_reason: dict[str, dict[str, list[str]]] = {}
    for s in c.skipped:
        by_reason.setdefault(s.reason, {}).setdefault(s.resource.group, []).append(s.resource.plural)
    for reason, groups in by_reason.items():
        listed = "; ".join(f"{g}: {', '.join(p)}" for g, p in groups.items())
        sink.info("live.not-installed", f"skipped, {reason}: {listed}", Location(cluster_path(c.context, "")))


def private_workdir() -> Path:
    """A temporary folder for host files, removed when the process exits."""
    d = Path(tempfile.mkdtemp(prefix="ringwall-live-"))
    atexit.register(shutil.rmtree, d, True)
    return d


def load_live(
    options: LiveOptions, sink: DiagnosticSink, *, paths: Sequence[str | Path] = (), fetch: Fetch | None = None,
    workdir: Path | None = None,
) -> tuple[LoadResult, Capture]:
    """``load_paths`` for live sources (plus any ``paths`` given alongside them)."""
    capture = read_live(options, fetch=fetch)
    result = capture_to_load(capture, sink, workdir)
    if paths:
        extra = load_paths(paths, sink)
        result.documents.extend(extra.documents)
        result.files.extend(extra.files)
        result.other_files.extend(extra.other_files)
    return result, capture
