"""The gateway layer as the rest of Ringwall sees it: routes, findings, a JSON summary."""

from __future__ import annotations

from ringwall.model.diagnostics import DiagnosticSink
from ringwall.model.findings import Finding
from ringwall.sources.inventory import Inventory

from .checks import check_gateway
from .model import Route
from .routes import GatewayResult, compute_routes

__all__ = ["GatewayResult", "Route", "check_gateway", "compute_routes", "entrypoints", "scan_gateway", "summarize"]


def scan_gateway(inv: Inventory, sink: DiagnosticSink) -> tuple[GatewayResult, list[Finding]]:
    """Routes and findings; dangling references become warnings in ``sink``."""
    result = compute_routes(inv)
    for i in result.issues:
        if i.check == "diag":
            sink.warning("gateway.dangling-reference", i.message, i.location)
    return result, check_gateway(result)


def summarize(result: GatewayResult) -> dict[str, object]:
    return {"routes": [r.to_json() for r in result.routes], "gateways": result.gateways}


def entrypoints(inv: Inventory) -> dict[str, list[Route]]:
    """Workload ref → the external routes that reach it (for depth and explain: "how does the outside get in?")."""
    out: dict[str, list[Route]] = {}
    for r in compute_routes(inv).routes:
        for w in r.workloads:
            out.setdefault(w, []).append(r)
    return out
