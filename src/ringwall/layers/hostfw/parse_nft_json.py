"""Reader for ``nft -j list ruleset`` (libnftables JSON schema 1), also with command wrappers.

JSON has no line structure worth the name (``nft -j`` prints one line), so each object's line
and column come from the position of its key in the raw text, found in document order. Tables
that contain opaque ``xt`` expressions are marked as iptables-nft tables (hostfw-semantics §1.12).
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from ringwall.model.diagnostics import DiagnosticSink
from ringwall.model.location import Location

from .model import Backend, Chain, NamedSet, Table
from .nft_build import add_rule, base_priority, render_stmts

COMMANDS = ("add", "insert", "create", "replace", "delete", "list", "reset", "flush", "rename", "destroy")


class _Positions:
    """Line/column of the k-th occurrence of each object key, in document order."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.found: dict[str, list[int]] = {}
        self.next: dict[str, int] = {}
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def take(self, key: str, path: str, obj: str) -> Location:
        if key not in self.found:
            self.found[key] = [m.start() for m in re.finditer(rf'"{re.escape(key)}"\s*:', self.text)]
        k = self.next.get(key, 0)
        self.next[key] = k + 1
        offs = self.found[key]
        if k >= len(offs):
            return Location(path, None, None, obj)
        pos = offs[k]
        lo, hi = 0, len(self.line_starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.line_starts[mid] <= pos:
                lo = mid
            else:
                hi = mid - 1
        return Location(path, lo + 1, pos - self.line_starts[lo] + 1, obj)


def read_nft_json(text: str, path: str, sink: DiagnosticSink) -> list[Table]:
    try:
        doc = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        line = text.count("\n", 0, exc.pos) + 1 if hasattr(exc, "pos") else None
        sink.error("RWD-HOSTFW-030", f"not valid JSON: {exc.msg if hasattr(exc, 'msg') else exc}",
                   Location(path, line))
        return []
    if not isinstance(doc, dict) or not isinstance(doc.get("nftables"), list):
        sink.error("RWD-HOSTFW-031", 'expected {"nftables": [...]}', Location(path, 1))
        return []
    pos = _Positions(text)
    tables: dict[tuple[str, str], Table] = {}
    rules: list[tuple[dict[str, Any], Location, str]] = []
    for item in doc["nftables"]:
        if not isinstance(item, dict) or not item:
            continue
        verb = "add"
        kind, body = next(iter(item.items()))
        if kind in COMMANDS and isinstance(body, dict) and body:
            verb = kind
            kind, body = next(iter(body.items()))
        if kind == "metainfo":
            continue
        loc = pos.take(kind, path, kind)
        if not isinstance(body, dict):
            sink.error("RWD-HOSTFW-032", f"{kind}: expected an object", loc)
            continue
        if verb in ("delete", "list", "reset", "destroy"):
            sink.info("RWD-HOSTFW-033", f"'{verb} {kind}' command ignored", loc)
            continue
        if kind == "rule":
            rules.append((body, loc, verb))
            continue
        fam, tname = body.get("family", "ip"), body.get("table") or body.get("name")
        if kind == "table":
            if verb == "flush":
                continue
            tables.setdefault((fam, body.get("name", "")), Table(fam, body.get("name", ""), loc, Backend.NFT))
            continue
        table = tables.setdefault((fam, str(tname)), Table(fam, str(tname), loc, Backend.NFT))
        if kind == "chain":
            _chain(table, body, loc, sink)
        elif kind in ("set", "map"):
            _set(table, body, loc)
        elif kind == "element":
            named = table.sets.get(str(body.get("name")))
            if named is None:
                sink.error("RWD-HOSTFW-034", f"element for undefined set {body.get('name')!r}", loc)
            else:
                named.elements.extend(body.get("elem", []))
    for body, loc, verb in rules:
        fam, tname = body.get("family", "ip"), str(body.get("table"))
        table = tables.get((fam, tname))
        chain = table.chains.get(str(body.get("chain"))) if table else None
        if table is None or chain is None:
            sink.error("RWD-HOSTFW-035", f"rule for unknown chain {fam} {tname} {body.get('chain')}", loc)
            continue
        handle = body.get("handle")
        loc = Location(loc.path, loc.line, loc.column, f"{chain.ident} handle {handle}" if handle else chain.ident)
        text = _rule_text(body)
        add_rule(table, chain, body.get("expr", []), loc, text, sink, insert=verb == "insert",
                 handle=handle if isinstance(handle, int) else None, comment=body.get("comment"))
    return list(tables.values())


def _chain(table: Table, body: dict[str, Any], loc: Location, sink: DiagnosticSink) -> None:
    name = str(body.get("name"))
    chain = table.chains.get(name) or Chain(table.family, table.name, name, loc)
    if "hook" in body:
        chain.hook = str(body["hook"])
        chain.type = str(body.get("type", "filter"))
        prio = body.get("prio", 0)
        try:
            chain.priority = base_priority(prio, table.family, chain.hook)
        except ValueError as exc:
            sink.warning("RWD-HOSTFW-036", str(exc), loc)
            chain.priority = 0
        chain.policy = str(body.get("policy", "accept"))
        chain.device = body.get("dev")
    table.chains[name] = chain


def _set(table: Table, body: dict[str, Any], loc: Location) -> None:
    typ = body.get("type", "")
    types = tuple(typ) if isinstance(typ, list) else (str(typ),)
    flags = body.get("flags", [])
    flags = [flags] if isinstance(flags, str) else list(flags)
    named = NamedSet(str(body.get("name")), loc, types, list(body.get("elem", [])),
                     dynamic=bool({"dynamic", "timeout"} & set(flags)) or "timeout" in body)
    table.sets[named.name] = named


def _rule_text(body: dict[str, Any]) -> str:
    return render_stmts(body.get("expr", []))
