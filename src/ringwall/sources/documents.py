"""Documents: parsed objects that remember where they came from, cheaply.

A ``Document`` holds the parsed object and just enough to find its text again (the file, the
document's first line, and its index in a ``List``). Exact lines are computed on demand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from ringwall.model.location import Location
from ringwall.sources import locate


@dataclass(eq=False)
class SourceFile:
    """One input file (or stdin) and its text, kept for lazy line recovery."""

    path: str
    text: str
    is_json: bool = False
    _lines: list[str] | None = field(default=None, repr=False)
    _index: locate.LineIndex | None = field(default=None, repr=False)
    _item_lines: dict[int, list[int]] = field(default_factory=dict, repr=False)

    @property
    def lines(self) -> list[str]:
        if self._lines is None:
            self._lines = self.text.split("\n")
        return self._lines

    @property
    def line_index(self) -> locate.LineIndex:
        if self._index is None:
            self._index = locate.LineIndex(self.text)
        return self._index

    def list_item_lines(self, doc_start: int, doc_end: int) -> list[int]:
        """0-based first lines of the ``items`` of the List document in [doc_start, doc_end)."""
        cached = self._item_lines.get(doc_start)
        if cached is not None:
            return cached
        if self.is_json:
            offsets = locate.json_items_offsets_fast(self.text)
            result = locate.lines_of_sorted_offsets(self.text, offsets)
        else:
            result = _yaml_list_item_lines(self.lines, doc_start, doc_end)
        self._item_lines[doc_start] = result
        return result


def _yaml_list_item_lines(lines: list[str], start: int, end: int) -> list[int]:
    items_line = locate.yaml_path_line(lines, start, end, ["items"])
    result: list[int] = []
    item_indent: int | None = None
    for i in range(items_line + 1, end):
        line = lines[i]
        stripped = line.lstrip(" ")
        if not stripped or stripped.startswith("#"):
            continue
        ind = len(line) - len(stripped)
        if item_indent is None:
            if not stripped.startswith("-"):
                break
            item_indent = ind
        if ind < item_indent or (ind == item_indent and not stripped.startswith("-")):
            break
        if ind == item_indent and (stripped == "-" or stripped.startswith("- ")):
            result.append(i)
    return result


_SAFE_KEY = re.compile(r"^[A-Za-z0-9_.\-/]+$")


@dataclass(eq=False)
class Document:
    """One Kubernetes object (or other structured document) and where it came from."""

    obj: dict[str, Any]
    source: SourceFile
    doc_start: int  # 0-based first line of the YAML document (or 0 for JSON)
    doc_end: int  # 0-based end line (exclusive)
    item: int | None = None  # index inside a List's ``items``

    @property
    def kind(self) -> str:
        kind = self.obj.get("kind")
        return kind if isinstance(kind, str) else ""

    @property
    def api_version(self) -> str:
        v = self.obj.get("apiVersion")
        return v if isinstance(v, str) else ""

    @cached_property
    def metadata(self) -> dict[str, Any]:
        md = self.obj.get("metadata")
        return md if isinstance(md, dict) else {}

    @property
    def name(self) -> str:
        n = self.metadata.get("name")
        return n if isinstance(n, str) else ""

    def namespace(self, default: str) -> str:
        ns = self.metadata.get("namespace")
        return ns if isinstance(ns, str) and ns else default

    def _item_start(self) -> int:
        if self.item is None:
            return self.doc_start
        lines = self.source.list_item_lines(self.doc_start, self.doc_end)
        if self.item < len(lines):
            return lines[self.item]
        return self.doc_start

    def _item_end(self) -> int:
        if self.item is None:
            return self.doc_end
        lines = self.source.list_item_lines(self.doc_start, self.doc_end)
        if self.item + 1 < len(lines):
            return lines[self.item + 1]
        return self.doc_end

    def locate(self, path: tuple[str | int, ...] = (), obj: str | None = None) -> Location:
        """The location of ``path`` (keys and list indexes) inside this object."""
        start = self._item_start()
        line = start
        if path and not self.source.is_json:
            if self.item is None:
                line = locate.yaml_path_line(self.source.lines, start, self._item_end(), list(path))
            else:
                # A List item: its first key shares the dash line.
                line = locate.yaml_path_line(self.source.lines, start, self._item_end(), [0, *path])
        elif not path and not self.source.is_json:
            # Skip document markers and comments so the line names the object itself.
            lines = self.source.lines
            while line < self._item_end() - 1 and (
                not lines[line].strip() or lines[line].lstrip().startswith(("#", "---", "%"))
            ):
                line += 1
        return Location(self.source.path, line + 1, None, obj or self.ref)

    @property
    def ref(self) -> str:
        """``Kind/namespace/name`` (or ``Kind/name``) - the logical identity used in reports."""
        ns = self.metadata.get("namespace")
        if isinstance(ns, str) and ns:
            return f"{self.kind}/{ns}/{self.name}"
        return f"{self.kind}/{self.name}"
