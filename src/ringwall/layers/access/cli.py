"""``ringwall access …``: WireGuard routes, sshd effective configuration and checks.

Exit codes: 0 clean, 1 findings at or above ``--fail-on`` (``sshd``), 2 usage or input error
(a configuration ``sshd -t`` would refuse included).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from ringwall.model.diagnostics import DiagnosticSink
from ringwall.model.findings import Severity, sort_findings
from ringwall.run_diagnostics import echo_diagnostics

app = typer.Typer(help="Management access: WireGuard (wg-quick) and sshd bastions.", no_args_is_help=True,
                  add_completion=False)
Fmt = Annotated[str, typer.Option("--format", "-f", help="text or json.")]


@app.callback()
def _group(ctx: typer.Context) -> None:
    """Show every diagnostic once; input errors exit 2 (when invoked without the root command)."""
    from ringwall.run_diagnostics import install

    install(ctx)


def _check_fmt(fmt: str) -> None:
    if fmt not in ("text", "json"):
        typer.echo(f"ringwall: error: unknown --format {fmt!r} (text or json)", err=True)
        raise typer.Exit(2)


@app.command("wg-routes")
def wg_routes(files: Annotated[list[Path], typer.Argument(help="wg-quick files (wg0.conf …).")],
              fmt: Fmt = "text") -> None:
    """Which networks each peer really gets (cryptokey routing: most specific wins, identical prefix → last peer)."""
    from .wireguard import describe_routes, read_wg_quick

    _check_fmt(fmt)
    sink = DiagnosticSink()
    out = []
    for f in files:
        if not f.exists():
            typer.echo(f"ringwall: error: no such file: {f}", err=True)
            raise typer.Exit(2)
        cfg = read_wg_quick(f, sink)
        out.append({"path": str(f), "interface": cfg.interface, "listen_port": cfg.listen_port,
                    "peers": describe_routes(cfg)})
    echo_diagnostics(sink)
    if fmt == "json":
        sys.stdout.write(json.dumps({"schema": "ringwall.wg-routes/v1", "interfaces": out}, indent=2) + "\n")
        return
    for i in out:
        typer.echo(f"{i['path']} ({i['interface']}, listen port {i['listen_port'] or 'random'})")
        for p in i["peers"]:  # type: ignore[attr-defined]
            lost = f"  LOST to a later peer: {', '.join(p['lost_to_later_peer'])}" if p["lost_to_later_peer"] else ""
            typer.echo(f"  peer {p['peer']} (line {p['line']}): routes {', '.join(p['routes_to']) or 'nothing'}{lost}")


@app.command("sshd")
def sshd_cmd(config: Annotated[Path, typer.Argument(help="sshd_config (Includes are followed).")],
             ssh_dir: Annotated[Path | None, typer.Option(help="Base for relative Include paths "
                                                          "(default: the file's directory).")] = None,
             bastion: Annotated[bool | None, typer.Option("--bastion/--not-bastion",
                                                          help="Override bastion detection.")] = None,
             fail_on: Annotated[str, typer.Option(help="Severity that makes the exit code 1.")] = "high",
             fmt: Fmt = "text") -> None:
    """Effective global values, Match blocks, validity as sshd -t would judge it, and RW-SSH findings."""
    from .sshd import read_sshd_config
    from .sshd_checks import DEFAULTS, check_sshd, is_bastion

    _check_fmt(fmt)
    if not config.exists():
        typer.echo(f"ringwall: error: no such file: {config}", err=True)
        raise typer.Exit(2)
    try:
        threshold = Severity.parse(fail_on)
    except ValueError as exc:
        typer.echo(f"ringwall: error: {exc}", err=True)
        raise typer.Exit(2) from None
    sink = DiagnosticSink()
    cfg = read_sshd_config(config, sink, ssh_dir=ssh_dir)
    findings = sort_findings(check_sshd(cfg, bastion=bastion))
    effective = {}
    for kw in sorted(DEFAULTS):
        d = cfg.first(kw)
        effective[kw] = {"value": d.value if d else DEFAULTS[kw], "from": str(d.location) if d else "default"}
    if fmt == "json":
        sys.stdout.write(json.dumps({
            "schema": "ringwall.sshd/v1", "files": cfg.files, "valid": cfg.valid,
            "bastion": is_bastion(cfg) if bastion is None else bastion,
            "diagnostics": [d.to_json() for d in sink.items], "effective": effective,
            "match_blocks": [{"criteria": m.text, "location": str(m.location)} for m in cfg.matches],
            "findings": [f.to_json() for f in findings]}, indent=2) + "\n")
    else:
        echo_diagnostics(sink)
        typer.echo(f"{config}: {'valid' if cfg.valid else 'INVALID (sshd would refuse to start)'}; files: "
                   f"{', '.join(cfg.files)}")
        for kw, v in effective.items():
            typer.echo(f"  {kw} {v['value']}  ({v['from']})")
        for f in findings:
            loc = f.locations[0] if f.locations else ""
            typer.echo(f"{f.effective_severity.label:8} {f.check.id} {f.check.name}: {f.message} [{loc}]")
    if not cfg.valid or any(f.effective_severity >= threshold for f in findings):
        raise typer.Exit(1)
