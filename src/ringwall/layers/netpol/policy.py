"""NetworkPolicy objects, parsed and validated exactly as the API server would.

Manifests on disk are not defaulted, so the API's defaulting (policyTypes from the length of
``egress``, TCP for ports without protocol) is applied here. Objects the API server would
reject become diagnostics plus an RW-NP-020 finding and never take effect.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ringwall.model import intervals as iv
from ringwall.model.addresses import AddressError, parse_cidr
from ringwall.model.diagnostics import DiagnosticSink
from ringwall.model.intervals import Intervals
from ringwall.model.labels import Selector, SelectorError, parse_selector
from ringwall.sources.documents import Document

PROTOCOLS = ("TCP", "UDP", "SCTP")
_SVC_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")

Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class PortSpec:
    """One entry of a rule's ``ports``: all ports of a protocol, a range, or a named port."""

    protocol: str
    port: int | str | None = None
    end_port: int | None = None

    @property
    def named(self) -> bool:
        return isinstance(self.port, str)

    def __str__(self) -> str:
        if self.port is None:
            return f"{self.protocol} (all ports)"
        if self.end_port is not None:
            return f"{self.protocol} {self.port}-{self.end_port}"
        return f"{self.protocol} {self.port}"


@dataclass(frozen=True, slots=True)
class Peer:
    """A ``from``/``to`` entry: pods by selectors, or an ipBlock."""

    pod_selector: Selector | None = None
    namespace_selector: Selector | None = None
    ip_block: Intervals | None = None  # cidr minus except
    cidr: str = ""
    excepts: tuple[str, ...] = ()
    path: Path = ()

    @property
    def is_ip(self) -> bool:
        return self.ip_block is not None

    def describe(self, policy_namespace: str) -> str:
        if self.is_ip:
            return f"ipBlock {self.cidr}" + (f" except {', '.join(self.excepts)}" if self.excepts else "")
        parts = []
        if self.namespace_selector is not None:
            parts.append(f"namespaces [{self.namespace_selector}]")
        else:
            parts.append(f"namespace {policy_namespace}")
        if self.pod_selector is not None:
            parts.append(f"pods [{self.pod_selector}]")
        else:
            parts.append("all pods")
        return " / ".join(parts)


@dataclass(frozen=True, slots=True)
class Rule:
    direction: str  # "ingress" | "egress"
    index: int
    peers: tuple[Peer, ...] | None  # None: no from/to -> every source/destination
    ports: tuple[PortSpec, ...]  # empty: every port of every protocol
    path: Path

    @property
    def has_named_ports(self) -> bool:
        return any(p.named for p in self.ports)


@dataclass(slots=True)
class NetworkPolicy:
    namespace: str
    name: str
    pod_selector: Selector
    policy_types: frozenset[str]
    ingress: tuple[Rule, ...]
    egress: tuple[Rule, ...]
    document: Document
    ignored_rules: list[str] = field(default_factory=list)
    policy_types_defaulted: bool = False
    raw_egress_empty_without_types: bool = False

    @property
    def ref(self) -> str:
        return f"NetworkPolicy/{self.namespace}/{self.name}"

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def rules(self, direction: str) -> tuple[Rule, ...]:
        if direction == "ingress":
            return self.ingress if "Ingress" in self.policy_types else ()
        return self.egress if "Egress" in self.policy_types else ()

    def affects(self, direction: str) -> bool:
        return ("Ingress" if direction == "ingress" else "Egress") in self.policy_types


class PolicyInvalid(Exception):
    """The API server would reject the object: ``path`` names the field, as it would."""

    def __init__(self, message: str, path: Path) -> None:
        super().__init__(message)
        self.path = path

    @property
    def field_path(self) -> str:
        out = ""
        for p in self.path:
            out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else p)
        return out


def parse_policy(doc: Document, default_namespace: str, sink: DiagnosticSink) -> NetworkPolicy:
    """Parse and validate; raises ``PolicyInvalid`` for objects the API server rejects."""
    spec = doc.obj.get("spec")
    if spec is None:
        spec = {}
    if not isinstance(spec, dict):
        raise PolicyInvalid("spec must be an object", ("spec",))
    namespace = doc.namespace(default_namespace)
    if not doc.name:
        raise PolicyInvalid("Required value: name or generateName is required", ("metadata", "name"))
    pod_selector = _selector(spec.get("podSelector"), ("spec", "podSelector"))

    raw_types = spec.get("policyTypes")
    defaulted = False
    if raw_types is None or raw_types == []:
        types = {"Ingress"}
        egress_raw = spec.get("egress")
        if isinstance(egress_raw, list) and len(egress_raw) > 0:
            types.add("Egress")
        defaulted = True
    else:
        if not isinstance(raw_types, list):
            raise PolicyInvalid("policyTypes must be a list", ("spec", "policyTypes"))
        if len(raw_types) > 2:
            raise PolicyInvalid("may not specify more than two policyTypes", ("spec", "policyTypes"))
        for i, t in enumerate(raw_types):
            if t not in ("Ingress", "Egress"):
                raise PolicyInvalid(
                    f'Unsupported value: {t!r}: supported values: "Ingress", "Egress"',
                    ("spec", "policyTypes", i),
                )
        types = set(raw_types)

    ingress = _rules(spec, "ingress", namespace, doc, sink)
    egress = _rules(spec, "egress", namespace, doc, sink)
    policy = NetworkPolicy(
        namespace=namespace,
        name=doc.name,
        pod_selector=pod_selector,
        policy_types=frozenset(types),
        ingress=ingress,
        egress=egress,
        document=doc,
        policy_types_defaulted=defaulted,
        raw_egress_empty_without_types=defaulted and "egress" in spec and not spec.get("egress"),
    )
    if ingress and "Ingress" not in types:
        policy.ignored_rules.append("ingress")
    if egress and "Egress" not in types:
        policy.ignored_rules.append("egress")
    return policy


def _selector(raw: object, path: Path) -> Selector:
    try:
        return parse_selector(raw)
    except SelectorError as exc:
        raise PolicyInvalid(str(exc), path + exc.path) from None


def _rules(spec: dict, key: str, namespace: str, doc: Document, sink: DiagnosticSink) -> tuple[Rule, ...]:
    raw = spec.get(key)
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise PolicyInvalid(f"{key} must be a list", ("spec", key))
    peer_key = "from" if key == "ingress" else "to"
    rules: list[Rule] = []
    for i, r in enumerate(raw):
        path: Path = ("spec", key, i)
        if r is None:
            r = {}
        if not isinstance(r, dict):
            raise PolicyInvalid("a rule must be an object", path)
        ports = _ports(r.get("ports"), (*path, "ports"))
        peers_raw = r.get(peer_key)
        peers: tuple[Peer, ...] | None
        if peers_raw is None or peers_raw == []:
            peers = None
        else:
            if not isinstance(peers_raw, list):
                raise PolicyInvalid(f"{peer_key} must be a list", (*path, peer_key))
            peers = tuple(
                _peer(p, (*path, peer_key, j), doc, sink) for j, p in enumerate(peers_raw)
            )
        rules.append(Rule(key, i, peers, ports, path))
    return tuple(rules)


def _ports(raw: object, path: Path) -> tuple[PortSpec, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise PolicyInvalid("ports must be a list", path)
    out: list[PortSpec] = []
    for k, p in enumerate(raw):
        ppath = (*path, k)
        if p is None:
            p = {}
        if not isinstance(p, dict):
            raise PolicyInvalid("a port entry must be an object", ppath)
        proto = p.get("protocol") or "TCP"
        if proto not in PROTOCOLS:
            raise PolicyInvalid(
                f'Unsupported value: {proto!r}: supported values: "TCP", "UDP", "SCTP"', (*ppath, "protocol")
            )
        port = p.get("port")
        end = p.get("endPort")
        if isinstance(port, str) and port.isdigit():
            port = int(port)
        if port is None:
            if end is not None:
                raise PolicyInvalid("may not be specified when `port` is not specified", (*ppath, "endPort"))
            out.append(PortSpec(proto))
            continue
        if isinstance(port, bool) or not isinstance(port, int | str):
            raise PolicyInvalid("invalid port: must be a number or a name", (*ppath, "port"))
        if isinstance(port, int):
            if not 1 <= port <= 65535:
                raise PolicyInvalid(
                    f"Invalid value: {port}: must be between 1 and 65535, inclusive", (*ppath, "port")
                )
            if end is not None:
                if isinstance(end, bool) or not isinstance(end, int):
                    raise PolicyInvalid("endPort must be a number", (*ppath, "endPort"))
                if end < port:
                    raise PolicyInvalid("must be greater than or equal to `port`", (*ppath, "endPort"))
                if end > 65535:
                    raise PolicyInvalid(
                        f"Invalid value: {end}: must be between 1 and 65535, inclusive", (*ppath, "endPort")
                    )
            out.append(PortSpec(proto, port, end))
        else:
            if end is not None:
                raise PolicyInvalid("may not be specified when `port` is non-numeric", (*ppath, "endPort"))
            if not (len(port) <= 15 and _SVC_NAME.match(port) and "--" not in port
                    and any(c.isalpha() for c in port)):
                raise PolicyInvalid(f"Invalid value: {port!r}: invalid port name", (*ppath, "port"))
            out.append(PortSpec(proto, port))
    return tuple(out)


def _peer(raw: object, path: Path, doc: Document, sink: DiagnosticSink) -> Peer:
    if not isinstance(raw, dict):
        raise PolicyInvalid("Required value: must specify a peer", path)
    pod_raw = raw.get("podSelector")
    ns_raw = raw.get("namespaceSelector")
    ipb = raw.get("ipBlock")
    if ipb is not None:
        if pod_raw is not None or ns_raw is not None:
            raise PolicyInvalid("Forbidden: may not specify both ipBlock and another peer", path)
        if not isinstance(ipb, dict):
            raise PolicyInvalid("ipBlock must be an object", (*path, "ipBlock"))
        cidr = ipb.get("cidr")
        if not isinstance(cidr, str) or not cidr:
            raise PolicyInvalid("Required value", (*path, "ipBlock", "cidr"))
        try:
            base, masked = parse_cidr(cidr)
        except AddressError as exc:
            raise PolicyInvalid(str(exc), (*path, "ipBlock", "cidr")) from None
        if masked:
            sink.warning(
                "netpol.cidr-host-bits",
                f"ipBlock cidr {cidr} has host bits set; read as {_canonical(base)}",
                doc.locate((*path, "ipBlock", "cidr")),
            )
        excepts_raw = ipb.get("except") or []
        if not isinstance(excepts_raw, list):
            raise PolicyInvalid("except must be a list", (*path, "ipBlock", "except"))
        cut: list[tuple[int, int]] = []
        base_prefix = _prefix_len(cidr)
        for k, e in enumerate(excepts_raw):
            epath = (*path, "ipBlock", "except", k)
            if not isinstance(e, str):
                raise PolicyInvalid("must be a CIDR string", epath)
            try:
                rng, _ = parse_cidr(e)
            except AddressError as exc:
                raise PolicyInvalid(str(exc), epath) from None
            if not iv.is_subset(rng, base) or _prefix_len(e) <= base_prefix:
                raise PolicyInvalid("must be a strict subset of `cidr`", epath)
            cut.extend(rng)
        return Peer(
            ip_block=iv.subtract(base, iv.normalize(cut)), cidr=cidr,
            excepts=tuple(str(e) for e in excepts_raw), path=path,
        )
    if pod_raw is None and ns_raw is None:
        raise PolicyInvalid("Required value: must specify a peer", path)
    pod_sel = _selector(pod_raw, (*path, "podSelector")) if pod_raw is not None else None
    ns_sel = _selector(ns_raw, (*path, "namespaceSelector")) if ns_raw is not None else None
    return Peer(pod_selector=pod_sel, namespace_selector=ns_sel, path=path)


def _prefix_len(cidr: str) -> int:
    _, _, bits = cidr.partition("/")
    try:
        return int(bits)
    except ValueError:
        return 128 if ":" in cidr else 32


def _canonical(ranges: Intervals) -> str:
    from ringwall.model.addresses import to_cidrs

    return ", ".join(to_cidrs(ranges))
