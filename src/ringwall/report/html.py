"""One self-contained HTML report of a scan: graph, coverage, depth, scorecard, findings.

Everything taken from the input is escaped by Jinja2's autoescaping (labels, names, messages); the
graph is SVG rendered by graphviz, which escapes its text itself. The page loads nothing from the
network: styles and the small filter script are inline.
"""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from ringwall import __version__
from ringwall.analysis.flows import build_flow_model
from ringwall.analysis.scan import ScanResult
from ringwall.analysis.scorecard import PRINCIPLES, TITLES
from ringwall.model.connections import ALL
from ringwall.report.connlist_formats import DOT_GRAPH_ATTRS, _q

MAX_GRAPH_EDGES = 400


def _env() -> Environment:
    return Environment(loader=PackageLoader("ringwall.report", "templates"),
                       autoescape=select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True)


def graph_dot(result: ScanResult) -> tuple[str, int]:
    """The combined connectivity graph: edges solid when encrypted, red and dashed when the blocked
    rest of the pair hangs on one layer, grey otherwise."""
    model = result.model or build_flow_model(result.estate)
    depth = {(p.pair[0], p.pair[1]): p for p in (result.depth.pairs if result.depth else [])}
    edges = []
    for pair in sorted(model.candidate_pairs()):
        conn = model.combined(pair)
        if conn:
            edges.append((pair, conn))
    shown = edges[:MAX_GRAPH_EDGES]
    nodes = sorted({e for (s, d), _ in shown for e in (s, d)})
    out = ["digraph ringwall {", "  " + DOT_GRAPH_ATTRS + " bgcolor=transparent;",
           '  node [shape=box, style="rounded,filled", fillcolor="#eef3fb", fontname="Helvetica", fontsize=10];',
           '  edge [fontname="Helvetica", fontsize=8];']
    by_ns: dict[str, list[str]] = {}
    for n in nodes:
        if n.startswith(("zone:", "host:")):
            shape = "ellipse" if n.startswith("zone:") else "box3d"
            out.append(f'  {_q(n)} [shape={shape}, fillcolor="#fff3e0"];')
        else:
            by_ns.setdefault(n.split("/", 1)[0], []).append(n)
    for ns, members in sorted(by_ns.items()):
        out.append(f"  subgraph {_q('cluster_' + ns)} {{ label={_q(ns)}; style=dashed; color=\"#8899aa\";")
        out += [f"    {_q(m)} [label={_q(m.split('/', 1)[1])}];" for m in members]
        out.append("  }")
    for (s, d), conn in shown:
        prot = model.protections((s, d))
        pd = depth.get((s, d))
        style = []
        if "encrypted" in prot:
            style.append('color="#2e7d32", penwidth=1.6')
        elif pd is not None and pd.depth == 1:
            style.append('color="#c62828", style=dashed')
        else:
            style.append('color="#78909c"')
        label = "all" if conn == ALL else str(conn)
        out.append(f"  {_q(s)} -> {_q(d)} [label={_q(label)}, {', '.join(style)}];")
    out.append("}")
    return "\n".join(out) + "\n", len(edges)


def graph_svg(dot: str) -> str | None:
    exe = shutil.which("dot")
    if exe is None:
        return None
    proc = subprocess.run([exe, "-Tsvg"], input=dot, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return None
    svg = proc.stdout
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else None


def coverage(result: ScanResult) -> tuple[list[str], list[dict[str, Any]]]:
    """Namespace x layer: the share of workloads each layer protects.

    A layer protects a workload when it restricts, or adds a protection (authentication, encryption)
    to, what outside zones send to it; for layers that do not see outside traffic, what some source
    in its scope sends. Restrictions made by the *source's* egress rules do not count for the
    destination.
    """
    model = result.model or build_flow_model(result.estate)
    layers = [v for v in model.layers]
    sources = model.endpoints
    rows = []
    by_ns: dict[str, list[str]] = {}
    for w in result.estate.cluster.workloads:
        by_ns.setdefault(w.namespace, []).append(w.key)
    for ns, members in sorted(by_ns.items()):
        cells = []
        for v in layers:
            covered = 0
            for key in members:
                zones = [s for s in sources if s.startswith("zone:") and v.scope(s, key)]
                probes = zones or [s for s in sources if s != key and v.scope(s, key)]
                if any(v.verdict((s, key)) != ALL or v.protections.get((s, key)) for s in probes):
                    covered += 1
            cells.append({"value": round(100 * covered / len(members)), "enforced": v.enforced})
        rows.append({"namespace": ns, "cells": cells, "workloads": len(members)})
    return [v.title for v in layers], rows


def render_html(result: ScanResult) -> str:
    dot, n_edges = graph_dot(result)
    svg = graph_svg(dot)
    layer_titles, coverage_rows = coverage(result)
    hist = sorted(result.depth.histogram.items()) if result.depth else []
    hmax = max((n for _, n in hist), default=1) or 1
    findings = [
        {"severity": f.effective_severity.label, "id": f.check.id, "name": f.check.name, "layer": f.check.layer,
         "message": f.message, "location": str(f.locations[0]) if f.locations else "", "subject": f.subject}
        for f in result.findings
    ]
    return _env().get_template("report.html.j2").render(
        version=__version__,
        inventory=result.inventory_json(),
        layers=result.layers,
        connectivity=result.connectivity,
        svg=svg,
        n_edges=n_edges,
        max_edges=MAX_GRAPH_EDGES,
        layer_titles=layer_titles,
        coverage=coverage_rows,
        histogram=[{"depth": d, "count": n, "width": round(300 * n / hmax)} for d, n in hist],
        single=result.depth.single_layer()[:15] if result.depth else [],
        principles=[(p, TITLES[p]) for p in PRINCIPLES],
        scorecard=result.scorecard,
        findings=findings,
        counts=result.counts(),
        diagnostics=[str(d) for d in result.estate.sink.items],
    )
