"""The hostfw layer's contribution to ``scan``: host rulesets found among the inputs.

All rulesets given together are read as one host (as ``ringwall hostfw`` does); a per-host
inventory (several nodes) is a later refinement.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ringwall.analysis.layers import LayerReport, register_layer
from ringwall.sources.reading import input_head

if TYPE_CHECKING:
    from ringwall.analysis.estate import Estate


def host_ruleset_files(estate: Estate) -> list[Path]:
    """Input files that hold a host firewall ruleset (detected by content, not by name)."""
    from ringwall.layers.hostfw.api import looks_like_host_ruleset

    found = []
    for path in estate.load.other_files:
        head = input_head(path, 8192)
        if head and looks_like_host_ruleset(path, head):
            found.append(path)
    return found


@register_layer("hostfw")
def scan_hostfw(estate: Estate) -> LayerReport | None:
    from ringwall.analysis.hosts import host_inventory

    hosts = host_inventory(estate)
    if not hosts:
        return LayerReport("hostfw", "Host firewall", False, None, "no host ruleset given")
    from ringwall.layers.hostfw.api import check_ruleset, summarize

    findings = []
    details: dict[str, object] = {}
    parts = []
    enforced = True
    for host in hosts:
        ruleset = host.ruleset(estate.sink)
        findings.extend(check_ruleset(ruleset))
        summary = summarize(ruleset)
        summary["address"] = host.address
        summary["role"] = host.role
        details[host.name] = summary
        inputs = [c for c in summary["base_chains"] if c["hook"] == "input"]
        drops = any(c["policy"] == "drop" for c in inputs)
        enforced = enforced and (bool(summary["rules"]) or drops)
        policy = "drop" if drops else ("accept" if inputs else "no input chain")
        exact = "" if summary["exact"] else ", approximate"
        parts.append(f"{host.name}: {summary['rules']} rules, input {policy}{exact}")
    status = f"{len(hosts)} host(s) - " + "; ".join(parts)
    return LayerReport("hostfw", "Host firewall", True, enforced, status, {"hosts": details}, findings)
