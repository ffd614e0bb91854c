"""Calico policies (projectcalico.org/v3 and crd.projectcalico.org/v1), read into an ordered form.

Calico evaluates *tiers* in ascending ``order``; inside a tier, policies by ascending ``order``
(a policy without order comes after every ordered one; ties by name), and inside a policy its
rules in order. ``Allow``/``Deny`` decide, ``Pass`` skips to the next tier, ``Log`` decides
nothing. A tier that has a policy selecting the endpoint (in that direction) and decides nothing
applies its default action (``Deny`` unless the Tier says ``Pass``). Kubernetes NetworkPolicies
are policies of the ``default`` tier with order 1000. This module only parses; the engine
evaluates (``Engine._fill_calico``).

What is not modelled, and said so in a diagnostic: ICMP and other non TCP/UDP/SCTP protocols (a
rule restricted to them matches none of the connections Ringwall models), source ports that cut
the ephemeral range (``ephemeral_match``; a rule restricted by them is ignored), HostEndpoints
and the ``preDNAT`` / ``doNotTrack`` / ``applyOnForward`` host-endpoint policies (they do not
apply to pods).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ringwall.model import intervals as iv
from ringwall.model.addresses import AddressError, parse_address, parse_cidr
from ringwall.model.diagnostics import DiagnosticSink
from ringwall.model.intervals import Intervals
from ringwall.sources.documents import Document
from ringwall.sources.inventory import Inventory

from .policy import Path, PolicyInvalid, PortSpec
from .selector_expr import Expr, ExprError, parse_expr

CALICO_GROUPS = ("projectcalico.org/", "crd.projectcalico.org/")
POLICY_KINDS = ("NetworkPolicy", "GlobalNetworkPolicy")
DEFAULT_TIER = "default"
DEFAULT_TIER_ORDER = 1_000_000.0
"""Calico gives the ``default`` tier order 1,000,000 (Tier reference)."""
ADMIN_TIER_ORDER = 1_000.0
"""The ``adminnetworkpolicy`` tier (ANP) has order 1,000 and default action Pass."""
BASELINE_TIER_ORDER = 10_000_000.0
"""The ``baselineadminnetworkpolicy`` tier (BANP) has order 10,000,000 and default action Pass."""
K8S_NP_ORDER = 1000.0
"""Kubernetes NetworkPolicies become default-tier policies with order 1000."""
_ACTIONS = {"Allow": "allow", "Deny": "deny", "Pass": "pass", "Log": "log"}
_PROTO_NUMBERS = {"6": "TCP", "17": "UDP", "132": "SCTP"}
MODELLED = ("TCP", "UDP", "SCTP")


def is_calico(doc: Document) -> bool:
    return doc.api_version.startswith(CALICO_GROUPS)


@dataclass(frozen=True, slots=True)
class Entity:
    """A rule's ``source`` or ``destination``: every set field must match (AND)."""

    nets: Intervals | None = None
    not_nets: Intervals | None = None
    selector: Expr | None = None
    not_selector: Expr | None = None
    namespace_selector: Expr | None = None
    sa_names: tuple[str, ...] | None = None
    sa_selector: Expr | None = None
    ports: tuple[int | str | tuple[int, int], ...] | None = None
    not_ports: tuple[int | str | tuple[int, int], ...] | None = None
    services: tuple[str, str] | None = None
    """``services: {name, namespace}``: (namespace, or "" for the policy's own; name) of a Kubernetes
    Service whose pods (and, as destination, whose target ports) the entity matches."""

    @property
    def endpoints_only(self) -> bool:
        """Selectors on labels, namespaces, service accounts or Services match workload endpoints only:
        an outside address has none of them."""
        return self.selector is not None or self.namespace_selector is not None or (
            self.sa_names is not None or self.sa_selector is not None or self.services is not None
        )

    @property
    def has_peer_match(self) -> bool:
        return self.endpoints_only or self.nets is not None or self.not_nets is not None or (
            self.not_selector is not None
        )

    @property
    def named_ports(self) -> bool:
        return any(isinstance(p, str) for p in (*(self.ports or ()), *(self.not_ports or ())))


@dataclass(frozen=True, slots=True)
class CalicoRule:
    direction: str
    index: int
    action: str  # allow | deny | pass | log
    protocols: tuple[str, ...]
    """Modelled protocols the rule matches (empty: only ICMP or other unmodelled protocols)."""
    source: Entity
    destination: Entity
    path: Path
    ignored: str = ""
    """Non-empty: the rule is left out of evaluation, and why (an approximation, reported)."""

    @property
    def peer(self) -> Entity:
        return self.source if self.direction == "ingress" else self.destination

    @property
    def local(self) -> Entity:
        return self.destination if self.direction == "ingress" else self.source

    @property
    def has_named_ports(self) -> bool:
        return self.destination.named_ports or self.destination.services is not None

    def port_specs(self, which: str, service_ports: tuple[PortSpec, ...] | None = None) -> tuple[PortSpec, ...]:
        """``ports`` (``which='ports'``) or ``notPorts`` of the destination as PortSpecs; a destination
        ``services`` match brings the Service's target ports (``service_ports``) instead."""
        if service_ports is not None and which == "ports":
            return tuple(p for p in service_ports if p.protocol in self.protocols)
        raw = self.destination.ports if which == "ports" else self.destination.not_ports
        if raw is None:
            return tuple(PortSpec(p) for p in self.protocols) if which == "ports" else ()
        out: list[PortSpec] = []
        for proto in self.protocols:
            for p in raw:
                if isinstance(p, tuple):
                    out.append(PortSpec(proto, p[0], p[1]))
                else:
                    out.append(PortSpec(proto, p))
        return tuple(out)


@dataclass(slots=True)
class CalicoPolicy:
    kind: str  # NetworkPolicy | GlobalNetworkPolicy
    name: str
    namespace: str | None
    tier: str
    order: float
    selector: Expr
    namespace_selector: Expr | None
    sa_selector: Expr | None
    types: frozenset[str]
    ingress: tuple[CalicoRule, ...]
    egress: tuple[CalicoRule, ...]
    document: Document
    host_only: str = ""
    """Non-empty: the policy applies to host endpoints only (preDNAT, doNotTrack), not to pods."""
    order_set: bool = True

    @property
    def ref(self) -> str:
        if self.namespace is None:
            return f"GlobalNetworkPolicy/{self.name}"
        return f"calico/NetworkPolicy/{self.namespace}/{self.name}"

    def rules(self, direction: str) -> tuple[CalicoRule, ...]:
        if ("Ingress" if direction == "ingress" else "Egress") not in self.types:
            return ()
        return self.ingress if direction == "ingress" else self.egress

    def affects(self, direction: str) -> bool:
        return ("Ingress" if direction == "ingress" else "Egress") in self.types and not self.host_only

    @property
    def sort_key(self) -> tuple[float, str]:
        """(order, name) with the name as Calico stores it (``<tier>.<name>``), so that ties with
        Kubernetes NetworkPolicies (``knp.default.<name>``) break as in Calico."""
        prefix = f"{self.tier}."
        return (self.order, self.name if self.name.startswith(prefix) else prefix + self.name)


@dataclass(frozen=True, slots=True)
class NetworkSet:
    """A Calico NetworkSet (``namespace`` set) or GlobalNetworkSet: labelled CIDRs that rule
    selectors match as if they were endpoints (Calico "Network set" reference)."""

    name: str
    namespace: str | None
    labels: tuple[tuple[str, str], ...]
    nets: Intervals
    document: Document

    @property
    def ref(self) -> str:
        return f"NetworkSet/{self.namespace}/{self.name}" if self.namespace else f"GlobalNetworkSet/{self.name}"


@dataclass(frozen=True, slots=True)
class CalicoTier:
    name: str
    order: float
    default_action: str  # deny | pass
    document: Document | None = None


@dataclass
class CalicoSet:
    """Every Calico object that matters to pod traffic, in evaluation order."""

    policies: list[CalicoPolicy] = field(default_factory=list)
    tiers: dict[str, CalicoTier] = field(default_factory=dict)
    host_endpoints: list[Document] = field(default_factory=list)
    service_accounts: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    """(namespace, name) -> labels of the ServiceAccounts in the input (for serviceAccountSelector)."""
    unmodelled: list[tuple[Document, Path, str]] = field(default_factory=list)
    """What was approximated: (document, field path, what and how)."""
    ip_pools: tuple[str, ...] = ()
    """CIDRs of the enabled IPPools: the pod network, where pods of unknown address live."""
    network_sets: list[NetworkSet] = field(default_factory=list)
    profile_labels: dict[str, dict[str, str]] = field(default_factory=dict)
    """Profile name (``kns.<ns>``, ``ksa.<ns>.<sa>``) -> its ``labelsToApply``, inherited by the pods."""

    def tier(self, name: str) -> CalicoTier:
        t = self.tiers.get(name)
        if t is None:
            order = DEFAULT_TIER_ORDER if name == DEFAULT_TIER else math.inf
            t = CalicoTier(name, order, "deny")
        return t

    def __bool__(self) -> bool:
        return bool(self.policies or self.tiers or self.host_endpoints)


def load_calico(inventory: Inventory, sink: DiagnosticSink) -> CalicoSet:
    out = CalicoSet()
    for doc in inventory.documents("Tier"):
        if not is_calico(doc):
            continue
        spec = doc.obj.get("spec") or {}
        order = spec.get("order")
        action = str(spec.get("defaultAction") or "Deny")
        out.tiers[doc.name] = CalicoTier(
            doc.name, float(order) if isinstance(order, (int, float)) and not isinstance(order, bool) else (
                DEFAULT_TIER_ORDER if doc.name == DEFAULT_TIER else math.inf),
            "pass" if action == "Pass" else "deny", doc,
        )
    for doc in inventory.documents(*POLICY_KINDS):
        if not is_calico(doc):
            continue
        try:
            out.policies.append(parse_calico(doc, inventory.default_namespace, out, sink))
        except PolicyInvalid as exc:
            sink.warning(
                "calico.invalid",
                f"Calico {doc.kind} {doc.name}: {exc.field_path}: {exc}; Calico rejects it, so it has no effect",
                doc.locate(exc.path),
            )
    for doc in inventory.documents("NetworkSet", "GlobalNetworkSet"):
        if not is_calico(doc):
            continue
        spec = doc.obj.get("spec") if isinstance(doc.obj.get("spec"), dict) else {}
        try:
            nets = _nets(spec.get("nets") or [], ("spec", "nets")) or ()
        except PolicyInvalid as exc:
            sink.warning("calico.invalid", f"Calico {doc.kind} {doc.name}: {exc.field_path}: {exc}; Calico rejects "
                         "it, so it has no effect", doc.locate(exc.path))
            continue
        labels = doc.metadata.get("labels") if isinstance(doc.metadata.get("labels"), dict) else {}
        ns = doc.namespace(inventory.default_namespace) if doc.kind == "NetworkSet" else None
        out.network_sets.append(NetworkSet(doc.name, ns, tuple(sorted((str(k), str(v)) for k, v in labels.items())),
                                           nets, doc))
    for doc in inventory.documents("Profile"):
        if not is_calico(doc):
            continue
        spec = doc.obj.get("spec") if isinstance(doc.obj.get("spec"), dict) else {}
        lta = spec.get("labelsToApply")
        if isinstance(lta, dict):
            out.profile_labels[doc.name] = {str(k): str(v) for k, v in lta.items()}
        if not doc.name.startswith(("kns.", "ksa.")):
            out.unmodelled.append((doc, (), f"Profile {doc.name}: only the kns.* / ksa.* profiles of Kubernetes "
                                   "pods are modelled (their labelsToApply); this profile applies to no pod"))
        elif _restrictive(spec):
            out.unmodelled.append((doc, ("spec",), f"Profile {doc.name}: rules other than Allow-all are not "
                                   "evaluated (Calico's kube-controllers rewrite kns.*/ksa.* profiles to allow all)"))
    pools: list[str] = []
    for doc in inventory.documents("IPPool"):
        spec = doc.obj.get("spec") if isinstance(doc.obj.get("spec"), dict) else {}
        if is_calico(doc) and isinstance(spec.get("cidr"), str) and not spec.get("disabled"):
            pools.append(spec["cidr"])
    out.ip_pools = tuple(pools)
    for doc in inventory.documents("HostEndpoint"):
        if is_calico(doc):
            out.host_endpoints.append(doc)
            out.unmodelled.append((doc, (), "HostEndpoint: host interfaces are not modelled; pod traffic only"))
    for doc in inventory.documents("ServiceAccount"):
        labels = doc.metadata.get("labels") or {}
        out.service_accounts[(doc.namespace(inventory.default_namespace), doc.name)] = {
            str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}
    for doc, path, what in out.unmodelled:
        sink.info("calico.approximation", what, doc.locate(path))
    out.policies.sort(key=lambda p: (out.tier(p.tier).order, p.tier, p.sort_key))
    return out


def _restrictive(spec: dict) -> bool:  # type: ignore[type-arg]
    """Does a profile say anything but "allow everything" in either direction?"""
    for direction in ("ingress", "egress"):
        rules = spec.get(direction)
        if rules is None:
            continue
        if not isinstance(rules, list) or not rules or rules[0] != {"action": "Allow"}:
            return True
    return False


def _expr(raw: object, path: Path) -> Expr | None:
    if raw is None:
        return None
    try:
        return parse_expr(str(raw))
    except ExprError as exc:
        raise PolicyInvalid(f"invalid selector {raw!r}: {exc}", path) from None


def parse_calico(doc: Document, default_ns: str, calico: CalicoSet, sink: DiagnosticSink) -> CalicoPolicy:
    spec = doc.obj.get("spec")
    if not isinstance(spec, dict):
        spec = {}
    glob = doc.kind == "GlobalNetworkPolicy"
    namespace = None if glob else doc.namespace(default_ns)
    tier = str(spec.get("tier") or DEFAULT_TIER)
    order_raw = spec.get("order")
    order_set = isinstance(order_raw, (int, float)) and not isinstance(order_raw, bool)
    order = float(order_raw) if order_set else math.inf
    selector = _expr(spec.get("selector"), ("spec", "selector")) or parse_expr("")
    ns_sel = _expr(spec.get("namespaceSelector"), ("spec", "namespaceSelector")) if glob else None
    sa_sel = _expr(spec.get("serviceAccountSelector"), ("spec", "serviceAccountSelector"))
    ingress = _rules(spec, "ingress", doc, calico)
    egress = _rules(spec, "egress", doc, calico)
    raw_types = spec.get("types")
    if raw_types:
        types = frozenset(str(t) for t in raw_types)
    else:
        # Calico's defaulting: Egress only when there are egress rules and no ingress rules;
        # both when both are present; Ingress otherwise (including no rules at all).
        types = frozenset(
            (["Ingress"] if spec.get("ingress") or not spec.get("egress") else [])
            + (["Egress"] if spec.get("egress") else [])
        )
    host_only = ""
    for flag in ("preDNAT", "doNotTrack"):
        if spec.get(flag):
            host_only = flag
            calico.unmodelled.append((doc, ("spec", flag), f"{doc.kind} {doc.name}: {flag} policies apply to "
                                      "host endpoints only; host endpoints are not modelled, so it is not evaluated"))
    if spec.get("applyOnForward") and not host_only:
        calico.unmodelled.append((doc, ("spec", "applyOnForward"), f"{doc.kind} {doc.name}: applyOnForward "
                                  "affects host endpoints only (not modelled); its effect on pods is evaluated"))
    return CalicoPolicy(doc.kind, doc.name, namespace, tier, order, selector, ns_sel, sa_sel, types,
                        ingress, egress, doc, host_only, order_set)


def _rules(spec: dict, direction: str, doc: Document, calico: CalicoSet) -> tuple[CalicoRule, ...]:  # type: ignore[type-arg]
    raw = spec.get(direction) or []
    if not isinstance(raw, list):
        raise PolicyInvalid(f"{direction} must be a list", ("spec", direction))
    out = []
    for i, r in enumerate(raw):
        path: Path = ("spec", direction, i)
        if not isinstance(r, dict):
            raise PolicyInvalid("a rule must be an object", path)
        action = _ACTIONS.get(str(r.get("action")))
        if action is None:
            raise PolicyInvalid(f"unsupported action {r.get('action')!r}", (*path, "action"))
        ignored = ""
        protocols = _protocols(r.get("protocol"), r.get("notProtocol"), (*path, "protocol"))
        if r.get("protocol") is not None and not protocols:
            calico.unmodelled.append((doc, (*path, "protocol"), f"{doc.kind} {doc.name}: {direction}[{i}] "
                                      f"matches protocol {r.get('protocol')}, which Ringwall does not model "
                                      "(TCP, UDP and SCTP only): the rule has no effect on modelled connections"))
        source = _entity(r.get("source"), (*path, "source"))
        destination = _entity(r.get("destination"), (*path, "destination"))
        if source.ports is not None or source.not_ports is not None:
            verdict = ephemeral_match(source)
            if verdict is None:
                ignored = ("source ports that cut the ephemeral range "
                           f"{EPHEMERAL_PORTS[0]}-{EPHEMERAL_PORTS[1]} (or named source ports) are not modelled")
            elif verdict is False:
                protocols = ()
                calico.unmodelled.append((doc, (*path, "source"), f"{doc.kind} {doc.name}: {direction}[{i}] "
                                          "matches only source ports outside the ephemeral range "
                                          f"{EPHEMERAL_PORTS[0]}-{EPHEMERAL_PORTS[1]} that clients send from: "
                                          "it matches no modelled connection"))
        if destination.services is not None and (destination.ports or destination.not_ports):
            raise PolicyInvalid("services cannot be combined with ports", (*path, "destination", "services"))
        if (destination.ports or destination.not_ports) and r.get("protocol") is None:
            raise PolicyInvalid("ports require a protocol (TCP, UDP, SCTP)", (*path, "destination", "ports"))
        if ignored:
            calico.unmodelled.append((doc, path, f"{doc.kind} {doc.name}: {direction}[{i}]: {ignored}; "
                                      "the rule is left out of evaluation"))
        out.append(CalicoRule(direction, i, action, protocols, source, destination, path, ignored))
    return tuple(out)


EPHEMERAL_PORTS = (32768, 60999)
"""Linux's default ``net.ipv4.ip_local_port_range``: the source ports clients connect from."""


def ephemeral_match(e: Entity) -> bool | None:
    """Does a source-port match hold for a client connecting from an ephemeral port? True when the
    whole ephemeral range is inside ``ports`` minus ``notPorts``, False when none of it is, None when
    it is cut (or a named port is used): connections carry no source port in the model, so a client
    is taken to use some ephemeral port, as a pod of unknown address uses some pod-network address."""
    lo, hi = EPHEMERAL_PORTS
    inside: Intervals = ((lo, hi),)
    for raw, keep in ((e.ports, True), (e.not_ports, False)):
        if raw is None:
            continue
        if any(isinstance(p, str) for p in raw):
            return None
        rng = iv.normalize((p, p) if isinstance(p, int) else p for p in raw)  # type: ignore[misc]
        inside = iv.intersect(inside, rng) if keep else iv.subtract(inside, rng)
    if inside == ((lo, hi),):
        return True
    return False if not inside else None


def _proto_name(value: object) -> str:
    s = str(value).upper()
    return _PROTO_NUMBERS.get(s, s)


def _protocols(proto: object, not_proto: object, path: Path) -> tuple[str, ...]:
    if proto is not None:
        p = _proto_name(proto)
        protos = [p] if p in MODELLED else []
    else:
        protos = list(MODELLED)
    if not_proto is not None:
        protos = [p for p in protos if p != _proto_name(not_proto)]
    return tuple(protos)


def _nets(raw: object, path: Path) -> Intervals | None:
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise PolicyInvalid("must be a list of CIDRs", path)
    out: Intervals = ()
    for k, text in enumerate(raw):
        try:
            if "/" in str(text):
                rng, _ = parse_cidr(str(text))
            else:
                v = parse_address(str(text))
                rng = ((v, v),)
        except AddressError as exc:
            raise PolicyInvalid(str(exc), (*path, k)) from None
        out = iv.union(out, rng)
    return out


def _ports(raw: object, path: Path) -> tuple[int | str | tuple[int, int], ...] | None:
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise PolicyInvalid("ports must be a list", path)
    out: list[int | str | tuple[int, int]] = []
    for k, p in enumerate(raw):
        if isinstance(p, int) and not isinstance(p, bool):
            out.append(p)
            continue
        s = str(p)
        if ":" in s:
            lo, _, hi = s.partition(":")
            if not (lo.isdigit() and hi.isdigit()) or int(lo) > int(hi):
                raise PolicyInvalid(f"invalid port range {s!r}", (*path, k))
            out.append((int(lo), int(hi)))
        elif s.isdigit():
            out.append(int(s))
        else:
            out.append(s)  # a named port, resolved on the destination endpoint
    return tuple(out)


def _entity(raw: object, path: Path) -> Entity:
    if raw is None:
        return Entity()
    if not isinstance(raw, dict):
        raise PolicyInvalid("must be an object", path)
    sa = raw.get("serviceAccounts")
    sa_names = sa_sel = None
    if isinstance(sa, dict):
        if sa.get("names") is not None:
            sa_names = tuple(str(n) for n in sa.get("names") or ())
        sa_sel = _expr(sa.get("selector"), (*path, "serviceAccounts", "selector"))
    svc = raw.get("services")
    services = (str(svc.get("namespace") or ""), str(svc.get("name") or "")) if isinstance(svc, dict) else None
    return Entity(
        services=services,
        nets=_nets(raw.get("nets"), (*path, "nets")),
        not_nets=_nets(raw.get("notNets"), (*path, "notNets")),
        selector=_expr(raw.get("selector"), (*path, "selector")),
        not_selector=_expr(raw.get("notSelector"), (*path, "notSelector")),
        namespace_selector=_expr(raw.get("namespaceSelector"), (*path, "namespaceSelector")),
        sa_names=sa_names,
        sa_selector=sa_sel,
        ports=_ports(raw.get("ports"), (*path, "ports")),
        not_ports=_ports(raw.get("notPorts"), (*path, "notPorts")),
    )
