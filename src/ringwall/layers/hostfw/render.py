"""Text and Markdown renderings of the hostfw answers (JSON comes from each answer's ``to_json``)."""

from __future__ import annotations

from ringwall.model.findings import Finding

from . import services, shadow
from . import trace as tr
from .search import Comparison, SearchResult
from .services import Matrix
from .shadow import Unreachable


def matrix_text(m: Matrix) -> str:
    return services.render_text(m)


def matrix_md(m: Matrix) -> str:
    from . import values as V

    lines = [f"### {m.protocol.upper()} {m.sport} → {m.dport} ({m.path}, IPv{m.family})", "",
             "| class | addresses | reaches |", "|---|---|---|"]
    for cid, ranges in m.classes:
        reach = ", ".join(b for a, b in m.edges if a == cid) or "—"
        lines.append(f"| {cid} | {V.fmt_ranges(ranges)} | {reach} |")
    if not m.exact:
        lines.append(f"\n*{m.closure} closure; unknown matches: {'; '.join(m.unknowns)}*")
    return "\n".join(lines)


def trace_text(t: tr.TraceResult) -> str:
    return tr.render_text(t)


def unreachable_text(items: list[Unreachable]) -> str:
    return shadow.render_text(items)


def unreachable_md(items: list[Unreachable]) -> str:
    lines = ["| location | chain | rule | action | reason | hidden by | different action |",
             "|---|---|---|---|---|---|---|"]
    for u in items:
        hidden = "<br>".join(f"{b.location}: `{b.label}`" for b in u.blocking) or "—"
        lines.append(f"| {u.rule.location} | {u.chain.ident} | `{u.rule.label}` | {u.rule.action} | {u.reason} | "
                     f"{hidden} | {'yes' if u.different_action else 'no'} |")
    return "\n".join(lines)


def search_text(r: SearchResult) -> str:
    if not r.found or r.trace is None:
        return f"No packet matching the constraints is {r.action}ed on the {r.path} path."
    head = f"Example packet {r.action}ed on the {r.path} path" + ("" if r.exact else " (depends on unknown matches)")
    return head + ":\n" + tr.render_text(r.trace)


def compare_text(c: Comparison) -> str:
    if c.equal:
        return "The rulesets decide every packet alike."
    lines = []
    for path, same in c.identical.items():
        lines.append(f"{path}: {'same' if same else 'DIFFERENT'}")
        if not same:
            if c.newly_accepted.get(path):
                lines.append(f"  accepted only by the second, sources: {'; '.join(c.newly_accepted[path])}")
            if c.newly_dropped.get(path):
                lines.append(f"  accepted only by the first, sources: {'; '.join(c.newly_dropped[path])}")
    for g in c.groups:
        pk = tr.packet_json(g.example)
        lines.append(f"\n[{g.path}] " + " ".join(f"{k}={v}" for k, v in pk.items()))
        for side, t in (("first ", g.left), ("second", g.right)):
            dec = "; ".join(f"{s.rule.location}: {s.rule.label}" if s.rule else f"{s.chain.ident} {s.note}"
                            for s in t.main.deciding) or "no base chain on this path"
            lines.append(f"  {side}: {t.verdict:<7} by {dec}")
    return "\n".join(lines)


def findings_text(found: list[Finding]) -> str:
    if not found:
        return "No findings."
    out = []
    for f in found:
        loc = f.locations[0] if f.locations else ""
        out.append(f"{loc}: {f.effective_severity.label}: {f.check.id} {f.check.name}: {f.message}")
    return "\n".join(out)


def findings_md(found: list[Finding]) -> str:
    lines = ["| severity | check | location | message |", "|---|---|---|---|"]
    for f in found:
        loc = f.locations[0] if f.locations else ""
        lines.append(f"| {f.effective_severity.label} | {f.check.id} {f.check.name} | {loc} | {f.message} |")
    return "\n".join(lines)
