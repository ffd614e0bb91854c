"""Render a connlist as txt, json, csv, md, dot or svg."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess

import orjson

from ringwall.analysis.connlist import Connlist

SCHEMA = "ringwall.connlist/v1"
FORMATS = ("txt", "json", "csv", "md", "dot", "svg")


def render(connlist: Connlist, fmt: str) -> str:
    if fmt == "txt":
        return "".join(line + "\n" for line in connlist.lines())
    if fmt == "json":
        data = {"schema": SCHEMA, "connections": [c.to_json() for c in connlist.connections]}
        return orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n"
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["src", "dst", "conn"])
        for c in connlist.connections:
            w.writerow([c.src, c.dst, str(c.conn)])
        return buf.getvalue()
    if fmt == "md":
        rows = ["| src | dst | conn |", "|-----|-----|------|"]
        rows += [f"| {_md(c.src)} | {_md(c.dst)} | {_md(str(c.conn))} |" for c in connlist.connections]
        return "\n".join(rows) + "\n"
    if fmt == "dot":
        return to_dot(connlist)
    if fmt == "svg":
        return to_svg(to_dot(connlist))
    raise ValueError(f"unknown format {fmt!r}")


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(connlist: Connlist) -> str:
    """One cluster per namespace; external ranges as boxes; edges labelled with connections."""
    namespaces: dict[str, list[str]] = {}
    externals: set[str] = set()
    nodes: set[str] = set(connlist.workloads)
    for c in connlist.connections:
        for name, is_ip in ((c.src, c.src_is_ip), (c.dst, c.dst_is_ip)):
            (externals.add if is_ip else nodes.add)(name)
    for n in sorted(nodes):
        ns = n.split("/", 1)[0]
        namespaces.setdefault(ns, []).append(n)
    out = ["digraph ringwall {", f"  {DOT_GRAPH_ATTRS}",
           '  node [shape=box, style="rounded,filled", fillcolor="#eef3fb"];']
    for ns, members in sorted(namespaces.items()):
        out.append(f"  subgraph {_q('cluster_' + ns)} {{")
        out.append(f"    label={_q(ns)}; style=dashed; color=\"#8899aa\";")
        for m in members:
            out.append(f"    {_q(m)} [label={_q(m.split('/', 1)[1])}];")
        out.append("  }")
    for e in sorted(externals):
        out.append(f'  {_q(e)} [shape=ellipse, fillcolor="#fff3e0"];')
    for c in connlist.connections:
        out.append(f"  {_q(c.src)} -> {_q(c.dst)} [label={_q(str(c.conn))}];")
    out.append("}")
    return "\n".join(out) + "\n"


# newrank ranks the whole graph at once instead of cluster by cluster: graphviz 2.43 (Debian 12/13) fails
# with "trouble in init_rank" on clustered graphs whose edges carry labels unless it is set.
DOT_GRAPH_ATTRS = "rankdir=LR; newrank=true;"


class GraphvizMissing(RuntimeError):
    """Graphviz is absent or rejected the graph: an error for the user (exit 2), never a silent fallback."""


def to_svg(dot: str) -> str:
    exe = shutil.which("dot")
    if exe is None:
        raise GraphvizMissing("SVG output needs graphviz ('dot'); install it (apt-get install graphviz)")
    proc = subprocess.run([exe, "-Tsvg"], input=dot, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        detail = proc.stderr.strip().splitlines()
        raise GraphvizMissing(f"graphviz failed: {detail[0] if detail else f'exit {proc.returncode}'}")
    return proc.stdout
