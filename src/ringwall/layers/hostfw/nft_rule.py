"""One nft rule in text form turned into libnftables-JSON statements (then shared with the JSON reader).

Only the shapes are built here; meaning is given by ``nft_expr``. A construct this reader does
not know ends the structured part: the rest of the rule becomes one opaque match (kept as text,
evaluated as unknown) followed by the rule's verdict, so nothing vanishes.
"""

from __future__ import annotations

from typing import Any

from .nft_lex import Group, Tok, elements

PAYLOAD = {"ip", "ip6", "tcp", "udp", "udplite", "sctp", "dccp", "th", "icmp", "icmpv6", "ether", "vlan",
           "arp", "ah", "esp", "comp", "igmp", "gre", "icmpx"}
META_SHORT = {"iifname", "oifname", "iif", "oif", "mark", "iiftype", "oiftype", "skuid", "skgid", "nftrace",
              "rtclassid", "ibrname", "obrname", "pkttype", "cpu", "iifgroup", "oifgroup", "cgroup", "random",
              "ipsec", "iifkind", "oifkind", "l4proto", "nfproto", "priority"}
OPS = {"==": "==", "!=": "!=", "<": "<", ">": ">", "<=": "<=", ">=": ">=", "eq": "==", "ne": "!=",
       "lt": "<", "gt": ">", "le": "<=", "ge": ">="}
VERDICTS = {"accept", "drop", "continue", "return"}


class Unparsed(Exception):
    """This reader does not know the construct at the current position."""


class _R:
    def __init__(self, items: list[Tok | Group], vars_: dict[str, list[Tok | Group]]) -> None:
        self.items = _subst(items, vars_)
        self.i = 0

    def peek(self, k: int = 0) -> Tok | Group | None:
        j = self.i + k
        return self.items[j] if j < len(self.items) else None

    def word(self, k: int = 0) -> str | None:
        it = self.peek(k)
        return it.value if isinstance(it, Tok) else None

    def take(self) -> Tok | Group:
        it = self.peek()
        if it is None:
            raise Unparsed("unexpected end of rule")
        self.i += 1
        return it

    def take_word(self) -> str:
        it = self.take()
        if not isinstance(it, Tok):
            raise Unparsed("expected a word")
        return it.value


def _subst(items: list[Tok | Group], vars_: dict[str, list[Tok | Group]]) -> list[Tok | Group]:
    out: list[Tok | Group] = []
    for it in items:
        if isinstance(it, Tok) and it.kind == "word" and it.value.startswith("$") and it.value[1:] in vars_:
            out.extend(vars_[it.value[1:]])
        elif isinstance(it, Group):
            out.append(Group(_subst(it.items, vars_), it.line, it.end_line))
        else:
            out.append(it)
    return out


def parse_rule(items: list[Tok | Group], vars_: dict[str, list[Tok | Group]]) -> list[dict[str, Any]]:
    r = _R(items, vars_)
    stmts: list[dict[str, Any]] = []
    while r.peek() is not None:
        start = r.i
        try:
            stmts.append(_statement(r))
        except Unparsed:
            rest = [it for it in r.items[start:]]
            text, verdict = _fallback(rest)
            stmts.append({"match": {"op": "==", "left": {"unparsed": text}, "right": True}})
            stmts.extend(verdict)
            break
    return [s for s in stmts if s]


def _fallback(rest: list[Tok | Group]) -> tuple[str, list[dict[str, Any]]]:
    ws = [it.value if isinstance(it, Tok) else "{…}" for it in rest]
    verdict: list[dict[str, Any]] = []
    if ws and ws[-1] in VERDICTS:
        verdict = [{ws[-1]: None}]
        ws = ws[:-1]
    elif len(ws) >= 2 and ws[-2] in ("jump", "goto"):
        verdict = [{ws[-2]: {"target": ws[-1]}}]
        ws = ws[:-2]
    elif "reject" in ws:
        k = ws.index("reject")
        verdict = [{"reject": None}]
        ws = ws[:k]
    return " ".join(ws), verdict


def _statement(r: _R) -> dict[str, Any]:
    w = r.word()
    if w in VERDICTS:
        r.take()
        return {w: None}
    if w in ("jump", "goto"):
        r.take()
        return {w: {"target": r.take_word()}}
    if w == "reject":
        r.take()
        return {"reject": _reject_opts(r)}
    if w == "counter":
        r.take()
        return _counter(r)
    if w == "log":
        r.take()
        return {"log": _log_opts(r)}
    if w == "limit":
        r.take()
        return {"limit": _words_until_keyword(r)}
    if w == "quota":
        r.take()
        return {"quota": _words_until_keyword(r)}
    if w == "comment":
        r.take()
        return {"comment": r.take_word()}
    if w in ("snat", "dnat", "masquerade", "redirect"):
        r.take()
        return {w: _nat_opts(r)}
    if w == "notrack":
        r.take()
        return {"notrack": None}
    if w == "queue":
        r.take()
        return {"queue": _words_until_keyword(r)}
    if w in ("add", "update", "delete") and (r.word(1) or "").startswith("@"):
        r.take()
        name = r.take_word()
        if isinstance(r.peek(), Group):
            r.take()
        return {"set": {"op": w, "set": name}}
    return _expr_statement(r)


def _counter(r: _R) -> dict[str, Any]:
    if r.word() == "packets":
        r.take()
        pk = int(r.take_word())
        by = 0
        if r.word() == "bytes":
            r.take()
            by = int(r.take_word())
        return {"counter": {"packets": pk, "bytes": by}}
    if r.word() == "name":
        r.take()
        return {"counter": r.take_word()}
    return {"counter": None}


def _reject_opts(r: _R) -> dict[str, Any] | None:
    if r.word() != "with":
        return None
    r.take()
    typ = r.take_word()
    if typ == "tcp":
        r.take_word()  # reset
        return {"type": "tcp reset"}
    if r.word() == "type":
        r.take()
    return {"type": typ, "expr": r.take_word()}


LOG_OPTS = {"prefix", "level", "group", "snaplen", "queue-threshold", "flags"}


def _log_opts(r: _R) -> dict[str, Any]:
    out: dict[str, Any] = {}
    while r.word() in LOG_OPTS:
        key = r.take_word()
        out[key] = r.take_word()
    return out


KEYWORDS = VERDICTS | {"jump", "goto", "reject", "counter", "log", "limit", "quota", "comment", "snat", "dnat",
                       "masquerade", "redirect", "notrack", "queue", "meta", "ct"} | PAYLOAD | META_SHORT


def _words_until_keyword(r: _R) -> dict[str, Any]:
    ws: list[str] = []
    while (w := r.word()) is not None and w not in KEYWORDS:
        ws.append(r.take_word())
    return {"text": " ".join(ws)}


def _nat_opts(r: _R) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if r.word() in ("ip", "ip6"):
        r.take()
    if r.word() == "to":
        r.take()
        target = r.take_word()
        if target.startswith(":"):
            out["port"] = int(target[1:]) if target[1:].isdigit() else target[1:]
        elif target.startswith("["):
            host, _, port = target[1:].partition("]:")
            out["addr"] = host.rstrip("]")
            if port.isdigit():
                out["port"] = int(port)
        elif target.count(":") == 1:
            host, port = target.split(":")
            out["addr"] = host
            if port.isdigit():
                out["port"] = int(port)
        else:
            out["addr"] = target
    while r.word() in ("persistent", "random", "fully-random"):
        r.take()
    return out


def _primary(r: _R) -> dict[str, Any]:
    w = r.take_word()
    if w in PAYLOAD:
        f = r.take_word()
        if f in ("option", "hdr"):
            raise Unparsed(f"{w} {f}")
        return {"payload": {"protocol": w, "field": f}}
    if w == "meta":
        return {"meta": {"key": r.take_word()}}
    if w in META_SHORT:
        return {"meta": {"key": w}}
    if w == "ct":
        key = r.take_word()
        if key in ("original", "reply"):
            nxt = r.take_word()
            if nxt in ("ip", "ip6"):
                nxt = r.take_word()
            return {"ct": {"key": nxt, "dir": key}}
        return {"ct": {"key": key}}
    raise Unparsed(w)


def _lhs(r: _R) -> dict[str, Any]:
    e = _primary(r)
    if r.word() == ".":
        parts = [e]
        while r.word() == ".":
            r.take()
            parts.append(_primary(r))
        e = {"concat": parts}
    if r.word() in ("&", "|", "^"):
        op = r.take_word()
        if r.word() == "(":
            r.take()
            mask_words: list[str] = []
            while r.word() != ")":
                mask_words.append(r.take_word())
            r.take()
            mask: Any = [x for x in "".join(mask_words).split("|") if x]
        else:
            mask = _value(r.take_word())
        e = {op: [e, mask]}
    return e


def _value(w: str) -> Any:
    if w.isdigit():
        return int(w)
    if w.startswith("0x"):
        try:
            return int(w, 16)
        except ValueError:
            return w
    return w


def element(items: list[Tok | Group]) -> Any:
    ws = [it.value if isinstance(it, Tok) else "" for it in items]
    if ":" in ws:
        k = ws.index(":")
        key, val = ws[:k], ws[k + 1:]
        verdict: Any = {val[0]: {"target": val[1]}} if val and val[0] in ("jump", "goto") and len(val) > 1 else (
            {val[0]: None} if val and val[0] in VERDICTS else " ".join(val))
        return [_join_concat(key), verdict]
    return _join_concat(ws)


def _join_concat(ws: list[str]) -> Any:
    if "." in ws:
        parts, cur = [], []
        for x in ws:
            if x == ".":
                parts.append(_value(" ".join(cur)))
                cur = []
            else:
                cur.append(x)
        parts.append(_value(" ".join(cur)))
        return {"concat": parts}
    return _value(" ".join(ws))


def _rhs(r: _R) -> Any:
    it = r.take()
    if isinstance(it, Group):
        return {"set": [element(e) for e in elements(it)]}
    v: Any = it.value
    if it.kind == "word" and "," in v:
        v = [x for x in v.split(",") if x]
    elif it.kind == "word":
        v = _value(v)
    if r.word() == ".":
        parts = [v]
        while r.word() == ".":
            r.take()
            parts.append(_value(r.take_word()))
        return {"concat": parts}
    return v


def _expr_statement(r: _R) -> dict[str, Any]:
    lhs = _lhs(r)
    w = r.word()
    if w == "set":
        r.take()
        return {"mangle": {"key": lhs, "value": _rhs(r)}}
    if w == "vmap":
        r.take()
        data = r.take()
        if isinstance(data, Group):
            return {"vmap": {"key": lhs, "data": {"set": [element(e) for e in elements(data)]}}}
        return {"vmap": {"key": lhs, "data": data.value}}
    op = None
    if w in OPS:
        op = OPS[r.take_word()]
    rhs = _rhs(r)
    if op is not None and isinstance(rhs, list):
        rhs = {"|": rhs}  # an explicit operator compares with the OR of the flags, as nft does
    if r.word() == "/" and "payload" in lhs:  # tcp flags syn / syn,ack
        r.take()
        mask = r.take_word()
        return {"match": {"op": op or "==", "left": {"&": [lhs, mask.split(",")]}, "right": rhs}}
    if op is None:
        op = "in" if (("ct" in lhs and lhs["ct"].get("key") in ("state", "status"))
                      or lhs.get("payload", {}).get("field") == "flags") else "=="
    return {"match": {"op": op, "left": lhs, "right": rhs}}
