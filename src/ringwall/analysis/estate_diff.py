"""What a change to the configuration does, through every layer: the review of a pull request.

Two scans are compared on three aspects:

* connectivity - per flow (source, destination), what gets through every layer (``all``) and what
  each layer lets through, with the conditions a layer puts on it;
* protections - per flow still open, what holds (encrypted, peer-authenticated, ...), in total and
  per layer;
* findings - added and removed, keyed by check, subject and detail (the logical object, not the
  file path or line, so that two copies of a tree compare equal).

Flows are compared on the flow model's public API. Only pairs that some layer on either side lets
something through, protects or conditions are compared one by one; every other pair touching a
workload is blocked on both sides by the NetworkPolicy layer, which sees every pod's traffic, so it
cannot have changed. Pairs between hosts and zones (few) are all compared, and so is every pair
when a layer is not enforced on either side (its verdict is then "everything", not its rules).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ringwall.analysis.flows import FlowModel, Pair
from ringwall.model.connections import NONE, ConnectionSet
from ringwall.model.findings import Finding

SCHEMA = "ringwall.diff/v2"
COMBINED = "all"
ASPECTS = ("connectivity", "protections", "finding")


@dataclass(frozen=True, slots=True)
class Change:
    kind: str  # added | removed | changed
    layer: str  # "all" (through every layer) or a layer name
    aspect: str  # connectivity | protections | finding
    src: str  # for findings: the check ID and name
    dst: str  # for findings: the subject
    old: str
    new: str
    old_ports: ConnectionSet | None = None
    new_ports: ConnectionSet | None = None
    location: str = ""

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"diff-type": self.kind, "layer": self.layer, "aspect": self.aspect}
        if self.aspect == "finding":
            out.update({"check": self.src, "subject": self.dst, "old": self.old, "new": self.new,
                        "location": self.location})
            return out
        out.update({"src": self.src, "dst": self.dst, "old": self.old, "new": self.new})
        if self.old_ports is not None and self.new_ports is not None:
            out.update({"old_ports": self.old_ports.to_json(), "new_ports": self.new_ports.to_json()})
        return out


def _conn_text(c: ConnectionSet | None) -> str:
    return str(c) if c else "No Connections"


def _kind(old_empty: bool, new_empty: bool) -> str:
    return "added" if old_empty else "removed" if new_empty else "changed"


def _pairs(a: FlowModel, b: FlowModel) -> Iterator[Pair]:
    """Every pair whose verdict or protections may differ (see the module docstring)."""
    if any(not v.enforced for m in (a, b) for v in m.layers):
        yield from sorted(set(a.all_pairs()) | set(b.all_pairs()))
        return
    pairs: set[Pair] = set()
    for m in (a, b):
        pairs |= m.candidate_pairs()
        for v in m.layers:
            pairs.update(v.protections)
            pairs.update(v.conditional)
        others = [e for e in m.endpoints if e not in set(m.workloads)]
        pairs.update((s, d) for s in others for d in others
                     if s != d and not (s.startswith("zone:") and d.startswith("zone:")))
    yield from sorted(p for p in pairs if p[0] != p[1])


def _known(m: FlowModel, pair: Pair, endpoints: set[str]) -> bool:
    return pair[0] in endpoints and pair[1] in endpoints


def _combined(m: FlowModel, pair: Pair) -> tuple[ConnectionSet, str]:
    conn = m.combined(pair)
    text = _conn_text(conn)
    part, conds = m.conditional(pair)
    if part:
        text += f" (conditional: {' | '.join(sorted({t for _, t in conds})) or 'request attributes'}"
        text += "" if part == conn else f" on {part}"
        text += ")"
    return conn, text


def diff_flows(a: FlowModel, b: FlowModel) -> list[Change]:
    """Connectivity and protections that differ, through every layer and per layer."""
    ends_a, ends_b = set(a.endpoints), set(b.endpoints)
    layer_names = [v.name for v in a.layers] + [v.name for v in b.layers if a.layer(v.name) is None]
    changes: list[Change] = []
    for pair in _pairs(a, b):
        in_a, in_b = _known(a, pair, ends_a), _known(b, pair, ends_b)
        ca, ta = _combined(a, pair) if in_a else (NONE, _conn_text(NONE))
        cb, tb = _combined(b, pair) if in_b else (NONE, _conn_text(NONE))
        if ta != tb:
            changes.append(Change(_kind(not ca, not cb), COMBINED, "connectivity", *pair, ta, tb, ca, cb))
        pa = a.protections(pair) if in_a and ca else frozenset()
        pb = b.protections(pair) if in_b and cb else frozenset()
        if pa != pb and (ca or cb):
            changes.append(_protections(COMBINED, pair, pa, pb))
        for name in layer_names:
            va, vb = a.layer(name), b.layer(name)
            la = (va.verdict(pair) if va is not None and in_a else None) or NONE
            lb = (vb.verdict(pair) if vb is not None and in_b else None) or NONE
            if la != lb:
                changes.append(Change(_kind(not la, not lb), name, "connectivity", *pair,
                                      _conn_text(la), _conn_text(lb), la, lb))
            qa = va.protections.get(pair, frozenset()) if va is not None and in_a and la else frozenset()
            qb = vb.protections.get(pair, frozenset()) if vb is not None and in_b and lb else frozenset()
            if qa != qb:
                changes.append(_protections(name, pair, qa, qb))
    return changes


def _protections(layer: str, pair: Pair, old: frozenset[str], new: frozenset[str]) -> Change:
    return Change(_kind(not old, not new), layer, "protections", *pair,
                  ", ".join(sorted(old)) or "none", ", ".join(sorted(new)) or "none")


def _finding_key(f: Finding) -> tuple[str, str, str]:
    return (f.check.id, f.subject, f.detail)


def diff_findings(old: Iterable[Finding], new: Iterable[Finding]) -> list[Change]:
    """Findings present on one side only, keyed by check, subject and detail (not by file or line)."""
    a = {_finding_key(f): f for f in old}
    b = {_finding_key(f): f for f in new}
    out: list[Change] = []
    for key in sorted(set(a) ^ set(b)):
        f = a.get(key) or b[key]
        kind = "removed" if key in a else "added"
        text = f"{f.effective_severity.label}: {f.message}"
        loc = str(f.locations[0]) if f.locations else ""
        out.append(Change(kind, f.check.layer, "finding", f"{f.check.id} {f.check.name}", f.subject,
                          text if kind == "removed" else "", text if kind == "added" else "", location=loc))
    return out


def narrow(changes: list[Change], layer: str | None) -> list[Change]:
    return changes if layer is None else [c for c in changes if c.layer == layer]


def render(changes: list[Change], fmt: str) -> str:
    import csv
    import io

    import orjson

    if fmt == "txt":
        return "".join(_txt(c) + "\n" for c in changes)
    if fmt == "json":
        return orjson.dumps({"schema": SCHEMA, "changes": [c.to_json() for c in changes]},
                            option=orjson.OPT_INDENT_2).decode() + "\n"
    header = ["diff-type", "layer", "aspect", "source", "destination", "dir1", "dir2", "location"]
    rows = [[c.kind, c.layer, c.aspect, c.src, c.dst, c.old or "-", c.new or "-", c.location] for c in changes]
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
        return buf.getvalue()
    if fmt == "md":
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(x.replace("|", "\\|") for x in row) + " |" for row in rows]
        return "\n".join(lines) + "\n"
    raise ValueError(f"unknown format {fmt!r}")


def _txt(c: Change) -> str:
    if c.aspect == "finding":
        return (f"diff-type: {c.kind}, layer: {c.layer}, finding: {c.src}, subject: {c.dst}, "
                f"{c.old or c.new}" + (f"  ({c.location})" if c.location else ""))
    what = "" if c.aspect == "connectivity" else f"{c.aspect}, "
    return (f"diff-type: {c.kind}, layer: {c.layer}, {what}source: {c.src}, destination: {c.dst}, "
            f"dir1: {c.old}, dir2: {c.new}")
