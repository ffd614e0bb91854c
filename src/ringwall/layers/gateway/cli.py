"""``ringwall gateway routes PATH``: every external route, its backend and what authenticates it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Edge gateways: external routes and their authentication.", no_args_is_help=True,
                  add_completion=False)


@app.callback()
def _group(ctx: typer.Context) -> None:
    """Keep sub-commands named even while there is only one; show every diagnostic once."""
    from ringwall.run_diagnostics import install

    install(ctx)


@app.command()
def routes(paths: Annotated[list[Path], typer.Argument(help="Manifest files or directories.")],
           fmt: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text") -> None:
    """Per route: host, path, backend workload, authentication (enforced or optional), rate limit, TLS."""
    from ringwall.analysis.estate import load_estate

    from .api import scan_gateway, summarize

    if fmt not in ("text", "json"):
        typer.echo(f"ringwall: error: unknown --format {fmt!r} (text or json)", err=True)
        raise typer.Exit(2)
    estate = load_estate(paths)
    if estate.sink.errors and not estate.load.documents:
        for d in estate.sink.errors:
            typer.echo(f"ringwall: error: {d}", err=True)
        raise typer.Exit(2)
    result, findings = scan_gateway(estate.inventory, estate.sink)
    if fmt == "json":
        sys.stdout.write(json.dumps({"schema": "ringwall.gateway-routes/v1", **summarize(result),
                                     "findings": [f.to_json() for f in findings]}, indent=2) + "\n")
        return
    for r in result.routes:
        auth = ", ".join(f"{a.kind}{'' if a.enforced else ' (optional)'}" for a in r.auth) or "none"
        where = f"{r.host or '*'}{r.path}" if r.controller != "service" else r.listener
        typer.echo(f"{r.controller:14} {where:40} -> {', '.join(r.workloads) or r.backend}  auth: {auth}; "
                   f"rate limit: {'yes' if r.rate_limit else 'no'}; tls: {'yes' if r.tls else 'no'}"
                   f"{'; public by intent' if r.public else ''}"
                   f"{'' if r.consumers is None else '; consumers: ' + (', '.join(r.consumers) or 'none')}"
                   f"  [{r.location}]")
