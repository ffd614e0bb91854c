"""Findings about NetworkPolicies and the isolation they give (RW-NP-*, and the DNS/CNI ones).

Every check reads the engine's sets; none re-parses a manifest. Messages name the object and
what goes wrong for whom; locations point at the field that causes it.
"""

from __future__ import annotations

from collections.abc import Iterator

from ringwall.model.addresses import ALL_V4, ALL_V6
from ringwall.model.cluster import ContainerPort, Workload
from ringwall.model.connections import ConnectionSet
from ringwall.model.findings import Finding
from ringwall.model.labels import Selector
from ringwall.sources.inventory import Inventory

from . import catalogue as C
from .cni import CniInfo
from .engine import Engine, PodClass, conn_for
from .policy import NetworkPolicy, Peer, Rule
from .policyset import PolicySet

SYSTEM_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease", "local-path-storage"})
DNS_NAMESPACE = "kube-system"
DNS_LABELS = {"k8s-app": "kube-dns"}
DNS_UDP = ConnectionSet.of("UDP", [(53, 53)])
DNS_TCP = ConnectionSet.of("TCP", [(53, 53)])


def run_checks(engine: Engine, policies: PolicySet, inventory: Inventory, cni: CniInfo) -> list[Finding]:
    findings: list[Finding] = []
    findings += _rejected(policies)
    findings += _duplicates(policies)
    findings += _cni(policies, cni, inventory)
    findings += _namespaces(engine, policies)
    findings += _workload_isolation(engine)
    findings += _policy_shape(engine, policies, inventory)
    findings += _named_ports(engine)
    findings += _dns(engine, inventory)
    findings += _admin(engine)
    return findings


def _admin_finding(check, pol, message: str, path=(), detail: str = "") -> Finding:  # type: ignore[no-untyped-def]
    return Finding(check, message, (pol.document.locate(path, pol.ref),), pol.ref, detail)


def _admin(engine: Engine) -> Iterator[Finding]:
    """Checks of AdminNetworkPolicy / BaselineAdminNetworkPolicy / ClusterNetworkPolicy."""
    admin = engine.admin
    if not admin:
        return
    kinds = {p.kind for p in admin}
    if "ClusterNetworkPolicy" in kinds and kinds & {"AdminNetworkPolicy", "BaselineAdminNetworkPolicy"}:
        first = next(p for p in admin if p.kind == "ClusterNetworkPolicy")
        yield _admin_finding(C.ADMIN_API_MIX, first, f"{first.ref} sits next to v1alpha1 AdminNetworkPolicy objects; "
                             "a cluster serves one API generation.")
    banps = [p for p in admin if p.kind == "BaselineAdminNetworkPolicy"]
    for p in banps:
        if p.name != "default" or len(banps) > 1:
            yield _admin_finding(C.INVALID_BASELINE, p, f"{p.ref}: the BaselineAdminNetworkPolicy must be a single "
                                 "object named default; the API rejects this one.", ("metadata", "name"))
    for i, a in enumerate(admin):
        for j in range(i + 1, len(admin)):
            b = admin[j]
            same_tier = a.tier == b.tier and not a.kind == b.kind == "BaselineAdminNetworkPolicy"
            if same_tier and a.priority == b.priority and engine.admin_subjects[i] & engine.admin_subjects[j]:
                yield _admin_finding(C.ADMIN_PRIORITY_TIE, b, f"{a.ref} and {b.ref} both have priority {a.priority} "
                                     "and select the same pods: their order is undefined.", ("spec", "priority"), a.ref)
    has_baseline = [i for i, p in enumerate(admin) if p.tier == "baseline"]
    for i, p in enumerate(admin):
        for direction in ("ingress", "egress"):
            for rule in p.rules(direction):
                if any(peer.kind == "domainNames" for peer in rule.peers) and rule.action != "allow":
                    yield _admin_finding(C.DOMAIN_NAMES_OUTSIDE_ALLOW, p, f"{p.ref} {direction}[{rule.index}] uses "
                                         f"domainNames in a {rule.action} rule; the API allows them only in Allow.",
                                         rule.path, f"{direction}[{rule.index}]")
                everyone = any(peer.kind == "namespaces" and peer.namespace_selector is not None
                               and peer.namespace_selector.is_empty for peer in rule.peers)
                whole_cluster = p.subject_pods is None and p.subject_ns.is_empty
                if p.tier == "admin" and rule.action == "allow" and rule.ports is None and whole_cluster and everyone:
                    yield _admin_finding(C.GLOBAL_ALLOW_ALL, p, f"{p.ref} {direction}[{rule.index}] allows everything "
                                         "between all namespaces: no NetworkPolicy can restrict it.", rule.path,
                                         f"{direction}[{rule.index}]")
                if p.tier == "admin" and rule.action == "pass":
                    subject = engine.admin_subjects[i]
                    lonely = 0
                    for c in engine.classes_in(subject):
                        prof = (engine.class_ingress if direction == "ingress" else engine.class_egress)[c.index]
                        baseline = any(k in prof.admin for k in has_baseline)
                        if not prof.isolated and not baseline:
                            lonely |= c.bit
                    if lonely:
                        names = sorted({w.key for c in engine.classes_in(lonely) for w, _ in c.members})
                        yield _admin_finding(
                            C.PASS_TO_DEFAULT_ALLOW, p,
                            f"{p.ref} {direction}[{rule.index}] passes traffic of {', '.join(names[:4])}"
                            f"{' and more' if len(names) > 4 else ''} to NetworkPolicies, but none selects them and no "
                            "Baseline rule covers them: it is allowed.", rule.path, f"{direction}[{rule.index}]")


def _policy_finding(check, pol: NetworkPolicy, message: str, path=(), detail: str = "") -> Finding:  # type: ignore[no-untyped-def]
    return Finding(check, message, (pol.document.locate(path, pol.ref),), pol.ref, detail)


def _rejected(policies: PolicySet) -> Iterator[Finding]:
    for r in policies.rejected:
        doc = r.document
        yield Finding(
            C.REJECTED,
            f"{doc.ref}: {r.field_path}: {r.message}; the API server rejects the object, so it never "
            "takes effect.",
            (doc.locate(r.path),), doc.ref, r.field_path,
        )


def _duplicates(policies: PolicySet) -> Iterator[Finding]:
    for kept, dropped in policies.duplicates:
        yield Finding(
            C.DUPLICATE_NAME,
            f"{kept.ref} is defined twice (also at {dropped.locate()}); applying the folder keeps only "
            "the later one.",
            (kept.locate(), dropped.locate()), kept.ref,
        )


def _cni(policies: PolicySet, cni: CniInfo, inventory: Inventory) -> Iterator[Finding]:
    if cni.enforces is False and policies.policies:
        where = cni.evidence or (policies.policies[0].document.locate(),)
        yield Finding(
            C.CNI_NOT_ENFORCING,
            f"The CNI is {cni.name} ({cni.source}), which does not implement NetworkPolicy: all "
            f"{len(policies.policies)} NetworkPolicies are void and every flow they block is open.",
            tuple(where), f"cni/{cni.name}",
        )


def _app_workloads(engine: Engine) -> list[Workload]:
    return [w for w in engine.cluster.workloads if w.namespace not in SYSTEM_NAMESPACES]


def _namespaces(engine: Engine, policies: PolicySet) -> Iterator[Finding]:
    """RW-NP-001: a namespace none of whose workloads any policy isolates (NetworkPolicy, Calico,
    Cilium, Admin/Baseline alike: the engine says what isolates a pod, not which kinds exist)."""
    counts: dict[str, int] = {}
    for w in _app_workloads(engine):
        counts[w.namespace] = counts.get(w.namespace, 0) + 1
    covered = {w.namespace for w in _app_workloads(engine)
               if any(engine.isolated_by(c, d) for c in _classes_of(engine, w) for d in ("ingress", "egress"))}
    # A namespace with a NetworkPolicy that selects nothing is not "without NetworkPolicy":
    # RW-NP-004 says what is wrong there.
    covered |= {p.namespace for p in policies.policies}
    for w in _app_workloads(engine):
        if w.namespace in covered:
            continue
        covered.add(w.namespace)
        ns = engine.cluster.namespaces.get(w.namespace)
        loc = ns.location if ns and ns.location else w.location
        yield Finding(
            C.NAMESPACE_WITHOUT_POLICY,
            f"Namespace {w.namespace} has {counts[w.namespace]} workload(s) and no policy isolates any of them "
            "(no NetworkPolicy, no CNI or Admin/Baseline policy selecting them): they accept and send any traffic.",
            (loc,) if loc else (), f"Namespace/{w.namespace}",
        )


def _classes_of(engine: Engine, w: Workload) -> list[PodClass]:
    return list(engine.classes_in(engine.workload_classes.get(w.key, 0)))


def _workload_isolation(engine: Engine) -> Iterator[Finding]:
    """RW-NP-002/003 from what isolates each class in each direction, whatever the policy kind."""
    for w in _app_workloads(engine):
        if w.host_network and engine.options.host_network == "node-ip":
            continue
        classes = _classes_of(engine, w)
        if not classes:
            continue
        ing = all(engine.isolated_by(c, "ingress") for c in classes)
        eg = all(engine.isolated_by(c, "egress") for c in classes)
        locs = (w.location,) if w.location else ()
        if not ing and not eg:
            yield Finding(
                C.WORKLOAD_NOT_ISOLATED,
                f"{w.kind} {w.namespace}/{w.name} is selected by no policy that isolates it (NetworkPolicy, CNI "
                "or Admin/Baseline deny): all ingress and egress is allowed.",
                locs, w.ref,
            )
        elif ing != eg:
            missing = "egress" if ing else "ingress"
            by = sorted({r for c in classes for r in engine.isolated_by(c, "ingress" if ing else "egress")})
            yield Finding(
                C.ONE_DIRECTION_ONLY,
                f"{w.kind} {w.namespace}/{w.name} is isolated for {'ingress' if ing else 'egress'} only "
                f"(by {', '.join(by[:3])}{' and more' if len(by) > 3 else ''}); all {missing} is allowed.",
                locs, w.ref, missing,
            )


def _entrypoint_workloads(engine: Engine, inventory: Inventory) -> set[str]:
    """Workloads meant to be reached from outside: behind a LoadBalancer/NodePort Service or an Ingress."""
    exposed: set[str] = set()
    backends: set[tuple[str, str]] = set()
    for doc in inventory.documents("Ingress"):
        ns = doc.namespace(inventory.default_namespace)
        for svc in _ingress_services(doc.obj):
            backends.add((ns, svc))
    for svc in engine.cluster.services:
        if svc.selector is None:
            continue
        if svc.type not in ("LoadBalancer", "NodePort") and (svc.namespace, svc.name) not in backends:
            continue
        sel = svc.selector
        for w in engine.cluster.workloads:
            if w.namespace == svc.namespace and sel and all(w.labels.get(k) == v for k, v in sel.items()):
                exposed.add(w.key)
    return exposed


def _ingress_services(obj: dict) -> Iterator[str]:  # type: ignore[type-arg]
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    default = spec.get("defaultBackend") or spec.get("backend")
    if isinstance(default, dict):
        name = (default.get("service") or {}).get("name") or default.get("serviceName")
        if name:
            yield str(name)
    for rule in spec.get("rules") or ():
        for path in ((rule or {}).get("http") or {}).get("paths") or ():
            backend = (path or {}).get("backend") or {}
            name = (backend.get("service") or {}).get("name") or backend.get("serviceName")
            if name:
                yield str(name)


def _is_world(peer: Peer) -> bool:
    return peer.ip_block is not None and (peer.ip_block == ALL_V4 or peer.ip_block == ALL_V6)


def _policy_shape(engine: Engine, policies: PolicySet, inventory: Inventory) -> Iterator[Finding]:
    entrypoints = _entrypoint_workloads(engine, inventory)
    ns_with_deny: dict[str, set[str]] = {}
    for pol in policies.policies:
        if pol.pod_selector.is_empty:
            for d in ("ingress", "egress"):
                if pol.affects(d) and not pol.rules(d):
                    ns_with_deny.setdefault(pol.namespace, set()).add(d)
    for i, pol in enumerate(engine.policies):
        subject = engine.subjects[i]
        all_subject = _subject_including_host_network(engine, pol)
        if not all_subject:
            yield _policy_finding(
                C.POLICY_SELECTS_NOTHING, pol,
                f"{pol.ref}: podSelector [{pol.pod_selector}] matches no workload in namespace "
                f"{pol.namespace}; the policy has no effect.",
                ("spec", "podSelector"),
            )
        host_net = all_subject & ~subject
        if host_net and engine.options.host_network == "node-ip":
            names = sorted({w.key for c in engine.classes_in(host_net) for w, _ in c.members})
            yield _policy_finding(
                C.HOST_NETWORK_SUBJECT, pol,
                f"{pol.ref} selects hostNetwork workload(s) {', '.join(names)}, which it cannot protect.",
                ("spec", "podSelector"),
            )
        for direction in ("ingress", "egress"):
            yield from _rule_shape(engine, pol, direction, subject, entrypoints)
        for d in pol.ignored_rules:
            yield _policy_finding(
                C.RULES_IGNORED, pol,
                f"{pol.ref} has {d} rules but policyTypes is {sorted(pol.policy_types)}: they are ignored.",
                ("spec", d), d,
            )
        if pol.raw_egress_empty_without_types:
            yield _policy_finding(
                C.AMBIGUOUS_EGRESS, pol,
                f"{pol.ref} omits policyTypes and has an empty egress list: egress is NOT isolated "
                "(the API defaults policyTypes to [Ingress]).",
                ("spec", "egress"),
            )
        if pol.pod_selector.is_empty:
            for direction in ("ingress", "egress"):
                if direction in ns_with_deny.get(pol.namespace, set()) and any(
                    r.peers is None and not r.ports for r in pol.rules(direction)
                ):
                    yield _policy_finding(
                        C.ALLOW_ALL_CANCELS_DENY, pol,
                        f"{pol.ref} allows all {direction} to every pod of namespace {pol.namespace}, "
                        f"cancelling its default deny.",
                        ("spec", direction), direction,
                    )
        features = sorted({
            "endPort" if s.end_port is not None else "SCTP"
            for r in (*pol.ingress, *pol.egress) for s in r.ports
            if s.end_port is not None or s.protocol == "SCTP"
        })
        if features:
            yield _policy_finding(
                C.FEATURE_NEEDS_CNI, pol,
                f"{pol.ref} uses {' and '.join(features)}; enforcement depends on the CNI.",
                ("spec",), ",".join(features),
            )


def _targets_absent_dns(engine: Engine, peer: Peer) -> bool:
    """A peer aimed at kube-dns while the input holds no DNS pods: the DNS check judges it instead."""
    return (peer.pod_selector is not None and peer.pod_selector.matches(DNS_LABELS)
            and not _dns_classes(engine))


def _subject_including_host_network(engine: Engine, pol: NetworkPolicy) -> int:
    return engine.label_match_mask(pol.namespace, pol.pod_selector)


def _rule_shape(
    engine: Engine, pol: NetworkPolicy, direction: str, subject: int, entrypoints: set[str]
) -> Iterator[Finding]:
    peer_key = "from" if direction == "ingress" else "to"
    for rule in pol.rules(direction):
        peers = rule.peers or ()
        ns_only = [p for p in peers if p.namespace_selector is not None and p.pod_selector is None]
        pod_only = [p for p in peers if p.pod_selector is not None and p.namespace_selector is None]
        if ns_only and pod_only:
            yield _policy_finding(
                C.SPLIT_SELECTOR_TRAP, pol,
                f"{pol.ref} {direction}[{rule.index}]: {peer_key} lists namespaces "
                f"[{ns_only[0].namespace_selector}] and pods [{pod_only[0].pod_selector}] as separate peers, "
                f"so every pod of those namespaces is admitted, not only the matching pods.",
                (*rule.path, peer_key), f"{direction}[{rule.index}]",
            )
        for peer in peers:
            if (peer.ip_block is None and subject and engine.peer_mask(peer, pol.namespace) == 0
                    and not _targets_absent_dns(engine, peer)):
                yield _policy_finding(
                    C.PEER_SELECTS_NOTHING, pol,
                    f"{pol.ref} {direction}[{rule.index}]: peer {peer.describe(pol.namespace)} matches no "
                    "pod; it admits nothing.",
                    peer.path, "/".join(map(str, peer.path)),
                )
            if peer.namespace_selector is not None and not peer.namespace_selector.is_empty:
                keys = peer.namespace_selector.keys - {"kubernetes.io/metadata.name"}
                if keys:
                    yield _policy_finding(
                        C.MUTABLE_NAMESPACE_LABEL, pol,
                        f"{pol.ref} {direction}[{rule.index}]: namespaces are selected by "
                        f"{', '.join(sorted(keys))}; anyone who can label a namespace can join.",
                        (*peer.path, "namespaceSelector"), "/".join(map(str, peer.path)),
                    )
            if (peer.namespace_selector is not None and peer.namespace_selector.is_empty
                    and (peer.pod_selector is None or peer.pod_selector.is_empty)):
                yield _policy_finding(
                    C.ALL_NAMESPACES_PEER, pol,
                    f"{pol.ref} {direction}[{rule.index}]: namespaceSelector {{}} admits every pod of every "
                    "namespace.",
                    peer.path, "/".join(map(str, peer.path)),
                )
            if (peer.namespace_selector is not None and peer.namespace_selector.is_empty
                    and peer.pod_selector is not None and not peer.pod_selector.is_empty):
                yield _policy_finding(
                    C.POD_LABEL_ONLY, pol,
                    f"{pol.ref} {direction}[{rule.index}]: any pod labelled [{peer.pod_selector}] in any "
                    "namespace is admitted.",
                    peer.path, "/".join(map(str, peer.path)),
                )
        if not subject:
            continue
        wide = rule.peers is None or any(_is_world(p) for p in peers)
        if direction == "ingress" and wide:
            targets = sorted({w.key for c in engine.classes_in(subject) for w, _ in c.members} - entrypoints)
            if targets:
                what = "every source" if rule.peers is None else "the whole internet"
                yield _policy_finding(
                    C.INGRESS_FROM_ANYWHERE, pol,
                    f"{pol.ref} ingress[{rule.index}] admits {what} to {', '.join(targets[:5])}"
                    f"{' and more' if len(targets) > 5 else ''}, which no LoadBalancer, NodePort or Ingress "
                    "exposes.",
                    rule.path, f"ingress[{rule.index}]",
                )
        if direction == "egress" and ((rule.peers is None and not rule.ports) or any(_is_world(p) for p in peers)):
            yield _policy_finding(
                C.EGRESS_TO_ANYWHERE, pol,
                f"{pol.ref} egress[{rule.index}] allows "
                f"{'every destination on every port' if rule.peers is None else 'the whole internet'}: "
                "egress isolation of the selected pods is void for it.",
                rule.path, f"egress[{rule.index}]",
            )


def _named_ports(engine: Engine) -> Iterator[Finding]:
    for i, pol in enumerate(engine.policies):
        subject = engine.subjects[i]
        if not subject:
            continue
        for direction in ("ingress", "egress"):
            for rule in pol.rules(direction):
                if not rule.has_named_ports:
                    continue
                mask = subject if direction == "ingress" else engine.rule_peer_scope(rule, pol)[0]
                # Classes with the same container ports resolve a name alike: look up once per group.
                groups = [ports for ports, group in engine.port_groups() if group & mask]
                for k, spec in enumerate(rule.ports):
                    if not spec.named:
                        continue
                    numbers = {n for ports in groups
                               if (n := _lookup_ports(ports, str(spec.port), spec.protocol)) is not None}
                    path = (*rule.path, "ports", k, "port")
                    if not numbers and groups:
                        yield _policy_finding(
                            C.UNRESOLVABLE_NAMED_PORT, pol,
                            f"{pol.ref} {direction}[{rule.index}]: no destination pod declares a port named "
                            f"{spec.port!r} with protocol {spec.protocol}; the entry matches nothing.",
                            path, f"{direction}[{rule.index}].ports[{k}]",
                        )
                    elif len(numbers) > 1:
                        yield _policy_finding(
                            C.NAMED_PORT_VARIES, pol,
                            f"{pol.ref} {direction}[{rule.index}]: port {spec.port!r} means "
                            f"{', '.join(map(str, sorted(numbers)))} on different destination pods.",  # type: ignore[arg-type]
                            path, f"{direction}[{rule.index}].ports[{k}]",
                        )


def _lookup_ports(ports: tuple[ContainerPort, ...], name: str, protocol: str) -> int | None:
    for p in ports:
        if p.name == name and p.protocol == protocol:
            return p.port
    return None


# ---------------------------------------------------------------------- DNS
def _dns_classes(engine: Engine) -> int:
    m = 0
    for c in engine.classes:
        if c.namespace == DNS_NAMESPACE and all(c.labels.get(k) == v for k, v in DNS_LABELS.items()):
            m |= c.bit
    return m


def dns_reach(engine: Engine, cls: PodClass, dns_mask: int, inventory: Inventory) -> ConnectionSet:
    """What ``cls`` may send to cluster DNS on port 53 (UDP/TCP), through egress and DNS ingress."""
    wanted = DNS_UDP | DNS_TCP
    eg = engine.class_egress[cls.index]
    if dns_mask:
        best = ConnectionSet.none()
        for d in engine.classes_in(dns_mask):
            out = conn_for(eg.pod_parts, d.bit) & conn_for(engine.class_ingress[d.index].pod_parts, cls.bit)
            best = best | (out & wanted)
        return best
    # No DNS pods in the input: judge the egress rules against the well-known kube-dns labels.
    ns = inventory.cluster.namespaces.get(DNS_NAMESPACE)
    ns_labels = ns.labels if ns else {"kubernetes.io/metadata.name": DNS_NAMESPACE}
    result = ConnectionSet.none()
    for i in eg.policies:
        pol = engine.policies[i]
        for rule in pol.rules("egress"):
            if _rule_admits_labels(rule, pol, ns_labels, DNS_LABELS):
                result = result | (engine.resolve_ports(rule.ports, None) & wanted)
    return result if eg.isolated else wanted


def _rule_admits_labels(rule: Rule, pol: NetworkPolicy, ns_labels: dict[str, str], pod_labels: dict[str, str]) -> bool:
    if rule.peers is None:
        return True
    for p in rule.peers:
        if p.ip_block is not None:
            continue
        ns_ok = (p.namespace_selector.matches(ns_labels) if p.namespace_selector is not None
                 else ns_labels.get("kubernetes.io/metadata.name") == pol.namespace)
        pod_ok = p.pod_selector is None or p.pod_selector.matches(pod_labels)
        if ns_ok and pod_ok:
            return True
    return False


def _dns(engine: Engine, inventory: Inventory) -> Iterator[Finding]:
    """RW-DEPTH-002 / RW-DNS-009 for every egress-isolated workload, whatever isolates it.

    With the DNS pods in the input, the engine's verdict (every policy kind) decides; without
    them only NetworkPolicy rules can be judged against the well-known kube-dns labels, so a
    workload isolated by other kinds alone is then not judged rather than guessed."""
    if not (engine.policies or engine.calico or engine.cilium or engine.admin):
        return
    dns_mask = _dns_classes(engine)
    for w in _app_workloads(engine):
        if w.host_network and engine.options.host_network == "node-ip":
            continue
        classes = list(engine.classes_in(engine.workload_classes.get(w.key, 0)))
        if not classes or not all(engine.isolated_by(c, "egress") for c in classes):
            continue
        isolating = engine.isolating_policies(classes[0], "egress")
        k8s = [p for p in isolating if isinstance(p, NetworkPolicy)]
        if not dns_mask and not k8s:
            continue
        reach = dns_reach(engine, classes[0], dns_mask, inventory)
        pols = [*_deciding_first(k8s, "egress"), *(p for p in isolating if not isinstance(p, NetworkPolicy))]
        locs = tuple(p.document.locate((), p.ref) for p in pols[:3])
        if not reach:
            yield Finding(
                C.EGRESS_WITHOUT_DNS,
                f"{w.kind} {w.namespace}/{w.name} is egress-isolated by {', '.join(p.ref for p in pols[:3])} "
                f"and no rule lets it reach {DNS_NAMESPACE}/kube-dns on UDP/TCP 53: name resolution fails.",
                locs, w.ref, "dns",
                properties={"layer": "netpol", "flow": f"{w.key} -> {DNS_NAMESPACE}/kube-dns udp/53,tcp/53"},
            )
        elif reach != (DNS_UDP | DNS_TCP):
            have = "UDP" if reach.ports("UDP") else "TCP"
            yield Finding(
                C.DNS_ALLOWANCE_UDP_ONLY,
                f"{w.kind} {w.namespace}/{w.name} may reach cluster DNS only over {have} 53; "
                f"{'TCP' if have == 'UDP' else 'UDP'} 53 is blocked.",
                locs, w.ref, "dns",
            )


def _deciding_first(pols: list[NetworkPolicy], direction: str) -> list[NetworkPolicy]:
    """The policies that isolate a direction, the one that decides first: evidence points at it.

    Every selecting policy isolates, but the one a reader must look at is the one that opens
    nothing in that direction (a default deny); policies that open other peers (istiod, a
    replica) come after, in input order - not whichever happened to be read first."""
    return sorted(pols, key=lambda p: len(list(p.rules(direction))) > 0)


def selector_text(sel: Selector | None) -> str:
    return "-" if sel is None else str(sel)
