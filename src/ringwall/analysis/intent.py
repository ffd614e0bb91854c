"""The intent file: what the owners of an estate mean it to do.

One YAML document (schema ``ringwall.dev/v1alpha1``, kind ``Intent``), used by ``verify`` to check
an estate and (later) by ``generate`` to produce every layer's configuration:

.. code-block:: yaml

    apiVersion: ringwall.dev/v1alpha1
    kind: Intent
    metadata: {name: shop}
    zones:                       # named endpoints: external (cidrs) or internal (workloads)
      - {name: internet, cidrs: ["0.0.0.0/0", "::/0"]}
      - {name: admins, cidrs: [198.51.100.0/24]}
      - {name: storefront, namespaces: [frontend]}
      - {name: api, workloads: [backend/api]}
      - {name: data, namespaces: [data], selector: {app: postgres}}
    flows:                       # what must work; everything else should be blocked
      - {name: public-web, from: internet, to: storefront, ports: [TCP/8080]}
      - {name: web-to-api, from: storefront, to: api, ports: [TCP/8080], require: [encrypted]}
    dns: true                    # every workload resolves names through kube-dns (UDP and TCP 53)
    defaults:
      min_depth: 2               # every unintended flow blocked by at least this many layers
      require: [encrypted]       # protections every intended workload-to-workload flow needs
    ignore:
      namespaces: [kube-system]  # not judged (their flows are neither intended nor unwanted)

Endpoints in ``from``/``to`` are zone names or workloads (``ns/name``). Ports are ``PROTO/N``,
``PROTO/N-M`` or ``PROTO`` (all ports of the protocol); no ``ports`` means all connections.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml_rs

from ringwall.analysis.flows import PROTECTIONS
from ringwall.analysis.zones import Zone, carve, default_zones, external_zone
from ringwall.model.addresses import AddressError
from ringwall.model.connections import ALL, ConnectionSet
from ringwall.model.labels import parse_selector
from ringwall.sources import locate
from ringwall.sources.loader import ALIAS_LIMITS
from ringwall.sources.reading import read_input, read_input_or_reason

SCHEMA_VERSION = "ringwall.dev/v1alpha1"


class IntentError(ValueError):
    """A problem with the intent file, with the field that causes it."""


_FIELD = re.compile(r"([A-Za-z_][\w-]*(?:\.[\w-]+|\[\d+\])*)")


def describe_intent_error(exc: IntentError) -> str:
    """``FILE:LINE: error: message``, the line being that of the field the message names
    (``intent.yaml: hosts.roles.web.services[0]: ...``), as every other input error is shown."""
    message = str(exc)
    m = re.match(r"(.+?):(\d+): (.*)", message, re.DOTALL)
    if m and not m.group(1).endswith(":"):
        return f"{m.group(1)}:{m.group(2)}: error: {m.group(3)}"
    path, sep, rest = message.partition(": ")
    text = read_input(path, None) if sep and path not in ("-", "<intent>") else None
    if not text:
        return f"{path}: error: {rest}" if sep and " " not in path else f"ringwall: error: {message}"
    line = 1
    field = _FIELD.match(rest)
    if field:
        keys: list[str | int] = []
        for part in re.findall(r"[^.\[\]]+|\[\d+\]", field.group(1)):
            keys.append(int(part[1:-1]) if part.startswith("[") else part)
        lines = text.split("\n")
        line = locate.yaml_path_line(lines, 0, len(lines), keys) + 1
    return f"{path}:{line}: error: {rest}"


@dataclass(frozen=True)
class IntentFlow:
    name: str
    src: str
    dst: str
    conn: ConnectionSet
    require: tuple[str, ...] = ()


@dataclass
class Intent:
    name: str
    zones: list[Zone]
    flows: list[IntentFlow]
    dns: bool = True
    min_depth: int = 1
    require: tuple[str, ...] = ()
    ignore_namespaces: tuple[str, ...] = ("kube-system",)
    path: str = ""
    hosts: dict[str, dict[str, Any]] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict, repr=False)
    """The whole document, for consumers with sections of their own (``generate``: ``cluster``, ``hosts``...)."""

    def zone(self, name: str) -> Zone | None:
        return next((z for z in self.zones if z.name == name), None)


def parse_ports(items: object, where: str) -> ConnectionSet:
    if items is None:
        return ALL
    if not isinstance(items, list) or not items:
        raise IntentError(f"{where}: ports must be a non-empty list such as [TCP/8080, UDP/53]")
    result = ConnectionSet.none()
    for item in items:
        text = str(item).strip().upper()
        proto, _, rng = text.partition("/")
        if proto not in ("TCP", "UDP", "SCTP"):
            raise IntentError(f"{where}: {item!r}: protocol must be TCP, UDP or SCTP")
        if not rng:
            result = result | ConnectionSet.of(proto)
            continue
        lo, _, hi = rng.partition("-")
        try:
            a, b = int(lo), int(hi or lo)
        except ValueError:
            raise IntentError(f"{where}: {item!r}: ports are numbers (TCP/8080 or TCP/8000-8999)") from None
        if not 1 <= a <= b <= 65535:
            raise IntentError(f"{where}: {item!r}: ports must lie in 1-65535")
        result = result | ConnectionSet.of(proto, [(a, b)])
    return result


def _requirements(raw: object, where: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or any(str(r) not in PROTECTIONS for r in raw):
        raise IntentError(f"{where}: require lists protections among {', '.join(PROTECTIONS)}")
    return tuple(str(r) for r in raw)


def load_intent(path: str | Path) -> Intent:
    text, reason = read_input_or_reason(path)
    if text is None:
        raise IntentError(reason)
    try:
        data = yaml_rs.loads(text, parse_datetime=False, alias_limits=ALIAS_LIMITS)
    except yaml_rs.YAMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise IntentError(f"{path}:{m.group(1) if m else 1}: invalid YAML: {str(exc).splitlines()[0]}") from None
    return parse_intent(data, str(path))


def parse_intent(data: object, path: str = "<intent>") -> Intent:
    if not isinstance(data, dict) or data.get("kind") != "Intent":
        raise IntentError(f"{path}: not an intent file (kind: Intent expected)")
    if data.get("apiVersion") != SCHEMA_VERSION:
        raise IntentError(f"{path}: apiVersion must be {SCHEMA_VERSION}")
    zones: dict[str, Zone] = {z.name: z for z in default_zones()}
    for i, z in enumerate(data.get("zones") or []):
        where = f"{path}: zones[{i}]"
        if not isinstance(z, dict) or not isinstance(z.get("name"), str):
            raise IntentError(f"{where}: a zone needs a name")
        name = z["name"]
        try:
            if z.get("cidrs"):
                zones[name] = external_zone(name, [str(c) for c in z["cidrs"]], str(z.get("description", "")))
                continue
        except AddressError as exc:
            raise IntentError(f"{where}: {exc}") from None
        selector = parse_selector({"matchLabels": z["selector"]}) if isinstance(z.get("selector"), dict) else None
        zone = Zone(name, namespaces=tuple(z.get("namespaces") or ()), selector=selector,
                    workloads=tuple(z.get("workloads") or ()), description=str(z.get("description", "")))
        if not (zone.namespaces or zone.workloads or zone.selector):
            raise IntentError(f"{where}: give cidrs, or namespaces / workloads / selector")
        zones[name] = zone
    flows: list[IntentFlow] = []
    for i, f in enumerate(data.get("flows") or []):
        where = f"{path}: flows[{i}]"
        if not isinstance(f, dict) or "from" not in f or "to" not in f:
            raise IntentError(f"{where}: a flow needs from and to")
        flows.append(IntentFlow(str(f.get("name") or f"flow-{i}"), str(f["from"]), str(f["to"]),
                                parse_ports(f.get("ports"), where), _requirements(f.get("require"), where)))
    defaults = data.get("defaults") or {}
    min_depth = defaults.get("min_depth", 1)
    if not isinstance(min_depth, int) or min_depth < 0:
        raise IntentError(f"{path}: defaults.min_depth must be a whole number")
    ignore = data.get("ignore") or {}
    return Intent(
        name=str((data.get("metadata") or {}).get("name") or Path(path).stem),
        zones=carve(list(zones.values())),
        flows=flows,
        dns=bool(data.get("dns", True)),
        min_depth=min_depth,
        require=_requirements(defaults.get("require"), f"{path}: defaults"),
        ignore_namespaces=tuple(ignore.get("namespaces") or ("kube-system",)),
        path=path,
        hosts=dict(data.get("hosts") or {}),
        raw=data,
    )
