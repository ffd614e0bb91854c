"""Random rulesets and packets for the differential test, rendered as nft text and iptables-save.

One neutral description is rendered into both syntaxes, so the kernel loads exactly what the
model reads back through the real parsers. Addresses come only from the TEST-NET ranges.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from .netns import FW_ADDRS

SRC_POOL = ("192.0.2.10", "192.0.2.100", "192.0.2.130", "192.0.2.200", "198.51.100.10", "198.51.100.50",
            "198.51.100.77", "203.0.113.5", "203.0.113.66", "203.0.113.200")
NETS = ("192.0.2.0/24", "192.0.2.0/25", "192.0.2.128/25", "198.51.100.0/24", "198.51.100.64/26",
        "203.0.113.0/24", "203.0.113.64/27", "192.0.2.100/32", "203.0.113.66/32")
RANGES = ("192.0.2.90-192.0.2.150", "198.51.100.1-198.51.100.60", "203.0.113.60-203.0.113.70")
PORTS = (22, 80, 443, 1500, 5353, 8080)
SPORTS = (1024, 40000, 50000, 60001)


@dataclass
class RMatch:
    kind: str
    value: Any
    negate: bool = False


@dataclass
class RRule:
    matches: list[RMatch]
    action: str
    target: str | None = None


@dataclass
class RSpec:
    policy: str
    chains: dict[str, list[RRule]] = field(default_factory=dict)
    extra: tuple[int, str, list[RRule]] | None = None  # (priority, policy, rules): nft only


def _match(rnd: random.Random, proto: str | None) -> RMatch:
    kinds = ["saddr", "saddr", "daddr", "ct", "iif"] + (["dport", "dport", "sport"] if proto in ("tcp", "udp") else [])
    kinds += ["icmptype"] if proto == "icmp" else []
    k = rnd.choice(kinds)
    neg = rnd.random() < 0.25
    if k == "saddr":
        return RMatch(k, rnd.choice(NETS + RANGES), neg)
    if k == "daddr":
        return RMatch(k, rnd.choice((*FW_ADDRS, "192.0.2.0/24")), neg)
    if k == "ct":
        return RMatch(k, rnd.choice(("new", "established,related", "invalid", "new,established")), neg)
    if k == "iif":
        return RMatch(k, rnd.choice(("eth0", "lo", "eth+", "veth+")), neg)
    if k == "dport":
        choice = rnd.random()
        if choice < 0.5:
            return RMatch(k, (rnd.choice(PORTS),), neg)
        if choice < 0.8:
            return RMatch(k, tuple(sorted(rnd.sample(PORTS, 3))), neg)
        lo = rnd.choice((1, 100, 1000, 5000))
        return RMatch("dport_range", (lo, lo + rnd.choice((50, 1000, 9000))), neg)
    if k == "sport":
        lo = rnd.choice((1024, 30000, 50000))
        return RMatch("sport_range", (lo, min(65535, lo + rnd.choice((100, 20000)))), neg)
    return RMatch("icmptype", rnd.choice((8, 0)), neg)


def _rule(rnd: random.Random, chain: str, users: list[str], base: bool) -> RRule:
    proto = rnd.choice((None, "tcp", "tcp", "udp", "icmp"))
    ms = [RMatch("proto", proto)] if proto else []
    for _ in range(rnd.choice((0, 1, 1, 2, 3))):
        m = _match(rnd, proto)
        if m.kind.split("_")[0] not in {x.kind.split("_")[0] for x in ms}:  # iptables allows each flag once
            ms.append(m)
    later = [u for u in users if u > chain] if not base else users
    actions = ["accept", "accept", "drop", "reject", "continue"]
    if not base or rnd.random() < 0.2:
        actions.append("return")
    if later:
        actions += ["jump", "jump", "goto"]
    act = rnd.choice(actions)
    return RRule(ms, act, rnd.choice(later) if act in ("jump", "goto") else None)


def gen_ruleset(rnd: random.Random, with_extra: bool = True) -> RSpec:
    users = [f"c{i}" for i in range(rnd.choice((0, 1, 2, 3)))]
    spec = RSpec(rnd.choice(("accept", "drop")))
    spec.chains["input"] = [_rule(rnd, "input", users, True) for _ in range(rnd.randint(1, 8))]
    for u in users:
        spec.chains[u] = [_rule(rnd, u, users, False) for _ in range(rnd.randint(1, 5))]
    if with_extra and rnd.random() < 0.3:
        spec.extra = (rnd.choice((-10, 10)), rnd.choice(("accept", "drop")),
                      [_rule(rnd, "extra", [], True) for _ in range(rnd.randint(1, 3))])
    return spec


def gen_packets(rnd: random.Random, n: int, ids: list[int]) -> list[dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for _ in range(n * 3):
        if len(out) >= n:
            break
        proto = rnd.choice((6, 6, 17, 1))
        p: dict[str, Any] = {"src": rnd.choice(SRC_POOL), "dst": rnd.choice(FW_ADDRS), "proto": proto}
        if proto in (6, 17):
            p.update(sport=rnd.choice(SPORTS) + rnd.randint(0, 3), dport=rnd.choice((*PORTS, 2000, 9000)))
            key = f"{proto}|{p['src']}|{p['dst']}|{p['sport']}|{p['dport']}"
        else:
            ids[0] += 1
            p.update(type=8, id=ids[0] & 0xFFFF)
            key = f"1|{p['src']}|{p['dst']}|8|{p['id']}"
        out.setdefault(key, p)
    return list(out.values())


# --------------------------------------------------------------------------- nft


def _nft_match(m: RMatch, proto: str | None = None) -> str:
    ne = "!= " if m.negate else ""
    if m.kind == "proto":
        return f"meta l4proto {m.value}"
    if m.kind in ("saddr", "daddr"):
        return f"ip {m.kind} {ne}{m.value}"
    if m.kind == "ct":
        return f"ct state {ne}{m.value}"
    if m.kind == "iif":
        name = m.value[:-1] + "*" if m.value.endswith("+") else m.value
        return f'iifname {ne}"{name}"'
    if m.kind == "dport":
        vals = m.value
        return f"{proto} dport {ne}{vals[0]}" if len(vals) == 1 else (
            f"{proto} dport {ne}{{ {', '.join(map(str, vals))} }}")
    if m.kind in ("dport_range", "sport_range"):
        f = "dport" if m.kind == "dport_range" else "sport"
        return f"{proto} {f} {ne}{m.value[0]}-{m.value[1]}"
    return f"icmp type {ne}{'echo-request' if m.value == 8 else 'echo-reply'}"


def _nft_action(r: RRule) -> str:
    if r.action == "continue":
        return "counter"
    if r.action in ("jump", "goto"):
        return f"{r.action} {r.target}"
    return r.action


def _nft_rule(r: RRule) -> str:
    proto = next((m.value for m in r.matches if m.kind == "proto"), None)
    return " ".join([*(_nft_match(m, proto) for m in r.matches), _nft_action(r)])


def render_nft(spec: RSpec) -> str:
    lines = ["table ip rwtest {"]
    for name, rules in spec.chains.items():
        lines.append(f"  chain {name} {{")
        if name == "input":
            lines.append(f"    type filter hook input priority filter; policy {spec.policy};")
        for r in rules:
            lines.append("    " + _nft_rule(r))
        lines.append("  }")
    if spec.extra:
        prio, pol, rules = spec.extra
        lines.append("  chain extra {")
        lines.append(f"    type filter hook input priority {prio}; policy {pol};")
        lines.extend("    " + _nft_rule(r) for r in rules)
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- iptables


def _ipt_match(m: RMatch, proto: str | None) -> str:
    ne = "! " if m.negate else ""
    if m.kind == "proto":
        return f"-p {m.value}"
    if m.kind in ("saddr", "daddr"):
        if "-" in str(m.value):
            return f"-m iprange {ne}--{'src' if m.kind == 'saddr' else 'dst'}-range {m.value}"
        return f"{ne}-{'s' if m.kind == 'saddr' else 'd'} {m.value}"
    if m.kind == "ct":
        return f"-m conntrack {ne}--ctstate {m.value.upper()}"
    if m.kind == "iif":
        return f"{ne}-i {m.value}"
    if m.kind == "dport":
        if len(m.value) == 1:
            return f"-m {proto} {ne}--dport {m.value[0]}"
        return f"-m multiport {ne}--dports {','.join(map(str, m.value))}"
    if m.kind in ("dport_range", "sport_range"):
        f = "dport" if m.kind == "dport_range" else "sport"
        return f"-m {proto} {ne}--{f} {m.value[0]}:{m.value[1]}"
    return f"-m icmp {ne}--icmp-type {m.value}"


def _ipt_action(r: RRule) -> str:
    return {"accept": "-j ACCEPT", "drop": "-j DROP", "reject": "-j REJECT", "return": "-j RETURN",
            "continue": "", "jump": f"-j {r.target}", "goto": f"-g {r.target}"}[r.action]


def render_iptables(spec: RSpec) -> str:
    names = {n: ("INPUT" if n == "input" else n.upper()) for n in spec.chains}
    lines = ["*filter", f":INPUT {spec.policy.upper()} [0:0]", ":FORWARD ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]"]
    lines += [f":{names[n]} - [0:0]" for n in spec.chains if n != "input"]
    for name, rules in spec.chains.items():
        for r in rules:
            proto = next((m.value for m in r.matches if m.kind == "proto"), None)
            act = _ipt_action(r)
            if r.target:
                act = act.replace(r.target, names[r.target])
            words = [f"-A {names[name]}", *(_ipt_match(m, proto) for m in r.matches), act]
            lines.append(" ".join(w for w in words if w))
    lines.append("COMMIT")
    return "\n".join(lines) + "\n"
