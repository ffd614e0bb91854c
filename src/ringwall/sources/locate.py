"""Recover line numbers lazily.

Parsing is our speed floor, so documents are parsed by a fast loader that keeps no positions.
When a report needs the line of ``spec.ingress[1].from[0]`` we walk the document's text by
indentation (block YAML, which is what kubectl, Helm and people write) or scan JSON brackets.
The walk costs time proportional to the one document it reads, and only findings pay for it.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence

PathElem = str | int

_KEY_RE = re.compile(r"""^(\s*)(?:-\s+)*(?:"([^"]*)"|'([^']*)'|([^\s#'"{}\[\],][^:#]*?))\s*:(?:\s|$)""")
_DASH_RE = re.compile(r"^(\s*)-(?:\s|$)")


def _indent_of(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _is_blank(line: str) -> bool:
    s = line.strip()
    return not s or s.startswith("#")


def yaml_path_line(lines: Sequence[str], start: int, end: int, path: Sequence[PathElem]) -> int:
    """Return the 0-based index of the line holding ``path`` inside ``lines[start:end]``.

    Falls back to the deepest element that could be found, so callers always get a line.
    """
    # Region = (first line, end line, indentation of the container's entries; -1 = unknown)
    lo, hi = start, end
    best = start
    # Skip leading blank lines and document markers.
    while lo < hi and (_is_blank(lines[lo]) or lines[lo].startswith(("---", "%"))):
        lo += 1
    if lo >= hi:
        return best
    best = lo
    indent = _indent_of(lines[lo])
    # ``inline`` is the column where content of a "- key: value" item starts.
    for elem in path:
        found = None
        if isinstance(elem, int):
            count = -1
            item_indent = None
            for i in range(lo, hi):
                line = lines[i]
                if _is_blank(line):
                    continue
                m = _DASH_RE.match(line)
                ind = _indent_of(line)
                if item_indent is None:
                    if not m:
                        break
                    item_indent = ind
                if ind < item_indent:
                    break
                if m and ind == item_indent:
                    count += 1
                    if count == elem:
                        found = i
                        break
            if found is None or item_indent is None:
                return best
            # The item's region: from the dash line to the next dash at the same indent.
            j = found + 1
            while j < hi:
                line = lines[j]
                if not _is_blank(line) and _indent_of(line) <= item_indent:
                    break
                j += 1
            dash_line = lines[found]
            after = dash_line[item_indent + 1 :]
            content_col = item_indent + 1 + (len(after) - len(after.lstrip(" ")))
            best, lo, hi, indent = found, found, j, content_col
        else:
            for i in range(lo, hi):
                line = lines[i]
                if _is_blank(line):
                    continue
                if i == lo and line.lstrip(" ").startswith("-"):
                    # first key of a list item shares the dash line
                    text = line[:indent].replace("-", " ") + line[indent:]
                else:
                    text = line
                ind = _indent_of(text)
                if ind < indent:
                    break
                if ind != indent:
                    continue
                m = _KEY_RE.match(text)
                if m and (m.group(2) or m.group(3) or (m.group(4) or "").strip()) == elem:
                    found = i
                    break
            if found is None:
                return best
            j = found + 1
            while j < hi:
                line = lines[j]
                if not _is_blank(line) and _indent_of(line) <= indent and not (
                    _DASH_RE.match(line) and _indent_of(line) == indent
                ):
                    break
                j += 1
            best, lo, hi = found, found + 1, j
            while lo < hi and _is_blank(lines[lo]):
                lo += 1
            if lo >= hi:
                return best
            indent = _indent_of(lines[lo])
    return best


class LineIndex:
    """Offsets of line starts, to turn character offsets into 1-based line numbers."""

    __slots__ = ("_starts",)

    def __init__(self, text: str) -> None:
        starts = [0]
        find = text.find
        pos = find("\n")
        while pos != -1:
            starts.append(pos + 1)
            pos = find("\n", pos + 1)
        self._starts = starts

    def line_of(self, offset: int) -> int:
        return bisect_right(self._starts, offset)


def lines_of_sorted_offsets(text: str, offsets: list[int]) -> list[int]:
    """0-based line numbers of ascending character offsets, counting newlines between them only."""
    out: list[int] = []
    line = 0
    prev = 0
    count = text.count
    for off in offsets:
        line += count("\n", prev, off)
        prev = off
        out.append(line)
    return out


def json_array_item_offsets(text: str, array_start: int) -> list[int]:
    """Offsets of the top-level elements of the JSON array whose ``[`` is at ``array_start``."""
    offsets: list[int] = []
    depth = 0
    i = array_start
    n = len(text)
    in_str = False
    expecting = True
    while i < n:
        c = text[i]
        if in_str:
            if c == "\\":
                i += 2
                continue
            if c == '"':
                in_str = False
        elif c == '"':
            if depth == 1 and expecting:
                offsets.append(i)
                expecting = False
            in_str = True
        elif c in "[{":
            if depth == 1 and expecting:
                offsets.append(i)
                expecting = False
            depth += 1
        elif c in "]}":
            depth -= 1
            if depth == 0:
                break
        elif c == "," and depth == 1:
            expecting = True
        elif depth == 1 and expecting and not c.isspace():
            offsets.append(i)
            expecting = False
        i += 1
    return offsets


_JSON_ITEMS_RE = re.compile(r'"items"\s*:\s*\[')


def json_items_offsets(text: str, start: int = 0) -> list[int]:
    """Offsets of the elements of the first ``"items": [...]`` array after ``start``."""
    m = _JSON_ITEMS_RE.search(text, start)
    if not m:
        return []
    return json_array_item_offsets(text, m.end() - 1)


def json_items_offsets_fast(text: str) -> list[int]:
    """Like ``json_items_offsets`` but at regex speed for pretty-printed dumps (kubectl, jq).

    In such output every element of ``items`` starts a line at one indentation; we find that
    indentation from the first element and collect the others with one regular expression. For
    compact JSON (no newlines) it falls back to the bracket scanner.
    """
    m = _JSON_ITEMS_RE.search(text)
    if not m:
        return []
    start = m.end()
    nl = text.find("\n", start)
    if nl == -1 or text[start:nl].strip():
        return json_items_offsets(text)
    first = re.compile(r"\n( *)\S").search(text, nl)
    if not first or text[first.end() - 1] != "{":
        return json_items_offsets(text)
    indent = first.group(1)
    close = re.compile(r"\n" + indent[:-2] + r"\]" if len(indent) >= 2 else r"\n\]").search(text, first.end())
    end = close.start() if close else len(text)
    pattern = re.compile(r"\n" + indent + r"\{")
    return [x.start() + 1 + len(indent) for x in pattern.finditer(text, nl, end)]
