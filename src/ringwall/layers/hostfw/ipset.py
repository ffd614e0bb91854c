"""``ipset save`` files: the contents that ``-m set --match-set`` refers to.

Without them a set match is an unknown predicate; with them it becomes an exact disjunction of
its elements. Types whose dimensions are addresses, networks and ports are resolved; others
(``hash:net,iface``, ``list:set``, ``hash:mac``) stay unknown.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path

from ringwall.model import intervals as iv
from ringwall.model.diagnostics import DiagnosticSink
from ringwall.model.location import Location
from ringwall.sources.reading import MAX_LINE_CHARS, read_input

from . import values as V
from .model import In, Pred, conj, disj

RESOLVABLE = {"ip", "net", "port"}


@dataclass
class Ipset:
    name: str
    dims: list[str]
    family: int
    location: Location
    elements: list[list[str]] = field(default_factory=list)


def read_ipsets(paths: list[Path], sink: DiagnosticSink) -> dict[str, Ipset]:
    sets: dict[str, Ipset] = {}
    for path in paths:
        text = read_input(path, sink, line_limit=MAX_LINE_CHARS, code="RWD-HOSTFW-001")
        if text is None:
            continue
        for n, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            loc = Location(str(path), n)
            try:
                words = shlex.split(line)
            except ValueError as exc:
                sink.error("RWD-HOSTFW-002", f"bad ipset line: {exc}", loc)
                continue
            if words[0] in ("create", "-N", "-exist") and len(words) >= 3:
                typ = words[2]
                fam = 6 if "inet6" in words else 4
                dims = typ.split(":", 1)[1].split(",") if ":" in typ else []
                sets[words[1]] = Ipset(words[1], dims, fam, loc)
            elif words[0] in ("add", "-A") and len(words) >= 3:
                if words[1] not in sets:
                    sink.warning("RWD-HOSTFW-003", f"ipset {words[1]} used before 'create'", loc)
                    sets[words[1]] = Ipset(words[1], ["ip"], 4, loc)
                sets[words[1]].elements.append(words[2].split(","))
    return sets


def _dim_pred(dim: str, direction: str, value: str) -> Pred:
    if dim in ("ip", "net"):
        ranges, _ = V.parse_net(value)
        return In("saddr" if direction == "src" else "daddr", ranges)
    proto_t, _, port_t = value.rpartition(":")
    port = V.parse_port_range(port_t, "-")
    pred: Pred = In("sport" if direction == "src" else "dport", (port,))
    if proto_t:
        p = V.parse_proto(proto_t)
        if p is not None:
            pred = conj(In("proto", ((p, p),)), pred)
    return pred


def set_predicate(ipset: Ipset, dirs: list[str]) -> Pred | None:
    """The predicate of ``--match-set NAME dirs``, or None when it cannot be resolved."""
    if not ipset.dims or any(d not in RESOLVABLE for d in ipset.dims) or len(dirs) < len(ipset.dims):
        return None
    try:
        if ipset.dims in (["ip"], ["net"]):
            ranges = [r for e in ipset.elements for r in V.parse_net(e[0])[0]]
            return In("saddr" if dirs[0] == "src" else "daddr", iv.normalize(ranges))
        elems = [
            conj(*(_dim_pred(d, dirs[k], e[k]) for k, d in enumerate(ipset.dims)))
            for e in ipset.elements
            if len(e) >= len(ipset.dims)
        ]
    except ValueError:
        return None
    return disj(*elems)
