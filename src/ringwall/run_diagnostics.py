"""Every diagnostic of a command run is shown once, and an input error exits 2, in every command.

The root command installs :func:`diagnostics_gate` on its context: each ``DiagnosticSink``
created while the command runs is tracked (``model.diagnostics.begin_run``), and when the
command ends (normally or through ``typer.Exit``) the diagnostics not shown yet are printed on
stderr as ``FILE:LINE: level: message [code]``, each once, after the command's output was
written; an exit code of 0 or 1 becomes 2 when any of them is an error. Commands therefore
never have to remember to print late diagnostics (host rulesets, mesh, sshd Includes) or to
compute the input-error exit code themselves.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer

from ringwall.model.diagnostics import Diagnostic, DiagnosticSink, Level, begin_run, end_run, run_active

EXIT_INPUT = 2


def echo_diagnostics(sink: DiagnosticSink, shown: set[Diagnostic] | None = None) -> None:
    """Print the diagnostics of ``sink`` not shown yet (each once per run)."""
    for d in sink.take_unprinted():
        if shown is not None:
            if d in shown:
                continue
            shown.add(d)
        typer.echo(str(d), err=True)


@contextmanager
def diagnostics_gate() -> Iterator[None]:
    begin_run()
    code: int | None = 0
    try:
        yield
    except typer.Exit as exc:
        code = exc.exit_code
        raise
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else None
        raise
    except BaseException:
        code = None  # a bug or an interrupt: never hidden behind an input-error exit
        raise
    finally:
        errors = _show(end_run())
        if errors and code in (0, 1):
            raise typer.Exit(EXIT_INPUT)


def _show(sinks: list[DiagnosticSink]) -> bool:
    """Print what was not shown yet; whether any diagnostic of the run is an error."""
    shown: set[Diagnostic] = set()
    for sink in sinks:
        shown.update(sink.items[: sink.printed])
    errors = False
    for sink in sinks:
        echo_diagnostics(sink, shown)
        errors = errors or any(d.level is Level.ERROR for d in sink.items)
    return errors


def install(ctx: typer.Context) -> None:
    """Put the gate around the command that ``ctx`` runs, unless an outer command did already
    (the root command installs it; a layer's group does too, for when it is invoked alone)."""
    if not run_active():
        ctx.with_resource(diagnostics_gate())
