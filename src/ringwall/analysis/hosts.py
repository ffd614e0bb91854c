"""Which host each firewall ruleset belongs to, and the host's address.

Rulesets are grouped into hosts, in this order of preference:

1. a ``HostInventory`` document (``apiVersion: ringwall.dev/v1alpha1``) among the inputs::

       kind: HostInventory
       hosts:
         - {name: worker-1, address: 192.0.2.11, role: worker, rules: [dumps/worker-1.rules]}

   (``rules`` are paths relative to the inventory file);
2. the snapshot layout ``.../hosts/<name>/<files>`` that ``ringwall snapshot`` writes;
3. the file name up to its first dot (``worker-1.rules`` and ``worker-1.v6.rules`` are one host).

A host's address comes from the inventory, else from the Node object of the same name, else it is
unknown (analyses then probe with a documentation address and say so).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ringwall.model.addresses import AddressError, parse_address
from ringwall.model.diagnostics import Diagnostic, DiagnosticSink
from ringwall.model.location import Location

if TYPE_CHECKING:
    from ringwall.analysis.estate import Estate
    from ringwall.layers.hostfw.model import Ruleset

PLACEHOLDER_ADDRESS = "192.0.2.1"


@dataclass
class Host:
    name: str
    files: list[Path] = field(default_factory=list)
    address: str | None = None
    role: str | None = None
    location: Location | None = None
    _loaded: tuple[Ruleset, list[Diagnostic]] | None = field(default=None, repr=False)
    _told: list[DiagnosticSink] = field(default_factory=list, repr=False)

    def ruleset(self, sink: DiagnosticSink | None) -> Ruleset:
        """The host's ruleset, read once; its diagnostics reach each ``sink`` that asks, once
        (``None``: the caller reports nothing, e.g. a second view of the same host)."""
        if self._loaded is None:
            from ringwall.layers.hostfw.api import load_ruleset

            own = DiagnosticSink.scratch()
            self._loaded = (load_ruleset(self.files, own), own.items)
        if sink is not None and not any(s is sink for s in self._told):
            self._told.append(sink)
            for diagnostic in self._loaded[1]:
                sink.add(diagnostic)
        return self._loaded[0]

    @property
    def endpoint(self) -> str:
        return f"host:{self.name}"

    @property
    def probe_address(self) -> str:
        return self.address or PLACEHOLDER_ADDRESS


def host_inventory(estate: Estate) -> list[Host]:
    """The hosts of the estate (computed once per estate; warnings go to its diagnostics)."""
    cached: list[Host] | None = getattr(estate, "_hosts", None)
    if cached is not None:
        return cached
    from ringwall.analysis.hostfw_layer import host_ruleset_files

    files = host_ruleset_files(estate)
    hosts: dict[str, Host] = {}
    claimed: set[Path] = set()
    for doc in estate.inventory.documents("HostInventory"):
        base = Path(doc.source.path).parent
        for i, entry in enumerate(doc.obj.get("hosts") or []):
            if not isinstance(entry, dict) or not entry.get("name"):
                estate.sink.warning("hosts.inventory", "a host needs a name; entry ignored",
                                    doc.locate(("hosts", i)))
                continue
            host = hosts.setdefault(str(entry["name"]), Host(str(entry["name"])))
            host.address = str(entry["address"]) if entry.get("address") else host.address
            host.role = str(entry["role"]) if entry.get("role") else host.role
            host.location = doc.locate(("hosts", i))
            for rel in entry.get("rules") or []:
                path = (base / str(rel)).resolve()
                match = [f for f in files if f.resolve() == path]
                if not match:
                    estate.sink.warning("hosts.inventory", f"host {host.name}: ruleset {rel} is not among the inputs",
                                        doc.locate(("hosts", i, "rules")))
                host.files.extend(match)
                claimed.update(m.resolve() for m in match)
    for f in files:
        if f.resolve() in claimed:
            continue
        name = _name_of(f)
        hosts.setdefault(name, Host(name)).files.append(f)
    nodes = {n.name: n for n in estate.cluster.nodes}
    for host in hosts.values():
        if host.address is None and host.name in nodes:
            host.address = next((a for a in nodes[host.name].addresses if _is_ip(a)), None)
    result = sorted((h for h in hosts.values() if h.files), key=lambda h: h.name)
    estate._hosts = result  # type: ignore[attr-defined]
    return result


def _name_of(path: Path) -> str:
    parts = path.parts
    for i in range(len(parts) - 2, 0, -1):
        if parts[i - 1] == "hosts":
            return parts[i]
    return path.name.split(".", 1)[0] or path.name


def _is_ip(text: str) -> bool:
    try:
        parse_address(text)
    except AddressError:
        return False
    return True
