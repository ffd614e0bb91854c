"""The host firewall layer as the rest of Ringwall sees it: load, decide, summarise, check.

Cross-layer analyses ask questions here ("would node N's firewall let this flow in?") and never
touch parsers or BDDs. Inexact answers (unknown matches decide) say so: ``Verdict.exact`` is
False and ``action`` is the may-accept answer (accept if any outcome accepts), which is the sound
side for "is this flow blocked?".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ringwall.model.diagnostics import DiagnosticSink
from ringwall.model.findings import Finding
from ringwall.model.intervals import Intervals
from ringwall.model.location import Location

from . import detect
from . import values as V
from .loader import load
from .model import CT_STATES, Ruleset, unknowns
from .services import DEFAULT_PORTS, matrix, space_for
from .symbolic import accepted
from .trace import evidence, make_packet, trace


@dataclass(frozen=True)
class Verdict:
    action: str  # accept, drop, reject
    exact: bool
    possible: tuple[str, ...]
    evidence: list[tuple[Location, str]] = field(default_factory=list)
    path: str = "input"


def load_ruleset(paths: list[Path], sink: DiagnosticSink, ipset_files: Sequence[Path] = (),
                 input_format: str = "auto") -> Ruleset:
    """Read rulesets (any supported format, auto-detected) into one model, diagnostics into ``sink``."""
    return load(paths, sink, ipset_files, input_format)


def looks_like_host_ruleset(path: Path, head: str) -> bool:
    return detect.looks_like_host_ruleset(path, head)


def check_ruleset(ruleset: Ruleset) -> list[Finding]:
    from .checks import run_checks

    return run_checks(ruleset)


def decide(ruleset: Ruleset, src_ip: str, dst_ip: str, proto: str, dport: int | None, hook: str = "input",
           state: str = "new", iif: str | None = None, oif: str | None = None, sport: int | None = None) -> Verdict:
    """The verdict for one flow's first packet (or a packet in ``state``)."""
    pkt = make_packet(src_ip, dst_ip, proto, dport, sport, iif, oif, state, hook)
    t = trace(ruleset, pkt, hook)
    return Verdict(t.verdict, t.exact, tuple(sorted({o.action for o in t.outcomes})), evidence(t.main), hook)


@dataclass(frozen=True)
class SourceSets:
    may: Intervals  # accepted for some value of the unknown matches (upper closure)
    must: Intervals  # accepted whatever the unknown matches do (lower closure)

    @property
    def exact(self) -> bool:
        return self.may == self.must


def accepted_sources(ruleset: Ruleset, sources: Intervals, dst_ip: str, proto: str, dport: int | None,
                     hook: str = "input", state: str = "new", iif: str | None = None) -> SourceSets:
    """Which of ``sources`` (unified address intervals, see ``values.parse_net``) are let through."""
    d, fam = V.parse_ip(dst_ip)
    p = V.parse_proto(proto) or 6
    space = space_for([ruleset], [iif] if iif else [])
    fixed: dict[str, Any] = {"family": fam, "daddr": d, "proto": p, "ct_state": CT_STATES.index(state),
                             "sport": 40000 if p in (6, 17) else 0, "dport": dport or 0, "icmp_type": 0,
                             "icmp_code": 0, "mark": 0, "tcp_flags": (2 if state == "new" else 16) if p == 6 else 0}
    if p == 1:
        fixed.update(icmp_type=8, sport=0, dport=0)
    if hook == "input":
        fixed["oif"] = None
    if iif is not None:
        fixed["iif"] = iif
    acc, _ = accepted(space, ruleset, hook, fixed)
    for fld in ("iif", "oif"):  # some real interface other than lo, unless one was given
        if fld not in fixed:
            acc = space.exist_fields(acc & ~space.eq(fld, 0) & ~space.eq(fld, space.class_of("lo")), [fld])
    src = space.field_in("saddr", sources)
    may = space.intervals(space.upper(acc) & src, "saddr")
    must = space.intervals(space.lower(acc) & src, "saddr")
    return SourceSets(may, must)


def summarize(ruleset: Ruleset, ports: Sequence[int] = DEFAULT_PORTS) -> dict[str, Any]:
    """A JSON-able overview for the ``scan`` report."""
    chains = ruleset.chains()
    atoms = {u.text for r in ruleset.rules() for u in unknowns(r.match)}
    space = space_for([ruleset])
    matrices = []
    fams = [4] + ([6] if any(t.family in ("ip6", "inet") for t in ruleset.tables) else [])
    for fam in fams:
        for port in ports:
            matrices.append(matrix(ruleset, "tcp", port, family=fam, space=space).to_json())
    return {
        "sources": ruleset.sources,
        "formats": sorted(set(ruleset.formats)),
        "tools": sorted(ruleset.tools),
        "tables": len(ruleset.tables),
        "chains": len(chains),
        "rules": len(ruleset.rules()),
        "base_chains": [
            {"table": f"{c.family} {c.table}", "chain": c.name, "hook": c.hook, "priority": c.priority,
             "policy": c.policy, "type": c.type, "location": c.location.to_json()}
            for c in sorted((c for c in chains if c.is_base), key=lambda c: (c.hook or "", c.priority or 0))
        ],
        "exact": not atoms,
        "unknown_matches": sorted(atoms),
        "services": matrices,
    }
