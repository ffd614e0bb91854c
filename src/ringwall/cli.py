"""The ``ringwall`` command: thin; it parses options, calls analyses and renders reports."""

from __future__ import annotations

import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ringwall import __version__
from ringwall.analysis.estate import Estate, LoadOptions, load_estate
from ringwall.model.diagnostics import Level
from ringwall.model.findings import Severity

app = typer.Typer(
    name="ringwall",
    help="Defense in depth for Kubernetes and Linux networks: computed, checked, explained.",
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT = 0, 1, 2


def _mount_layers() -> None:
    """Layer command groups: each layer owns its sub-commands."""
    from ringwall.lab.cli import lab_command
    from ringwall.layers.hostfw.cli import app as hostfw_app

    app.add_typer(hostfw_app, name="hostfw")
    app.command("lab")(lab_command)


_mount_layers()


class IpBlockPods(StrEnum):
    auto = "auto"
    never = "never"


class HostNetworkPods(StrEnum):
    node_ip = "node-ip"
    pod = "pod"


class Compat(StrEnum):
    none = "none"
    netpol_analyzer = "netpol-analyzer"


Paths = Annotated[list[str], typer.Argument(help="Files or folders of manifests (recursive), or - for stdin.")]
NamespaceOpt = Annotated[str, typer.Option("--namespace", "-n", help="Namespace for objects that name none.")]
CniOpt = Annotated[
    str | None, typer.Option("--cni", help="The CNI in use (calico, cilium, flannel, none...); default: detect.")
]
IpBlockOpt = Annotated[
    IpBlockPods,
    typer.Option("--ipblock-pods", help="auto: ipBlocks match pods whose IP is known; never: external only."),
]
HostNetOpt = Annotated[
    HostNetworkPods,
    typer.Option("--host-network-pods", help="node-ip: hostNetwork pods are node traffic; pod: ordinary pods."),
]
CompatOpt = Annotated[
    Compat,
    typer.Option("--compat", help="netpol-analyzer: its modelling choices (ipBlocks never match pods, "
                 "hostNetwork pods are pods, IPv4 only, CNI assumed to enforce)."),
]
OutputOpt = Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")]
TimingsOpt = Annotated[bool, typer.Option("--timings", help="Print parse/analysis timings on stderr.")]


def _fail(message: str, code: int = EXIT_INPUT) -> typer.Exit:
    typer.echo(f"ringwall: error: {message}", err=True)
    return typer.Exit(code)


def _load(
    paths: list[str], namespace: str, cni: str | None, ipblock: IpBlockPods, hostnet: HostNetworkPods,
    compat: Compat,
) -> Estate:
    options = LoadOptions(namespace=namespace, ipblock_pods=ipblock.value, host_network=hostnet.value, cni=cni)
    if compat is Compat.netpol_analyzer:
        options.ipblock_pods = "never"
        options.host_network = "pod"
        options.ipv4_only = True
    estate = load_estate(paths, options)
    for d in estate.sink.items:
        typer.echo(str(d), err=True)
    if not estate.load.documents and not estate.load.other_files:
        raise _fail("no Kubernetes objects found in the input")
    return estate


def _input_errors(estate: Estate) -> bool:
    return any(d.level is Level.ERROR for d in estate.sink.items)


def _write(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")


def _timings(estate: Estate, analysis: float, enabled: bool) -> None:
    if not enabled:
        return
    t = estate.timings
    typer.echo(f"timing: parse {t.get('parse', 0.0):.3f}s", err=True)
    typer.echo(f"timing: model {t.get('model', 0.0):.3f}s", err=True)
    typer.echo(f"timing: analysis {analysis:.3f}s", err=True)


class MatrixFormat(StrEnum):
    txt = "txt"
    json = "json"
    csv = "csv"
    md = "md"
    dot = "dot"
    svg = "svg"


@app.command()
def matrix(
    paths: Paths,
    fmt: Annotated[MatrixFormat, typer.Option("--format", "-f", help="Output format.")] = MatrixFormat.txt,
    output: OutputOpt = None,
    focus: Annotated[str | None, typer.Option("--focus", help="Only flows touching this workload.")] = None,
    namespace: NamespaceOpt = "default",
    cni: CniOpt = None,
    ipblock_pods: IpBlockOpt = IpBlockPods.auto,
    host_network_pods: HostNetOpt = HostNetworkPods.node_ip,
    compat: CompatOpt = Compat.none,
    timings: TimingsOpt = False,
) -> None:
    """Who can reach whom: one line per (source, destination) with the allowed connections."""
    from ringwall.analysis.connlist import compute_connlist
    from ringwall.report import connlist_formats

    estate = _load(paths, namespace, cni, ipblock_pods, host_network_pods, compat)
    t = time.perf_counter()
    enforced = True if compat is Compat.netpol_analyzer else None
    engine = estate.engine(enforced=enforced)
    if not engine.options.enforced:
        typer.echo(f"ringwall: note: {estate.cni.describe()}; showing connectivity as enforced "
                   "(everything is allowed)", err=True)
    if focus and not any(focus in (w.key, w.name, f"{w.namespace}/{w.name}") for w in engine.cluster.workloads):
        raise _fail(f"--focus: no workload matches {focus!r}")
    connlist = compute_connlist(engine, focus)
    try:
        text = connlist_formats.render(connlist, fmt.value)
    except connlist_formats.GraphvizMissing as exc:
        raise _fail(str(exc)) from None
    _timings(estate, time.perf_counter() - t, timings)
    _write(text, output)
    raise typer.Exit(EXIT_INPUT if _input_errors(estate) else EXIT_OK)


class TextJson(StrEnum):
    text = "text"
    json = "json"


def _parse_port(text: str | None) -> tuple[str | None, int | None]:
    if text is None:
        return None, None
    number, _, proto = text.partition("/")
    proto = (proto or "TCP").upper()
    if proto not in ("TCP", "UDP", "SCTP"):
        raise _fail(f"--port: unknown protocol {proto!r} (TCP, UDP or SCTP)")
    try:
        port = int(number)
    except ValueError:
        raise _fail(f"--port: {number!r} is not a port number (write 8080/TCP)") from None
    if not 1 <= port <= 65535:
        raise _fail(f"--port: {port} is outside 1-65535")
    return proto, port


@app.command()
def explain(
    paths: Paths,
    src: Annotated[str, typer.Option("--src", help="Source: ns/name, name, ns/name[Kind] or an IP address.")],
    dst: Annotated[str, typer.Option("--dst", help="Destination, as --src.")],
    port: Annotated[str | None, typer.Option("--port", help="Destination port, e.g. 8080/TCP or 53/UDP.")] = None,
    fmt: Annotated[TextJson, typer.Option("--format", "-f")] = TextJson.text,
    output: OutputOpt = None,
    namespace: NamespaceOpt = "default",
    cni: CniOpt = None,
    ipblock_pods: IpBlockOpt = IpBlockPods.auto,
    host_network_pods: HostNetOpt = HostNetworkPods.node_ip,
    compat: CompatOpt = Compat.none,
) -> None:
    """Why a flow is allowed or denied, policy by policy and rule by rule, with file:line."""
    import orjson

    from ringwall.analysis import explain as ex
    from ringwall.analysis.endpoints import EndpointError, resolve

    protocol, number = _parse_port(port)
    estate = _load(paths, namespace, cni, ipblock_pods, host_network_pods, compat)
    engine = estate.engine(enforced=True if compat is Compat.netpol_analyzer else None)
    try:
        s, d = resolve(engine, src), resolve(engine, dst)
    except EndpointError as exc:
        raise _fail(str(exc)) from None
    if s.is_address and d.is_address:
        raise _fail("at least one of --src and --dst must be a workload")
    result = ex.explain(engine, estate.cni, s, d, protocol, number)
    if fmt is TextJson.json:
        _write(orjson.dumps(result.to_json(), option=orjson.OPT_INDENT_2).decode() + "\n", output)
    else:
        _write(ex.render_text(result), output)
    raise typer.Exit(EXIT_INPUT if _input_errors(estate) else EXIT_OK)


class DiffFormat(StrEnum):
    txt = "txt"
    json = "json"
    csv = "csv"
    md = "md"


@app.command()
def diff(
    old: Annotated[str, typer.Argument(help="The old snapshot (file or folder).")],
    new: Annotated[str, typer.Argument(help="The new snapshot (file or folder).")],
    fmt: Annotated[DiffFormat, typer.Option("--format", "-f")] = DiffFormat.txt,
    output: OutputOpt = None,
    fail_on_change: Annotated[bool, typer.Option("--fail-on-change", help="Exit 1 when anything changed.")] = False,
    namespace: NamespaceOpt = "default",
    cni: CniOpt = None,
    ipblock_pods: IpBlockOpt = IpBlockPods.auto,
    host_network_pods: HostNetOpt = HostNetworkPods.node_ip,
    compat: CompatOpt = Compat.none,
) -> None:
    """Connectivity added, removed or changed between two snapshots."""
    from ringwall.analysis import diff as df
    from ringwall.analysis.connlist import compute_connlist

    enforced = True if compat is Compat.netpol_analyzer else None
    a = _load([old], namespace, cni, ipblock_pods, host_network_pods, compat)
    b = _load([new], namespace, cni, ipblock_pods, host_network_pods, compat)
    changes = df.diff_connlists(
        compute_connlist(a.engine(enforced=enforced)), compute_connlist(b.engine(enforced=enforced))
    )
    _write(df.render(changes, fmt.value), output)
    if _input_errors(a) or _input_errors(b):
        raise typer.Exit(EXIT_INPUT)
    raise typer.Exit(EXIT_FINDINGS if changes and fail_on_change else EXIT_OK)


class ScanFormat(StrEnum):
    text = "text"
    json = "json"
    md = "md"
    sarif = "sarif"


def _severity(value: str) -> Severity:
    try:
        return Severity.parse(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


@app.command()
def scan(
    paths: Paths,
    fmt: Annotated[ScanFormat, typer.Option("--format", "-f")] = ScanFormat.text,
    output: OutputOpt = None,
    fail_on: Annotated[
        str, typer.Option("--fail-on", help="Exit 1 when a finding is at least this severe "
                          "(critical, high, medium, low, info).")
    ] = "high",
    namespace: NamespaceOpt = "default",
    cni: CniOpt = None,
    ipblock_pods: IpBlockOpt = IpBlockPods.auto,
    host_network_pods: HostNetOpt = HostNetworkPods.node_ip,
    timings: TimingsOpt = False,
) -> None:
    """The main job: inventory, layers and whether they are enforced, connectivity, findings."""
    from ringwall.analysis.scan import run_scan
    from ringwall.report import scan_formats

    threshold = _severity(fail_on)
    estate = _load(paths, namespace, cni, ipblock_pods, host_network_pods, Compat.none)
    result = run_scan(estate)
    if fmt is ScanFormat.json:
        text = scan_formats.render_json(result)
    elif fmt is ScanFormat.md:
        text = scan_formats.render_md(result)
    elif fmt is ScanFormat.sarif:
        from ringwall.model.findings import catalogue
        from ringwall.report.sarif import dumps_sarif, to_sarif

        text = dumps_sarif(to_sarif(result.findings, checks=catalogue(), tool_version=__version__,
                                    base_dir=Path.cwd()))
    else:
        text = scan_formats.render_text(result, color=output is None and sys.stdout.isatty())
    _timings(estate, result.timings.get("analysis", 0.0), timings)
    _write(text, output)
    if _input_errors(estate):
        raise typer.Exit(EXIT_INPUT)
    failing = any(f.effective_severity >= threshold for f in result.findings)
    raise typer.Exit(EXIT_FINDINGS if failing else EXIT_OK)


class ListFormat(StrEnum):
    text = "text"
    json = "json"
    md = "md"


@app.command()
def checks(
    list_: Annotated[bool, typer.Option("--list", help="Print the catalogue of checks.")] = True,
    fmt: Annotated[ListFormat, typer.Option("--format", "-f")] = ListFormat.text,
    layer: Annotated[str | None, typer.Option("--layer", help="Only this layer's checks.")] = None,
) -> None:
    """The catalogue of checks: ID, name, severity, layer, what triggers it and how to fix it."""
    import orjson

    from ringwall.analysis.layers import scanners
    from ringwall.layers.hostfw import checks as _hostfw  # noqa: F401  (registers checks)
    from ringwall.layers.netpol import catalogue as _netpol  # noqa: F401  (registers checks)
    from ringwall.model.findings import catalogue

    scanners()
    items = [c for c in catalogue() if layer is None or c.layer == layer]
    if fmt is ListFormat.json:
        data = [
            {"id": c.id, "name": c.name, "severity": c.severity.label, "layer": c.layer,
             "summary": c.summary, "remediation": c.remediation, "help_uri": c.help_uri}
            for c in items
        ]
        sys.stdout.write(orjson.dumps({"schema": "ringwall.checks/v1", "checks": data},
                                      option=orjson.OPT_INDENT_2).decode() + "\n")
    elif fmt is ListFormat.md:
        rows = ["| ID | name | severity | layer | summary |", "|---|---|---|---|---|"]
        rows += [f"| {c.id} | {c.name} | {c.severity.label} | {c.layer} | {c.summary} |" for c in items]
        sys.stdout.write("\n".join(rows) + "\n")
    else:
        for c in items:
            sys.stdout.write(f"{c.id:14} {c.severity.label:8} {c.name}: {c.summary}\n")


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(f"ringwall {__version__}")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("ringwall: interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
