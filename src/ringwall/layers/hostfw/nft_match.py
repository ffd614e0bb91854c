"""nftables match expressions (libnftables-json(5) shapes) as predicates over the model's fields.

Payload matches carry their implicit dependency (``tcp dport 22`` implies ``meta l4proto tcp``,
``ip saddr`` implies IPv4), as nft itself adds it (hostfw-semantics §1.7, §2.3); bitmask types
follow nft's own comparison rules, including ``ct state != a,b`` (an inequality with the OR of
the bits, not a membership test).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ringwall.model import intervals as iv
from ringwall.model.intervals import Intervals

from . import values as V
from .model import (
    FALSE,
    PORT_PROTOS,
    TRUE,
    Iface,
    In,
    Masked,
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
    return FieldRef("", text=show(expr))


def show(x: Any) -> str:
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
            return f"{show(x['range'][0])}-{show(x['range'][1])}"
        if "set" in x:
            return "{ " + ", ".join(show(e) for e in x["set"]) + " }"
        if "concat" in x:
            return " . ".join(show(e) for e in x["concat"])
        k = next(iter(x), "?")
        return str(k)
    if isinstance(x, list):
        return ",".join(show(e) for e in x)
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
        raise NftError(f"unsupported value {show(v)}")
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
    text = f"{show(left)} {'' if op in ('==', 'in') else op + ' '}{show(right)}"
    if isinstance(left, dict) and "&" in left and op in ("==", "!=", "in"):
        base, mask_v = left["&"]
        ref = field_ref(base)
        if ref.name in ("tcp_flags", "mark"):
            mask = _mask_value(ref, mask_v)
            value = _mask_value(ref, right)
            p = conj(ref.dep, Masked(ref.name, mask, value & mask))
            return p if op != "!=" else conj(ref.dep, neg(Masked(ref.name, mask, value & mask)))
        return Unknown(f"nft|{text}", text, f"expression {show(base)} is not modelled")
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
    if isinstance(right, dict) and "|" in right and op in ("==", "!="):
        return conj(ref.dep, _flag_value_cmp(ref, right["|"], op == "=="))
    elems, named = _elements(right, sets)
    if named is not None and named.dynamic:
        return Unknown(f"nftset|{key}|{named.name}", text, f"set {named.name} is updated from the packet path")
    if ref.kind == "flags" and op == "==" and named is None and not isinstance(right, dict | list):
        p: Pred = In("tcp_flags", ((_mask_value(ref, right),) * 2,))
    else:
        p = value_pred(ref, elems)
    return conj(ref.dep, p if op != "!=" else neg(p))


def _flag_value_cmp(ref: FieldRef, values: list[Any], equal: bool) -> Pred:
    """``ct state != new,established``: nft compares with the OR of the bits, not membership.

    A packet has exactly one conntrack state bit, so against two or more states ``==`` never
    holds and ``!=`` always does (observed with nft 1.0.6: ``cmp neq reg 1 0x0000000a``).
    """
    if ref.kind == "state":
        states = iv.normalize(r for v in values for r in V.parse_ct_states(str(v)))
        if iv.size(states) == 1:
            p: Pred = In("ct_state", states)
        else:
            p = FALSE
    elif ref.kind == "flags":
        p = In(ref.name, ((_mask_value(ref, values),) * 2,))
    else:
        ranges = [r for v in values for r in _scalar(ref, v)]
        p = In(ref.name, iv.normalize(ranges)) if len(ranges) == 1 else FALSE
    return p if equal else neg(p)


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


