"""Text and Markdown renderings of depth and of the scorecard."""

from __future__ import annotations

from ringwall.analysis.depth import DepthResult
from ringwall.analysis.scorecard import PRINCIPLES, TITLES, Scorecard


def histogram_lines(result: DepthResult, width: int = 40) -> list[str]:
    total = max(result.histogram.values(), default=0) or 1
    lines = []
    for depth in sorted(result.histogram):
        n = result.histogram[depth]
        label = "open (no layer blocks)" if depth == 0 else f"{depth} layer{'s' if depth > 1 else ''}"
        bar = "#" * max(1, round(width * n / total)) if n else ""
        lines.append(f"  {label:24} {n:8}  {bar}")
    return lines


def render_depth(result: DepthResult, md: bool = False) -> str:
    single = result.single_layer()
    if md:
        out = ["# Depth", "", f"Layers: {', '.join(result.layers) or 'none'}", "",
               "| blocking layers | flows |", "|---|---|"]
        out += [f"| {d} | {n} |" for d, n in sorted(result.histogram.items())]
        out += ["", "## Flows that hang on one layer", "", "| destination | only layer | sources |", "|---|---|---|"]
        out += [f"| {d} | {layer} | {n} |" for d, layer, n in single]
        return "\n".join(out) + "\n"
    out = [f"Depth over layers: {', '.join(result.layers) or 'none'}", "Blocked flows by number of blocking layers:"]
    out += histogram_lines(result)
    out.append("")
    out.append(f"Flows that hang on a single layer ({sum(n for _, _, n in single)}), most exposed first:")
    out += [f"  {d}: {n} source(s) blocked only by {layer}" for d, layer, n in single[:25]]
    if len(single) > 25:
        out.append(f"  ... and {len(single) - 25} more destinations")
    if result.conditional:
        out.append("")
        out.append(f"Flows open only for some requests ({len(result.conditional)}), not counted as blocked:")
        out += [f"  {s} => {d} : {c} : {' | '.join(t) or 'request attributes'}"
                for (s, d), c, t in result.conditional[:25]]
        if len(result.conditional) > 25:
            out.append(f"  ... and {len(result.conditional) - 25} more")
    return "\n".join(out) + "\n"


def render_scorecard(card: Scorecard, md: bool = False) -> str:
    cols = list(PRINCIPLES)
    if md:
        out = ["# Zero-trust scorecard", "", "| namespace | " + " | ".join(TITLES[p] for p in cols) + " |",
               "|---" * (len(cols) + 1) + "|"]
        out.append("| **overall** | " + " | ".join(f"**{card.overall[p].value}**" for p in cols) + " |")
        for ns, sc in card.namespaces.items():
            out.append(f"| {ns} | " + " | ".join(str(sc[p].value) for p in cols) + " |")
        out += ["", "## Evidence", ""]
        for ns, sc in card.namespaces.items():
            out.append(f"- **{ns}**: " + "; ".join(f"{p}: {', '.join(sc[p].evidence)}" for p in cols))
        return "\n".join(out) + "\n"
    header = f"  {'namespace':20}" + "".join(f"{p:>11}" for p in cols)
    out = ["Zero-trust scorecard (0-100): " + "; ".join(f"{p} = {TITLES[p]}" for p in cols), header]
    out.append(f"  {'overall':20}" + "".join(f"{card.overall[p].value:>11}" for p in cols))
    for ns, sc in card.namespaces.items():
        out.append(f"  {ns:20}" + "".join(f"{sc[p].value:>11}" for p in cols))
    return "\n".join(out) + "\n"
