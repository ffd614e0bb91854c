"""``ringwall lab``: prove a ruleset in network namespaces before rolling it out.

Exit codes: 0 the kernel agreed with the model on every probe, 1 some probe disagreed, 2 usage
error, missing privileges or tools, or a ruleset the kernel refused.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from .netns import LabError, cleanup_leftovers, missing_requirements


def lab_command(
    rules: Annotated[list[Path] | None, typer.Argument(help="Ruleset files (iptables-save, nft text or JSON).")] = None,
    cleanup: Annotated[bool, typer.Option("--cleanup", help="Remove leftover ringwall-* namespaces and exit.")] = False,
    iif: Annotated[str, typer.Option(help="Name of the firewall's interface in the lab.")] = "eth0",
    probe: Annotated[list[str] | None, typer.Option(help="Extra probe proto:port (repeatable).")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds before a probe counts as dropped.")] = 1.0,
    fmt: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
) -> None:
    """Load RULES into a throwaway network namespace, send real TCP/UDP/ICMP probes from TEST-NET
    addresses, and compare every observed verdict with Ringwall's prediction."""
    missing = missing_requirements()
    if missing:
        typer.echo("ringwall: error: the lab creates network namespaces and loads rulesets into them; it needs "
                   + ", ".join(missing) + ". Run it as root on a host with iproute2, nftables and iptables.",
                   err=True)
        raise typer.Exit(2)
    if cleanup:
        removed = cleanup_leftovers()
        typer.echo(f"removed {len(removed)} namespace(s)" + (": " + ", ".join(removed) if removed else ""))
        return
    if not rules:
        typer.echo("ringwall: error: give ruleset files, or --cleanup", err=True)
        raise typer.Exit(2)
    for p in rules:
        if not p.is_file():
            typer.echo(f"ringwall: error: {p}: cannot read file", err=True)
            raise typer.Exit(2)
    from .runner import run_lab

    try:
        results, _sink = run_lab(rules, iif, probe or [], timeout)
    except LabError as exc:
        typer.echo(f"ringwall: error: {exc}", err=True)
        raise typer.Exit(2) from None
    bad = [r for r in results if not r.agrees]
    if fmt == "json":
        sys.stdout.write(json.dumps({"schema": "ringwall.lab/v1", "probes": [r.to_json() for r in results],
                                     "disagreements": len(bad)}, indent=2) + "\n")
    else:
        for r in results:
            what = f"{r.proto}/{r.dport}" if r.dport else r.proto
            mark = "ok " if r.agrees else "BAD"
            note = "" if r.exact else " (inexact)"
            if not r.comparable:
                note += " (DNAT out of the lab: not compared)"
            typer.echo(f"{mark} {r.src:>15} -> {r.dst}:{what:<10} kernel {r.observed:<11} model {r.model}{note}")
        typer.echo(f"{len(results)} probes, {len(bad)} disagreement(s)")
    if bad:
        raise typer.Exit(1)
