"""The hostfw layer's contribution to ``scan``: host rulesets found among the inputs.

All rulesets given together are read as one host (as ``ringwall hostfw`` does); a per-host
inventory (several nodes) is a later refinement.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ringwall.analysis.layers import LayerReport, register_layer

if TYPE_CHECKING:
    from ringwall.analysis.estate import Estate


def host_ruleset_files(estate: Estate) -> list[Path]:
    """Input files that hold a host firewall ruleset (detected by content, not by name)."""
    from ringwall.layers.hostfw.api import looks_like_host_ruleset

    found = []
    for path in estate.load.other_files:
        try:
            with path.open(encoding="utf-8", errors="replace") as fh:
                head = fh.read(8192)
        except OSError:
            continue
        if looks_like_host_ruleset(path, head):
            found.append(path)
    return found


@register_layer("hostfw")
def scan_hostfw(estate: Estate) -> LayerReport | None:
    files = host_ruleset_files(estate)
    if not files:
        return LayerReport("hostfw", "Host firewall", False, None, "no host ruleset given")
    from ringwall.layers.hostfw.api import check_ruleset, load_ruleset, summarize

    ruleset = load_ruleset(files, estate.sink)
    findings = check_ruleset(ruleset)
    summary = summarize(ruleset)
    inputs = [c for c in summary["base_chains"] if c["hook"] == "input"]
    policies = ", ".join(f"{c['table']} {c['chain']}: {c['policy'] or 'accept'}" for c in inputs) or "no input chain"
    exact = "exact" if summary["exact"] else "approximate (unknown matches)"
    status = f"{len(files)} ruleset file(s), {summary['rules']} rules; input {policies}; {exact}"
    enforced = bool(summary["rules"]) or any(c["policy"] == "drop" for c in inputs)
    return LayerReport("hostfw", "Host firewall", True, enforced, status, summary, findings)
