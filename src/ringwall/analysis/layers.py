"""The layer registry of ``scan``: each layer contributes status, summary and findings.

A layer registers one function; ``scan`` calls them all. Layers that land later (host firewall,
mesh, gateway, DNS, access) join by registering, without changes to ``scan`` or the reports.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ringwall.analysis.registry import LAYER_ORDER, Registry

__all__ = ["LAYER_ORDER", "LayerReport", "LayerScanner", "register_layer", "scanners"]
from ringwall.model.findings import Finding

if TYPE_CHECKING:
    from ringwall.analysis.estate import Estate


@dataclass
class LayerReport:
    name: str
    title: str
    found: bool
    enforced: bool | None
    status: str
    """One line a person reads: what was found and whether it is enforced."""
    details: dict[str, object] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name, "title": self.title, "found": self.found, "enforced": self.enforced,
            "status": self.status, "details": self.details, "findings": len(self.findings),
        }


LayerScanner = Callable[["Estate"], LayerReport | None]
_SCANNERS: Registry[LayerScanner] = Registry()
register_layer = _SCANNERS.register


def scanners() -> list[tuple[str, LayerScanner]]:
    # Importing the built-in layers registers them.
    from ringwall.analysis import edge_layers, hostfw_layer, mesh_layer, netpol_layer  # noqa: F401

    return _SCANNERS.items()
