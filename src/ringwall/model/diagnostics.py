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
    """Collects diagnostics while input is read; readers never print."""

    items: list[Diagnostic] = field(default_factory=list)

    def error(self, code: str, message: str, location: Location) -> None:
        self.items.append(Diagnostic(Level.ERROR, code, message, location))

    def warning(self, code: str, message: str, location: Location) -> None:
        self.items.append(Diagnostic(Level.WARNING, code, message, location))

    def info(self, code: str, message: str, location: Location) -> None:
        self.items.append(Diagnostic(Level.INFO, code, message, location))

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.level is Level.ERROR]
