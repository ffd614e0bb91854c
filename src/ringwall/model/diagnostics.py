"""Diagnostics: problems with the *input* (as opposed to findings about the estate).

A broken document becomes one diagnostic; the rest of the input is still analysed. The
``code`` is stable so that tests and users can filter on it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from ringwall.model.location import Location


class Level(enum.StrEnum):
    ERROR = "error"      # the object was dropped or only partly read
    WARNING = "warning"  # read, but something was ignored or approximated
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    level: Level
    code: str
    message: str
    location: Location

    def __str__(self) -> str:
        return f"{self.location}: {self.level.value}: {self.message} [{self.code}]"

    def to_json(self) -> dict[str, object]:
        return {
            "level": self.level.value,
            "code": self.code,
            "message": self.message,
            "location": self.location.to_json(),
        }


@dataclass
class DiagnosticSink:
    """Collects diagnostics while input is read; readers never print.

    The same diagnostic (level, code, message, place) is kept once: a file read by two
    layers, or a ruleset analysed by two commands of one run, must not count its errors
    twice. ``printed`` is how many items the command line already showed, so that those
    raised after loading (host rulesets, mesh) are shown too, and none twice.
    """

    items: list[Diagnostic] = field(default_factory=list)
    printed: int = 0
    _seen: set[Diagnostic] = field(default_factory=set, repr=False, compare=False)

    def __post_init__(self) -> None:
        if _run_sinks is not None:
            _run_sinks.append(self)

    @classmethod
    def scratch(cls) -> DiagnosticSink:
        """A sink whose diagnostics the caller may discard (a tentative parse): not part of the
        run's diagnostics unless the caller copies them into a real sink."""
        global _run_sinks
        saved, _run_sinks = _run_sinks, None
        try:
            return cls()
        finally:
            _run_sinks = saved

    def add(self, diagnostic: Diagnostic) -> None:
        if diagnostic in self._seen:
            return
        self._seen.add(diagnostic)
        self.items.append(diagnostic)

    def error(self, code: str, message: str, location: Location) -> None:
        self.add(Diagnostic(Level.ERROR, code, message, location))

    def warning(self, code: str, message: str, location: Location) -> None:
        self.add(Diagnostic(Level.WARNING, code, message, location))

    def info(self, code: str, message: str, location: Location) -> None:
        self.add(Diagnostic(Level.INFO, code, message, location))

    def take_unprinted(self) -> list[Diagnostic]:
        """The diagnostics not shown yet; they count as shown from now on."""
        fresh = self.items[self.printed:]
        self.printed = len(self.items)
        return fresh

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.level is Level.ERROR]


_run_sinks: list[DiagnosticSink] | None = None
"""The sinks created while a command runs (see ``begin_run``); None outside a command."""


def run_active() -> bool:
    return _run_sinks is not None


def begin_run() -> None:
    """Start collecting every sink created from now on, so that the command line can show
    each of their diagnostics once and exit 2 on an input error, whichever reader raised it."""
    global _run_sinks
    _run_sinks = []


def end_run() -> list[DiagnosticSink]:
    """The sinks of the run that ends."""
    global _run_sinks
    sinks, _run_sinks = _run_sinks or [], None
    return sinks
