"""``ringwall hostfw …``: thin commands over the API; formatting lives in ``render``.

Exit codes: 0 clean, 1 findings at or above ``--fail-on`` (``checks`` only), 2 usage or input
error (``ringwall: error: FILE:LINE: what`` on stderr).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from ringwall.model.diagnostics import DiagnosticSink
from ringwall.model.findings import Severity, sort_findings
from ringwall.run_diagnostics import echo_diagnostics

from . import render
from .loader import FATAL_CODES
from .model import Ruleset

app = typer.Typer(help="Host firewalls (iptables, nftables): services, trace, unreachable rules, search, "
                  "compare and checks.", no_args_is_help=True, add_completion=False)


@app.callback()
def _group(ctx: typer.Context) -> None:
    """Show every diagnostic once; input errors exit 2 (when invoked without the root command)."""
    from ringwall.run_diagnostics import install

    install(ctx)

Rules = Annotated[list[Path], typer.Argument(help="Ruleset files (iptables-save, scripts, nft text or JSON).")]
Fmt = Annotated[str, typer.Option("--format", "-f", help="text, json or md.")]
InFmt = Annotated[str, typer.Option("--input-format", help="auto, iptables-save, iptables-script, nft, nft-json.")]
Ipsets = Annotated[list[Path] | None, typer.Option("--ipset", help="'ipset save' output for -m set matches.")]
Hook = Annotated[str, typer.Option("--hook", help="input, forward or output.")]


def die(message: str) -> NoReturn:
    typer.echo(f"ringwall: error: {message}", err=True)
    raise typer.Exit(2)


def _load(paths: list[Path], ipsets: list[Path] | None, input_format: str) -> Ruleset:
    from .api import load_ruleset

    if input_format not in ("auto", "iptables-save", "iptables-script", "nft", "nft-json"):
        die(f"unknown --input-format {input_format!r}")
    sink = DiagnosticSink()
    rs = load_ruleset(paths, sink, ipsets or [], input_format)
    echo_diagnostics(sink)
    if any(d.code in FATAL_CODES for d in sink.items):
        raise typer.Exit(2)
    return rs


def _out(fmt: str, data: Any, text: str, md: str | None = None) -> None:
    if fmt == "json":
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    elif fmt == "md" and md is not None:
        sys.stdout.write(md + "\n")
    elif fmt in ("text", "md"):
        sys.stdout.write(text + "\n")
    else:
        die(f"unknown --format {fmt!r}")


@app.command()
def services(rules: Rules, proto: Annotated[str, typer.Option(help="tcp or udp.")] = "tcp",
             port: Annotated[list[int] | None, typer.Option(
                 "--port", "-p", help="Destination port (repeatable; default: every port a rule names plus "
                 "22, 80, 443, 6443, 10250, 2379).")] = None,
             sport: Annotated[int, typer.Option(help="Source port.")] = 10000,
             hook: Hook = "input", family: Annotated[int, typer.Option(help="4 or 6.")] = 4,
             iif: Annotated[str | None, typer.Option(help="Fix the arrival interface (default: any but lo).")] = None,
             state: Annotated[str, typer.Option(help="Assumed conntrack state.")] = "new",
             closure: Annotated[str, typer.Option(help="upper (may reach) or lower (surely reaches).")] = "upper",
             fmt: Fmt = "text", ipset: Ipsets = None, input_format: InFmt = "auto") -> None:
    """Service matrix: address classes treated alike and which class reaches which, per port."""
    from .services import matrix, mentioned_ports, space_for

    if hook not in ("input", "forward") or family not in (4, 6) or closure not in ("upper", "lower"):
        die("--hook must be input or forward, --family 4 or 6, --closure upper or lower")
    rs = _load(rules, ipset, input_format)
    ports = port or mentioned_ports(rs).get(proto, [22])
    space = space_for([rs], [iif] if iif else [], v4_only=family == 4)
    ms = [matrix(rs, proto, p, sport, hook, family, iif, state, closure, space) for p in ports]
    _out(fmt, {"schema": "ringwall.hostfw.services/v1", "matrices": [m.to_json() for m in ms]},
         "\n\n".join(render.matrix_text(m) for m in ms), "\n\n".join(render.matrix_md(m) for m in ms))


@app.command("trace")
def trace_cmd(rules: Rules, src: Annotated[str, typer.Option(help="Source address.")],
              dst: Annotated[str, typer.Option(help="Destination address.")],
              proto: Annotated[str, typer.Option(help="tcp, udp, icmp, …")] = "tcp",
              dport: Annotated[int | None, typer.Option(help="Destination port.")] = None,
              sport: Annotated[int | None, typer.Option(help="Source port (default 40000).")] = None,
              iif: Annotated[str | None, typer.Option(help="Input interface (default eth0, lo for 127/8).")] = None,
              oif: Annotated[str | None, typer.Option(help="Output interface (default eth0).")] = None,
              state: Annotated[str, typer.Option(help="new, established, related, invalid, untracked.")] = "new",
              hook: Hook = "input", mark: Annotated[int, typer.Option(help="Packet mark.")] = 0,
              fmt: Fmt = "text", ipset: Ipsets = None, input_format: InFmt = "auto") -> None:
    """One packet through every chain, rule by rule, with the verdict and the deciding rules."""
    from .trace import make_packet, trace

    if hook not in ("input", "forward", "output"):
        die("--hook must be input, forward or output")
    rs = _load(rules, ipset, input_format)
    try:
        pkt = make_packet(src, dst, proto, dport, sport, iif, oif, state, hook, mark=mark)
    except ValueError as exc:
        die(str(exc))
    t = trace(rs, pkt, hook)
    _out(fmt, {"schema": "ringwall.hostfw.trace/v1", **t.to_json()}, render.trace_text(t))


@app.command()
def unreachable(rules: Rules, fmt: Fmt = "text", ipset: Ipsets = None, input_format: InFmt = "auto") -> None:
    """Rules that can never match, with the earlier rules that together hide each one."""
    from .shadow import unreachable as find

    rs = _load(rules, ipset, input_format)
    items = find(rs)
    _out(fmt, {"schema": "ringwall.hostfw.unreachable/v1", "unreachable": [u.to_json() for u in items]},
         render.unreachable_text(items), render.unreachable_md(items))


@app.command()
def search(rules: Rules,
           action: Annotated[str, typer.Option(help="accept or drop: what the packet should get.")] = "accept",
           hook: Hook = "input",
           src: Annotated[list[str] | None, typer.Option(help="Source must be in (repeatable).")] = None,
           src_not: Annotated[list[str] | None, typer.Option(help="Source must not be in.")] = None,
           dst: Annotated[list[str] | None, typer.Option(help="Destination must be in.")] = None,
           dst_not: Annotated[list[str] | None, typer.Option(help="Destination must not be in.")] = None,
           proto: Annotated[str | None, typer.Option(help="Protocol.")] = None,
           dport: Annotated[str | None, typer.Option(help="Destination port or range a-b.")] = None,
           sport: Annotated[str | None, typer.Option(help="Source port or range.")] = None,
           iif: Annotated[str | None, typer.Option(help="Input interface.")] = None,
           state: Annotated[str, typer.Option(help="Conntrack state.")] = "new",
           family: Annotated[int | None, typer.Option(help="4 or 6.")] = None,
           fmt: Fmt = "text", ipset: Ipsets = None, input_format: InFmt = "auto") -> None:
    """An example packet the ruleset accepts (or drops) under constraints, or proof that none exists."""
    from .search import Constraints
    from .search import search as do_search

    if action not in ("accept", "drop"):
        die("--action must be accept or drop")
    rs = _load(rules, ipset, input_format)
    try:
        cons = Constraints(src or [], src_not or [], dst or [], dst_not or [], proto, dport, sport, iif, None,
                           state, family)
        res = do_search(rs, cons, action, hook)
    except ValueError as exc:
        die(str(exc))
    _out(fmt, {"schema": "ringwall.hostfw.search/v1", **res.to_json()}, render.search_text(res))


@app.command()
def compare(left: Annotated[Path, typer.Argument(help="Reference ruleset.")],
            right: Annotated[Path, typer.Argument(help="Ruleset to compare with it.")],
            fmt: Fmt = "text", ipset: Ipsets = None, input_format: InFmt = "auto",
            fail_on_change: Annotated[bool, typer.Option(
                "--fail-on-change", help="Exit 1 when the rulesets decide some packet differently.")] = False,
            ) -> None:
    """Which packets two rulesets treat differently, with examples and the deciding rules."""
    from .search import compare as do_compare

    a = _load([left], ipset, input_format)
    b = _load([right], ipset, input_format)
    cmp = do_compare(a, b)
    _out(fmt, {"schema": "ringwall.hostfw.compare/v1", **cmp.to_json()}, render.compare_text(cmp))
    if fail_on_change and not cmp.equal:
        raise typer.Exit(1)


@app.command()
def checks(rules: Rules,
           fail_on: Annotated[str, typer.Option("--fail-on", help="Lowest severity that fails.")] = "high",
           fmt: Fmt = "text", ipset: Ipsets = None, input_format: InFmt = "auto") -> None:
    """RW-HOSTFW checks; exit 1 when a finding is at or above --fail-on."""
    from .checks import run_checks

    try:
        threshold = Severity.parse(fail_on)
    except ValueError as exc:
        die(str(exc))
    rs = _load(rules, ipset, input_format)
    found = sort_findings(run_checks(rs))
    _out(fmt, {"schema": "ringwall.hostfw.checks/v1", "findings": [f.to_json() for f in found]},
         render.findings_text(found), render.findings_md(found))
    if any(f.effective_severity >= threshold for f in found):
        raise typer.Exit(1)
