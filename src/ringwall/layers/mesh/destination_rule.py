"""Istio DestinationRule client TLS: what a sidecar sends towards a host and port.

Lookup as istiod does it (refs mesh §1.3): only rules visible to the client (``exportTo``,
default ``*``), first found in the client's namespace, then the service's namespace, then the
root namespace; inside one namespace the most specific host wins. ``workloadSelector``
restricts a rule to clients of its own namespace. ``portLevelSettings`` override per service
port. Without a ``tls`` block auto mTLS decides (``tls_mode`` is then ``None``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ringwall.model.cluster import Service, Workload
from ringwall.sources.documents import Document

from .common import Evidence, ParsedObject, labels_match, match_labels, spec_of, str_list

TLS_MODES = ("DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL")


@dataclass
class DestinationRule(ParsedObject):
    host: str = ""
    export_to: list[str] = field(default_factory=lambda: ["*"])
    workload_selector: dict[str, str] | None = None
    tls: dict[str, Any] | None = None
    port_tls: dict[int, dict[str, Any]] = field(default_factory=dict)

    @property
    def tls_mode(self) -> str | None:
        return _mode(self.tls)


def _mode(tls: dict[str, Any] | None) -> str | None:
    if not isinstance(tls, dict) or "mode" not in tls:
        return None
    m = str(tls.get("mode") or "DISABLE").upper()
    return m if m in TLS_MODES else None


def parse_destination_rule(doc: Document, default_ns: str) -> DestinationRule:
    spec = spec_of(doc)
    tp = spec.get("trafficPolicy") if isinstance(spec.get("trafficPolicy"), dict) else {}
    port_tls: dict[int, dict[str, Any]] = {}
    for pls in tp.get("portLevelSettings") or ():
        if isinstance(pls, dict) and isinstance(pls.get("port"), dict) and isinstance(pls.get("tls"), dict):
            num = pls["port"].get("number")
            if isinstance(num, int):
                port_tls[num] = pls["tls"]
    export = str_list(spec.get("exportTo")) or ["*"]
    return DestinationRule(
        doc, doc.namespace(default_ns), doc.name, host=str(spec.get("host") or ""),
        export_to=export, workload_selector=match_labels(spec.get("workloadSelector")),
        tls=tp.get("tls") if isinstance(tp.get("tls"), dict) else None, port_tls=port_tls,
    )


def fqdn(host: str, namespace: str, domain: str = "cluster.local") -> str:
    """Short names in a DestinationRule are relative to the rule's own namespace."""
    if host == "*" or host.startswith("*."):
        return host
    parts = host.split(".")
    if len(parts) == 1:
        return f"{host}.{namespace}.svc.{domain}"
    if len(parts) == 2:
        return f"{host}.svc.{domain}"
    return host


def host_matches(pattern: str, host: str) -> int:
    """0 when no match, else a specificity (higher wins)."""
    if pattern == host:
        return 10_000
    if pattern == "*":
        return 1
    if pattern.startswith("*.") and host.endswith(pattern[1:]):
        return len(pattern)
    return 0


@dataclass
class ClientTls:
    mode: str | None
    """The DestinationRule's TLS mode, or None when auto mTLS decides."""
    rule: DestinationRule | None
    evidence: Evidence | None
    skip_verify: bool = False
    has_ca: bool = True


class DestinationRuleIndex:
    def __init__(self, rules: list[DestinationRule], root_namespace: str, domain: str = "cluster.local") -> None:
        self.rules = rules
        self.root = root_namespace
        self.domain = domain
        self.by_ns: dict[str, list[DestinationRule]] = {}
        for r in rules:
            self.by_ns.setdefault(r.namespace, []).append(r)
        self.used: set[int] = set()
        self._by_client = any(r.workload_selector is not None for r in rules)
        self._cache: dict[tuple[object, ...], ClientTls] = {}

    def _visible(self, r: DestinationRule, client: Workload | None) -> bool:
        client_ns = client.namespace if client else ""
        if r.workload_selector is not None and (
            client is None or client.namespace != r.namespace or not labels_match(r.workload_selector, client.labels)
        ):
            return False
        return any(e == "*" or (e == "." and client_ns == r.namespace) or e == client_ns for e in r.export_to)

    def lookup(self, client: Workload | None, service: Service, service_port: int | None) -> ClientTls:
        ckey = ((client.namespace, tuple(sorted(client.labels.items()))) if self._by_client and client
                else client.namespace if client else None)
        key = (ckey, service.namespace, service.name, service_port)
        hit = self._cache.get(key)
        if hit is None:
            hit = self._cache[key] = self._lookup(client, service, service_port)
        return hit

    def _lookup(self, client: Workload | None, service: Service, service_port: int | None) -> ClientTls:
        host = f"{service.name}.{service.namespace}.svc.{self.domain}"
        order: list[str] = []
        for ns in ((client.namespace if client else None), service.namespace, self.root):
            if ns is not None and ns not in order:
                order.append(ns)
        for ns in order:
            best: tuple[int, DestinationRule] | None = None
            for r in self.by_ns.get(ns, ()):
                if not self._visible(r, client):
                    continue
                score = host_matches(fqdn(r.host, r.namespace, self.domain), host)
                if score and (best is None or score > best[0]):
                    best = (score, r)
            if best is not None:
                r = best[1]
                self.used.add(id(r))
                tls = r.port_tls.get(service_port) if service_port is not None else None
                path: tuple[str | int, ...] = ("spec", "trafficPolicy", "portLevelSettings")
                if tls is None:
                    tls, path = r.tls, ("spec", "trafficPolicy", "tls")
                mode = _mode(tls)
                if mode is None:
                    return ClientTls(None, r, Evidence(f"{r.ref} sets no TLS mode for {host}: auto mTLS",
                                                       r.locate("spec")))
                ev = Evidence(f"{r.ref} tls.mode {mode} for {host}", r.locate(*path))
                tls = tls or {}
                return ClientTls(mode, r, ev, bool(tls.get("insecureSkipVerify")),
                                 bool(tls.get("caCertificates") or tls.get("credentialName")))
        return ClientTls(None, None, None)
