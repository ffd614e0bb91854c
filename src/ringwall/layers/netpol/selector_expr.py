"""Calico's selector expression language, parsed once into a predicate over label dicts.

Calico selects endpoints and namespaces with expressions such as
``app == 'web' && (tier in {'a', 'b'} || !has(legacy))`` instead of Kubernetes label selectors.
The engine needs a yes/no answer per equivalence class, so an expression is parsed into a small
tree of frozen nodes (hashable: the engine caches masks by ``(namespace, expression)``) and
evaluated on a class's labels.

Semantics (Calico reference, "Selectors"):
- ``k == 'v'``: label k present with value v; ``k != 'v'``: k absent or value not v;
- ``k in {..}``: present with a listed value; ``k not in {..}``: absent or value not listed;
- ``has(k)`` / ``!has(k)``; ``k contains 's'``, ``k starts with 's'``, ``k ends with 's'``;
- ``all()``: everything; ``global()``: non-namespaced resources (matches no pod or namespace here);
- ``!``, ``&&``, ``||`` (``&&`` binds tighter) and parentheses. An empty selector is ``all()``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache


class ExprError(ValueError):
    """The expression does not parse; Calico's API server rejects such a policy."""


@dataclass(frozen=True, slots=True)
class Expr:
    """One node: ``op`` is one of all, global, has, eq, ne, in, notin, contains, starts, ends,
    not, and, or; ``key``/``values`` for label tests, ``args`` for the logical operators."""

    op: str
    key: str = ""
    values: tuple[str, ...] = ()
    args: tuple[Expr, ...] = ()
    text: str = ""

    def matches(self, labels: Mapping[str, str], is_global: bool = False) -> bool:
        """``is_global``: the labels are those of a non-namespaced resource (a GlobalNetworkSet seen by a
        ``namespaceSelector``), which only ``global()`` matches."""
        op = self.op
        if op == "all":
            return True
        if op == "global":
            return is_global
        if op == "and":
            return all(a.matches(labels, is_global) for a in self.args)
        if op == "or":
            return any(a.matches(labels, is_global) for a in self.args)
        if op == "not":
            return not self.args[0].matches(labels, is_global)
        value = labels.get(self.key)
        if op == "has":
            return value is not None
        if op == "ne":
            return value != self.values[0]
        if op == "notin":
            return value not in self.values
        if value is None:
            return False
        if op == "eq":
            return value == self.values[0]
        if op == "in":
            return value in self.values
        if op == "contains":
            return self.values[0] in value
        if op == "starts":
            return value.startswith(self.values[0])
        return value.endswith(self.values[0])  # ends

    @property
    def is_all(self) -> bool:
        return self.op == "all"

    def __str__(self) -> str:
        return self.text or self.op


ALL_EXPR = Expr("all", text="all()")

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>'[^']*'|"[^"]*")
      | (?P<op>&&|\|\||==|!=|[!(){},])
      | (?P<word>[A-Za-z0-9_./\-]+)
    )""",
    re.VERBOSE,
)


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise ExprError(f"unexpected character {text[pos:].strip()[:1]!r} at offset {pos}")
        pos = m.end()
        kind = m.lastgroup or ""
        value = m.group(kind)
        if kind == "str":
            value = value[1:-1]
        out.append((kind, value))
    return out


class _Parser:
    def __init__(self, text: str):
        self.toks = _tokens(text)
        self.i = 0

    def peek(self, offset: int = 0) -> tuple[str, str]:
        j = self.i + offset
        return self.toks[j] if j < len(self.toks) else ("end", "")

    def take(self, kind: str, value: str | None = None) -> str:
        k, v = self.peek()
        if k != kind or (value is not None and v != value):
            raise ExprError(f"expected {value or kind}, found {v or 'end of expression'!r}")
        self.i += 1
        return v

    def parse(self) -> Expr:
        if not self.toks:
            return ALL_EXPR
        e = self.or_()
        if self.peek()[0] != "end":
            raise ExprError(f"unexpected {self.peek()[1]!r}")
        return e

    def or_(self) -> Expr:
        args = [self.and_()]
        while self.peek() == ("op", "||"):
            self.i += 1
            args.append(self.and_())
        return args[0] if len(args) == 1 else Expr("or", args=tuple(args))

    def and_(self) -> Expr:
        args = [self.unary()]
        while self.peek() == ("op", "&&"):
            self.i += 1
            args.append(self.unary())
        return args[0] if len(args) == 1 else Expr("and", args=tuple(args))

    def unary(self) -> Expr:
        if self.peek() == ("op", "!"):
            self.i += 1
            return Expr("not", args=(self.unary(),))
        if self.peek() == ("op", "("):
            self.i += 1
            e = self.or_()
            self.take("op", ")")
            return e
        kind, word = self.peek()
        if kind != "word":
            raise ExprError(f"expected a label test, found {word or 'end of expression'!r}")
        self.i += 1
        if word in ("all", "global", "has") and self.peek() == ("op", "("):
            self.i += 1
            if word == "has":
                key = self.take("word")
                self.take("op", ")")
                return Expr("has", key)
            self.take("op", ")")
            return Expr(word)
        key = word
        k, v = self.peek()
        if (k, v) in (("op", "=="), ("op", "!=")):
            self.i += 1
            return Expr("eq" if v == "==" else "ne", key, (self.take("str"),))
        if (k, v) == ("word", "in"):
            self.i += 1
            return Expr("in", key, self._set())
        if (k, v) == ("word", "not") and self.peek(1) == ("word", "in"):
            self.i += 2
            return Expr("notin", key, self._set())
        if (k, v) == ("word", "contains"):
            self.i += 1
            return Expr("contains", key, (self.take("str"),))
        if (k, v) in (("word", "starts"), ("word", "ends")) and self.peek(1) == ("word", "with"):
            self.i += 2
            return Expr("starts" if v == "starts" else "ends", key, (self.take("str"),))
        raise ExprError(f"expected an operator after {key!r}, found {v or 'end of expression'!r}")

    def _set(self) -> tuple[str, ...]:
        self.take("op", "{")
        values: list[str] = []
        if self.peek() != ("op", "}"):
            values.append(self.take("str"))
            while self.peek() == ("op", ","):
                self.i += 1
                values.append(self.take("str"))
        self.take("op", "}")
        return tuple(sorted(set(values)))


@lru_cache(maxsize=4096)
def parse_expr(text: str) -> Expr:
    """Parse a Calico selector; an empty or blank string is ``all()``. Raises ``ExprError``."""
    e = _Parser(text or "").parse()
    if e is ALL_EXPR:
        return e
    return Expr(e.op, e.key, e.values, e.args, " ".join(text.split()))


def mentions_key(expr: Expr, key: str) -> bool:
    """Whether the expression tests label ``key`` (used to decide what a class key must hold)."""
    if expr.key == key:
        return True
    return any(mentions_key(a, key) for a in expr.args)


def mentions_prefix(expr: Expr, prefix: str) -> bool:
    """Whether the expression tests a label whose key starts with ``prefix`` (``pcsa.``)."""
    if expr.key.startswith(prefix) and expr.key:
        return True
    return any(mentions_prefix(a, prefix) for a in expr.args)
