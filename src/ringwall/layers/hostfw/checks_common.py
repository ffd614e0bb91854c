"""Shared by the RW-HOSTFW checks: registration, reference packets, the default-accept probe."""

from __future__ import annotations

from ringwall.model import intervals as iv
from ringwall.model.findings import Check, Severity, register
from ringwall.model.intervals import Intervals
from ringwall.model.location import Location

from . import values as V
from .model import Chain, In, Ruleset
from .semantics import base_chains
from .trace import decisive, make_packet, trace

LAYER = "hostfw"


def defcheck(num: int, name: str, sev: Severity, summary: str, remediation: str) -> Check:
    return register(Check(f"RW-HOSTFW-{num:03d}", name, sev, LAYER, summary, remediation, tags=("security", "hostfw")))


NOT_WORLD_V4 = ["0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
                "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
                "203.0.113.0/24", "224.0.0.0/3"]


WORLD_SAMPLE = {4: "1.2.3.4", 6: "2a00:1450::1"}


HOST_ADDR = {4: "192.0.2.1", 6: "2001:db8::1"}


def world(family: int) -> Intervals:
    if family == 4:
        out = V.parse_net("0.0.0.0/0")[0]
        for n in NOT_WORLD_V4:
            out = iv.subtract(out, V.parse_net(n)[0])
        return out
    return iv.subtract(V.parse_net("2000::/3")[0], V.parse_net("2001:db8::/32")[0])


def fresh_port(rs: Ruleset) -> int:
    used: list[tuple[int, int]] = []
    for r in rs.rules():
        stack = [r.match]
        while stack:
            p = stack.pop()
            if isinstance(p, In) and p.field == "dport":
                used.extend(p.values)
            stack.extend(getattr(p, "ps", ()) or ([p.p] if hasattr(p, "p") else []))  # type: ignore[attr-defined]
    for port in (61999, 48123, 3, 1):
        if not iv.contains(iv.normalize(used), port):
            return port
    return 61999


def input_chains(rs: Ruleset, family: int) -> list[Chain]:
    return [c for c in base_chains(rs, "input", family) if c.type != "nat"]


def fallback(rs: Ruleset, chains: list[Chain]) -> tuple[Location, ...]:
    if chains:
        return (chains[-1].location,)
    return (Location(rs.sources[0] if rs.sources else "-", 1),)


def default_accept(rs: Ruleset, family: int, path: str = "input") -> tuple[bool, list[tuple[Location, str]]]:
    """Does a new TCP packet to a port no rule names, from an unknown address, get accepted?"""
    port = fresh_port(rs)
    pkt = make_packet(WORLD_SAMPLE[family], HOST_ADDR[family], "tcp", port, 40000, iif="rw-ext0",
                      oif="rw-int0" if path == "forward" else None, hook=path)
    t = trace(rs, pkt, path)
    return t.verdict == "accept", decisive(t.main)
