"""Cilium policies (cilium.io/v2 CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy).

Cilium's model is a union of allows with deny precedence: an endpoint selected by some policy
(or Kubernetes NetworkPolicy) with a section for a direction is default-deny in that direction;
every allow rule of every such policy adds to what is allowed; ``ingressDeny``/``egressDeny``
rules win over any allow. Cilium also enforces Kubernetes NetworkPolicies, as allow rules of
the same repository, so a Cilium deny beats a NetworkPolicy allow. This module parses; the
engine evaluates (``Engine._fill_cilium``).

Selector keys may carry a source prefix (``k8s:``, ``any:``); it is dropped. Pod identity
labels include ``io.kubernetes.pod.namespace``, ``io.cilium.k8s.namespace.labels.<key>`` and
``io.cilium.k8s.policy.serviceaccount``. In a CiliumNetworkPolicy, ``endpointSelector`` and
peer selectors are confined to the policy's namespace unless a peer selector names
``io.kubernetes.pod.namespace``.

Approximations (reported as diagnostics): ``toFQDNs``, ``toServices``, ``toGroups``,
``fromRequires``/``toRequires`` match nothing; L7 ``rules`` allow the whole L4 port (the L7
filter is not statically decidable); ``nodeSelector`` host policies are not evaluated;
``kube-apiserver`` entity matches the node addresses; protocol ``ANY`` means TCP, UDP and SCTP.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ringwall.model import intervals as iv
from ringwall.model.addresses import AddressError, parse_address, parse_cidr
from ringwall.model.diagnostics import DiagnosticSink
from ringwall.model.intervals import Intervals
from ringwall.model.labels import Requirement, Selector, SelectorError, parse_selector
from ringwall.sources.documents import Document
from ringwall.sources.inventory import Inventory

from .policy import Path, PolicyInvalid, PortSpec

KINDS = ("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy")
NS_KEY = "io.kubernetes.pod.namespace"
NS_LABEL_PREFIX = "io.cilium.k8s.namespace.labels."
SA_KEY = "io.cilium.k8s.policy.serviceaccount"
ENTITIES = ("world", "cluster", "host", "remote-node", "kube-apiserver", "all", "init", "health",
            "unmanaged", "ingress", "world-ipv4", "world-ipv6")
_UNMODELLED_PEERS = ("toFQDNs", "toServices", "toGroups", "fromRequires", "toRequires", "fromNodes", "toNodes")


def normalize_key(key: str) -> str:
    """``k8s:app`` and ``any:app`` both mean label ``app`` for pods (their source is Kubernetes)."""
    for prefix in ("k8s:", "any:"):
        if key.startswith(prefix):
            return key[len(prefix):]
    return key


def identity_labels(labels: dict[str, str], namespace: str, ns_labels: dict[str, str], sa: str) -> dict[str, str]:
    """What a Cilium selector sees on a pod: its labels plus the identity labels Cilium adds."""
    out = dict(labels)
    out[NS_KEY] = namespace
    for k, v in ns_labels.items():
        out[NS_LABEL_PREFIX + k] = v
    out[SA_KEY] = sa
    out["io.cilium.k8s.policy.cluster"] = "default"
    return out


@dataclass(frozen=True, slots=True)
class CiliumRule:
    direction: str
    index: int
    deny: bool
    endpoints: tuple[Selector, ...] | None
    """Peer selectors (already confined to the namespace where required); None: not used."""
    entities: tuple[str, ...]
    cidrs: Intervals | None
    ports: tuple[PortSpec, ...] | None
    """None: every port (no toPorts)."""
    path: Path
    l3_wildcard: bool
    """No L3 field at all but toPorts: every peer (Cilium's L4-only rule)."""
    notes: tuple[str, ...] = ()

    @property
    def has_named_ports(self) -> bool:
        return any(p.named for p in self.ports or ())


@dataclass(slots=True)
class CiliumPolicy:
    kind: str
    name: str
    namespace: str | None
    index: int  # position in ``specs`` (0 for ``spec``)
    endpoint_selector: Selector | None
    """None: a host policy (nodeSelector), not evaluated."""
    ingress: tuple[CiliumRule, ...]
    egress: tuple[CiliumRule, ...]
    sections: frozenset[str]
    """Directions with a section (allow or deny): the endpoint becomes default-deny there."""
    document: Document
    path: Path = ("spec",)

    @property
    def ref(self) -> str:
        base = f"{self.kind}/{self.namespace}/{self.name}" if self.namespace else f"{self.kind}/{self.name}"
        return base if self.path == ("spec",) else f"{base}#specs[{self.index}]"

    def rules(self, direction: str) -> tuple[CiliumRule, ...]:
        return self.ingress if direction == "ingress" else self.egress

    def affects(self, direction: str) -> bool:
        return self.endpoint_selector is not None and (direction in self.sections or bool(self.rules(direction)))

    def default_deny(self, direction: str) -> bool:
        return self.endpoint_selector is not None and direction in self.sections


@dataclass
class CiliumSet:
    policies: list[CiliumPolicy] = field(default_factory=list)
    unmodelled: list[tuple[Document, Path, str]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.policies)


def load_cilium(inventory: Inventory, sink: DiagnosticSink) -> CiliumSet:
    out = CiliumSet()
    for doc in inventory.documents(*KINDS):
        if not doc.api_version.startswith("cilium.io/"):
            continue
        ns = doc.namespace(inventory.default_namespace) if doc.kind == "CiliumNetworkPolicy" else None
        specs: list[tuple[Path, int, object]] = []
        if doc.obj.get("spec") is not None:
            specs.append((("spec",), 0, doc.obj.get("spec")))
        for k, s in enumerate(doc.obj.get("specs") or []):
            specs.append((("specs", k), k, s))
        for path, k, spec in specs:
            try:
                out.policies.append(_policy(doc, ns, path, k, spec, out))
            except PolicyInvalid as exc:
                sink.warning("cilium.invalid", f"{doc.kind} {doc.name}: {exc.field_path}: {exc}; Cilium rejects "
                             "it, so it has no effect", doc.locate(exc.path))
    for doc, path, what in out.unmodelled:
        sink.info("cilium.approximation", what, doc.locate(path))
    return out


def _selector(raw: object, path: Path, namespace: str | None, confine: bool) -> Selector:
    try:
        sel = parse_selector(raw or {})
    except SelectorError as exc:
        raise PolicyInvalid(str(exc), (*path, *exc.path)) from None
    reqs = [Requirement(normalize_key(r.key), r.operator, r.values) for r in sel.requirements]
    if confine and namespace is not None and not any(r.key == NS_KEY for r in reqs):
        reqs.append(Requirement(NS_KEY, "In", frozenset({namespace})))
    return Selector(tuple(reqs))


def _policy(doc: Document, ns: str | None, path: Path, k: int, spec: object, out: CiliumSet) -> CiliumPolicy:
    if not isinstance(spec, dict):
        raise PolicyInvalid("spec must be an object", path)
    if "endpointSelector" in spec:
        # The endpointSelector of a CNP selects pods of its own namespace only.
        subject: Selector | None = _selector(spec["endpointSelector"], (*path, "endpointSelector"), ns, True)
    elif "nodeSelector" in spec:
        subject = None
        out.unmodelled.append((doc, (*path, "nodeSelector"), f"{doc.kind} {doc.name}: host policy (nodeSelector) is "
                               "not evaluated; node traffic is outside the pod model"))
    else:
        raise PolicyInvalid("endpointSelector or nodeSelector is required", path)
    sections: set[str] = set()
    rules: dict[str, list[CiliumRule]] = {"ingress": [], "egress": []}
    for key, direction, deny in (("ingress", "ingress", False), ("ingressDeny", "ingress", True),
                                 ("egress", "egress", False), ("egressDeny", "egress", True)):
        raw = spec.get(key) or []
        if not isinstance(raw, list):
            raise PolicyInvalid(f"{key} must be a list", (*path, key))
        if raw:
            # enableDefaultDeny defaults to true for each direction that has rules (an omitted or
            # empty list does not apply); ``[{}]`` has one (empty) rule, the default-deny idiom.
            sections.add(direction)
        for i, r in enumerate(raw):
            rules[direction].append(_rule(doc, (*path, key, i), direction, i, deny, r, ns, out))
    dd = spec.get("enableDefaultDeny")
    if isinstance(dd, dict):
        for direction in ("ingress", "egress"):
            if dd.get(direction.capitalize()) is False or dd.get(direction) is False:
                sections.discard(direction)
    return CiliumPolicy(doc.kind, doc.name, ns, k, subject, tuple(rules["ingress"]), tuple(rules["egress"]),
                        frozenset(sections), doc, path)


def _cidrs(items: list[object], path: Path) -> Intervals:
    out: Intervals = ()
    for j, item in enumerate(items):
        if isinstance(item, dict):
            cidr = item.get("cidr")
            if cidr is None:
                continue  # cidrGroupRef / selectors: not modelled, matches nothing
            rng = _cidr(str(cidr), (*path, j, "cidr"))
            for e, ex in enumerate(item.get("except") or []):
                rng = iv.subtract(rng, _cidr(str(ex), (*path, j, "except", e)))
        else:
            rng = _cidr(str(item), (*path, j))
        out = iv.union(out, rng)
    return out


def _cidr(text: str, path: Path) -> Intervals:
    try:
        if "/" in text:
            return parse_cidr(text)[0]
        v = parse_address(text)
        return ((v, v),)
    except AddressError as exc:
        raise PolicyInvalid(str(exc), path) from None


def _rule(doc: Document, path: Path, direction: str, i: int, deny: bool, r: object, ns: str | None,
          out: CiliumSet) -> CiliumRule:
    if not isinstance(r, dict):
        raise PolicyInvalid("a rule must be an object", path)
    pre = "from" if direction == "ingress" else "to"
    endpoints = None
    if f"{pre}Endpoints" in r:
        endpoints = tuple(_selector(s, (*path, f"{pre}Endpoints", j), ns, True)
                          for j, s in enumerate(r.get(f"{pre}Endpoints") or []))
    entities = tuple(str(e) for e in r.get(f"{pre}Entities") or [])
    cidrs = None
    if f"{pre}CIDR" in r or f"{pre}CIDRSet" in r:
        cidrs = iv.union(_cidrs(list(r.get(f"{pre}CIDR") or []), (*path, f"{pre}CIDR")),
                         _cidrs(list(r.get(f"{pre}CIDRSet") or []), (*path, f"{pre}CIDRSet")))
    notes: list[str] = []
    unmodelled = [key for key in _UNMODELLED_PEERS if key in r]
    for key in unmodelled:
        notes.append(f"{key} is not statically decidable; it matches nothing here")
    ports: tuple[PortSpec, ...] | None = None
    if "toPorts" in r:
        specs: list[PortSpec] = []
        for j, tp in enumerate(r.get("toPorts") or []):
            if not isinstance(tp, dict):
                raise PolicyInvalid("toPorts entries must be objects", (*path, "toPorts", j))
            if tp.get("rules"):
                notes.append("L7 rules are not statically decidable; the whole L4 port is treated as allowed")
            plist = tp.get("ports")
            if not plist:
                specs.extend(PortSpec(p) for p in ("TCP", "UDP", "SCTP"))
                continue
            for p in plist:
                proto = str(p.get("protocol") or "ANY").upper()
                protos = ("TCP", "UDP", "SCTP") if proto == "ANY" else (proto,)
                if proto not in ("ANY", "TCP", "UDP", "SCTP"):
                    notes.append(f"protocol {proto} is not modelled")
                    continue
                port = str(p.get("port", "0"))
                end = p.get("endPort")
                for pr in protos:
                    if port in ("0", ""):
                        specs.append(PortSpec(pr))
                    elif port.isdigit():
                        specs.append(PortSpec(pr, int(port), int(end) if end else None))
                    else:
                        specs.append(PortSpec(pr, port))
        ports = tuple(specs)
    for e in entities:
        if e not in ENTITIES:
            raise PolicyInvalid(f"unknown entity {e!r}", (*path, f"{pre}Entities"))
        if e in ("init", "health", "unmanaged", "ingress"):
            notes.append(f"entity {e} is not modelled; it matches nothing here")
        if e == "kube-apiserver":
            notes.append("entity kube-apiserver is approximated by the node addresses")
    l3_wildcard = endpoints is None and not entities and cidrs is None and not unmodelled and ports is not None
    for n in dict.fromkeys(notes):
        out.unmodelled.append((doc, path, f"{doc.kind} {doc.name}: {direction} rule {i}: {n}"))
    return CiliumRule(direction, i, deny, endpoints, entities, cidrs, ports, path, l3_wildcard, tuple(notes))
