"""``ringwall generate INTENT``: every layer's configuration from one intent, written, shown or diffed.

Without ``-o`` nothing is written: the files are printed. With ``-o DIR`` they are written inside
DIR only (other files there are left alone). With ``-o DIR --diff`` nothing is written and a
unified diff against DIR is printed. Exit codes: 0 done (or no difference), 1 ``--diff`` found
differences, 2 a bad intent, option or output path.
"""

from __future__ import annotations

import difflib
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from ringwall.analysis.intent import IntentError, describe_intent_error, load_intent
from ringwall.generate.base import TARGETS, Context, GeneratedFile
from ringwall.generate.spec import load_spec

TARGET_MODULES = ("nftables", "iptables", "netpol", "istio", "linkerd", "sshd", "wireguard", "coredns",
                  "gateway_envoy",  # edge: Gateway API + Envoy Gateway
                  "gateway_istio",  # edge: Istio ingress gateway
                  "gateway_kong")  # edge: Kong Ingress Controller
"""Importing a target module registers it; this order is the order of the target table."""


def _load_targets() -> None:
    for name in TARGET_MODULES:
        importlib.import_module(f"ringwall.generate.{name}")


def target_names() -> list[str]:
    """Every target, in the table's order (TARGET_MODULES), however the modules happened to be imported."""
    _load_targets()
    order = {name: i for i, name in enumerate(TARGET_MODULES)}
    return sorted(TARGETS, key=lambda name: (order.get(TARGETS[name].generate.__module__.rsplit(".", 1)[-1],
                                                       len(order)), name))


def generate(intent_path: str | Path, targets: Sequence[str] | None = None,
             workloads: Sequence[str | Path] | None = None) -> tuple[list[GeneratedFile], list[str]]:
    """Files for ``targets`` (default: all) and notes on what was not generated and why.

    Raises ``IntentError`` (including ``SpecError``) for a bad intent or unknown target.
    """
    _load_targets()
    intent = load_intent(intent_path)
    spec = load_spec(intent)
    estate = None
    if workloads:
        from ringwall.analysis.estate import load_estate

        estate = load_estate(list(workloads))
    ctx = Context(intent, spec, estate)
    chosen = list(targets) if targets else target_names()
    unknown = [t for t in chosen if t not in TARGETS]
    if unknown:
        raise IntentError(f"unknown target(s) {', '.join(unknown)}; choose among {', '.join(TARGETS)}")
    files: dict[str, GeneratedFile] = {}
    for name in TARGETS:  # table order, whatever order they were asked in
        if name in chosen:
            for f in TARGETS[name].generate(ctx):
                files[f.path] = f
    notes = list(dict.fromkeys(ctx.notes))
    return [files[p] for p in sorted(files)], notes


def _inside(root: Path, rel: str) -> Path:
    """The path of ``rel`` under ``root``; refuses anything that would land outside it."""
    if rel.startswith("/") or ".." in Path(rel).parts:
        raise IntentError(f"refusing to write {rel!r}: outside the output directory")
    target = (root / rel).resolve()
    if not target.is_relative_to(root.resolve()):
        raise IntentError(f"refusing to write {rel!r}: it resolves outside {root}")
    return target


def diff_against(files: list[GeneratedFile], root: Path) -> str:
    """Unified diff from what ``root`` holds to what would be generated (empty: nothing changes)."""
    chunks = []
    for f in files:
        path = _inside(root, f.path)
        old = path.read_text(encoding="utf-8") if path.is_file() else None
        if old == f.content:
            continue
        chunks.extend(difflib.unified_diff(
            (old or "").splitlines(keepends=True), f.content.splitlines(keepends=True),
            fromfile=f"a/{f.path}" if old is not None else "/dev/null", tofile=f"b/{f.path}"))
    return "".join(chunks)


def write(files: list[GeneratedFile], root: Path) -> list[str]:
    """Write the files under ``root``; returns the paths that changed."""
    changed = []
    for f in files:
        path = _inside(root, f.path)
        if path.is_file() and path.read_text(encoding="utf-8") == f.content:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f.content, encoding="utf-8")
        changed.append(f.path)
    return changed


def generate_command(
    intent: Annotated[Path, typer.Argument(help="The intent file (docs/intent.md, docs/generate.md).")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the files inside this directory.")]
    = None,
    targets: Annotated[list[str] | None, typer.Option(
        "--targets", "-t", help="Targets to generate (repeatable or comma-separated): "
        "nftables, iptables, netpol, istio, linkerd, sshd, wireguard, coredns, gateway-envoy, "
        "gateway-istio, gateway-kong. Default: all.")] = None,
    diff: Annotated[bool, typer.Option("--diff", help="With -o: show what would change; write nothing; "
                                       "exit 1 when something would.")] = False,
    workloads: Annotated[list[Path] | None, typer.Option(
        "--workloads", "-w", help="Manifests whose pod labels resolve zones written as workloads (ns/name).")]
    = None,
) -> None:
    """Generate host firewalls, NetworkPolicies, mesh policies, the bastion's sshd_config and WireGuard from INTENT."""
    wanted = [t.strip() for item in (targets or []) for t in item.split(",") if t.strip()]
    if diff and output is None:
        typer.echo("ringwall: error: --diff compares with a directory: give -o DIR", err=True)
        raise typer.Exit(2)
    try:
        files, notes = generate(intent, wanted, [str(w) for w in workloads or []])
        if output is not None and diff:
            text = diff_against(files, output)
            sys.stdout.write(text)
            for n in notes:
                typer.echo(f"note: {n}", err=True)
            raise typer.Exit(1 if text else 0)
        if output is not None:
            if output.exists() and not output.is_dir():
                raise IntentError(f"{output}: not a directory")
            changed = write(files, output)
            for f in files:
                typer.echo(f"{'wrote' if f.path in changed else 'same '} {output / f.path}")
        else:
            for f in files:
                sys.stdout.write(f"==> {f.path} <==\n{f.content}\n")
    except IntentError as exc:
        typer.echo(describe_intent_error(exc), err=True)
        raise typer.Exit(2) from None
    for n in notes:
        typer.echo(f"note: {n}", err=True)
