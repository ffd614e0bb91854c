"""Istio AuthorizationPolicy: the decision for a request at a workload, with the rule that made it.

Decision order (refs mesh §1.4): CUSTOM, then DENY, then "no ALLOW applies -> allow", then
"an ALLOW matches -> allow", else deny; AUDIT never decides; ``istio.io/dry-run`` policies are
not enforced. Rules are ORed; inside a rule ``from``/``to`` entries are ORed and ``when``
conditions ANDed; inside a source or operation the fields are ANDed.

Static input cannot know HTTP methods, paths, headers or JWTs, so matching is three-valued:
True, False, or None (depends on the request). On a TCP port (or at ztunnel without a
waypoint) HTTP-only fields follow Istio's compile rules: an ALLOW (or CUSTOM) rule that uses
them is dropped, a DENY (or AUDIT) rule loses only those fields and so matches more.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ringwall.model import intervals as iv
from ringwall.model.addresses import AddressError, parse_cidr
from ringwall.model.cluster import Workload
from ringwall.model.intervals import Intervals
from ringwall.sources.documents import Document

from .common import Evidence, ParsedObject, istio_string_match, labels_match, match_labels, spec_of, str_list

Tri = bool | None
ACTIONS = ("ALLOW", "DENY", "AUDIT", "CUSTOM")
HTTP_SOURCE_FIELDS = frozenset({"requestPrincipals", "notRequestPrincipals"})
HTTP_OPERATION_FIELDS = frozenset({"hosts", "notHosts", "methods", "notMethods", "paths", "notPaths"})
NEGATIVE_FIELDS = frozenset({"notPaths", "notHosts", "notMethods"})


def _and(values: list[Tri]) -> Tri:
    if any(v is False for v in values):
        return False
    return None if any(v is None for v in values) else True


def _or(values: list[Tri]) -> Tri:
    if any(v is True for v in values):
        return True
    return None if any(v is None for v in values) else False


def is_http_key(key: str) -> bool:
    return key.startswith(("request.", "experimental."))


def rule_uses_http(rule: dict[str, Any]) -> bool:
    """Does the rule use a field that exists only for HTTP (methods, paths, hosts, JWT, headers)?"""
    for src in rule.get("from") or ():
        s = src.get("source") if isinstance(src, dict) else None
        if isinstance(s, dict) and HTTP_SOURCE_FIELDS & s.keys():
            return True
    for to in rule.get("to") or ():
        o = to.get("operation") if isinstance(to, dict) else None
        if isinstance(o, dict) and HTTP_OPERATION_FIELDS & o.keys():
            return True
    return any(isinstance(c, dict) and is_http_key(str(c.get("key", ""))) for c in rule.get("when") or ())


@dataclass
class AuthorizationPolicy(ParsedObject):
    action: str = "ALLOW"
    selector: dict[str, str] | None = None
    target_refs: list[dict[str, Any]] = field(default_factory=list)
    rules: list[dict[str, Any]] = field(default_factory=list)
    dry_run: bool = False
    provider: str | None = None

    def rule_uses_http(self, rule: dict[str, Any]) -> bool:
        return rule_uses_http(rule)

    @property
    def is_allow_nothing(self) -> bool:
        return self.action == "ALLOW" and not self.rules

    @property
    def is_allow_all(self) -> bool:
        return self.action == "ALLOW" and any(not r for r in self.rules)

    @property
    def is_deny_all(self) -> bool:
        return self.action == "DENY" and any(not r for r in self.rules)


def parse_authorization_policy(doc: Document, default_ns: str) -> AuthorizationPolicy:
    spec = spec_of(doc)
    action = str(spec.get("action") or "ALLOW").upper()
    refs = spec.get("targetRefs") or ([spec["targetRef"]] if isinstance(spec.get("targetRef"), dict) else [])
    rules = [r if isinstance(r, dict) else {} for r in spec.get("rules") or ()]
    ann = doc.metadata.get("annotations") if isinstance(doc.metadata.get("annotations"), dict) else {}
    provider = spec.get("provider", {}).get("name") if isinstance(spec.get("provider"), dict) else None
    return AuthorizationPolicy(
        doc, doc.namespace(default_ns), doc.name, action=action if action in ACTIONS else "ALLOW",
        selector=match_labels(spec.get("selector")), target_refs=[r for r in refs if isinstance(r, dict)],
        rules=rules, dry_run=str(ann.get("istio.io/dry-run", "")).lower() == "true",
        provider=str(provider) if provider else None,
    )


@dataclass(frozen=True)
class Request:
    """What the destination proxy knows about a connection before any HTTP is seen."""

    principal: str | None
    """``<trust-domain>/ns/<ns>/sa/<sa>`` when mTLS carried a peer identity, else None."""
    source_ips: Intervals | None
    """The source addresses when the input knows them, else None (unknown)."""
    port: int


def principal_namespace(principal: str | None) -> str:
    if not principal:
        return ""
    parts = principal.split("/")
    return parts[parts.index("ns") + 1] if "ns" in parts and parts.index("ns") + 1 < len(parts) else ""


def _ip_match(cidrs: list[str], ips: Intervals | None) -> Tri:
    ranges: list[tuple[int, int]] = []
    for c in cidrs:
        try:
            r, _ = parse_cidr(c)
        except AddressError:
            continue
        ranges.extend(r)
    block = iv.normalize(ranges)
    if ips is None:
        return None
    if not ips:
        return False
    if iv.is_subset(ips, block):
        return True
    return False if not iv.intersect(ips, block) else None


def _values(patterns: list[str], value: str) -> bool:
    return any(istio_string_match(p, value) for p in patterns)


class Matcher:
    """Evaluates rules of one action against a request, in HTTP or TCP compile mode."""

    def __init__(self, req: Request, http: bool) -> None:
        self.req = req
        self.http = http
        self.principal = req.principal or ""
        self.namespace = principal_namespace(req.principal)

    def source(self, s: dict[str, Any], drop_http: bool) -> Tri:
        out: list[Tri] = []
        for key, raw in s.items():
            vals = str_list(raw)
            if key in HTTP_SOURCE_FIELDS:
                if drop_http:
                    continue
                out.append(None)  # depends on the JWT of each request
            elif key == "principals":
                out.append(_values(vals, self.principal))
            elif key == "notPrincipals":
                out.append(not _values(vals, self.principal))
            elif key == "namespaces":
                out.append(_values(vals, self.namespace))
            elif key == "notNamespaces":
                out.append(not _values(vals, self.namespace))
            elif key in ("serviceAccounts", "notServiceAccounts"):
                sa = ""
                if self.req.principal and "/sa/" in self.req.principal:
                    sa = f"{self.namespace}/{self.req.principal.rsplit('/sa/', 1)[1]}"
                hit = sa != "" and sa in vals
                out.append(hit if key == "serviceAccounts" else not hit)
            elif key in ("ipBlocks", "remoteIpBlocks"):
                out.append(_ip_match(vals, self.req.source_ips))
            elif key in ("notIpBlocks", "notRemoteIpBlocks"):
                m = _ip_match(vals, self.req.source_ips)
                out.append(None if m is None else not m)
            else:
                out.append(None)
        return _and(out)

    def operation(self, o: dict[str, Any], drop_http: bool) -> Tri:
        out: list[Tri] = []
        for key, raw in o.items():
            vals = str_list(raw)
            if key in HTTP_OPERATION_FIELDS:
                if drop_http:
                    continue
                out.append(None)
            elif key == "ports":
                out.append(str(self.req.port) in vals)
            elif key == "notPorts":
                out.append(str(self.req.port) not in vals)
            else:
                out.append(None)
        return _and(out)

    def condition(self, c: dict[str, Any], drop_http: bool) -> Tri | str:
        key = str(c.get("key", ""))
        vals = str_list(c.get("values"))
        nvals = str_list(c.get("notValues"))
        if is_http_key(key):
            return "drop" if drop_http else None
        value: str | None
        if key in ("source.ip", "remote.ip"):
            m_in = _ip_match(vals, self.req.source_ips) if vals else True
            m_not = _ip_match(nvals, self.req.source_ips) if nvals else False
            return _and([m_in, None if m_not is None else not m_not])
        if key == "source.principal":
            value = self.principal
        elif key == "source.namespace":
            value = self.namespace
        elif key == "destination.port":
            value = str(self.req.port)
        else:
            return None
        ok = (_values(vals, value) if vals else True) and not (_values(nvals, value) if nvals else False)
        return ok

    def rule(self, rule: dict[str, Any], action: str) -> Tri:
        drop_fields = not self.http and action in ("DENY", "AUDIT")
        if not self.http and action in ("ALLOW", "CUSTOM") and rule_uses_http(rule):
            return False  # Istio drops the whole rule on a TCP filter chain
        parts: list[Tri] = []
        froms = [f.get("source") for f in rule.get("from") or () if isinstance(f, dict)]
        if froms:
            parts.append(_or([self.source(s if isinstance(s, dict) else {}, drop_fields) for s in froms]))
        tos = [t.get("operation") for t in rule.get("to") or () if isinstance(t, dict)]
        if tos:
            parts.append(_or([self.operation(o if isinstance(o, dict) else {}, drop_fields) for o in tos]))
        for c in rule.get("when") or ():
            if isinstance(c, dict):
                r = self.condition(c, drop_fields)
                if r != "drop":
                    parts.append(r)  # type: ignore[arg-type]
        return _and(parts)


    def describe(self, rule: dict[str, Any]) -> str:
        """What a rule that matches only some requests depends on, written as a request pattern:
        ``GET|POST /api/* host shop.example.com``, ``JWT from issuer/*``, ``source in 1.2.3.0/24``.
        Fields the proxy already knows (ports, peer identity) are left out."""
        alts: list[str] = []
        froms = [f.get("source") for f in rule.get("from") or () if isinstance(f, dict)]
        src_parts = [self._describe_source(s) for s in froms if isinstance(s, dict) and self.source(s, False) is None]
        tos = [t.get("operation") for t in rule.get("to") or () if isinstance(t, dict)]
        op_parts = [self._describe_operation(o) for o in tos
                    if isinstance(o, dict) and self.operation(o, False) is None]
        when = [self._describe_condition(c) for c in rule.get("when") or ()
                if isinstance(c, dict) and self.condition(c, False) is None]
        for group in (op_parts, src_parts):
            texts = [t for t in group if t]
            if texts:
                alts.append(texts[0] if len(texts) == 1 else "(" + " or ".join(texts) + ")")
        alts.extend(t for t in when if t)
        return " ".join(alts) or "request attributes"

    def _describe_operation(self, o: dict[str, Any]) -> str:
        parts: list[str] = []
        for key, prefix in (("methods", ""), ("notMethods", "not "), ("paths", ""), ("notPaths", "path not "),
                            ("hosts", "host "), ("notHosts", "host not ")):
            vals = str_list(o.get(key))
            if vals:
                parts.append(prefix + "|".join(vals))
        return " ".join(parts)

    def _describe_source(self, s: dict[str, Any]) -> str:
        parts: list[str] = []
        rp = str_list(s.get("requestPrincipals"))
        if rp:
            parts.append("any valid JWT" if rp == ["*"] else "JWT from " + "|".join(rp))
        nrp = str_list(s.get("notRequestPrincipals"))
        if nrp:
            parts.append("no JWT" if nrp == ["*"] else "JWT not from " + "|".join(nrp))
        for key, prefix in (("ipBlocks", "source in "), ("remoteIpBlocks", "remote address in "),
                            ("notIpBlocks", "source not in "), ("notRemoteIpBlocks", "remote address not in ")):
            vals = str_list(s.get(key))
            if vals and _ip_match(vals, self.req.source_ips) is None:
                parts.append(prefix + ",".join(vals))
        return " ".join(parts)

    def _describe_condition(self, c: dict[str, Any]) -> str:
        key = str(c.get("key", ""))
        vals, nvals = str_list(c.get("values")), str_list(c.get("notValues"))
        out = []
        if vals:
            out.append(f"{key} in [{', '.join(vals)}]")
        if nvals:
            out.append(f"{key} not in [{', '.join(nvals)}]")
        return " ".join(out)


@dataclass
class AuthzDecision:
    verdict: str
    """``allow``, ``deny`` or ``conditional`` (depends on HTTP attributes, JWT or an external authorizer)."""
    reason: str
    evidence: list[Evidence] = field(default_factory=list)
    condition: str | None = None
    """For ``conditional``: the requests that are allowed (``GET /api/*``), or the ones denied (``not ...``)."""


def _rule_ev(p: AuthorizationPolicy, i: int | None, what: str) -> Evidence:
    if i is None:
        return Evidence(f"{p.action} {p.ref}: {what}", p.locate("spec"))
    return Evidence(f"{p.action} {p.ref} rules[{i}]: {what}", p.locate("spec", "rules", i))


def _match_policy(p: AuthorizationPolicy, m: Matcher) -> tuple[Tri, int | None]:
    best: Tri = False
    idx: int | None = None
    for i, r in enumerate(p.rules):
        v = m.rule(r, p.action)
        if v is True:
            return True, i
        if v is None and best is False:
            best, idx = None, i
    return best, idx


def decide(policies: list[AuthorizationPolicy], req: Request, http: bool, ztunnel: bool = False) -> AuthzDecision:
    """The Istio decision for ``req`` under the enforced ``policies`` that apply to the workload."""
    m = Matcher(req, http)
    enforced = [p for p in policies if not p.dry_run and p.action != "AUDIT"]
    if ztunnel:
        # ztunnel ignores a DENY whose rules all need HTTP attributes (status UnsupportedValue).
        enforced = [p for p in enforced if not (p.action == "DENY" and p.rules and
                                                all(p.rule_uses_http(r) for r in p.rules))]
    custom_hit: tuple[AuthorizationPolicy, int | None] | None = None
    for p in enforced:
        if p.action == "CUSTOM":
            v, i = _match_policy(p, m)
            if v is not False:
                custom_hit = (p, i)
                break
    maybe_deny: tuple[AuthorizationPolicy, int | None] | None = None
    for p in enforced:
        if p.action != "DENY":
            continue
        v, i = _match_policy(p, m)
        if v is True:
            return AuthzDecision("deny", f"DENY policy {p.ref} matches", [_rule_ev(p, i, "matches")])
        if v is None and maybe_deny is None:
            maybe_deny = (p, i)
    allows = [p for p in enforced if p.action == "ALLOW"]
    result: AuthzDecision
    if not allows:
        result = AuthzDecision("allow", "no ALLOW policy applies to the workload", [])
    else:
        maybe_allow: tuple[AuthorizationPolicy, int | None] | None = None
        hit: tuple[AuthorizationPolicy, int] | None = None
        for p in allows:
            v, i = _match_policy(p, m)
            if v is True and i is not None:
                hit = (p, i)
                break
            if v is None and maybe_allow is None:
                maybe_allow = (p, i)
        if hit is not None:
            result = AuthzDecision("allow", f"ALLOW policy {hit[0].ref} matches", [_rule_ev(hit[0], hit[1], "matches")])
        elif maybe_allow is not None:
            conds: list[str] = []
            evs: list[Evidence] = []
            for p in allows:
                for i, r in enumerate(p.rules):
                    if m.rule(r, p.action) is None:
                        text = m.describe(r)
                        if text not in conds:
                            conds.append(text)
                        evs.append(_rule_ev(p, i, f"allows {text}"))
            cond = " | ".join(conds)
            p, _ = maybe_allow
            result = AuthzDecision("conditional", f"ALLOW policy {p.ref} allows only {cond}", evs, cond)
        else:
            evs = [_rule_ev(p, None, "allow-nothing" if not p.rules else "no rule matches") for p in allows]
            return AuthzDecision("deny", "ALLOW policies apply but none matches", evs)
    if maybe_deny is not None:
        p, i = maybe_deny
        denied = m.describe(p.rules[i]) if i is not None else "some requests"
        cond = f"not {denied}" + (f", {result.condition}" if result.condition else "")
        result = AuthzDecision("conditional", f"DENY policy {p.ref} denies {denied}; " + result.reason,
                               [_rule_ev(p, i, f"denies {denied}"), *result.evidence], cond)
    if custom_hit is not None:
        p, i = custom_hit
        cond = f"external authorizer {p.provider or '?'}" + (f", {result.condition}" if result.condition else "")
        result = AuthzDecision("conditional", f"CUSTOM policy {p.ref} asks the external authorizer "
                               f"{p.provider or '?'}; " + result.reason, [_rule_ev(p, i, "external check"),
                                                                          *result.evidence], cond)
    return result


class AuthorizationIndex:
    """Policies by namespace; ``for_workload`` lists those that apply (root namespace = all)."""

    def __init__(self, policies: list[AuthorizationPolicy], root_namespace: str) -> None:
        self.policies = policies
        self.root = root_namespace
        self.by_ns: dict[str, list[AuthorizationPolicy]] = {}
        for p in policies:
            self.by_ns.setdefault(p.namespace, []).append(p)
        self.matched: set[int] = set()
        self._cache: dict[tuple[str, tuple[tuple[str, str], ...]], list[AuthorizationPolicy]] = {}

    def for_workload(self, w: Workload) -> list[AuthorizationPolicy]:
        """Selector-scoped policies (sidecars and ztunnel); targetRefs policies are for gateways/waypoints."""
        key = (w.namespace, tuple(sorted(w.labels.items())))
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        out = []
        for ns in dict.fromkeys((self.root, w.namespace)):
            for p in self.by_ns.get(ns, ()):
                if p.target_refs:
                    continue
                if p.selector is None or labels_match(p.selector, w.labels):
                    out.append(p)
                    self.matched.add(id(p))
        self._cache[key] = out
        return out

    def waypoint_policies(self, w: Workload, services: list[str], waypoint: str | None) -> list[AuthorizationPolicy]:
        """Policies a waypoint enforces for ``w``: targetRefs to one of its Services or to the waypoint."""
        out = []
        for p in self.by_ns.get(w.namespace, ()):
            for ref in p.target_refs:
                kind, name = str(ref.get("kind", "")), str(ref.get("name", ""))
                if (kind == "Service" and name in services) or (kind == "Gateway" and waypoint and name == waypoint):
                    out.append(p)
                    self.matched.add(id(p))
                    break
        return out
