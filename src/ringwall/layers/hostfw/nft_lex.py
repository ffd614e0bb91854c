"""Tokens and brace groups of nft(8) syntax (``nft list ruleset`` text and ``nft -f`` files).

Newlines and ``;`` end statements; ``{ … }`` groups nest. Every token keeps its line so that each
rule, chain and set can be reported as file:line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SPECIAL = "{};()"


@dataclass(frozen=True, slots=True)
class Tok:
    kind: str  # word, str, nl, ;, (, )
    value: str
    line: int


@dataclass(slots=True)
class Group:
    items: list[Tok | Group]
    line: int
    end_line: int = 0


@dataclass(slots=True)
class LexError(Exception):
    message: str
    line: int
    extra: list[str] = field(default_factory=list)


def tokenize(text: str) -> list[Tok]:
    toks: list[Tok] = []
    i, n, line = 0, len(text), 1
    while i < n:
        ch = text[i]
        if ch == "\n":
            toks.append(Tok("nl", "\n", line))
            line += 1
            i += 1
        elif ch in " \t\r":
            i += 1
        elif ch == "\\" and i + 1 < n and text[i + 1] in "\r\n":
            i += 2 if text[i + 1] == "\n" else 3
            line += 1
        elif ch == "#":
            while i < n and text[i] != "\n":
                i += 1
        elif ch == '"':
            j = i + 1
            buf = []
            while j < n and text[j] != '"':
                if text[j] == "\\" and j + 1 < n:
                    buf.append(text[j + 1])
                    j += 2
                    continue
                if text[j] == "\n":
                    raise LexError("unterminated string", line)
                buf.append(text[j])
                j += 1
            if j >= n:
                raise LexError("unterminated string", line)
            toks.append(Tok("str", "".join(buf), line))
            i = j + 1
        elif ch in SPECIAL:
            toks.append(Tok(ch, ch, line))
            i += 1
        else:
            j = i
            while j < n and text[j] not in " \t\r\n" + SPECIAL + '"':
                j += 1
            toks.append(Tok("word", text[i:j], line))
            i = j
    return toks


def group(toks: list[Tok]) -> Group:
    """Nest ``{ … }`` into groups; an unbalanced brace raises ``LexError``."""
    stack: list[Group] = [Group([], 1)]
    for t in toks:
        if t.kind == "{":
            g = Group([], t.line)
            stack[-1].items.append(g)
            stack.append(g)
        elif t.kind == "}":
            if len(stack) == 1:
                raise LexError("unbalanced '}'", t.line)
            stack[-1].end_line = t.line
            stack.pop()
        else:
            stack[-1].items.append(t)
    if len(stack) > 1:
        raise LexError("missing '}'", stack[-1].line)
    return stack[0]


def statements(items: list[Tok | Group]) -> list[list[Tok | Group]]:
    """Split a group's items at newlines and ``;``; empty statements are dropped."""
    out: list[list[Tok | Group]] = []
    cur: list[Tok | Group] = []
    for it in items:
        if isinstance(it, Tok) and it.kind in ("nl", ";"):
            if cur:
                out.append(cur)
                cur = []
        else:
            cur.append(it)
    if cur:
        out.append(cur)
    return out


def line_of(items: list[Tok | Group]) -> int:
    for it in items:
        return it.line
    return 0


def words(items: list[Tok | Group]) -> list[str]:
    return [it.value for it in items if isinstance(it, Tok)]


def elements(g: Group) -> list[list[Tok | Group]]:
    """The comma-separated elements of a set group (newlines ignored)."""
    out: list[list[Tok | Group]] = []
    cur: list[Tok | Group] = []
    for it in g.items:
        if isinstance(it, Tok) and it.kind in ("nl", ";"):
            continue
        if isinstance(it, Tok) and it.kind == "word" and "," in it.value:
            parts = it.value.split(",")
            for k, p in enumerate(parts):
                if p:
                    cur.append(Tok("word", p, it.line))
                if k < len(parts) - 1 and cur:
                    out.append(cur)
                    cur = []
            continue
        cur.append(it)
    if cur:
        out.append(cur)
    return out
