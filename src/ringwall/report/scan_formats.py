"""Render a scan: a terminal summary readable at a glance, JSON, Markdown (SARIF: ``sarif.py``)."""

from __future__ import annotations

import io

import orjson
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ringwall.analysis.scan import ScanResult
from ringwall.model.findings import Finding, Severity

SEVERITY_STYLE = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}


def render_json(result: ScanResult) -> str:
    return orjson.dumps(result.to_json(), option=orjson.OPT_INDENT_2).decode() + "\n"


def render_text(result: ScanResult, *, color: bool = False, width: int = 120, limit: int = 50) -> str:
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=color, no_color=not color, width=width, highlight=False)
    inv = result.inventory_json()
    console.print(Text("Ringwall scan", style="bold"))
    console.print(
        f"Inventory: {inv['files']} files, {inv['namespaces']} namespaces, {inv['workloads']} workloads "
        f"({inv['pods']} pods), {inv['services']} services, {inv['network_policies']} NetworkPolicies"
    )
    console.print()
    layers = Table(title="Layers", title_justify="left", show_lines=False, expand=False)
    layers.add_column("layer")
    layers.add_column("found")
    layers.add_column("enforced")
    layers.add_column("status")
    for layer in result.layers:
        enforced = {True: "yes", False: "NO", None: "unknown"}[layer.enforced]
        layers.add_row(layer.title, "yes" if layer.found else "no", enforced, layer.status)
    console.print(layers)
    c = result.connectivity
    share = f"{100 * c.pairs_allowed / c.pairs_possible:.0f}%" if c.pairs_possible else "-"
    console.print(
        f"Connectivity{' (as enforced)' if c.enforced else ' (CNI does not enforce policies)'}: "
        f"{c.pairs_allowed} of {c.pairs_possible} workload pairs may connect ({share}); "
        f"{c.reachable_from_outside} workloads reachable from outside the cluster, "
        f"{c.reaching_outside} may connect out."
    )
    if result.depth is not None:
        from ringwall.report.depth_formats import histogram_lines

        console.print()
        console.print(Text(f"Depth (layers: {', '.join(result.flow_layers)})", style="bold"))
        for line in histogram_lines(result.depth, width=30):
            console.print(line, markup=False)
        single = result.depth.single_layer()
        if single:
            top = ", ".join(f"{d} ({n} via {layer})" for d, layer, n in single[:3])
            console.print(f"  hanging on one layer: {sum(n for _, _, n in single)} flows; most exposed: {top}",
                          markup=False)
    if result.scorecard is not None:
        from ringwall.report.depth_formats import render_scorecard

        console.print()
        console.print(render_scorecard(result.scorecard).rstrip("\n"), markup=False)
    console.print()
    counts = result.counts()
    summary = ", ".join(f"{n} {label}" for label, n in counts.items() if n) or "none"
    console.print(Text(f"Findings: {summary}", style="bold"))
    for f in result.findings[:limit]:
        console.print(_finding_line(f))
    if len(result.findings) > limit:
        console.print(f"... and {len(result.findings) - limit} more (use --format json or md for all)")
    if result.estate.sink.items:
        console.print()
        console.print(Text(f"Input diagnostics: {len(result.estate.sink.items)} (printed on stderr)", style="bold"))
    return buf.getvalue()


def _finding_line(f: Finding) -> Text:
    sev = f.effective_severity
    t = Text()
    t.append(f"{sev.label.upper():8}", style=SEVERITY_STYLE[sev])
    t.append(f" {f.check.id} ", style="bold")
    t.append(f.message)
    if f.locations:
        t.append(f"  [{f.locations[0]}]", style="dim")
    return t


def render_md(result: ScanResult) -> str:
    inv = result.inventory_json()
    out = ["# Ringwall scan", ""]
    out.append(
        f"{inv['files']} files, {inv['namespaces']} namespaces, {inv['workloads']} workloads, "
        f"{inv['network_policies']} NetworkPolicies."
    )
    out += ["", "## Layers", "", "| layer | found | enforced | status |", "|---|---|---|---|"]
    for layer in result.layers:
        enforced = {True: "yes", False: "**no**", None: "unknown"}[layer.enforced]
        out.append(f"| {layer.title} | {'yes' if layer.found else 'no'} | {enforced} | {_md(layer.status)} |")
    c = result.connectivity
    out += ["", "## Connectivity", "",
            f"{c.pairs_allowed} of {c.pairs_possible} workload pairs may connect; "
            f"{c.reachable_from_outside} workloads reachable from outside; {c.reaching_outside} may connect out."]
    if result.depth is not None:
        from ringwall.report.depth_formats import render_depth, render_scorecard

        out += ["", render_depth(result.depth, md=True).replace("# Depth", "## Depth", 1).rstrip("\n")]
        if result.scorecard is not None:
            out += ["", render_scorecard(result.scorecard, md=True).replace("# Zero", "## Zero", 1).rstrip("\n")]
    out += ["", "## Findings", "", "| severity | check | message | location |", "|---|---|---|---|"]
    for f in result.findings:
        loc = str(f.locations[0]) if f.locations else ""
        out.append(
            f"| {f.effective_severity.label} | {f.check.id} {f.check.name} | {_md(f.message)} | {_md(loc)} |"
        )
    if result.estate.sink.items:
        out += ["", "## Input diagnostics", ""]
        out += [f"- `{_md(str(d))}`" for d in result.estate.sink.items]
    return "\n".join(out) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
