"""Default deny, loopback, established replies, IPv6 parity, logging (RW-HOSTFW-001…006, 020)."""

from __future__ import annotations

from collections.abc import Iterator

from ringwall.model.findings import Finding, Severity

from .checks_common import (
    HOST_ADDR,
    WORLD_SAMPLE,
    default_accept,
    defcheck,
    fallback,
    fresh_port,
    input_chains,
)
from .model import Ruleset
from .semantics import base_chains
from .trace import decisive, make_packet, trace

NO_FW = defcheck(1, "NoHostFirewall", Severity.HIGH, "No base chain with rules on the input hook.",
               "Load a default-deny host firewall that allows only the services this host offers.")


ACCEPT_IN = defcheck(2, "DefaultAcceptInput", Severity.HIGH, "The input path ends in accept.",
                   "Set the input policy to drop (or end the input chain with a drop rule) after the allow rules.")


ACCEPT_FWD = defcheck(3, "DefaultAcceptForward", Severity.HIGH, "The forward path ends in accept.",
                    "Set the forward policy to drop and allow only the forwarded flows this host must route.")


LOOPBACK = defcheck(4, "LoopbackNotConfigured", Severity.MEDIUM,
                  "Loopback traffic is not accepted, or 127.0.0.0/8 from other interfaces is not dropped.",
                  "Accept everything on iif lo early, and drop 127.0.0.0/8 and ::1 arriving on other interfaces.")


ESTABLISHED = defcheck(5, "EstablishedNotHandled", Severity.MEDIUM,
                     "Replies of connections the host opened are dropped by the input path.",
                     "Accept ct state established,related (conntrack ESTABLISHED,RELATED) first.")


IPV6 = defcheck(6, "Ipv6Unfiltered", Severity.HIGH, "IPv4 is filtered but IPv6 is accepted by default.",
              "Filter IPv6 as strictly as IPv4: use an inet table, or give ip6tables the same rules and a drop policy.")


NO_LOG = defcheck(20, "NoDropLogging", Severity.LOW, "Denied input traffic is never logged.",
                "Add a rate-limited log rule before the final drop.")


def check_default_deny(rs: Ruleset) -> Iterator[Finding]:
    chains4 = input_chains(rs, 4)
    if not any(c.rules for c in chains4 + input_chains(rs, 6)) and not any(
            c.policy == "drop" for c in chains4 + input_chains(rs, 6)):
        yield Finding(NO_FW, "No host firewall: no base chain on the input hook has rules or a drop policy.",
                      fallback(rs, chains4), "host", "input")
        return
    open4, ev4 = default_accept(rs, 4)
    if open4:
        yield Finding(ACCEPT_IN, "The IPv4 input path accepts new connections to ports no rule names "
                      f"(decided by {ev4[-1][1] if ev4 else 'the policy'}).",
                      tuple(loc for loc, _ in ev4[-1:]) or fallback(rs, chains4), "host", "input/ipv4")
    else:
        open6, ev6 = default_accept(rs, 6)
        if open6:
            yield Finding(IPV6, "IPv4 input is default-deny but IPv6 input accepts new connections "
                          f"(decided by {ev6[-1][1] if ev6 else 'no ip6/inet table'}).",
                          tuple(loc for loc, _ in ev6[-1:]) or fallback(rs, chains4), "host", "input/ipv6")
    fwd, evf = default_accept(rs, 4, "forward")
    if fwd and not open4:
        uses_fwd = bool(rs.tools & {"docker", "kube-proxy", "calico", "cilium", "flannel", "weave"}) or any(
            c.rules for c in base_chains(rs, "forward", 4))
        yield Finding(ACCEPT_FWD, "The IPv4 forward path accepts new connections (if IP forwarding is enabled, "
                      "this host routes anything).", tuple(loc for loc, _ in evf[-1:]) or fallback(rs, chains4),
                      "host", "forward/ipv4", severity=None if uses_fwd else Severity.MEDIUM)


def check_loopback_established(rs: Ruleset) -> Iterator[Finding]:
    open4, _ = default_accept(rs, 4)
    if open4:
        return
    chains = input_chains(rs, 4)
    lo = trace(rs, make_packet("127.0.0.1", "127.0.0.1", "tcp", fresh_port(rs), iif="lo"), "input")
    if lo.verdict != "accept":
        yield Finding(LOOPBACK, "Loopback traffic (127.0.0.1 -> 127.0.0.1 on lo) is dropped by the input path.",
                      tuple(loc for loc, _ in decisive(lo.main)[-1:]) or fallback(rs, chains), "host", "lo-dropped")
    spoof = trace(rs, make_packet("127.0.0.1", HOST_ADDR[4], "tcp", 22, iif="rw-ext0"), "input")
    if spoof.verdict == "accept":
        yield Finding(LOOPBACK, "Packets from 127.0.0.0/8 arriving on a non-loopback interface are accepted "
                      "(port 22 tested).", tuple(loc for loc, _ in decisive(spoof.main)[-1:]) or fallback(rs, chains),
                      "host", "lo-spoof")
    reply = trace(rs, make_packet(WORLD_SAMPLE[4], HOST_ADDR[4], "tcp", 40000, 443, iif="rw-ext0",
                                  state="established"), "input")
    if reply.verdict != "accept":
        yield Finding(ESTABLISHED, "Replies to connections this host opens (established TCP from port 443) are "
                      "dropped on input.", tuple(loc for loc, _ in decisive(reply.main)[-1:]) or fallback(rs, chains),
                      "host", "established")
    if not any(r.logs for c in rs.chains() for r in c.rules if c.family in ("ip", "inet")):
        yield Finding(NO_LOG, "Denied IPv4 input traffic is never logged (no LOG/NFLOG/log rule).",
                      fallback(rs, chains), "host", "log")
