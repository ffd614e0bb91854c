"""nftables statements (libnftables-json(5) shapes) turned into a rule's predicate and action.

Both nft readers meet here: the JSON reader passes ``nft -j`` statements through unchanged and
the text reader builds the same shapes, so the two formats share one meaning. Verdict maps
become one branch per key; NAT, mark setting, logging and stateful statements are kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import values as V
from .model import (
    TRUE,
    Action,
    In,
    Kind,
    MarkSet,
    NamedSet,
    Pred,
    Unknown,
    conj,
)
from .nft_match import STATEFUL, NftError, concat_pred, field_ref, match_pred, show, value_pred


@dataclass
class Translated:
    match: Pred = TRUE
    action: Action = field(default_factory=lambda: Action(Kind.CONTINUE))
    parts: list[tuple[str, Pred, Action]] = field(default_factory=list)
    """Verdict-map branches: (label, extra match, action)."""
    mark_set: MarkSet | None = None
    logs: bool = False
    comment: str | None = None
    opaque: bool = False
    counters: tuple[int, int] | None = None
    dynamic_sets: set[str] = field(default_factory=set)


# --------------------------------------------------------------------------- statements


def verdict_action(v: dict[str, Any]) -> Action | None:
    for k in ("accept", "drop", "continue", "return"):
        if k in v:
            return Action(Kind(k))
    for k in ("jump", "goto"):
        if k in v:
            tgt = v[k]["target"] if isinstance(v[k], dict) else v[k]
            return Action(Kind(k), str(tgt))
    return None


def _reject(r: dict[str, Any] | None) -> Action:
    r = r or {}
    typ, expr = r.get("type"), r.get("expr")
    detail = "with tcp reset" if typ == "tcp reset" else (f"with {typ} {expr}" if typ else "")
    return Action(Kind.REJECT, detail=detail.strip())


def translate(stmts: list[dict[str, Any]], sets: dict[str, NamedSet], key: str) -> Translated:
    """All statements of one rule, in order."""
    out = Translated()
    preds: list[Pred] = []
    for st in stmts:
        if not isinstance(st, dict) or not st:
            raise NftError(f"bad statement {st!r}")
        name = next(iter(st))
        body = st[name]
        act = verdict_action(st)
        if act is not None:
            out.action = act
        elif name == "match":
            preds.append(match_pred(body, sets, key))
        elif name == "vmap":
            _vmap(out, body, sets)
        elif name == "reject":
            out.action = _reject(body)
            if body and body.get("type") == "tcp reset":
                preds.append(In("proto", ((6, 6),)))
        elif name in ("counter",):
            if isinstance(body, dict) and "packets" in body:
                out.counters = (int(body.get("packets", 0)), int(body.get("bytes", 0)))
        elif name in ("log",):
            out.logs = True
        elif name in STATEFUL:
            if name == "queue":
                out.action = Action(Kind.QUEUE, detail=show(body) if body else "")
            else:
                preds.append(Unknown(f"{key}|{name}", f"{name} {_stmt_text(body)}".strip(), f"{name} is stateful"))
        elif name in ("snat", "dnat", "masquerade", "redirect"):
            out.action = _nat(name, body)
        elif name == "mangle":
            out.mark_set = _mangle(body, out.mark_set)
        elif name == "xt":
            out.opaque = True
            x = body or {}
            preds.append(Unknown(f"{key}|xt", f"xt {x.get('type', '')} {x.get('name', '')}".strip(),
                                 "opaque iptables-nft expression: read this table from iptables-save"))
        elif name == "set" and isinstance(body, dict):
            out.dynamic_sets.add(str(body.get("set", "")).lstrip("@"))
        elif name == "comment":
            out.comment = str(body)
        # notrack, dup, fwd, ct helper/timeout/expectation, synproxy, tproxy, secmark: no verdict here
    out.match = conj(*preds)
    return out


def _stmt_text(body: Any) -> str:
    if isinstance(body, dict):
        return " ".join(f"{k} {v}" for k, v in body.items())
    return "" if body is None else str(body)


def _vmap(out: Translated, body: dict[str, Any], sets: dict[str, NamedSet]) -> None:
    key = body.get("key")
    data = body.get("data")
    if isinstance(data, str) and data.startswith("@"):
        named = sets.get(data[1:])
        if named is None:
            raise NftError(f"map {data} is not defined")
        pairs = [e for e in named.elements]
    elif isinstance(data, dict) and "set" in data:
        pairs = data["set"]
    else:
        raise NftError("verdict map without elements")
    refs = [field_ref(x) for x in key["concat"]] if isinstance(key, dict) and "concat" in key else [field_ref(key)]
    for pair in pairs:
        k, v = pair[0], pair[1]
        act = verdict_action(v) if isinstance(v, dict) else verdict_action({str(v): None})
        if act is None:
            raise NftError(f"bad verdict {v!r} in verdict map")
        if any(not r.name for r in refs):
            p: Pred = Unknown(f"nft|vmap|{show(key)}|{show(k)}", f"{show(key)} {show(k)}", "map key not modelled")
        elif len(refs) > 1:
            p = conj(*(r.dep for r in refs), concat_pred(refs, [k]))
        else:
            p = conj(refs[0].dep, value_pred(refs[0], [k]))
        out.parts.append((f"{show(k)} : {act}", p, act))


def _nat(name: str, body: Any) -> Action:
    body = body if isinstance(body, dict) else {}
    addr_v, port_v = body.get("addr"), body.get("port")
    addr = port = None
    if isinstance(addr_v, str):
        try:
            addr = V.parse_ip(addr_v)[0]
        except ValueError:
            addr = None
    if isinstance(port_v, int):
        port = port_v
    detail = "to " + ":".join(str(x) for x in (addr_v, port_v) if x is not None) if (addr_v or port_v) else ""
    if addr_v is None and port_v is not None:
        detail = f"to :{port_v}"
    return Action(Kind.NAT, name, detail, nat_addr=addr, nat_port=port)


def _mangle(body: dict[str, Any], prev: MarkSet | None) -> MarkSet | None:
    key, value = body.get("key"), body.get("value")
    if isinstance(key, dict) and key.get("meta", {}).get("key") == "mark":
        if isinstance(value, int):
            return MarkSet(value, 0xFFFF_FFFF)
        if isinstance(value, str) and value.replace("x", "").isalnum():
            try:
                return MarkSet(int(value, 0), 0xFFFF_FFFF)
            except ValueError:
                pass
        return MarkSet(-1, 0)
    return prev
