"""One iptables rule specification (the words after ``-A CHAIN``) turned into a predicate and a target.

Shared by the iptables-save reader and the iptables command-script reader. Matches follow
iptables-extensions(8); modules the model cannot evaluate (limit, recent, owner, physdev, …)
become ``Unknown`` atoms that keep their text, never silently true or false.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ringwall.model import intervals as iv

from . import values as V
from .model import (
    FALSE,
    PORT_PROTOS,
    TRUE,
    Iface,
    In,
    Masked,
    Pred,
    Unknown,
    conj,
    disj,
    neg,
)

TOP_FLAGS = {
    "-s", "--source", "--src", "-d", "--destination", "--dst", "-p", "--protocol", "-i", "--in-interface",
    "-o", "--out-interface", "-f", "--fragment", "-4", "--ipv4", "-6", "--ipv6", "-c", "--set-counters",
}
STATEFUL_MODULES = {"limit", "hashlimit", "recent", "connlimit", "quota", "statistic", "connbytes", "nfacct",
                    "rateest", "time"}
IpsetResolver = Callable[[str, list[str], int], Pred | None]
"""(set name, direction flags, family) -> predicate, or None when the set's contents are unknown."""


@dataclass
class RuleSpec:
    match: Pred = TRUE
    target: str | None = None
    goto: bool = False
    target_opts: dict[str, str] = field(default_factory=dict)
    comment: str | None = None
    family_only: int | None = None  # -4 / -6
    counters: tuple[int, int] | None = None
    warnings: list[str] = field(default_factory=list)


class RuleError(ValueError):
    """The rule cannot be read; the message says why."""


def _iface(name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if name.endswith("+"):
        return (), (name[:-1],)
    return (name,), ()


class _Parser:
    def __init__(self, tokens: list[str], family: int, key: str, ipsets: IpsetResolver | None) -> None:
        self.toks = tokens
        self.i = 0
        self.family = family
        self.key = key  # location text, for per-occurrence unknown atoms
        self.ipsets = ipsets
        self.spec = RuleSpec()
        self.preds: list[Pred] = []
        self.proto: int | None = None

    # -- token helpers
    def peek(self, k: int = 0) -> str | None:
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else None

    def take(self, what: str) -> str:
        tok = self.peek()
        if tok is None:
            raise RuleError(f"{what} needs a value")
        self.i += 1
        return tok

    def add(self, pred: Pred, negate: bool) -> None:
        self.preds.append(neg(pred) if negate else pred)

    # -- main loop
    def parse(self) -> RuleSpec:
        while self.peek() is not None:
            negate = False
            tok = self.take("option")
            if tok == "!":
                negate = True
                tok = self.take("'!'")
            val_neg = False
            if tok in ("-m", "--match"):
                self.module(self.take("-m"), negate)
            elif tok in ("-j", "--jump", "-g", "--goto"):
                self.target(tok, negate)
            elif tok in TOP_FLAGS:
                if tok in ("-f", "--fragment"):
                    # conntrack defragments before filter chains run: they never see fragments
                    self.add(FALSE, negate)
                    continue
                if tok in ("-4", "--ipv4", "-6", "--ipv6"):
                    self.spec.family_only = 4 if tok in ("-4", "--ipv4") else 6
                    continue
                if tok in ("-c", "--set-counters"):
                    pk, by = self.take(tok), self.take(tok)
                    self.spec.counters = (int(pk), int(by))
                    continue
                value = self.take(tok)
                if value == "!":  # old form: -s ! 10.0.0.0/8
                    val_neg, value = True, self.take(tok)
                self.top(tok, value, negate ^ val_neg)
            elif tok.startswith("--"):
                # a module option without -m (scripts): tcp/udp/icmp options imply the protocol module
                self.i -= 1
                implicit = V.proto_name(self.proto) if self.proto is not None else "tcp"
                if self.proto == 58:
                    implicit = "icmp6"
                self.module(implicit, negate, implicit_module=True)
            else:
                raise RuleError(f"unexpected word {tok!r}")
        self.spec.match = conj(*self.preds)
        return self.spec

    def top(self, flag: str, value: str, negate: bool) -> None:
        if flag in ("-s", "--source", "--src", "-d", "--destination", "--dst"):
            fld = "saddr" if flag in ("-s", "--source", "--src") else "daddr"
            ranges: list[tuple[int, int]] = []
            for part in value.split(","):
                r, fam = V.parse_net(part)
                if fam != self.family:
                    raise RuleError(f"IPv{fam} address {part!r} in an IPv{self.family} ruleset")
                ranges.extend(r)
            self.add(In(fld, iv.normalize(ranges)), negate)
        elif flag in ("-p", "--protocol"):
            proto = V.parse_proto(value)
            if proto is None:
                self.add(FALSE if negate else TRUE, False)
                return
            if not negate:
                self.proto = proto
            self.add(In("proto", ((proto, proto),)), negate)
        elif flag in ("-i", "--in-interface", "-o", "--out-interface"):
            names, prefixes = _iface(value)
            fld = "iif" if flag in ("-i", "--in-interface") else "oif"
            if prefixes == ("",):
                self.add(FALSE if negate else TRUE, False)  # "-i +" is any interface
                return
            self.add(Iface(fld, names, prefixes), negate)

    # -- matches
    def module_tokens(self) -> list[str]:
        out: list[str] = []
        while (tok := self.peek()) is not None:
            if tok in ("-m", "--match", "-j", "--jump", "-g", "--goto") or tok in TOP_FLAGS:
                break
            if tok == "!" and (self.peek(1) in TOP_FLAGS or self.peek(1) in ("-m", "--match")):
                break
            out.append(tok)
            self.i += 1
        return out

    def module(self, name: str, negate_module: bool, implicit_module: bool = False) -> None:
        toks = self.module_tokens()
        text = ("" if implicit_module else f"-m {name} ") + " ".join(toks)
        if negate_module:
            raise RuleError(f"'!' before -m {name} is not valid")
        handler = MODULES.get(name)
        if handler is None:
            self.unknown(name, text.strip())
            return
        try:
            handler(self, _Opts(toks, name))
        except _NotModelled:
            self.unknown(name, text.strip())

    def unknown(self, name: str, text: str) -> None:
        key = f"{self.key}|{text}" if name in STATEFUL_MODULES else f"ipt|{self.family}|{text}"
        self.preds.append(Unknown(key, text, f"match module {name} is not modelled"))

    def target(self, flag: str, negate: bool) -> None:
        if negate:
            raise RuleError("'!' before a target is not valid")
        self.spec.target = self.take(flag)
        self.spec.goto = flag in ("-g", "--goto")
        while (tok := self.peek()) is not None and tok.startswith("--"):
            self.i += 1
            nxt = self.peek()
            if nxt is None or nxt.startswith("--") or nxt in TOP_FLAGS or nxt in ("-m", "-j", "!"):
                self.spec.target_opts[tok] = ""
            else:
                self.spec.target_opts[tok] = self.take(tok)


class _NotModelled(Exception):
    """A known module used with an option the model does not evaluate."""


class _Opts:
    """The options of one module occurrence, read in order with their ``!``."""

    def __init__(self, toks: list[str], module: str) -> None:
        self.toks = toks
        self.module = module
        self.i = 0

    def __iter__(self) -> _Opts:
        return self

    def __next__(self) -> tuple[str, bool]:
        if self.i >= len(self.toks):
            raise StopIteration
        negate = False
        tok = self.toks[self.i]
        self.i += 1
        if tok == "!":
            negate = True
            tok = self.value(tok)
        return tok, negate

    def value(self, opt: str) -> str:
        if self.i >= len(self.toks):
            raise RuleError(f"{opt} needs a value")
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def value_neg(self, opt: str, negate: bool) -> tuple[str, bool]:
        v = self.value(opt)
        if v == "!":  # old form: --dport ! 22
            return self.value(opt), not negate
        return v, negate


def _ports_mod(p: _Parser, opts: _Opts) -> None:
    for opt, negate in opts:
        if opt in ("--dport", "--destination-port", "--sport", "--source-port"):
            v, negate = opts.value_neg(opt, negate)
            fld = "dport" if opt in ("--dport", "--destination-port") else "sport"
            p.add(In(fld, V.parse_ports(v)), negate)
        elif opt == "--syn":
            p.add(Masked("tcp_flags", 0x17, 0x02), negate)
        elif opt == "--tcp-flags":
            mask = V.parse_tcp_flags(opts.value(opt))
            comp = V.parse_tcp_flags(opts.value(opt))
            p.add(Masked("tcp_flags", mask, comp & mask), negate)
        else:
            raise _NotModelled


def _multiport(p: _Parser, opts: _Opts) -> None:
    if p.proto not in PORT_PROTOS:
        raise RuleError("multiport needs -p tcp, udp, udplite, dccp or sctp")
    for opt, negate in opts:
        v, negate = opts.value_neg(opt, negate)
        ports = V.parse_ports(v)
        if sum(1 if a == b else 2 for a, b in ports) > 15 and len(v.split(",")) > 15:
            raise RuleError("multiport takes at most 15 ports")
        if opt in ("--dports", "--destination-ports"):
            p.add(In("dport", ports), negate)
        elif opt in ("--sports", "--source-ports"):
            p.add(In("sport", ports), negate)
        elif opt == "--ports":
            p.add(disj(In("sport", ports), In("dport", ports)), negate)
        else:
            raise _NotModelled


def _icmp_type(text: str, v6: bool) -> Pred:
    table = V.ICMPV6_TYPES if v6 else V.ICMP_TYPES
    t = text.lower()
    if t == "any":
        return TRUE
    if t in table:
        typ, code = table[t]
    else:
        typ_t, _, code_t = t.partition("/")
        if not typ_t.isdigit():
            raise RuleError(f"unknown ICMP type {text!r}")
        typ, code = int(typ_t), int(code_t) if code_t else None
    pred = In("icmp_type", ((typ, typ),))
    return conj(pred, In("icmp_code", ((code, code),))) if code is not None else pred


def _icmp(p: _Parser, opts: _Opts) -> None:
    for opt, negate in opts:
        if opt not in ("--icmp-type", "--icmpv6-type"):
            raise _NotModelled
        v, negate = opts.value_neg(opt, negate)
        p.add(_icmp_type(v, opt == "--icmpv6-type" or p.family == 6), negate)


def _state(p: _Parser, opts: _Opts) -> None:
    for opt, negate in opts:
        if opt not in ("--state", "--ctstate"):
            raise _NotModelled
        v, negate = opts.value_neg(opt, negate)
        try:
            states = V.parse_ct_states(v)
        except ValueError:
            raise _NotModelled from None
        p.add(In("ct_state", states), negate)


def _conntrack(p: _Parser, opts: _Opts) -> None:
    for opt, negate in opts:
        if opt != "--ctstate":
            raise _NotModelled
        v, negate = opts.value_neg(opt, negate)
        try:
            p.add(In("ct_state", V.parse_ct_states(v)), negate)
        except ValueError:
            raise _NotModelled from None


def _iprange(p: _Parser, opts: _Opts) -> None:
    for opt, negate in opts:
        if opt not in ("--src-range", "--dst-range"):
            raise _NotModelled
        v, negate = opts.value_neg(opt, negate)
        ranges, fam = V.parse_net(v if "-" in v else f"{v}-{v}")
        if fam != p.family:
            raise RuleError(f"IPv{fam} range in an IPv{p.family} ruleset")
        p.add(In("saddr" if opt == "--src-range" else "daddr", ranges), negate)


def _comment(p: _Parser, opts: _Opts) -> None:
    for opt, _negate in opts:
        if opt != "--comment":
            raise _NotModelled
        p.spec.comment = opts.value(opt)


def _mark(p: _Parser, opts: _Opts) -> None:
    for opt, negate in opts:
        if opt != "--mark":
            raise _NotModelled
        v, negate = opts.value_neg(opt, negate)
        value_t, _, mask_t = v.partition("/")
        mask = int(mask_t, 0) if mask_t else 0xFFFF_FFFF
        p.add(Masked("mark", mask, int(value_t, 0) & mask), negate)


def _set(p: _Parser, opts: _Opts) -> None:
    for opt, negate in opts:
        if opt in ("--return-nomatch", "--update-counters", "--update-subcounters", "--no-update-counters"):
            continue
        if opt in ("--packets-eq", "--packets-lt", "--packets-gt", "--bytes-eq", "--bytes-lt", "--bytes-gt"):
            raise _NotModelled
        if opt != "--match-set":
            raise _NotModelled
        v, negate = opts.value_neg(opt, negate)
        name = v
        dirs = opts.value(opt).split(",")
        pred = p.ipsets(name, dirs, p.family) if p.ipsets else None
        if pred is None:
            text = f"--match-set {name} {','.join(dirs)}"
            p.spec.warnings.append(f"ipset {name}: contents unknown (pass its 'ipset save' output)")
            pred = Unknown(f"ipset|{p.family}|{name}|{','.join(dirs)}", text, f"ipset {name} contents unknown")
        p.add(pred, negate)


MODULES: dict[str, Callable[[_Parser, _Opts], None]] = {
    "tcp": _ports_mod, "udp": _ports_mod, "sctp": _ports_mod, "dccp": _ports_mod, "udplite": _ports_mod,
    "multiport": _multiport, "icmp": _icmp, "icmp6": _icmp, "icmpv6": _icmp, "ipv6-icmp": _icmp,
    "state": _state, "conntrack": _conntrack, "iprange": _iprange, "comment": _comment, "mark": _mark,
    "set": _set,
}


def parse_rule_spec(
    tokens: list[str], family: int, key: str, ipsets: IpsetResolver | None = None
) -> RuleSpec:
    """Parse the words of one rule. Raises ``RuleError`` (a ``ValueError``) for a bad rule."""
    try:
        return _Parser(tokens, family, key, ipsets).parse()
    except RuleError:
        raise
    except ValueError as exc:
        raise RuleError(str(exc)) from None
