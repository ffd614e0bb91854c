"""``ringwall dns corefile FILE``: a Corefile (or manifests holding one) read and checked."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Cluster DNS: CoreDNS Corefile, exposure and RBAC.", no_args_is_help=True,
                  add_completion=False)


@app.callback()
def _group(ctx: typer.Context) -> None:
    """Keep sub-commands named even while there is only one; show every diagnostic once."""
    from ringwall.run_diagnostics import install

    install(ctx)


@app.command()
def corefile(paths: Annotated[list[Path], typer.Argument(help="Corefile(s) or manifests with the coredns ConfigMap.")],
             fmt: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text") -> None:
    """Server blocks, forward targets (encrypted or not) and RW-DNS findings."""
    from ringwall.analysis.estate import load_estate
    from ringwall.run_diagnostics import echo_diagnostics

    from .api import check_dns, corefiles_from_files, corefiles_from_manifests, summarize

    if fmt not in ("text", "json"):
        typer.echo(f"ringwall: error: unknown --format {fmt!r} (text or json)", err=True)
        raise typer.Exit(2)
    estate = load_estate(paths)
    cfs = corefiles_from_manifests(estate.inventory, estate.sink) + corefiles_from_files(
        list(estate.load.other_files), estate.sink)
    findings = check_dns(cfs, estate.inventory)
    echo_diagnostics(estate.sink)
    if not cfs:
        typer.echo(f"ringwall: error: no Corefile (nor coredns ConfigMap) in {', '.join(map(str, paths))}",
                   err=True)
    # Input errors (a Corefile CoreDNS would refuse, no Corefile at all) exit 2, as everywhere.
    code = 2 if estate.sink.errors or not cfs else 0
    if fmt == "json":
        sys.stdout.write(json.dumps({"schema": "ringwall.dns/v1", **summarize(cfs, estate.inventory),
                                     "findings": [f.to_json() for f in findings]}, indent=2) + "\n")
        raise typer.Exit(code)
    for s in summarize(cfs, estate.inventory)["servers"]:  # type: ignore[attr-defined]
        typer.echo(f"{s['source']}:{s['line']} {' '.join(s['zones'])}: {', '.join(s['plugins'])}")
        for f in s["forward"]:
            typer.echo(f"  forward {f['from']} -> {', '.join(f['to'])}"
                       f"{' (tls_servername ' + f['tls_servername'] + ')' if f['tls_servername'] else ''}")
    for f in findings:
        typer.echo(f"{f.effective_severity.label:8} {f.check.id} {f.check.name}: {f.message} [{f.locations[0]}]")
    raise typer.Exit(code)
