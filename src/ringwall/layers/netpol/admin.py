"""Cluster-wide policies: AdminNetworkPolicy, BaselineAdminNetworkPolicy (v1alpha1) and
ClusterNetworkPolicy (v1alpha2 / v1beta1), read into one tiered form.

Both API generations become ``TieredPolicy`` objects: a tier (``admin`` or ``baseline``), a
priority (lower wins), a subject, and ordered rules whose action is ``allow``, ``deny`` or
``pass``. The engine evaluates them first-match in (priority, rule order) around the
NetworkPolicy tier: Admin -> NetworkPolicy -> Baseline -> default allow.
"""

from __future__ import annotations

from dataclasses import dataclass

from ringwall.model import intervals as iv
from ringwall.model.addresses import AddressError, parse_cidr
from ringwall.model.diagnostics import DiagnosticSink
from ringwall.model.intervals import Intervals
from ringwall.model.labels import Selector
from ringwall.sources.documents import Document
from ringwall.sources.inventory import Inventory

from .policy import Path, PolicyInvalid, PortSpec, _selector
from .policyset import Rejected

ADMIN_KINDS = ("AdminNetworkPolicy", "BaselineAdminNetworkPolicy", "ClusterNetworkPolicy")
_ACTIONS = {"Allow": "allow", "Accept": "allow", "Deny": "deny", "Pass": "pass"}


@dataclass(frozen=True, slots=True)
class AdminPeer:
    """``namespaces`` (ns selector), ``pods`` (ns AND pod selector), ``networks`` or ``nodes``."""

    kind: str
    namespace_selector: Selector | None = None
    pod_selector: Selector | None = None
    networks: Intervals = ()
    node_selector: Selector | None = None
    path: Path = ()


@dataclass(frozen=True, slots=True)
class AdminRule:
    direction: str
    index: int
    name: str
    action: str  # allow | deny | pass
    peers: tuple[AdminPeer, ...]
    ports: tuple[PortSpec, ...] | None  # None: every port of every protocol
    path: Path

    @property
    def has_named_ports(self) -> bool:
        return bool(self.ports) and any(p.named for p in self.ports or ())

    @property
    def rules_ports(self) -> tuple[PortSpec, ...]:
        """The ports as the engine resolves them (empty: every port of every protocol)."""
        return self.ports or ()


@dataclass(slots=True)
class TieredPolicy:
    kind: str
    name: str
    tier: str  # admin | baseline
    priority: int
    subject_ns: Selector
    subject_pods: Selector | None  # None: every pod of the selected namespaces
    ingress: tuple[AdminRule, ...]
    egress: tuple[AdminRule, ...]
    document: Document

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.name}"

    def rules(self, direction: str) -> tuple[AdminRule, ...]:
        return self.ingress if direction == "ingress" else self.egress


def load_admin_policies(
    inventory: Inventory, sink: DiagnosticSink, rejected: list[Rejected] | None = None
) -> list[TieredPolicy]:
    """The Admin/Baseline tier policies; objects the API server would refuse go to ``rejected``
    (the checks report them as RW-NP-020, like refused NetworkPolicies) and take no effect."""
    out: list[TieredPolicy] = []
    for doc in inventory.documents(*ADMIN_KINDS):
        if not doc.api_version.startswith("policy.networking.k8s.io/"):
            continue
        try:
            out.append(parse_admin(doc, sink))
        except PolicyInvalid as exc:
            sink.warning(
                "netpol.invalid",
                f"{doc.kind} {doc.name}: {exc.field_path}: {exc}; the API server rejects it, so it has no effect",
                doc.locate(exc.path),
            )
            if rejected is not None:
                rejected.append(Rejected(doc, str(exc), exc.field_path, exc.path))
    # Evaluation order: tier, then priority, then input order (equal priorities are reported).
    out.sort(key=lambda p: (p.tier != "admin", p.priority))
    return out


def parse_admin(doc: Document, sink: DiagnosticSink) -> TieredPolicy:
    spec = doc.obj.get("spec")
    if not isinstance(spec, dict):
        raise PolicyInvalid("spec is required", ("spec",))
    kind = doc.kind
    if kind == "ClusterNetworkPolicy":
        tier_raw = spec.get("tier")
        if tier_raw not in ("Admin", "Baseline"):
            raise PolicyInvalid('tier must be "Admin" or "Baseline"', ("spec", "tier"))
        tier = tier_raw.lower()
    else:
        tier = "admin" if kind == "AdminNetworkPolicy" else "baseline"
    priority = spec.get("priority", 0 if kind == "BaselineAdminNetworkPolicy" else None)
    if isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= 1000:
        raise PolicyInvalid("priority must be an integer from 0 to 1000", ("spec", "priority"))
    subject = spec.get("subject")
    if not isinstance(subject, dict) or len([k for k in ("namespaces", "pods") if k in subject]) != 1:
        raise PolicyInvalid("subject must set exactly one of namespaces or pods", ("spec", "subject"))
    if "namespaces" in subject:
        subject_ns = _selector(subject["namespaces"] or {}, ("spec", "subject", "namespaces"))
        subject_pods = None
    else:
        pods = subject["pods"] or {}
        subject_ns = _selector(pods.get("namespaceSelector") or {}, ("spec", "subject", "pods", "namespaceSelector"))
        subject_pods = _selector(pods.get("podSelector") or {}, ("spec", "subject", "pods", "podSelector"))
    ingress = _rules(spec, "ingress", kind, doc, sink)
    egress = _rules(spec, "egress", kind, doc, sink)
    return TieredPolicy(kind, doc.name, tier, priority, subject_ns, subject_pods, ingress, egress, doc)


def _rules(spec: dict, direction: str, kind: str, doc: Document, sink: DiagnosticSink) -> tuple[AdminRule, ...]:  # type: ignore[type-arg]
    raw = spec.get(direction) or []
    if not isinstance(raw, list):
        raise PolicyInvalid(f"{direction} must be a list", ("spec", direction))
    peer_key = "from" if direction == "ingress" else "to"
    rules: list[AdminRule] = []
    for i, r in enumerate(raw):
        path: Path = ("spec", direction, i)
        if not isinstance(r, dict):
            raise PolicyInvalid("a rule must be an object", path)
        action = _ACTIONS.get(str(r.get("action")))
        if action is None or (kind == "BaselineAdminNetworkPolicy" and action == "pass"):
            raise PolicyInvalid(f"unsupported action {r.get('action')!r}", (*path, "action"))
        peers_raw = r.get(peer_key) or []
        if not isinstance(peers_raw, list) or not peers_raw:
            raise PolicyInvalid(f"{peer_key} must list at least one peer", (*path, peer_key))
        peers = tuple(_peer(p, (*path, peer_key, j), direction, doc, sink) for j, p in enumerate(peers_raw))
        if kind == "ClusterNetworkPolicy":
            ports = _cnp_protocols(r.get("protocols"), (*path, "protocols"))
        else:
            ports = _anp_ports(r.get("ports"), (*path, "ports"))
        rules.append(AdminRule(direction, i, str(r.get("name") or ""), action, peers, ports, path))
    return tuple(rules)


def _peer(raw: object, path: Path, direction: str, doc: Document, sink: DiagnosticSink) -> AdminPeer:
    if not isinstance(raw, dict) or not raw:
        raise PolicyInvalid("a peer must set exactly one field", path)
    _refuse_namespaced_peer_form(raw, path)
    if "namespaces" in raw:
        return AdminPeer("namespaces", namespace_selector=_selector(raw["namespaces"] or {}, (*path, "namespaces")),
                         path=path)
    if "pods" in raw:
        pods = raw["pods"] or {}
        return AdminPeer(
            "pods",
            namespace_selector=_selector(pods.get("namespaceSelector") or {}, (*path, "pods", "namespaceSelector")),
            pod_selector=_selector(pods.get("podSelector") or {}, (*path, "pods", "podSelector")),
            path=path,
        )
    if direction == "egress" and "networks" in raw:
        nets: Intervals = ()
        for k, cidr in enumerate(raw["networks"] or []):
            try:
                rng, _ = parse_cidr(str(cidr))
            except AddressError as exc:
                raise PolicyInvalid(str(exc), (*path, "networks", k)) from None
            nets = iv.union(nets, rng)
        return AdminPeer("networks", networks=nets, path=path)
    if direction == "egress" and "domainNames" in raw:
        # Names resolve at run time; statically they match no address we know (an under-approximation
        # of what an Allow opens), and the API accepts them only in Allow/Accept rules.
        return AdminPeer("domainNames", path=path)
    if direction == "egress" and "nodes" in raw:
        return AdminPeer("nodes", node_selector=_selector(raw["nodes"] or {}, (*path, "nodes")), path=path)
    # Fail closed: a peer this reader does not know matches nothing (and is reported).
    sink.warning("netpol.unknown-peer", f"peer fields {sorted(raw)} are not understood; the peer matches nothing",
                 doc.locate(path))
    return AdminPeer("unknown", path=path)


_OLD_PEER_FIELDS = ("namespaceSelector", "sameLabels", "notSameLabels")


def _refuse_namespaced_peer_form(raw: dict, path: Path) -> None:  # type: ignore[type-arg]
    """Refuse the early network-policy-api peer form (``NamespacedPeer``).

    Before v0.1 a peer read ``namespaces: {namespaceSelector: {...}}`` (or ``sameLabels`` /
    ``notSameLabels``) and ``pods: {namespaces: {namespaceSelector: ...}, podSelector: ...}``;
    demos still carry it. Today ``namespaces`` IS the label selector, so those keys are unknown
    fields: ``kubectl apply`` (strict field validation) rejects the object, and a lenient client
    would have them pruned, leaving ``namespaces: {}`` - every namespace, the opposite of what
    the author meant under a Deny. Reading it either way would guess; the object is reported
    as rejected (RW-NP-020) with the current spelling, and takes no effect.
    """
    ns = raw.get("namespaces")
    if isinstance(ns, dict) and (old := [k for k in _OLD_PEER_FIELDS if k in ns]):
        hint = ("write namespaces: {matchLabels: ...} (the selector itself)" if old == ["namespaceSelector"]
                else "sameLabels/notSameLabels no longer exist")
        raise PolicyInvalid(f"unknown field (the pre-v0.1 AdminNetworkPolicy peer form); {hint}",
                            (*path, "namespaces", old[0]))
    pods = raw.get("pods")
    if isinstance(pods, dict) and "namespaces" in pods:
        raise PolicyInvalid("unknown field (the pre-v0.1 AdminNetworkPolicy peer form); write "
                            "pods: {namespaceSelector: {...}, podSelector: {...}}", (*path, "pods", "namespaces"))


def _proto(value: object) -> str:
    proto = str(value or "TCP").upper()
    if proto not in ("TCP", "UDP", "SCTP"):
        raise PolicyInvalid(f"unsupported protocol {value!r}", ())
    return proto


def _anp_ports(raw: object, path: Path) -> tuple[PortSpec, ...] | None:
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise PolicyInvalid("ports must be a list", path)
    out: list[PortSpec] = []
    for k, p in enumerate(raw):
        if not isinstance(p, dict):
            raise PolicyInvalid("a port must be an object", (*path, k))
        if "portNumber" in p:
            pn = p["portNumber"] or {}
            out.append(PortSpec(_proto(pn.get("protocol")), int(pn["port"])))
        elif "portRange" in p:
            pr = p["portRange"] or {}
            out.append(PortSpec(_proto(pr.get("protocol")), int(pr["start"]), int(pr["end"])))
        elif "namedPort" in p:
            out.append(PortSpec("TCP", str(p["namedPort"])))
            out.append(PortSpec("UDP", str(p["namedPort"])))
            out.append(PortSpec("SCTP", str(p["namedPort"])))
        else:
            raise PolicyInvalid("a port must set portNumber, portRange or namedPort", (*path, k))
    return tuple(out)


def _cnp_protocols(raw: object, path: Path) -> tuple[PortSpec, ...] | None:
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise PolicyInvalid("protocols must be a list", path)
    out: list[PortSpec] = []
    for k, p in enumerate(raw):
        if not isinstance(p, dict):
            raise PolicyInvalid("a protocol entry must be an object", (*path, k))
        if "destinationNamedPort" in p:
            for proto in ("TCP", "UDP", "SCTP"):
                out.append(PortSpec(proto, str(p["destinationNamedPort"])))
            continue
        for key in ("tcp", "udp", "sctp"):
            if key in p:
                dp = (p[key] or {}).get("destinationPort")
                if not dp:
                    out.append(PortSpec(key.upper()))
                elif "number" in dp:
                    out.append(PortSpec(key.upper(), int(dp["number"])))
                elif "range" in dp:
                    out.append(PortSpec(key.upper(), int(dp["range"]["start"]), int(dp["range"]["end"])))
                break
        else:
            raise PolicyInvalid("a protocol entry must set tcp, udp, sctp or destinationNamedPort", (*path, k))
    return tuple(out)
