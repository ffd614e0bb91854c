"""Back ends, references, loops, unreachable rules, hooks and approximations.

RW-HOSTFW-007 to 016, 021, 023 to 025, 036 and 037.
"""

from __future__ import annotations

from collections.abc import Iterator

from ringwall.model.findings import Finding, Severity
from ringwall.model.location import Location

from .checks_common import (
    default_accept,
    defcheck,
    fallback,
    input_chains,
)
from .model import Backend, Chain, Kind, Ruleset, unknowns
from .semantics import base_chains
from .services import space_for
from .shadow import unreachable
from .trace import decisive, make_packet, trace

BACKENDS = defcheck(7, "MultipleFirewallBackends", Severity.MEDIUM, "More than one firewall back end manages rules.",
                  "Manage the host firewall with one tool and back end; remove the rules of the others.")


OPAQUE = defcheck(8, "OpaqueIptablesNftRules", Severity.INFO,
                "nft JSON shows xt expressions whose options are not visible.",
                "Also collect iptables-save (and ip6tables-save) so these tables can be analysed exactly.")


SHADOWED = defcheck(9, "ShadowedRule", Severity.MEDIUM,
                  "Earlier rules with a different verdict together cover this rule: it never decides.",
                  "Reorder or narrow the earlier rules, or delete this rule if it is obsolete.")


REDUNDANT = defcheck(10, "RedundantRule", Severity.LOW, "Earlier rules with the same verdict cover this rule.",
                   "Delete the redundant rule or merge it with the rules that cover it.")


UNMATCHABLE = defcheck(13, "UnmatchableRule", Severity.MEDIUM, "The rule's own matches contradict each other.",
                     "Fix the contradictory matches (for example a protocol and a port of another protocol).")


UNDEFINED = defcheck(14, "UndefinedReference", Severity.HIGH, "A jump, goto or set reference names nothing.",
                   "Define the chain or set, or remove the reference; the kernel refuses such a ruleset.")


LOOP = defcheck(15, "ChainLoopOrTooDeep", Severity.HIGH, "Chains jump in a cycle or nest deeper than 16.",
              "Break the jump cycle and keep chain nesting shallow.")


UNREFERENCED = defcheck(16, "UnreferencedChain", Severity.LOW, "A user chain nothing jumps or goes to.",
                      "Delete the chain or add the missing jump to it.")


UNUSED = defcheck(21, "UnusedRule", Severity.INFO, "The rule's packet counter is zero while others count traffic.",
                "Review whether the rule is still needed.")


ACCEPT_FINAL = defcheck(23, "AcceptAssumedFinal", Severity.MEDIUM,
                      "A base chain accepts packets that another base chain on the same hook drops.",
                      "Remember that accept only ends one base chain; make the tables agree or merge them.")


SAME_PRIO = defcheck(24, "SamePriorityBaseChains", Severity.LOW,
                   "Two base chains share a hook and a priority: their order is unspecified.",
                   "Give the base chains distinct priorities.")


APPROX = defcheck(25, "ApproximateVerdicts", Severity.INFO,
                "Unknown or stateful matches make some answers over- or under-approximations.",
                "Give ipset contents and iptables-save where possible; review rules whose verdict depends on state.")


NFQUEUE = defcheck(36, "NfqueueFailurePolicy", Severity.INFO, "A user-space program decides some packets (NFQUEUE).",
                 "Decide explicitly what happens when the queue program is not running (bypass or not).")


ICMPV6 = defcheck(37, "Icmpv6EssentialsBlocked", Severity.LOW,
                "Neighbour discovery or packet-too-big ICMPv6 is dropped on input.",
                "Accept ICMPv6 types 1-4 and 133-136 on input.")


def check_backends(rs: Ruleset) -> Iterator[Finding]:
    kinds: dict[str, Location] = {}
    for t in rs.tables:
        if not any(c.rules or c.policy == "drop" for c in t.chains.values()):
            continue
        kinds.setdefault("iptables-nft" if t.backend is Backend.IPTABLES_NFT else
                         ("nft" if t.backend is Backend.NFT else "iptables"), t.location)
        if t.opaque:
            yield Finding(OPAQUE, f"Table {t.ident} holds {len(t.opaque)} opaque xt expressions (iptables-nft); "
                          "its analysis is approximate.", (t.opaque[0],), f"table/{t.ident}", "xt")
    for tool in sorted(rs.tools & {"ufw", "firewalld"}):
        kinds.setdefault(tool, rs.tables[0].location if rs.tables else Location("-"))
    if len(kinds) > 1:
        yield Finding(BACKENDS, "More than one firewall back end manages rules: " + ", ".join(sorted(kinds)) + ".",
                      tuple(kinds.values()), "host", ",".join(sorted(kinds)))


def check_structure(rs: Ruleset) -> Iterator[Finding]:
    for t in rs.tables:
        targets: set[str] = set()
        for c in t.chains.values():
            for r in c.rules:
                if r.action.kind in (Kind.JUMP, Kind.GOTO):
                    targets.add(r.action.target or "")
                    if r.action.target not in t.chains:
                        yield Finding(UNDEFINED, f"{r.action.kind.value} to undefined chain {r.action.target} "
                                      f"in {c.ident}.", (r.location,), f"chain/{c.ident}", f"{r.location}")
                for u in unknowns(r.match):
                    if u.reason.startswith("undefined"):
                        yield Finding(UNDEFINED, f"{u.text}: {u.reason}.", (r.location,), f"chain/{c.ident}", u.text)
        for c in t.chains.values():
            if not c.is_base and c.name not in targets:
                yield Finding(UNREFERENCED, f"Chain {c.ident} is never jumped to.", (c.location,),
                              f"chain/{c.ident}", "unreferenced")
        yield from _loops(t.chains)


def _loops(chains: dict[str, Chain]) -> Iterator[Finding]:
    graph = {n: [r.action.target for r in c.rules if r.action.kind in (Kind.JUMP, Kind.GOTO)
                 and r.action.target in chains] for n, c in chains.items()}
    color: dict[str, int] = {}
    depth: dict[str, int] = {}

    def dfs(n: str) -> int:
        color[n] = 1
        d = 0
        for m in graph[n]:
            assert m is not None
            if color.get(m) == 1:
                raise _Cycle(m)
            d = max(d, 1 + (depth[m] if color.get(m) == 2 else dfs(m)))
        color[n] = 2
        depth[n] = d
        return d

    for n, c in chains.items():
        if c.is_base and n not in color:
            try:
                if dfs(n) > 16:
                    yield Finding(LOOP, f"Chains below {c.ident} nest {depth[n]} levels deep (limit 16).",
                                  (c.location,), f"chain/{c.ident}", "deep")
            except _Cycle as cyc:
                yield Finding(LOOP, f"Jump cycle through chain {cyc.chain}.", (chains[cyc.chain].location,),
                              f"chain/{c.ident}", f"cycle/{cyc.chain}")
                return


class _Cycle(Exception):
    def __init__(self, chain: str) -> None:
        self.chain = chain


def check_shadowing(rs: Ruleset) -> Iterator[Finding]:
    for u in unreachable(rs):
        subj = f"chain/{u.chain.ident}"
        if u.reason == "INDEPENDENTLY_UNMATCHABLE":
            yield Finding(UNMATCHABLE, f"Rule '{u.rule.label}' in {u.chain.ident} can match no packet.",
                          (u.rule.location,), subj, u.rule.label)
            continue
        hidden = "; ".join(f"{b.location.line}: {b.label}" for b in u.blocking)
        check = SHADOWED if u.different_action else REDUNDANT
        yield Finding(check, f"Rule '{u.rule.label}' in {u.chain.ident} is never reached: hidden by {hidden}.",
                      (u.rule.location, *(b.location for b in u.blocking)), subj, u.rule.label)


def check_hooks(rs: Ruleset) -> Iterator[Finding]:
    for hook in ("prerouting", "input", "forward", "output", "postrouting"):
        chains = [c for c in base_chains(rs, hook, 4) + [x for x in base_chains(rs, hook, 6) if x.family == "ip6"]
                  if c.type == "filter"]
        seen: dict[tuple[int, str], Chain] = {}
        for c in chains:
            fam = "6" if c.family == "ip6" else ("4" if c.family == "ip" else "46")
            for f in fam:
                key = (c.priority or 0, f)
                other = seen.get(key)
                if other is not None and other is not c and (other.family, other.table) != (c.family, c.table):
                    yield Finding(SAME_PRIO, f"Base chains {other.ident} and {c.ident} both run on {hook} at "
                                  f"priority {c.priority}.", (c.location, other.location), f"chain/{c.ident}",
                                  f"{hook}/{other.ident}")
                    break
                seen[key] = c
        yield from _accept_final(rs, hook)


def _accept_final(rs: Ruleset, hook: str) -> Iterator[Finding]:
    chains = [c for c in base_chains(rs, hook, 4) if c.type == "filter"]
    if len(chains) < 2:
        return
    space = space_for([rs])
    from .symbolic import Compiler

    comp = Compiler(space, rs)
    wf = space.wellformed() & space.eq("family", 4)
    for i, a in enumerate(chains):
        acc_rules = comp.chain(a).accept & wf
        for b in chains[i + 1:]:
            drop = comp.base(b)
            both = space.upper(acc_rules & (drop.drop | drop.reject))
            if both != space.false and any(r.action.kind is Kind.ACCEPT for r in a.rules):
                yield Finding(ACCEPT_FINAL, f"Packets accepted by rules of {a.ident} are dropped later by {b.ident} "
                              f"on {hook}: accept is not final across base chains.", (a.location, b.location),
                              f"chain/{a.ident}", f"{hook}/{b.ident}")


def check_misc(rs: Ruleset) -> Iterator[Finding]:
    atoms: dict[str, list[Location]] = {}
    for r in rs.rules():
        for u in unknowns(r.match):
            atoms.setdefault(u.text, []).append(r.location)
        if r.action.kind is Kind.QUEUE:
            yield Finding(NFQUEUE, f"'{r.label}': a user-space program decides these packets.", (r.location,),
                          "host", str(r.location))
    if atoms:
        locs = tuple(loc for ls in atoms.values() for loc in ls)[:50]
        yield Finding(APPROX, f"{len(atoms)} match(es) are not modelled exactly: " + "; ".join(sorted(atoms)[:10])
                      + ("…" if len(atoms) > 10 else "") + ".", locs, "host", "unknown")
    counted = [r for r in rs.rules() if r.counters is not None]
    if any(r.counters and r.counters[0] > 0 for r in counted):
        for r in counted:
            if r.counters == (0, 0):
                yield Finding(UNUSED, f"'{r.label}' never matched a packet.", (r.location,), "host", str(r.location))
    if any(t.family in ("ip6", "inet") for t in rs.tables):
        for typ in (135, 2):
            pkt = make_packet("fe80::1", "2001:db8::1", "icmpv6", icmp_type=typ, iif="rw-ext0")
            t = trace(rs, pkt, "input")
            if t.verdict != "accept" and not default_accept(rs, 6)[0]:
                what = "neighbour solicitation" if typ == 135 else "packet too big"
                yield Finding(ICMPV6, f"ICMPv6 type {typ} ({what}) is dropped on input.",
                              tuple(loc for loc, _ in decisive(t.main)[-1:]) or
                              fallback(rs, input_chains(rs, 6)), "host", f"icmpv6/{typ}")
