"""Reader for ``nft list ruleset`` text, ``nft -f`` files and shell scripts of ``nft`` commands.

The three share nft(8) syntax: ``table`` blocks with chains, sets and maps, and commands
(``add``/``insert``/``create``/``flush``/``delete``/``define``). A script line ``nft add rule …``
is reduced to the command it runs (shell quoting undone) and read the same way.
"""

from __future__ import annotations

import re
import shlex

from ringwall.model.diagnostics import DiagnosticSink
from ringwall.model.location import Location

from .model import Backend, Chain, NamedSet, Table
from .nft_build import add_rule, base_priority
from .nft_lex import Group, LexError, Tok, elements, group, line_of, statements, tokenize, words
from .nft_rule import element, parse_rule

FAMILIES = {"ip", "ip6", "inet", "arp", "bridge", "netdev"}
NFT_CMD = re.compile(r"^\s*(?:sudo\s+)?(?:/\S*/)?nft(\s|$)")


def unshell(text: str, path: str, sink: DiagnosticSink) -> str:
    """Turn ``nft …`` shell lines into nft commands, line for line; other shell lines are blanked."""
    lines = text.splitlines()
    if not any(NFT_CMD.match(x) for x in lines):
        return text
    out: list[str] = []
    for n, line in enumerate(lines, 1):
        if not NFT_CMD.match(line):
            stripped = line.strip()
            if stripped and not stripped.startswith("#") and not line.startswith((" ", "\t", "}")):
                sink.info("RWD-HOSTFW-050", f"not an nft command, ignored: {stripped[:60]!r}", Location(path, n))
                out.append("")
            else:
                out.append(line)
            continue
        try:
            ws = shlex.split(line.replace("\\;", ";"), posix=True)
        except ValueError:
            ws = line.split()
        while ws and ws[0] != "nft" and not ws[0].endswith("/nft"):
            ws = ws[1:]
        ws = ws[1:]
        while ws and ws[0].startswith("-") and ws[0] not in ("-f", "--file"):
            ws = ws[1:]
        if ws and ws[0] in ("-f", "--file"):
            sink.info("RWD-HOSTFW-051", f"'nft -f {ws[1] if len(ws) > 1 else ''}' not followed", Location(path, n))
            out.append("")
            continue
        out.append(" ".join(f'"{w}"' if (" " in w and "{" not in w) else w for w in ws))
    return "\n".join(out)


class NftReader:
    def __init__(self, path: str, sink: DiagnosticSink) -> None:
        self.path = path
        self.sink = sink
        self.tables: dict[tuple[str, str], Table] = {}
        self.vars: dict[str, list[Tok | Group]] = {}

    def loc(self, line: int, obj: str | None = None) -> Location:
        return Location(self.path, line or None, None, obj)

    def read(self, text: str) -> list[Table]:
        text = unshell(text, self.path, self.sink)
        try:
            root = group(tokenize(text))
        except LexError as exc:
            self.sink.error("RWD-HOSTFW-052", exc.message, self.loc(exc.line))
            return []
        for st in statements(root.items):
            self._top(st)
        for m in re.finditer(r"# Warning: table (\S+) (\S+) is managed by iptables-nft", text):
            t = self.tables.get((m.group(1), m.group(2)))
            if t is not None:
                t.backend = Backend.IPTABLES_NFT
        return list(self.tables.values())

    def _table(self, fam: str, name: str, line: int) -> Table:
        key = (fam, name)
        if key not in self.tables:
            self.tables[key] = Table(fam, name, self.loc(line, f"table {fam} {name}"), Backend.NFT)
        return self.tables[key]

    def _fam_name(self, ws: list[str]) -> tuple[str, list[str]]:
        if ws and ws[0] in FAMILIES:
            return ws[0], ws[1:]
        return "ip", ws

    def _top(self, st: list[Tok | Group]) -> None:
        ws = words(st)
        line = line_of(st)
        if not ws:
            return
        verb = ws[0]
        try:
            if verb == "table":
                self._table_block(st[1:], line)
            elif verb == "define" and len(ws) >= 3:
                self.vars[ws[1]] = [it for it in st[3:]] if ws[2] == "=" else st[2:]
            elif verb in ("add", "create", "insert", "replace"):
                self._command(verb, st[1:], line)
            elif verb == "flush":
                self._flush(ws[1:])
            elif verb in ("delete", "destroy"):
                self._delete(ws[1:], line)
            elif verb in ("include", "list"):
                self.sink.info("RWD-HOSTFW-053", f"'{verb}' not followed", self.loc(line))
            else:
                self.sink.error("RWD-HOSTFW-054", f"unexpected statement {' '.join(ws[:4])!r}", self.loc(line))
        except (ValueError, IndexError) as exc:
            self.sink.error("RWD-HOSTFW-055", f"statement not read: {exc}", self.loc(line))

    def _table_block(self, rest: list[Tok | Group], line: int) -> None:
        ws = [it.value for it in rest if isinstance(it, Tok)]
        fam, names = self._fam_name(ws)
        table = self._table(fam, names[0], line)
        body = next((it for it in rest if isinstance(it, Group)), None)
        if body is None:
            return
        for st in statements(body.items):
            sws = words(st)
            g = next((it for it in st if isinstance(it, Group)), None)
            sline = line_of(st)
            if not sws:
                continue
            if sws[0] == "chain" and len(sws) > 1:
                self._chain(table, sws[1], g, sline)
            elif sws[0] in ("set", "map") and len(sws) > 1 and g is not None:
                self._set(table, sws[1], g, sline)
            elif sws[0] in ("flags", "comment", "counter", "quota", "limit", "flowtable", "ct", "secmark",
                            "synproxy"):
                continue
            else:
                self.sink.warning("RWD-HOSTFW-056", f"unexpected {sws[0]!r} in table", self.loc(sline))

    def _chain(self, table: Table, name: str, body: Group | None, line: int) -> Chain:
        chain = table.chains.get(name)
        if chain is None:
            chain = Chain(table.family, table.name, name, self.loc(line, f"{table.ident} {name}"))
            table.chains[name] = chain
        if body is None:
            return chain
        for st in statements(body.items):
            sws = words(st)
            sline = line_of(st)
            if sws and sws[0] == "type" and "hook" in sws:
                self._chain_header(table, chain, sws, sline)
            elif sws and sws[0] == "policy" and len(sws) > 1:
                chain.policy = sws[1]
            elif sws and sws[0] in ("comment", "devices", "device"):
                continue
            else:
                self._rule(table, chain, st, sline, insert=False)
        return chain

    def _chain_header(self, table: Table, chain: Chain, ws: list[str], line: int) -> None:
        chain.type = ws[1]
        chain.hook = ws[ws.index("hook") + 1]
        if "device" in ws:
            chain.device = ws[ws.index("device") + 1].strip(",")
        prio_words = ws[ws.index("priority") + 1:] if "priority" in ws else ["0"]
        try:
            chain.priority = base_priority("".join(prio_words), table.family, chain.hook)
        except ValueError as exc:
            self.sink.warning("RWD-HOSTFW-057", str(exc), self.loc(line))
            chain.priority = 0
        if chain.policy is None:
            chain.policy = "accept"

    def _rule(self, table: Table, chain: Chain, items: list[Tok | Group], line: int, insert: bool) -> None:
        text = _text(items)
        loc = self.loc(line, f"{chain.ident}")
        try:
            stmts = parse_rule(items, self.vars)
        except (ValueError, IndexError) as exc:
            self.sink.error("RWD-HOSTFW-058", f"rule not read: {exc}", loc)
            return
        if any("match" in s and isinstance(s["match"].get("left"), dict) and "unparsed" in s["match"]["left"]
               for s in stmts):
            self.sink.warning("RWD-HOSTFW-059", "part of the rule is not understood: kept as an unknown match", loc)
        add_rule(table, chain, stmts, loc, text, self.sink, insert=insert)

    def _set(self, table: Table, name: str, body: Group, line: int) -> None:
        named = table.sets.get(name) or NamedSet(name, self.loc(line, f"{table.ident} set {name}"), ())
        for st in statements(body.items):
            sws = words(st)
            if not sws:
                continue
            if sws[0] in ("type", "typeof"):
                named.types = tuple(w for w in sws[1:] if w not in (".", ":"))
            elif sws[0] == "flags":
                flags = {f.strip(",") for w in sws[1:] for f in w.split(",")}
                named.dynamic = named.dynamic or bool({"dynamic", "timeout"} & flags)
            elif sws[0] == "timeout":
                named.dynamic = True
            elif sws[0] == "elements":
                g = next((it for it in st if isinstance(it, Group)), None)
                if g is not None:
                    named.elements.extend(element(e) for e in elements(g))
        table.sets[name] = named

    def _command(self, verb: str, rest: list[Tok | Group], line: int) -> None:
        ws = [it.value if isinstance(it, Tok) else "" for it in rest]
        what = ws[0]
        if what == "table":
            self._table_block(rest[1:], line)
            return
        fam, names = self._fam_name(ws[1:])
        off = 2 if ws[1] in FAMILIES else 1
        table = self._table(fam, names[0], line)
        if what == "chain":
            g = next((it for it in rest if isinstance(it, Group)), None)
            self._chain(table, names[1], g, line)
        elif what in ("set", "map"):
            g = next((it for it in rest if isinstance(it, Group)), None)
            self._set(table, names[1], g or Group([], line), line)
        elif what == "element":
            g = next((it for it in rest if isinstance(it, Group)), None)
            named = table.sets.get(names[1])
            if named is None or g is None:
                raise ValueError(f"element for undefined set {names[1]!r}")
            named.elements.extend(element(e) for e in elements(g))
        elif what == "rule":
            chain = table.chains.get(names[1])
            if chain is None:
                raise ValueError(f"rule for undefined chain {names[1]!r}")
            items = rest[off + 2:]
            if words(items[:1]) in (["position"], ["handle"], ["index"]):
                items = items[2:]
            self._rule(table, chain, items, line, insert=verb == "insert")
        else:
            self.sink.info("RWD-HOSTFW-060", f"'{verb} {what}' ignored", self.loc(line))

    def _flush(self, ws: list[str]) -> None:
        if ws and ws[0] == "ruleset":
            self.tables.clear()
        elif ws and ws[0] in ("table", "chain"):
            fam, names = self._fam_name(ws[1:])
            t = self.tables.get((fam, names[0]))
            if t is not None:
                for c in t.chains.values():
                    if ws[0] == "table" or c.name == names[1]:
                        c.rules.clear()

    def _delete(self, ws: list[str], line: int) -> None:
        fam, names = self._fam_name(ws[1:])
        if ws[0] == "table":
            self.tables.pop((fam, names[0]), None)
        elif ws[0] == "chain" and (fam, names[0]) in self.tables:
            self.tables[(fam, names[0])].chains.pop(names[1], None)
        else:
            self.sink.info("RWD-HOSTFW-061", f"'delete {ws[0]}' ignored", self.loc(line))


def _text(items: list[Tok | Group]) -> str:
    out: list[str] = []
    for it in items:
        if isinstance(it, Group):
            out.append("{ " + ", ".join(_text(e) for e in elements(it)) + " }")
        elif it.kind == "str":
            out.append(f'"{it.value}"')
        else:
            out.append(it.value)
    return " ".join(out)


def read_nft_text(text: str, path: str, sink: DiagnosticSink) -> list[Table]:
    return NftReader(path, sink).read(text)
