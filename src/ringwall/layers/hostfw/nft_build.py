"""Shared by both nft readers: named priorities, adding a translated rule to a chain, rule text.

A verdict-map rule becomes one model rule per key (same location, ``part`` names the key) so that
every later analysis can treat rules as (match, action) pairs; the keys are disjoint, so their
order does not matter.
"""

from __future__ import annotations

from typing import Any

from ringwall.model.diagnostics import DiagnosticSink
from ringwall.model.location import Location

from .model import Action, Backend, Chain, Kind, Rule, Table, conj
from .nft_expr import translate
from .nft_match import NftError, show

NAMED_PRIORITY = {"raw": -300, "mangle": -150, "dstnat": -100, "filter": 0, "security": 50, "srcnat": 100}
BRIDGE_PRIORITY = {"dstnat": -300, "filter": -200, "out": 100, "srcnat": 300}


def base_priority(prio: Any, family: str, hook: str) -> int:
    """``priority filter - 10`` / ``"prio": -10`` / ``mangle`` as a number."""
    if isinstance(prio, int):
        return prio
    text = str(prio).replace(" ", "")
    names = BRIDGE_PRIORITY if family == "bridge" else NAMED_PRIORITY
    for name in sorted(names, key=len, reverse=True):
        if text.startswith(name):
            rest = text[len(name):]
            return names[name] + (int(rest) if rest else 0)
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"unknown chain priority {prio!r}; 0 assumed") from None


def add_rule(table: Table, chain: Chain, stmts: list[Any], loc: Location, text: str, sink: DiagnosticSink,
             *, insert: bool = False, handle: int | None = None, comment: str | None = None) -> None:
    try:
        tr = translate(stmts, table.sets, str(loc))
    except (NftError, ValueError, KeyError, TypeError, IndexError) as exc:
        sink.error("RWD-HOSTFW-040", f"rule not read: {exc}", loc)
        return
    if tr.opaque:
        table.opaque.append(loc)
        table.backend = Backend.IPTABLES_NFT
    for name in tr.dynamic_sets:
        if name in table.sets:
            table.sets[name].dynamic = True
    new: list[Rule] = []
    base = dict(mark_set=tr.mark_set, comment=comment or tr.comment, counters=tr.counters, handle=handle,
                logs=tr.logs)
    if tr.parts:
        for label, pred, act in tr.parts:
            new.append(Rule(loc, text, conj(tr.match, pred), act, part=f"vmap {label}", **base))  # type: ignore[arg-type]
    else:
        new.append(Rule(loc, text, tr.match, tr.action, **base))  # type: ignore[arg-type]
    if insert:
        chain.rules[0:0] = new
    else:
        chain.rules.extend(new)
    if tr.action.kind is Kind.NAT and chain.type != "nat":
        sink.warning("RWD-HOSTFW-041", f"{tr.action} outside a nat chain", loc)


def render_stmts(stmts: list[Any]) -> str:
    """A readable nft-like rendering of JSON statements, for reports."""
    out: list[str] = []
    for st in stmts:
        if not isinstance(st, dict) or not st:
            continue
        name, body = next(iter(st.items()))
        if name == "match":
            op = body.get("op", "==")
            left, right = body.get("left"), body.get("right")
            if isinstance(left, dict) and "&" in left:
                lt = f"{show(left['&'][0])} & {show(left['&'][1])}"
            else:
                lt = show(left)
            out.append(f"{lt} {'' if op in ('==', 'in') else op + ' '}{show(right)}")
        elif name in ("accept", "drop", "continue", "return"):
            out.append(name)
        elif name in ("jump", "goto"):
            out.append(f"{name} {body['target'] if isinstance(body, dict) else body}")
        elif name == "reject":
            act = Action(Kind.REJECT)
            detail = ""
            if isinstance(body, dict) and body.get("type"):
                tcp = body["type"] == "tcp reset"
                detail = " with tcp reset" if tcp else f" with {body['type']} {body.get('expr', '')}"
            out.append(f"{act.kind.value}{detail}".strip())
        elif name == "vmap":
            out.append(f"{show(body.get('key'))} vmap {show(body.get('data'))}")
        elif name == "counter":
            out.append("counter")
        elif name == "log":
            prefix = body.get("prefix") if isinstance(body, dict) else None
            out.append(f'log prefix "{prefix}"' if prefix else "log")
        elif name == "xt":
            out.append(f"xt {body.get('type', '')} {body.get('name', '')}".strip() if isinstance(body, dict) else "xt")
        else:
            out.append(name if not isinstance(body, dict) else f"{name} {show(body)}".strip())
    return " ".join(out)
