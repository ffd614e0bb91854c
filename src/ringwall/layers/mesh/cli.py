"""``ringwall mesh ...``: the mesh view of allowed flows and the mTLS coverage.

Mounted by the main CLI with ``app.add_typer(mesh_app, name="mesh")``. The commands only parse
options and print; the work happens in ``ringwall.analysis.mesh_layer`` (imported lazily, since
the CLI sits above analysis and the layer package must not depend on it at import time).
"""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from .common import MeshOptions

app = typer.Typer(help="Service mesh layer (Istio, Linkerd): mTLS and authorization per flow.",
                  no_args_is_help=True)


@app.callback()
def _group(ctx: typer.Context) -> None:
    """Show every diagnostic once; input errors exit 2 (when invoked without the root command)."""
    from ringwall.run_diagnostics import install

    install(ctx)

Paths = Annotated[list[str], typer.Argument(help="Manifests: files or directories.")]
Fmt = Annotated[str, typer.Option("--format", "-o", help="txt or json.")]
Mesh = Annotated[str | None, typer.Option("--mesh", help="Force istio, linkerd or none (default: detect).")]
Root = Annotated[str, typer.Option("--istio-root-namespace", help="Istio meshConfig.rootNamespace.")]


def _estate(paths: list[str], mesh: str | None, root: str):  # type: ignore[no-untyped-def]
    from ringwall.analysis.estate import load_estate
    from ringwall.analysis.mesh_layer import set_mesh_options

    if mesh not in (None, "istio", "linkerd", "none"):
        typer.echo(f"--mesh must be istio, linkerd or none, not {mesh!r}", err=True)
        raise typer.Exit(2)
    try:
        estate = load_estate(paths)
    except FileNotFoundError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    set_mesh_options(estate, MeshOptions(mesh=mesh, istio_root_namespace=root))
    return estate


@app.command("flows")
def flows(paths: Paths, focus: Annotated[str | None, typer.Option(help="Only flows touching this workload.")] = None,
          fmt: Fmt = "txt", mesh: Mesh = None, root: Root = "istio-system") -> None:
    """Every flow NetworkPolicy allows, with its mTLS status and authorization decision."""
    from ringwall.analysis.mesh_layer import mesh_connlist

    rows = mesh_connlist(_estate(paths, mesh, root), focus)
    if fmt == "json":
        sys.stdout.write(json.dumps({"schema": "ringwall.mesh-flows/v1", "flows": [r.to_json() for r in rows]},
                                    indent=2) + "\n")
    elif fmt == "txt":
        for r in rows:
            sys.stdout.write(r.line() + "\n")
    else:
        typer.echo(f"unknown format {fmt!r} (txt, json)", err=True)
        raise typer.Exit(2)


@app.command("coverage")
def coverage(paths: Paths, fmt: Fmt = "txt", mesh: Mesh = None, root: Root = "istio-system") -> None:
    """mTLS coverage of the workload pairs NetworkPolicy allows, overall and per namespace."""
    from ringwall.analysis.mesh_layer import mesh_coverage

    cov, _ = mesh_coverage(_estate(paths, mesh, root))
    if fmt == "json":
        sys.stdout.write(json.dumps({"schema": "ringwall.mesh-coverage/v1", **cov.to_json()}, indent=2) + "\n")
        return
    if fmt != "txt":
        typer.echo(f"unknown format {fmt!r} (txt, json)", err=True)
        raise typer.Exit(2)
    pct = f"{100 * cov.ratio:.0f}%" if cov.ratio is not None else "n/a"
    sys.stdout.write(f"mTLS coverage of allowed workload pairs: {cov.covered}/{cov.pairs} ({pct})\n")
    for ns, (pairs, covered) in sorted(cov.by_namespace.items()):
        sys.stdout.write(f"  {ns}: {covered}/{pairs}\n")
