"""``ringwall snapshot`` and ``ringwall watch``, plus the live-source options every command shares.

Plain functions so that ``ringwall.cli`` registers them (``app.command("snapshot")(snapshot_command)``)
and keeps one place that owns the application. The ``Live*Opt`` annotations are what ``cli.py``
adds to the commands that take PATH, so that every one of them can read a live source.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import orjson
import typer

from ringwall.analysis.estate import Estate, LoadOptions
from ringwall.live.cluster import LiveError
from ringwall.live.snapshot import SnapshotError, write_snapshot
from ringwall.live.source import LiveOptions, read_live

EXIT_OK, EXIT_INPUT = 0, 2

KubeconfigOpt = Annotated[
    str | None, typer.Option("--kubeconfig", help="Read a live cluster with this kubeconfig (get/list only).")
]
ContextOpt = Annotated[str | None, typer.Option("--context", help="The kubeconfig context (default: current).")]
InClusterOpt = Annotated[
    bool, typer.Option("--in-cluster", help="Read the cluster ringwall runs in (service account token).")
]
HostOpt = Annotated[
    list[str] | None,
    typer.Option("--host", help="'local' reads this machine's ruleset, sshd -T and WireGuard configs; "
                 "NAME=PATH maps saved dumps to a host. Repeatable."),
]
TimeoutOpt = Annotated[float, typer.Option("--timeout", help="Seconds to wait for each API response.")]


SOURCE_HELP = ("a live source: k8s: (current context), k8s:CONTEXT, k8s:in-cluster, host:local, "
               "host:NAME=PATH")


def live_options(kubeconfig: str | None, context: str | None, in_cluster: bool, hosts: list[str] | None,
                 timeout: float = 30.0) -> LiveOptions:
    """The options of the command line as ``LiveOptions`` (what ``cli._load`` passes on)."""
    return LiveOptions(kubeconfig=kubeconfig, context=context, in_cluster=in_cluster, hosts=tuple(hosts or ()),
                       timeout=timeout)


_GLOBAL = LiveOptions()
"""Set by ``live_callback`` (``ringwall --kubeconfig F --context C <command>``) for this invocation."""


def live_callback(
    ctx: typer.Context,
    kubeconfig: KubeconfigOpt = None,
    context: ContextOpt = None,
    in_cluster: InClusterOpt = False,
    host: HostOpt = None,
    timeout: TimeoutOpt = 30.0,
) -> None:
    """Defense in depth for Kubernetes and Linux networks: computed, checked, explained.

    PATH arguments also take live sources (k8s:CONTEXT, host:local, ...); the options here say
    which kubeconfig to use, and stand for the input of a command given no PATH at all.
    """
    global _GLOBAL
    from ringwall.run_diagnostics import install

    install(ctx)
    _GLOBAL = live_options(kubeconfig, context, in_cluster, host, timeout)


def resolve_sources(args: list[str], base: LiveOptions | None = None, *, base_applies: bool = False
                    ) -> tuple[list[str], LiveOptions]:
    """Split PATH arguments into files and a live source.

    ``k8s:`` / ``k8s:CONTEXT`` / ``k8s:in-cluster`` read a cluster (kubeconfig and timeout from
    ``base``), ``host:local`` / ``host:NAME=PATH`` a host; everything else is a file (write
    ``./k8s:x`` for a file really named so). ``base`` (the options before the command) is itself
    a source when there are no arguments at all — or always with ``base_applies`` (options given
    to ``snapshot``/``watch`` themselves). Not otherwise: ``ringwall --context prod diff A B``
    must not read the cluster into both sides.
    """
    base = base if base is not None else _GLOBAL
    use_base = base_applies or not args
    files: list[str] = []
    kube = use_base and base.cluster
    context = base.context if use_base else None
    in_cluster = use_base and base.in_cluster
    hosts: list[str] = list(base.hosts) if use_base else []
    named: str | None = None
    for arg in args:
        if arg.startswith("k8s:"):
            rest = arg[4:] or "(current context)"
            if named is not None and named != rest:
                raise ValueError(f"{arg}: one cluster at a time (already reading k8s:{named})")
            named = rest
            kube = True
            if rest == "in-cluster":
                in_cluster, context = True, None
            elif rest != "(current context)":
                context = rest
            else:
                context = base.context
        elif arg.startswith("host:"):
            hosts.append(arg[5:])
        else:
            files.append(arg)
    return files, LiveOptions(kubeconfig=base.kubeconfig if kube else None, context=context if kube else None,
                              in_cluster=in_cluster, hosts=tuple(hosts), timeout=base.timeout, kube=kube)


def load_live_or_none(paths: list[str], options: LoadOptions) -> Estate | None:
    """For ``cli._load``: the estate of the live sources among ``paths``, or None when there are none.

    Errors reading them end the command with one line and exit 2, like any input error.
    """
    from ringwall.live.estate import load_live_estate

    try:
        files, live = resolve_sources(paths)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    if not live.any:
        if not paths:
            raise _fail("no input: give PATH (files, folders, -) or " + SOURCE_HELP)
        return None
    try:
        estate, _ = load_live_estate(live, options, paths=files)
    except (LiveError, ValueError) as exc:
        raise _fail(str(exc)) from None
    return estate


def _fail(message: str) -> typer.Exit:
    typer.echo(f"ringwall: error: {message}", err=True)
    return typer.Exit(EXIT_INPUT)


class SnapshotFormat(StrEnum):
    text = "text"
    json = "json"


def _merged(kubeconfig: str | None, context: str | None, in_cluster: bool, hosts: list[str] | None,
            timeout: float) -> LiveOptions:
    """Options given after the command win over those given before it (``ringwall --context a snapshot``)."""
    g = _GLOBAL
    return LiveOptions(kubeconfig=kubeconfig or g.kubeconfig, context=context or g.context,
                       in_cluster=in_cluster or g.in_cluster, hosts=tuple(hosts or ()) or g.hosts,
                       timeout=timeout if timeout != 30.0 else g.timeout)


SourcesArg = Annotated[list[str], typer.Argument(default_factory=list, show_default=False, metavar="[SOURCE]...",
                                                 help="What to read: " + SOURCE_HELP + ".")]


def snapshot_command(
    sources: SourcesArg,
    output: Annotated[Path, typer.Option("--output", "-o", help="The folder to write (created; must be empty).")],
    kubeconfig: KubeconfigOpt = None,
    context: ContextOpt = None,
    in_cluster: InClusterOpt = False,
    host: HostOpt = None,
    timeout: TimeoutOpt = 30.0,
    force: Annotated[bool, typer.Option("--force", help="Replace an earlier snapshot in the folder.")] = False,
    fmt: Annotated[SnapshotFormat, typer.Option("--format", "-f")] = SnapshotFormat.text,
) -> None:
    """Read a live cluster and/or hosts once and write it all as plain files plus manifest.json.

    Every other command (diff above all) then runs offline on the folder.
    """
    try:
        files, options = resolve_sources(
            sources, _merged(kubeconfig, context, in_cluster, host, timeout), base_applies=True)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    if files:
        raise _fail(f"{files[0]}: snapshot reads live sources; files are already offline")
    if not options.any:
        raise _fail("snapshot needs a live source: " + SOURCE_HELP + " (or --kubeconfig/--context/--in-cluster/--host)")
    try:
        capture = read_live(options)
        written = write_snapshot(capture, output, force=force)
    except (LiveError, SnapshotError, ValueError, OSError) as exc:
        raise _fail(str(exc)) from None
    manifest = capture.manifest()
    if fmt is SnapshotFormat.json:
        sys.stdout.write(orjson.dumps({"schema": "ringwall.snapshot-result/v1", "folder": str(output),
                                       "files": [str(p) for p in written], "manifest": manifest},
                                      option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        for host_read in capture.hosts:
            for level, message in host_read.problems:
                typer.echo(f"host:{host_read.name}: {level}: {message}", err=True)
        parts = []
        if capture.cluster is not None:
            c = capture.cluster
            parts.append(f"cluster {c.context} ({c.server_version or 'version unknown'}): "
                         f"{sum(c.counts.values())} objects in {len(c.counts)} resources, "
                         f"{len(c.skipped)} resources not installed")
        parts.extend(f"host {h.name}: {len(h.files)} file(s)" for h in capture.hosts)
        sys.stdout.write(f"snapshot {output}: " + "; ".join(parts) + f" ({capture.seconds:.1f}s)\n")
    raise typer.Exit(EXIT_OK)


class WatchFormat(StrEnum):
    text = "text"
    jsonl = "jsonl"


def watch_command(
    sources: Annotated[list[str], typer.Argument(default_factory=list, show_default=False, metavar="[SOURCE]...",
                                                 help="What to re-read: files or folders, or " + SOURCE_HELP + ".")],
    kubeconfig: KubeconfigOpt = None,
    context: ContextOpt = None,
    in_cluster: InClusterOpt = False,
    host: HostOpt = None,
    timeout: TimeoutOpt = 30.0,
    interval: Annotated[str, typer.Option("--interval", help="Time between reads: 30s, 5m, 1h.")] = "5m",
    count: Annotated[int | None, typer.Option("--count", help="Stop after this many reads.", min=1)] = None,
    against: Annotated[Path | None, typer.Option("--against", help="Compare the first read with this "
                                                 "snapshot folder instead of printing a baseline.")] = None,
    keep: Annotated[Path | None, typer.Option("--keep", help="Also write every live read as a snapshot "
                                              "folder under this one.")] = None,
    fmt: Annotated[WatchFormat, typer.Option("--format", "-f")] = WatchFormat.text,
    namespace: Annotated[str, typer.Option("--namespace", "-n", help="Namespace for objects that name none.")]
    = "default",
    cni: Annotated[str | None, typer.Option("--cni", help="The CNI in use; default: detect.")] = None,
) -> None:
    """Re-read the sources every --interval and print connectivity and findings that changed.

    Ctrl-C ends the watch cleanly (exit 0).
    """
    from ringwall.analysis.estate import LoadOptions, load_estate
    from ringwall.live.estate import load_live_estate
    from ringwall.live.source import private_workdir
    from ringwall.live.watch import observe, parse_interval, watch_loop

    try:
        seconds = parse_interval(interval)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    try:
        paths, options = resolve_sources(
            sources, _merged(kubeconfig, context, in_cluster, host, timeout), base_applies=True)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    if not options.any and not paths:
        raise _fail("watch needs a source: PATH, --kubeconfig/--context, --in-cluster or --host")
    load_options = LoadOptions(namespace=namespace, cni=cni)
    workdir = private_workdir()  # one folder for every read: host file paths (and fingerprints) stay put
    source = " ".join([options.describe(), *(paths or [])]).strip()

    reads: list[str] = []

    def read():  # type: ignore[no-untyped-def]
        if not options.any:
            return load_estate(paths or [], load_options), ()
        estate, capture = load_live_estate(options, load_options, paths=paths or (), workdir=workdir)
        if keep is not None:
            reads.append(capture.time)
            write_snapshot(capture, keep / f"{len(reads):04d}-{capture.time.replace(':', '')}")
        return estate, (str(workdir),)

    baseline = None
    try:
        if against is not None:
            if not against.is_dir():
                raise _fail(f"--against {against}: not a folder")
            baseline = observe(load_estate([against], load_options), (str(against),))
        code = watch_loop(read, interval=seconds, count=count, fmt=fmt.value, out=sys.stdout, source=source,
                          baseline=baseline, recoverable=(LiveError, OSError, SnapshotError))
    except KeyboardInterrupt:
        typer.echo("ringwall: watch stopped", err=True)
        raise typer.Exit(EXIT_OK) from None
    except (LiveError, SnapshotError, ValueError, OSError) as exc:
        raise _fail(str(exc)) from None
    raise typer.Exit(code)
