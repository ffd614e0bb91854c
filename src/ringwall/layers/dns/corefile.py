"""CoreDNS Corefile reader: server blocks, plugins, sub-directives, each with its file:line.

The grammar is Caddy's: ``ZONE[:PORT] ... {`` opens a server block, each line inside is a plugin
with arguments, and a plugin may open its own ``{ ... }`` block of sub-directives. ``#`` starts a
comment, quotes group words, ``(name) { }`` defines a snippet used by ``import name``. Unbalanced
braces and stray tokens cost one diagnostic each; the rest is still read.

A Corefile embedded in the ``kube-system/coredns`` ConfigMap is read with ``line_offset`` so that
lines point into the manifest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ringwall.model.diagnostics import DiagnosticSink
from ringwall.model.location import Location


@dataclass
class Directive:
    name: str
    args: list[str]
    location: Location
    block: list[Directive] = field(default_factory=list)

    def sub(self, name: str) -> Directive | None:
        return next((d for d in self.block if d.name == name), None)


@dataclass
class ServerBlock:
    keys: list[str]
    location: Location
    directives: list[Directive] = field(default_factory=list)

    def plugins(self, name: str) -> list[Directive]:
        return [d for d in self.directives if d.name == name]

    @property
    def zones(self) -> list[str]:
        out = []
        for k in self.keys:
            z = re.sub(r"^[a-z]+://", "", k).rsplit(":", 1)[0] if ":" in re.sub(r"^[a-z]+://", "", k) else \
                re.sub(r"^[a-z]+://", "", k)
            out.append(z or ".")
        return out


@dataclass
class Corefile:
    path: str
    servers: list[ServerBlock] = field(default_factory=list)
    location: Location | None = None
    obj: str | None = None


def _tokens(line: str) -> list[str]:
    out: list[str] = []
    for m in re.finditer(r'"((?:[^"\\]|\\.)*)"|(\S+)', line):
        if m.group(2) is not None and m.group(2).startswith("#"):
            break
        out.append(m.group(1) if m.group(1) is not None else m.group(2))
    return out


def parse_corefile(text: str, path: str, sink: DiagnosticSink, line_offset: int = 0,
                   obj: str | None = None) -> Corefile:
    """Parse ``text``; line N of the text is reported as line ``N + line_offset`` of ``path``."""
    cf = Corefile(path, obj=obj)
    snippets: dict[str, list[tuple[int, list[str]]]] = {}
    lines: list[tuple[int, list[str]]] = []
    for i, raw in enumerate(text.splitlines(), 1):
        toks = _tokens(raw)
        # Split trailing/leading braces into their own tokens so "{" and "}" are always separate.
        split: list[str] = []
        for t in toks:
            if t != "{" and t.endswith("{"):
                split.extend([t[:-1], "{"])
            elif t != "}" and t.startswith("}"):
                split.extend(["}", t[1:]] if t[1:] else ["}"])
            else:
                split.append(t)
        if split:
            lines.append((i + line_offset, split))

    def loc(n: int) -> Location:
        return Location(path, n, None, obj)

    # First pass: cut out snippets "(name) { ... }".
    body: list[tuple[int, list[str]]] = []
    idx = 0
    while idx < len(lines):
        n, toks = lines[idx]
        if toks[0].startswith("(") and toks[0].endswith(")") and toks[-1] == "{":
            name = toks[0][1:-1]
            depth, j, content = 1, idx + 1, []
            while j < len(lines) and depth:
                depth += lines[j][1].count("{") - lines[j][1].count("}")
                if depth:
                    content.append(lines[j])
                j += 1
            snippets[name] = content
            idx = j
            continue
        body.append((n, toks))
        idx += 1

    server: ServerBlock | None = None
    stack: list[Directive] = []
    for n, toks in _expand_imports(body, snippets, sink, loc):
        if server is None:
            if toks[-1] != "{":
                sink.error("corefile.syntax", f"expected a server block (ZONE {{), got {' '.join(toks)!r}", loc(n))
                continue
            keys = toks[:-1] or ["."]
            server = ServerBlock(keys, loc(n))
            cf.servers.append(server)
            if cf.location is None:
                cf.location = loc(n)
            continue
        if toks == ["}"]:
            if stack:
                stack.pop()
            else:
                server = None
            continue
        opens = toks[-1] == "{"
        words = toks[:-1] if opens else toks
        if "}" in words or "{" in words:
            sink.error("corefile.syntax", f"unexpected brace in {' '.join(toks)!r}", loc(n))
            continue
        d = Directive(words[0], words[1:], loc(n))
        (stack[-1].block if stack else server.directives).append(d)
        if opens:
            stack.append(d)
    if server is not None or stack:
        sink.error("corefile.unclosed", "unclosed block at end of Corefile",
                   server.location if server else loc(line_offset + 1))
    return cf


def _expand_imports(body: list[tuple[int, list[str]]], snippets: dict[str, list[tuple[int, list[str]]]],
                    sink: DiagnosticSink, loc: object) -> list[tuple[int, list[str]]]:
    out: list[tuple[int, list[str]]] = []
    for n, toks in body:
        if toks[0] == "import" and len(toks) == 2 and toks[1] in snippets:
            out.extend(snippets[toks[1]])
        else:
            out.append((n, toks))
    return out


def looks_like_corefile(name: str, head: str) -> bool:
    if name == "Corefile" or name.lower().endswith(".corefile"):
        return True
    return bool(re.search(r"^\s*\S*:?\d*\s*\{\s*$", head, re.MULTILINE)) and bool(
        re.search(r"^\s+(forward|kubernetes|cache|errors)\b", head, re.MULTILINE))
