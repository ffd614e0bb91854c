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
    from ringwall.layers.access.cli import app as access_app
    from ringwall.layers.dns.cli import app as dns_app
    from ringwall.layers.gateway.cli import app as gateway_app
    from ringwall.layers.hostfw.cli import app as hostfw_app
    from ringwall.layers.mesh.cli import app as mesh_app

    app.add_typer(hostfw_app, name="hostfw")
    app.add_typer(mesh_app, name="mesh")
    app.add_typer(gateway_app, name="gateway")
    app.add_typer(dns_app, name="dns")
    app.add_typer(access_app, name="access")
    app.command("lab")(lab_command)
    from ringwall.generate.cli import generate_command

    app.command("generate")(generate_command)
    from ringwall.live.cli import live_callback, snapshot_command, watch_command

    app.callback()(live_callback)
    app.command("snapshot")(snapshot_command)
    app.command("watch")(watch_command)


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


Paths = Annotated[list[str], typer.Argument(
    default_factory=list, show_default=False,
    help="Files or folders of manifests (recursive), - for stdin, or a live source: k8s: (current context), "
         "k8s:CONTEXT, k8s:in-cluster, host:local, host:NAME=PATH.")]
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
MeshOpt = Annotated[
    str | None, typer.Option("--mesh", help="The service mesh: istio, linkerd or none (default: detect).")
]
RootNsOpt = Annotated[str, typer.Option("--istio-root-namespace", help="Istio's root namespace.")]
CompatOpt = Annotated[
    Compat,
    typer.Option("--compat", help="netpol-analyzer: its modelling choices (ipBlocks never match pods, "
                 "hostNetwork pods are pods, IPv4 only, CNI assumed to enforce)."),
]
OutputOpt = Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")]
TimingsOpt = Annotated[bool, typer.Option("--timings", help="Print parse/analysis timings on stderr.")]
IntentOpt = Annotated[
    Path | None, typer.Option("--intent", help="An intent file (see docs/intent.md) to verify against.")
]


def _intent(path: Path | None):  # type: ignore[no-untyped-def]
    if path is None:
        return None
    from ringwall.analysis.intent import IntentError, describe_intent_error, load_intent

    try:
        return load_intent(path)
    except IntentError as exc:
        typer.echo(describe_intent_error(exc), err=True)
        raise typer.Exit(EXIT_INPUT) from None


def _fail(message: str, code: int = EXIT_INPUT) -> typer.Exit:
    typer.echo(f"ringwall: error: {message}", err=True)
    return typer.Exit(code)


def _load(
    paths: list[str], namespace: str, cni: str | None, ipblock: IpBlockPods, hostnet: HostNetworkPods,
    compat: Compat, mesh: str | None = None, istio_root: str = "istio-system",
) -> Estate:
    options = LoadOptions(namespace=namespace, ipblock_pods=ipblock.value, host_network=hostnet.value, cni=cni)
    if compat is Compat.netpol_analyzer:
        options.ipblock_pods = "never"
        options.host_network = "pod"
        options.ipv4_only = True
    from ringwall.live.cli import load_live_or_none

    estate = load_live_or_none(paths, options) or load_estate(paths, options)
    from ringwall.run_diagnostics import echo_diagnostics

    echo_diagnostics(estate.sink)
    if not estate.load.documents and not estate.load.other_files:
        raise _fail("no Kubernetes objects found in the input")
    if mesh is not None or istio_root != "istio-system":
        if mesh not in (None, "istio", "linkerd", "none"):
            raise _fail(f"--mesh: {mesh!r} is not istio, linkerd or none")
        from ringwall.analysis.mesh_layer import set_mesh_options
        from ringwall.layers.mesh.common import MeshOptions

        set_mesh_options(estate, MeshOptions(mesh=mesh, istio_root_namespace=istio_root))
    return estate


def _estate_with_intent(paths: list[str], intent: Path | None, namespace: str, cni: str | None):  # type: ignore[no-untyped-def]
    """The estate and the optional intent, for the commands over the combined flow model."""
    wanted = _intent(intent)
    return _load(paths, namespace, cni, IpBlockPods.auto, HostNetworkPods.node_ip, Compat.none), wanted


def _input_errors(estate: Estate) -> bool:
    return any(d.level is Level.ERROR for d in estate.sink.items)


def _json(data: object) -> str:
    """Every JSON output: indented, UTF-8, one trailing newline."""
    import orjson

    return orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n"


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
    layer: Annotated[
        str, typer.Option("--layer", help="netpol (default), or mesh: the NetworkPolicy flows with mTLS and "
                          "authorization per flow.")
    ] = "netpol",
    mesh: MeshOpt = None,
    istio_root_namespace: RootNsOpt = "istio-system",
) -> None:
    """Who can reach whom: one line per (source, destination) with the allowed connections."""
    from ringwall.analysis.connlist import compute_connlist
    from ringwall.report import connlist_formats

    estate = _load(paths, namespace, cni, ipblock_pods, host_network_pods, compat, mesh, istio_root_namespace)
    if layer not in ("netpol", "mesh"):
        raise _fail(f"--layer: {layer!r} is not netpol or mesh")
    if layer == "mesh":
        _mesh_matrix(estate, focus, fmt, output)
        return
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


def _mesh_matrix(estate: Estate, focus: str | None, fmt: MatrixFormat, output: Path | None) -> None:

    from ringwall.analysis.mesh_layer import mesh_connlist

    if fmt not in (MatrixFormat.txt, MatrixFormat.json):
        raise _fail("--layer mesh supports --format txt and json")
    flows = mesh_connlist(estate, focus)
    if fmt is MatrixFormat.json:
        text = _json({"schema": "ringwall.mesh-connlist/v1", "connections": [f.to_json() for f in flows]})
    else:
        text = "".join(f.line() + "\n" for f in flows)
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
    mesh: MeshOpt = None,
    istio_root_namespace: RootNsOpt = "istio-system",
    fail_on_deny: Annotated[bool, typer.Option(
        "--fail-on-deny",
        help="Exit 1 when the flow is denied through every layer (a gate: this flow must work).")] = False,
    fail_on_allow: Annotated[bool, typer.Option(
        "--fail-on-allow", help="Exit 1 when any of the flow gets through, even conditionally "
                                "(a gate: this flow must stay closed).")] = False,
) -> None:
    """Why a flow is allowed or denied through every layer, layer by layer and rule by rule, with file:line."""

    from ringwall.analysis import explain as ex
    from ringwall.analysis.endpoints import EndpointError, resolve

    protocol, number = _parse_port(port)
    estate = _load(paths, namespace, cni, ipblock_pods, host_network_pods, compat, mesh, istio_root_namespace)
    engine = estate.engine(enforced=True if compat is Compat.netpol_analyzer else None)
    try:
        s, d = resolve(engine, src), resolve(engine, dst)
    except EndpointError as exc:
        raise _fail(str(exc)) from None
    if s.is_address and d.is_address:
        raise _fail("at least one of --src and --dst must be a workload")
    result = ex.explain(engine, estate.cni, s, d, protocol, number)
    if estate.calico and not estate.calico_applies:
        result.cni_notes.append(f"{len(estate.calico.policies)} Calico policies are void: the CNI is {estate.cni.name}")
    if estate.cilium and not estate.cilium_applies:
        result.cni_notes.append(f"{len(estate.cilium.policies)} Cilium policies are void: the CNI is {estate.cni.name}")
    from ringwall.analysis import explain_layers as el

    everything = el.explain_all_layers(estate, s, d, protocol, number)
    if fmt is TextJson.json:
        _write(_json(el.to_json(result, everything, protocol, number)), output)
    else:
        _write(el.render_text(result, everything, protocol, number), output)
    if _input_errors(estate):
        raise typer.Exit(EXIT_INPUT)
    answer = el.verdict(everything, protocol, number)
    gate_failed = (fail_on_deny and answer.denied) or (fail_on_allow and not answer.denied)
    raise typer.Exit(EXIT_FINDINGS if gate_failed else EXIT_OK)


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
    fail_on_change: Annotated[bool, typer.Option(
        "--fail-on-change", help="Exit 1 when anything changed: connectivity, protections or findings.")] = False,
    layer: Annotated[str | None, typer.Option(
        "--layer", help="Only this layer's changes: all (through every layer), netpol, mesh, gateway, hostfw, "
                        "or a findings layer (dns, access, depth, ...).")] = None,
    namespace: NamespaceOpt = "default",
    cni: CniOpt = None,
    ipblock_pods: IpBlockOpt = IpBlockPods.auto,
    host_network_pods: HostNetOpt = HostNetworkPods.node_ip,
    compat: CompatOpt = Compat.none,
) -> None:
    """What a change does through every layer: connectivity, protections and findings added or removed."""
    a = _load([old], namespace, cni, ipblock_pods, host_network_pods, compat)
    b = _load([new], namespace, cni, ipblock_pods, host_network_pods, compat)
    if compat is Compat.netpol_analyzer:  # netpol-analyzer's diff: NetworkPolicy connectivity, its format
        from ringwall.analysis import diff as df
        from ringwall.analysis.connlist import compute_connlist

        if layer not in (None, "netpol"):
            raise _fail("--compat netpol-analyzer compares the NetworkPolicy layer only (--layer netpol)")
        legacy = df.diff_connlists(compute_connlist(a.engine(enforced=True)), compute_connlist(b.engine(enforced=True)))
        _write(df.render(legacy, fmt.value), output)
        changed = bool(legacy)
    else:
        from ringwall.analysis import estate_diff as ed
        from ringwall.analysis.registry import LAYER_ORDER
        from ringwall.analysis.scan import run_scan
        from ringwall.model.findings import catalogue

        before, after = run_scan(a), run_scan(b)
        assert before.model is not None and after.model is not None
        known = [ed.COMBINED, *LAYER_ORDER, *(v.name for m in (before.model, after.model) for v in m.layers),
                 *(c.layer for c in catalogue())]
        if layer is not None and layer not in known:
            raise _fail(f"--layer: unknown layer {layer!r}{_nearest(layer, known)} "
                        f"(known: {', '.join(dict.fromkeys(known))})")
        changes = ed.diff_flows(before.model, after.model) + ed.diff_findings(before.findings, after.findings)
        changes = ed.narrow(changes, layer)
        _write(ed.render(changes, fmt.value), output)
        changed = bool(changes)
    if _input_errors(a) or _input_errors(b):
        raise typer.Exit(EXIT_INPUT)
    raise typer.Exit(EXIT_FINDINGS if changed and fail_on_change else EXIT_OK)


def _nearest(word: str, known: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(word, known, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


class ScanFormat(StrEnum):
    text = "text"
    json = "json"
    md = "md"
    sarif = "sarif"
    html = "html"


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
    intent: IntentOpt = None,
    mesh: MeshOpt = None,
    istio_root_namespace: RootNsOpt = "istio-system",
) -> None:
    """The main job: inventory, layers and whether they are enforced, connectivity, depth, scorecard, findings."""
    from ringwall.analysis.scan import run_scan
    from ringwall.report import scan_formats

    threshold = _severity(fail_on)
    wanted = _intent(intent)
    estate = _load(paths, namespace, cni, ipblock_pods, host_network_pods, Compat.none, mesh, istio_root_namespace)
    if sys.stderr.isatty():
        from rich.console import Console

        with Console(stderr=True).status("scanning") as status:
            result = run_scan(estate, wanted, progress=lambda msg: status.update(f"scanning: {msg}"))
    else:
        result = run_scan(estate, wanted)
    if fmt is ScanFormat.json:
        text = scan_formats.render_json(result)
    elif fmt is ScanFormat.md:
        text = scan_formats.render_md(result)
    elif fmt is ScanFormat.html:
        from ringwall.report.html import render_html

        text = render_html(result)
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


class DepthFormat(StrEnum):
    text = "text"
    json = "json"
    md = "md"


@app.command()
def depth(
    paths: Paths,
    fmt: Annotated[DepthFormat, typer.Option("--format", "-f")] = DepthFormat.text,
    output: OutputOpt = None,
    intent: IntentOpt = None,
    namespace: NamespaceOpt = "default",
    cni: CniOpt = None,
) -> None:
    """For every blocked flow, how many independent layers block it; the flows that hang on one layer."""

    from ringwall.analysis.depth import compute_depth
    from ringwall.analysis.flows import build_flow_model
    from ringwall.report.depth_formats import render_depth

    estate, wanted = _estate_with_intent(paths, intent, namespace, cni)
    model = build_flow_model(estate, wanted.zones if wanted else None)
    result = compute_depth(model)
    if fmt is DepthFormat.json:
        _write(_json(result.to_json()), output)
    else:
        _write(render_depth(result, md=fmt is DepthFormat.md), output)
    raise typer.Exit(EXIT_INPUT if _input_errors(estate) else EXIT_OK)


@app.command()
def whatif(
    paths: Paths,
    without: Annotated[
        list[str] | None, typer.Option("--without", help="Drop a layer (netpol, hostfw, mesh...).")
    ] = None,
    cni_mode: Annotated[
        str | None, typer.Option("--cni", help="'none': the CNI stops enforcing NetworkPolicy.")
    ] = None,
    mtls: Annotated[str | None, typer.Option("--mtls", help="'permissive': the mesh accepts plaintext.")] = None,
    hostfw: Annotated[str | None, typer.Option("--hostfw", help="'flushed': host firewalls accept everything.")] = None,
    fmt: Annotated[TextJson, typer.Option("--format", "-f")] = TextJson.text,
    output: OutputOpt = None,
    intent: IntentOpt = None,
    namespace: NamespaceOpt = "default",
    fail_on_open: Annotated[bool, typer.Option("--fail-on-open", help="Exit 1 when any flow opens.")] = False,
) -> None:
    """What opens (or loses protection) when a layer fails, as a diff against today."""

    from ringwall.analysis.flows import Degradation
    from ringwall.analysis.whatif import render_text, what_if

    if cni_mode not in (None, "none") or mtls not in (None, "permissive") or hostfw not in (None, "flushed"):
        raise _fail("use --cni none, --mtls permissive or --hostfw flushed")
    degradation = Degradation(frozenset(without or ()), cni_mode == "none", mtls == "permissive", hostfw == "flushed")
    if degradation == Degradation():
        raise _fail("say what fails: --without LAYER, --cni none, --mtls permissive or --hostfw flushed")
    estate, wanted = _estate_with_intent(paths, intent, namespace, None)
    result = what_if(estate, degradation, wanted.zones if wanted else None)
    if fmt is TextJson.json:
        _write(_json(result.to_json()), output)
    else:
        _write(render_text(result), output)
    if _input_errors(estate):
        raise typer.Exit(EXIT_INPUT)
    raise typer.Exit(EXIT_FINDINGS if fail_on_open and result.opened else EXIT_OK)


@app.command()
def verify(
    intent_file: Annotated[Path, typer.Argument(help="The intent file.")],
    paths: Paths,
    fmt: Annotated[ScanFormat, typer.Option("--format", "-f")] = ScanFormat.text,
    output: OutputOpt = None,
    fail_on: Annotated[str, typer.Option("--fail-on", help="Exit 1 at or above this severity.")] = "high",
    namespace: NamespaceOpt = "default",
    cni: CniOpt = None,
) -> None:
    """Check the estate against an intent: broken intended flows, open unintended flows, depth, protections."""

    from ringwall.analysis.intent import IntentError
    from ringwall.analysis.verify import verify as run_verify
    from ringwall.model.findings import sort_findings

    threshold = _severity(fail_on)
    wanted = _intent(intent_file)
    assert wanted is not None
    estate = _load(paths, namespace, cni, IpBlockPods.auto, HostNetworkPods.node_ip, Compat.none)
    try:
        result = run_verify(estate, wanted)
    except IntentError as exc:
        from ringwall.analysis.intent import describe_intent_error

        typer.echo(describe_intent_error(exc), err=True)
        raise typer.Exit(EXIT_INPUT) from None
    findings = sort_findings(result.findings)
    if fmt is ScanFormat.json:
        data = result.to_json()
        data["findings"] = [f.to_json() for f in findings]
        text = _json(data)
    elif fmt is ScanFormat.sarif:
        from ringwall.model.findings import catalogue
        from ringwall.report.sarif import dumps_sarif, to_sarif

        text = dumps_sarif(to_sarif(findings, checks=catalogue(), tool_version=__version__, base_dir=Path.cwd()))
    else:
        head = (f"Intent {wanted.name}: {result.intended_ok} of {result.intended_total} intended flows work; "
                f"layers: {', '.join(v.name for v in result.model.layers)}; minimum depth {wanted.min_depth}.")
        if fmt is ScanFormat.md:
            lines = ["# " + head, "", "| severity | check | message | location |", "|---|---|---|---|"]
            lines += [f"| {f.effective_severity.label} | {f.check.id} | {f.message.replace('|', '/')} | "
                      f"{f.locations[0] if f.locations else ''} |" for f in findings]
        else:
            lines = [head]
            lines += [f"{f.effective_severity.label.upper():8} {f.check.id} {f.message}"
                      + (f"  [{f.locations[0]}]" if f.locations else "") for f in findings]
            if not findings:
                lines.append("No gaps: the estate does what the intent says.")
        text = "\n".join(lines) + "\n"
    _write(text, output)
    if _input_errors(estate):
        raise typer.Exit(EXIT_INPUT)
    raise typer.Exit(EXIT_FINDINGS if any(f.effective_severity >= threshold for f in findings) else EXIT_OK)


@app.command()
def scorecard(
    paths: Paths,
    fmt: Annotated[DepthFormat, typer.Option("--format", "-f")] = DepthFormat.text,
    output: OutputOpt = None,
    intent: IntentOpt = None,
    namespace: NamespaceOpt = "default",
    cni: CniOpt = None,
) -> None:
    """The five zero-trust principles scored per namespace and overall, with the evidence behind each score."""

    from ringwall.analysis.scan import run_scan
    from ringwall.report.depth_formats import render_scorecard

    estate, wanted = _estate_with_intent(paths, intent, namespace, cni)
    result = run_scan(estate, wanted)
    assert result.scorecard is not None
    if fmt is DepthFormat.json:
        _write(_json(result.scorecard.to_json()), output)
    else:
        _write(render_scorecard(result.scorecard, md=fmt is DepthFormat.md), output)
    raise typer.Exit(EXIT_INPUT if _input_errors(estate) else EXIT_OK)


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

    from ringwall.analysis.layers import scanners
    from ringwall.layers.hostfw import checks as _hostfw  # noqa: F401  (registers checks)
    from ringwall.layers.netpol import catalogue as _netpol  # noqa: F401  (registers checks)
    from ringwall.layers.netpol import cni_checks as _cni  # noqa: F401  (registers checks)
    from ringwall.model.findings import catalogue

    scanners()
    items = [c for c in catalogue() if layer is None or c.layer == layer]
    if fmt is ListFormat.json:
        data = [
            {"id": c.id, "name": c.name, "severity": c.severity.label, "layer": c.layer,
             "summary": c.summary, "remediation": c.remediation, "help_uri": c.help_uri}
            for c in items
        ]
        sys.stdout.write(_json({"schema": "ringwall.checks/v1", "checks": data}))
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
    except Exception as exc:  # a bug, not bad input: say so in one line, keep the trace for debugging
        import os
        import traceback

        if os.environ.get("RINGWALL_DEBUG"):
            traceback.print_exc()
        typer.echo(f"ringwall: internal error: {type(exc).__name__}: {exc} "
                   "(set RINGWALL_DEBUG=1 for the traceback, and please report it)", err=True)
        sys.exit(70)


if __name__ == "__main__":
    main()
