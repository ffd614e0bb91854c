"""Where something came from: a file, a line, and the object it belongs to."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Location:
    """A place in the user's input.

    ``path`` is the file as the user named it (``-`` for stdin, ``cluster:<ctx>`` for live
    sources); ``line`` and ``column`` are 1-based and ``None`` when unknown; ``obj`` is the
    logical identity (``NetworkPolicy/shop/default-deny``) so that reports still say *what*
    when they cannot say *where*.
    """

    path: str
    line: int | None = None
    column: int | None = None
    obj: str | None = None
    end_line: int | None = None

    def __str__(self) -> str:
        where = self.path
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return where

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"path": self.path}
        if self.line is not None:
            out["line"] = self.line
        if self.column is not None:
            out["column"] = self.column
        if self.end_line is not None:
            out["end_line"] = self.end_line
        if self.obj:
            out["object"] = self.obj
        return out
