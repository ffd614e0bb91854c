"""nftables statements (libnftables-json(5) shapes) turned into predicates and actions.

Both nft readers meet here: the JSON reader passes ``nft -j`` statements through unchanged and
the text reader builds the same shapes, so the two formats share one meaning. Payload matches
carry their implicit dependency (``tcp dport 22`` implies ``meta l4proto tcp``, ``ip saddr``
implies IPv4), as nft itself adds it (hostfw-semantics §1.7, §2.3).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ringwall.model import intervals as iv
from ringwall.model.intervals import Intervals

from . import values as V
from .model import (
    FALSE,
    PORT_PROTOS,
    TRUE,
    Action,
    Iface,
    In,
    Kind,
    Masked,
    MarkSet,
    NamedSet,
    Pred,
    Unknown,
    conj,
    disj,
    neg,
)

PROTO_OF = {"tcp": 6, "udp": 17, "sctp": 132, "dccp": 33, "udplite": 136, "icmp": 1, "icmpv6": 58}
STATEFUL = {"limit", "quota", "ct count", "meter", "numgen", "queue"}


class NftError(ValueError):
    """A statement that cannot be read at all."""


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


@dataclass(frozen=True)
class FieldRef:
    """A left-hand side resolved to a model field plus its implicit dependency."""

    name: str  # model field, or "" when not modelled
    dep: Pred = TRUE
    kind: str = "num"  # num, addr, iface, state, family, flags, mark
    text: str = ""


def _payload(proto: str, fld: str) -> FieldRef:
    text = f"{proto} {fld}"
    if proto in ("ip", "ip6") and fld in ("saddr", "daddr"):
        return FieldRef(fld, In("family", ((4, 4),) if proto == "ip" else ((6, 6),)), "addr", text)
    if (proto, fld) in (("ip", "protocol"), ("ip6", "nexthdr")):
        return FieldRef("proto", In("family", ((4, 4),) if proto == "ip" else ((6, 6),)), "proto", text)
    if fld in ("sport", "dport") and proto in PROTO_OF:
        p = PROTO_OF[proto]
        return FieldRef(fld, In("proto", ((p, p),)), "port", text)
    if fld in ("sport", "dport") and proto == "th":
        return FieldRef(fld, In("proto", tuple((p, p) for p in sorted(PORT_PROTOS))), "port", text)
    if proto == "tcp" and fld == "flags":
        return FieldRef("tcp_flags", In("proto", ((6, 6),)), "flags", text)
    if proto in ("icmp", "icmpv6") and fld in ("type", "code"):
        p = PROTO_OF[proto]
        return FieldRef(f"icmp_{fld}", In("proto", ((p, p),)), "icmpv6" if proto == "icmpv6" else "icmp", text)
    return FieldRef("", TRUE, "", text)


def field_ref(expr: Any) -> FieldRef:
    if isinstance(expr, dict):
        if "payload" in expr:
            pl = expr["payload"]
            if "protocol" in pl:
                return _payload(pl["protocol"], pl.get("field", ""))
            return FieldRef("", text=f"@{pl.get('base')},{pl.get('offset')},{pl.get('len')}")
        if "meta" in expr:
            key = expr["meta"].get("key", "")
            if key == "l4proto":
                return FieldRef("proto", kind="proto", text="meta l4proto")
            if key in ("iifname", "iif", "oifname", "oif"):
                return FieldRef(key[:3], kind="iface", text=f"meta {key}")
            if key == "mark":
                return FieldRef("mark", kind="mark", text="meta mark")
            if key in ("nfproto", "protocol"):
                return FieldRef("family", kind="family", text=f"meta {key}")
            return FieldRef("", text=f"meta {key}")
        if "ct" in expr:
            key = expr["ct"].get("key", "")
            if key == "state":
                return FieldRef("ct_state", kind="state", text="ct state")
            return FieldRef("", text=f"ct {key}")
    return FieldRef("", text=_show(expr))


def _show(x: Any) -> str:
    if isinstance(x, dict):
        if "payload" in x and "protocol" in x["payload"]:
            return f"{x['payload']['protocol']} {x['payload'].get('field', '')}"
        if "meta" in x:
            return f"meta {x['meta'].get('key')}"
        if "ct" in x:
            return f"ct {x['ct'].get('key')}"
        if "prefix" in x:
            return f"{x['prefix']['addr']}/{x['prefix']['len']}"
        if "range" in x:
            return f"{_show(x['range'][0])}-{_show(x['range'][1])}"
        if "set" in x:
            return "{ " + ", ".join(_show(e) for e in x["set"]) + " }"
        if "concat" in x:
            return " . ".join(_show(e) for e in x["concat"])
        k = next(iter(x), "?")
        return str(k)
    if isinstance(x, list):
        return ",".join(_show(e) for e in x)
    return str(x)


# --------------------------------------------------------------------------- values


def _scalar(ref: FieldRef, v: Any) -> Intervals:
    """One right-hand value for a numeric field, as intervals."""
    if isinstance(v, dict):
        if "prefix" in v:
            return V.parse_net(f"{v['prefix']['addr']}/{v['prefix']['len']}")[0]
        if "range" in v:
            lo, hi = (_scalar(ref, v["range"][0]), _scalar(ref, v["range"][1]))
            return ((lo[0][0], hi[-1][1]),)
        raise NftError(f"unsupported value {_show(v)}")
    if isinstance(v, bool):
        v = int(v)
    if isinstance(v, int):
        return ((v, v),)
    s = str(v)
    kind = ref.kind
    if kind == "addr":
        return V.parse_net(s)[0]
    if kind == "port":
        return (V.parse_port_range(s, "-"),) if "-" in s and s not in V.SERVICES else ((V.parse_port(s),) * 2,)
    if kind == "proto":
        p = V.parse_proto(s)
        if p is None:
            raise NftError(f"bad protocol {s!r}")
        return ((p, p),)
    if kind == "family":
        fam = {"ipv4": 4, "ip": 4, "ipv6": 6, "ip6": 6}.get(s)
        if fam is None:
            raise NftError(f"family {s!r} is not modelled")
        return ((fam, fam),)
    if kind == "state":
        return V.parse_ct_states(s)
    if kind in ("icmp", "icmpv6") and not s.isdigit():
        table = V.ICMPV6_TYPES if kind == "icmpv6" else V.ICMP_TYPES
        if ref.name == "icmp_type" and s in table:
            t = table[s][0]
            return ((t, t),)
        codes = {"net-unreachable": 0, "host-unreachable": 1, "prot-unreachable": 2, "port-unreachable": 3,
                 "net-prohibited": 9, "host-prohibited": 10, "admin-prohibited": 13, "no-route": 0,
                 "addr-unreachable": 3, "policy-fail": 5, "reject-route": 6}
        if s in codes:
            return ((codes[s], codes[s]),)
        raise NftError(f"unknown ICMP value {s!r}")
    if kind == "flags":
        f = V.parse_tcp_flags(s)
        return ((f, f),)
    if "-" in s and not s.startswith("-"):
        a, b = s.split("-", 1)
        return ((int(a, 0), int(b, 0)),)
    return ((int(s, 0),) * 2,)


def _iface_pred(ref: FieldRef, values: list[Any]) -> Pred:
    names, prefixes = [], []
    for v in values:
        s = str(v)
        if s.endswith("*") and not s.endswith("\\*"):
            prefixes.append(s[:-1])
        else:
            names.append(s.replace("\\*", "*"))
    if "" in prefixes:
        return TRUE
    return Iface(ref.name, tuple(names), tuple(prefixes))


def _elements(right: Any, sets: dict[str, NamedSet]) -> tuple[list[Any], NamedSet | None]:
    if isinstance(right, str) and right.startswith("@"):
        named = sets.get(right[1:])
        if named is None:
            raise NftError(f"set {right} is not defined")
        return [e[0] if isinstance(e, tuple) and len(e) == 1 else e for e in named.elements], named
    if isinstance(right, dict) and "set" in right:
        return list(right["set"]), None
    if isinstance(right, list):
        return list(right), None
    return [right], None


def _elem_key(e: Any) -> Any:
    if isinstance(e, dict) and "elem" in e:
        return e["elem"].get("val")
    return e


def value_pred(ref: FieldRef, values: list[Any]) -> Pred:
    """Membership of one field in a list of values."""
    values = [_elem_key(v) for v in values]
    if ref.kind == "iface":
        return _iface_pred(ref, values)
    if ref.kind == "mark":
        return disj(*(Masked("mark", 0xFFFF_FFFF, int(str(v), 0)) if not isinstance(v, dict)
                      else In("mark", _scalar(ref, v)) for v in values))
    if ref.kind == "flags":
        mask = 0
        for v in values:
            mask |= V.parse_tcp_flags(str(v)) if not isinstance(v, int) else v
        return neg(Masked("tcp_flags", mask, 0))
    ranges: list[tuple[int, int]] = []
    for v in values:
        ranges.extend(_scalar(ref, v))
    return In(ref.name, iv.normalize(ranges))


def concat_pred(refs: list[FieldRef], elements: list[Any]) -> Pred:
    out: list[Pred] = []
    for e in elements:
        e = _elem_key(e)
        parts = e["concat"] if isinstance(e, dict) and "concat" in e else e
        if not isinstance(parts, list | tuple) or len(parts) != len(refs):
            raise NftError("concatenation element does not match its key")
        out.append(conj(*(value_pred(r, [p]) for r, p in zip(refs, parts, strict=True))))
    return disj(*out)


def _cmp(ref: FieldRef, op: str, right: Any) -> Pred:
    (lo, hi), = _scalar(ref, right)[:1]
    top = (1 << 128) - 1 if ref.kind == "addr" else 0xFFFF_FFFF
    if op == "<":
        return In(ref.name, ((0, lo - 1),)) if lo > 0 else FALSE
    if op == "<=":
        return In(ref.name, ((0, hi),))
    if op == ">":
        return In(ref.name, ((hi + 1, top),))
    return In(ref.name, ((lo, top),))


def match_pred(m: dict[str, Any], sets: dict[str, NamedSet], key: str) -> Pred:
    """One ``match`` statement (op, left, right) as a predicate."""
    op = m.get("op", "==")
    left, right = m.get("left"), m.get("right")
    if isinstance(left, dict) and "unparsed" in left:
        text = str(left["unparsed"])
        return Unknown(f"nft|{text}", text, "construct not understood by this reader")
    text = f"{_show(left)} {'' if op in ('==', 'in') else op + ' '}{_show(right)}"
    if isinstance(left, dict) and "&" in left and op in ("==", "!=", "in"):
        base, mask_v = left["&"]
        ref = field_ref(base)
        if ref.name in ("tcp_flags", "mark"):
            mask = _mask_value(ref, mask_v)
            value = _mask_value(ref, right)
            p = conj(ref.dep, Masked(ref.name, mask, value & mask))
            return p if op != "!=" else conj(ref.dep, neg(Masked(ref.name, mask, value & mask)))
        return Unknown(f"nft|{text}", text, f"expression {_show(base)} is not modelled")
    if isinstance(left, dict) and "concat" in left:
        refs = [field_ref(x) for x in left["concat"]]
        if any(not r.name for r in refs):
            return Unknown(f"nft|{text}", text, "concatenation over fields that are not modelled")
        elems, named = _elements(right, sets)
        if named is not None and named.dynamic:
            return Unknown(f"nftset|{key}|{named.name}", text, f"set {named.name} is updated from the packet path")
        p = concat_pred(refs, elems)
        return conj(*(r.dep for r in refs), p if op != "!=" else neg(p))
    ref = field_ref(left)
    if not ref.name:
        return Unknown(f"nft|{text}", text, f"expression {ref.text} is not modelled")
    if op in ("<", ">", "<=", ">="):
        return conj(ref.dep, _cmp(ref, op, right))
    elems, named = _elements(right, sets)
    if named is not None and named.dynamic:
        return Unknown(f"nftset|{key}|{named.name}", text, f"set {named.name} is updated from the packet path")
    if ref.kind == "flags" and op == "==" and named is None and not isinstance(right, dict | list):
        p: Pred = In("tcp_flags", ((_mask_value(ref, right),) * 2,))
    else:
        p = value_pred(ref, elems)
    return conj(ref.dep, p if op != "!=" else neg(p))


def _mask_value(ref: FieldRef, v: Any) -> int:
    if isinstance(v, list):
        out = 0
        for x in v:
            out |= _mask_value(ref, x)
        return out
    if isinstance(v, int):
        return v
    if ref.kind == "flags":
        return V.parse_tcp_flags(str(v))
    return int(str(v), 0)


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
                out.action = Action(Kind.QUEUE, detail=_show(body) if body else "")
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
            p: Pred = Unknown(f"nft|vmap|{_show(key)}|{_show(k)}", f"{_show(key)} {_show(k)}", "map key not modelled")
        elif len(refs) > 1:
            p = conj(*(r.dep for r in refs), concat_pred(refs, [k]))
        else:
            p = conj(refs[0].dep, value_pred(refs[0], [k]))
        out.parts.append((f"{_show(k)} : {act}", p, act))


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
