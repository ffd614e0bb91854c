"""The NetworkPolicy engine: reachability over equivalence classes, symbolically.

Pods that share namespace, labels, container ports, host networking and (when ipBlocks may
match pods) the ipBlock atom of their address behave alike under every policy: they form one
*class*, and a set of classes is a Python int used as a bitset. Classes selected by the same
policies form a *profile*; for each profile and direction we compute a partition of the peer
space into (peer classes, peer addresses) -> connection set. Reachability is then a list of
rectangles (sources x destinations x connections), never a loop over pod pairs.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field

from ringwall.model import intervals as iv
from ringwall.model.addresses import (
    ALL_V4,
    ALL_V6,
    AddressError,
    family_space,
    format_address,
    parse_address,
    parse_cidr,
    to_cidrs,
)
from ringwall.model.cluster import Cluster, ContainerPort, PodVariant, Service, Workload
from ringwall.model.connections import ALL, NONE, PORT_MAX, ConnectionSet
from ringwall.model.intervals import Intervals
from ringwall.model.labels import Selector, parse_selector
from ringwall.model.location import Location

from . import tiers as tiers_mod
from .admin import AdminRule, TieredPolicy
from .calico import (
    ADMIN_TIER_ORDER,
    BASELINE_TIER_ORDER,
    DEFAULT_TIER,
    K8S_NP_ORDER,
    CalicoPolicy,
    CalicoRule,
    CalicoSet,
    Entity,
)
from .cilium import SA_KEY, CiliumPolicy, CiliumRule, CiliumSet, identity_labels
from .policy import NetworkPolicy, Peer, PortSpec, Rule
from .selector_expr import Expr, mentions_key, mentions_prefix


@dataclass(frozen=True, slots=True)
class EngineOptions:
    ipblock_pods: str = "auto"
    """``auto``: ipBlocks match pods whose IP the input knows; ``never``: ipBlocks are external only."""
    host_network: str = "node-ip"
    """``node-ip``: host-network pods are node traffic, not selectable; ``pod``: ordinary pods."""
    enforced: bool = True
    """False when the CNI does not implement NetworkPolicy: every policy is void."""
    endport_support: bool = True
    ipv4_only: bool = False
    """netpol-analyzer compatibility: IPv6 addresses in policies match nothing."""
    admin_networks_pod_ips: str = "match"
    """``match``: ANP/CNP ``networks`` also match pod addresses the input knows; ``ignore``: external only."""
    pod_cidrs: tuple[str, ...] = ()
    """The cluster's pod network, where pods whose address the input does not know are placed (see
    ``pod_network``); empty: from the Nodes' ``podCIDRs``, Calico IPPools, else ``DEFAULT_POD_CIDR``."""


DEFAULT_POD_CIDR = "10.244.0.0/16"
"""The pod network assumed when the input names none (kubeadm's and Flannel's customary default):
inside 0.0.0.0/0 and inside the private ranges that "internet only" ipBlock idioms except."""


@dataclass(slots=True, eq=False)
class PodClass:
    index: int
    namespace: str
    labels: dict[str, str]
    ports: tuple[ContainerPort, ...]
    host_network: bool
    ips: Intervals
    members: list[tuple[Workload, PodVariant]] = field(default_factory=list)
    service_account: str = ""
    """Part of the class key only when Calico policies exist (they can select on it)."""
    assumed_ip: int | None = None
    """For pods whose address the input does not know: the pod-network address that stands for it
    when ipBlocks / nets are matched (never shown as the pod's address)."""

    @property
    def bit(self) -> int:
        return 1 << self.index


@dataclass(slots=True, eq=False)
class Profile:
    """Classes selected by the same policies in one direction (and resolving named ports alike)."""

    policies: tuple[int, ...]
    admin: tuple[int, ...] = ()
    """Indexes of the Admin/Baseline policies whose subject includes these classes."""
    mask: int = 0
    pod_parts: list[tuple[int, ConnectionSet]] = field(default_factory=list)
    ip_parts: list[tuple[Intervals, ConnectionSet]] = field(default_factory=list)
    calico: tuple[int, ...] = ()
    """Indexes of the Calico policies selecting these classes (in evaluation order)."""
    calico_skip: frozenset[tuple[int, int]] = frozenset()
    """(policy, rule) whose local-side match (ingress ``destination``, egress ``source``) fails here."""
    cilium: tuple[int, ...] = ()
    """Indexes of the Cilium policies selecting these classes in this direction."""
    cilium_deny: bool = False
    """Cilium default-deny applies (a selecting policy has a section for this direction)."""

    @property
    def isolated(self) -> bool:
        return bool(self.policies or self.calico or self.cilium_deny)


Rect = tuple[int, int, ConnectionSet]
Grants = tuple[list[tuple[int, ConnectionSet]], list[tuple[Intervals, ConnectionSet]]]
"""What one rule grants: (peer classes, connections) and (peer addresses, connections)."""
TieredGrants = tuple[list[tuple[int, ConnectionSet, str]], list[tuple[Intervals, ConnectionSet, str]]]
"""What one ordered rule decides: (peer classes, connections, action) and the same for addresses."""


class Engine:
    """Compute NetworkPolicy reachability for a cluster."""

    def __init__(
        self,
        cluster: Cluster,
        policies: list[NetworkPolicy],
        options: EngineOptions | None = None,
        admin: list[TieredPolicy] | None = None,
        calico: CalicoSet | None = None,
        cilium: CiliumSet | None = None,
    ):
        self.cluster = cluster
        self.options = options or EngineOptions()
        self.policies = policies if self.options.enforced else []
        self.admin: list[TieredPolicy] = list(admin or []) if self.options.enforced else []
        self.calico_set = calico if (calico is not None and self.options.enforced) else None
        self.calico: list[CalicoPolicy] = [p for p in self.calico_set.policies if not p.host_only] \
            if self.calico_set is not None else []
        self.cilium: list[CiliumPolicy] = [p for p in cilium.policies if p.endpoint_selector is not None] \
            if (cilium is not None and self.options.enforced) else []
        self.calico_mode = self.calico_set is not None
        """Calico is the CNI: NetworkPolicies live in its ``default`` tier, ANP/BANP in their tiers."""
        self._needs_sa = _calico_uses_sa(self.calico) or _cilium_uses_sa(self.cilium) or (
            self.calico_set is not None and any(n.startswith("ksa.") for n in self.calico_set.profile_labels))
        """Service accounts join the class key only when a policy can tell them apart."""
        self.ip_space = self._address_space()
        self._boundaries = self._ipblock_boundaries() if self.options.ipblock_pods == "auto" else []
        self.pod_network, self.pod_network_source = self._pod_network()
        self.address_approximations: list[tuple[Location | None, str]] = []
        """Why verdicts for pods without a known address are approximate (a net splits the pod network)."""
        self.classes: list[PodClass] = []
        self.workload_classes: dict[str, int] = {}
        self._build_classes()
        self.all_mask = (1 << len(self.classes)) - 1
        self._ns_mask: dict[str, int] = {}
        self._selectable = 0
        for c in self.classes:
            self._ns_mask[c.namespace] = self._ns_mask.get(c.namespace, 0) | c.bit
            if not (c.host_network and self.options.host_network == "node-ip"):
                self._selectable |= c.bit
        self._by_ns: dict[str, list[PodClass]] = {}
        for c in self.classes:
            self._by_ns.setdefault(c.namespace, []).append(c)
        self._pod_sel_cache: dict[tuple[str, Selector], int] = {}
        self._ns_sel_cache: dict[Selector, int] = {}
        self._ns_names_cache: dict[Selector, list[str]] = {}
        self._combo_cache: dict[tuple[Selector, Selector], int] = {}
        self._label_idx: dict[str, tuple[int, dict[tuple[str, str], int], dict[str, int]]] = {}
        # Classes grouped by the ipBlock atom their addresses fall in: an ipBlock peer is a union of
        # atoms, so its pod mask is the OR of a few atom masks (one address tested per atom).
        self._atom_masks: dict[int, tuple[int, int]] = {}
        for c in self.classes:
            if c.ips or c.assumed_ip is not None:
                rep = c.ips[0][0] if c.ips else c.assumed_ip
                assert rep is not None
                atom = bisect_right(self._boundaries, rep)
                old = self._atom_masks.get(atom)
                self._atom_masks[atom] = (rep, (old[1] if old else 0) | c.bit)
        self._ipblock_cache: dict[Intervals, int] = {}
        self._grant_cache: dict[tuple[int, str, int, object], Grants] = {}
        self._port_groups: dict[tuple[ContainerPort, ...], int] = {}
        for c in self.classes:
            self._port_groups[c.ports] = self._port_groups.get(c.ports, 0) | c.bit
        self._resolve_cache: dict[tuple[tuple[PortSpec, ...], tuple[ContainerPort, ...] | None], ConnectionSet] = {}
        self.subjects: list[int] = [self.pod_selector_mask(p.namespace, p.pod_selector) for p in self.policies]
        self.admin_subjects: list[int] = [self._admin_subject(p) for p in self.admin]
        self._node_ips: dict[Selector, Intervals] = {}
        self._calico_expr_cache: dict[tuple[str | None, Expr], int] = {}
        self._calico_ns_cache: dict[Expr, int] = {}
        self._calico_sa_cache: dict[tuple[tuple[str, ...] | None, Expr | None], int] = {}
        self._calico_entity_cache: dict[tuple[Entity, str | None], tuple[int, Intervals]] = {}
        self._calico_grant_cache: dict[tuple[int, str, int, object], TieredGrants] = {}
        self.calico_subjects: list[int] = [self._calico_subject(p) for p in self.calico]
        self._cilium_sel_cache: dict[Selector, int] = {}
        self._cilium_grant_cache: dict[tuple[int, str, int, object], TieredGrants] = {}
        self.cilium_subjects: list[int] = [self.cilium_selector_mask(p.endpoint_selector) for p in self.cilium
                                           if p.endpoint_selector is not None]
        self.ingress = self._profiles("ingress")
        self.egress = self._profiles("egress")

    # ----------------------------------------------------------------- classes
    def _address_space(self) -> Intervals:
        """IPv4, plus IPv6 when anything in the input uses IPv6 (policies or pod addresses)."""
        space: list[tuple[int, int]] = list(ALL_V4)
        uses_v6 = False
        for p in self.policies:
            for r in (*p.ingress, *p.egress):
                for peer in r.peers or ():
                    if peer.ip_block and any(lo > ALL_V4[0][1] for lo, _ in peer.ip_block):
                        uses_v6 = True
        for a in self.admin:
            for ar in a.egress:
                for ap in ar.peers:
                    if any(lo > ALL_V4[0][1] for lo, _ in ap.networks):
                        uses_v6 = True
        for rng in self._calico_nets():
            if any(lo > ALL_V4[0][1] for lo, _ in rng):
                uses_v6 = True
        if uses_v6 and not self.options.ipv4_only:
            space.extend(ALL_V6)
        return iv.normalize(space)

    def _ipblock_boundaries(self) -> list[int]:
        points: set[int] = set()
        for p in self.policies:
            for r in (*p.ingress, *p.egress):
                for peer in r.peers or ():
                    for lo, hi in peer.ip_block or ():
                        points.add(lo)
                        points.add(hi + 1)
        for a in self.admin:
            for ar in a.egress:
                for ap in ar.peers:
                    for lo, hi in ap.networks:
                        points.add(lo)
                        points.add(hi + 1)
        for rng in self._calico_nets():
            for lo, hi in rng:
                points.add(lo)
                points.add(hi + 1)
        return sorted(points)

    def _calico_nets(self) -> Iterator[Intervals]:
        if self.calico_set is not None:
            for ns in self.calico_set.network_sets:
                if ns.nets:
                    yield ns.nets
        for p in self.calico:
            for r in (*p.ingress, *p.egress):
                for e in (r.source, r.destination):
                    if e.nets:
                        yield e.nets
                    if e.not_nets:
                        yield e.not_nets

    def _pod_network(self) -> tuple[Intervals, str]:
        """Where pods live: the option, else the Nodes' ``podCIDRs``, else Calico IPPools, else the default.

        A pod whose address the input does not know still has one, in this network. Matching it
        against ipBlocks / ``nets`` / ``notNets`` as *some address of the pod network* gives the
        same answer for every spelling of the same address set: exact when each net contains the
        whole pod network or none of it; otherwise the pod stands at the network's first host
        address and ``address_approximations`` says the answer is approximate."""
        sources: list[tuple[tuple[str, ...], str]] = [(self.options.pod_cidrs, "option")]
        sources.append((tuple(c for n in self.cluster.nodes for c in n.pod_cidrs), "Node podCIDRs"))
        if self.calico_set is not None:
            sources.append((self.calico_set.ip_pools, "Calico IPPools"))
        sources.append(((DEFAULT_POD_CIDR,), f"default {DEFAULT_POD_CIDR}"))
        for cidrs, origin in sources:
            out: Intervals = ()
            for text in cidrs:
                try:
                    rng, _ = parse_cidr(text)
                except AddressError:
                    continue
                out = iv.union(out, rng)
            if out:
                return out, origin
        return (), ""

    def _assumed_address(self, w: Workload) -> int:
        lo, hi = self.pod_network[0]
        rep = lo + 1 if hi > lo else lo
        if not self.address_approximations:
            cut = [b for b in self._boundaries if any(a < b <= z for a, z in self.pod_network)]
            if cut:
                self.address_approximations.append((w.location,
                    f"{w.key} and other pods without a known address are placed in the pod network "
                    f"({', '.join(to_cidrs(self.pod_network))}, from {self.pod_network_source}); an ipBlock "
                    f"or Calico net splits it at {format_address(cut[0])}, so their verdicts take them at "
                    f"{format_address(rep)} and are approximate"))
        return rep

    def _build_classes(self) -> None:
        index: dict[tuple[object, ...], PodClass] = {}
        for w in self.cluster.workloads:
            for v in w.variants:
                groups: dict[int, list[int]] = {}
                for ip in v.ips:
                    try:
                        value = parse_address(ip)
                    except AddressError:
                        continue
                    atom = bisect_right(self._boundaries, value) if self._boundaries else 0
                    groups.setdefault(atom, []).append(value)
                if not self._boundaries:
                    # No ipBlock can tell these pods apart: one class, addresses kept for display.
                    groups = {0: [x for g in groups.values() for x in g]} if groups else {}
                label_key = tuple(sorted(v.labels.items()))
                hn = w.host_network
                sa = w.service_account if self._needs_sa else ""
                assumed = None
                if not groups and self._boundaries and not hn:
                    # Address unknown: the pod has *some* address of the pod network (see pod_network).
                    assumed = self._assumed_address(w)
                    groups = {-2 - bisect_right(self._boundaries, assumed): []}
                for atom, values in (groups.items() if groups else [(-1, [])]):
                    key = (w.namespace, label_key, v.ports, hn, atom if self._boundaries else None, sa)
                    cls = index.get(key)
                    ips = iv.normalize((x, x) for x in values)
                    if cls is None:
                        cls = PodClass(len(self.classes), w.namespace, v.labels, v.ports, hn, ips,
                                       service_account=sa, assumed_ip=assumed)
                        index[key] = cls
                        self.classes.append(cls)
                    else:
                        cls.ips = iv.union(cls.ips, ips)
                    cls.members.append((w, v))
                    self.workload_classes[w.key] = self.workload_classes.get(w.key, 0) | cls.bit

    # --------------------------------------------------------------- selectors
    def _label_index(self, namespace: str) -> tuple[int, dict[tuple[str, str], int], dict[str, int]]:
        """Per namespace: all classes, classes by (key, value), classes by key - as bitsets."""
        idx = self._label_idx.get(namespace)
        if idx is None:
            all_m = 0
            by_pair: dict[tuple[str, str], int] = {}
            by_key: dict[str, int] = {}
            for c in self._by_ns.get(namespace, ()):
                b = c.bit
                all_m |= b
                for k, v in c.labels.items():
                    by_pair[(k, v)] = by_pair.get((k, v), 0) | b
                    by_key[k] = by_key.get(k, 0) | b
            idx = (all_m, by_pair, by_key)
            self._label_idx[namespace] = idx
        return idx

    def pod_selector_mask(self, namespace: str, selector: Selector) -> int:
        """Selectable classes of ``namespace`` matching ``selector``."""
        key = (namespace, selector)
        m = self._pod_sel_cache.get(key)
        if m is None:
            m = self.label_match_mask(namespace, selector) & self._selectable
            self._pod_sel_cache[key] = m
        return m

    def label_match_mask(self, namespace: str, selector: Selector) -> int:
        """Classes of ``namespace`` whose labels match ``selector``, by bitset algebra over a label index."""
        all_m, by_pair, by_key = self._label_index(namespace)
        m = all_m
        for r in selector.requirements:
            if not m:
                break
            if r.operator == "In":
                hit = 0
                for v in r.values:
                    hit |= by_pair.get((r.key, v), 0)
                m &= hit
            elif r.operator == "NotIn":
                for v in r.values:
                    m &= ~by_pair.get((r.key, v), 0)
            elif r.operator == "Exists":
                m &= by_key.get(r.key, 0)
            else:
                m &= ~by_key.get(r.key, 0)
        return m

    def namespace_selector_mask(self, selector: Selector) -> int:
        m = self._ns_sel_cache.get(selector)
        if m is None:
            m = 0
            names = []
            for name, ns in self.cluster.namespaces.items():
                if selector.matches(ns.labels):
                    names.append(name)
                    m |= self._ns_mask.get(name, 0)
            m &= self._selectable
            self._ns_sel_cache[selector] = m
            self._ns_names_cache[selector] = names
        return m

    def peer_mask(self, peer: Peer, policy_namespace: str) -> int:
        """The classes a peer matches (ipBlock peers match pods only in ``auto`` mode)."""
        if peer.ip_block is not None:
            if self.options.ipblock_pods != "auto":
                return 0
            m = self._ipblock_cache.get(peer.ip_block, -1)
            if m < 0:
                m = 0
                for rep, atom_mask in self._atom_masks.values():
                    if iv.contains(peer.ip_block, rep):
                        m |= atom_mask
                self._ipblock_cache[peer.ip_block] = m
            return m
        if peer.namespace_selector is None:
            ns_mask = self._ns_mask.get(policy_namespace, 0) & self._selectable
            if peer.pod_selector is None:
                return ns_mask
            return self.pod_selector_mask(policy_namespace, peer.pod_selector)
        ns_mask = self.namespace_selector_mask(peer.namespace_selector)
        if peer.pod_selector is None or peer.pod_selector.is_empty:
            return ns_mask
        key = (peer.namespace_selector, peer.pod_selector)
        m = self._combo_cache.get(key)
        if m is None:
            m = 0
            for name in self._ns_names_cache[peer.namespace_selector]:
                m |= self.pod_selector_mask(name, peer.pod_selector)
            self._combo_cache[key] = m
        return m

    def port_groups(self) -> list[tuple[tuple[ContainerPort, ...], int]]:
        """Distinct container-port lists and the classes that have each (named ports resolve alike)."""
        return list(self._port_groups.items())

    def classes_of_namespace(self, namespace: str) -> list[PodClass]:
        return self._by_ns.get(namespace, [])

    # ------------------------------------------------------------------ ports
    def resolve_ports(self, specs: tuple[PortSpec, ...], dst_ports: tuple[ContainerPort, ...] | None) -> ConnectionSet:
        """A rule's ports as a connection set on a destination with ``dst_ports`` (None: an address)."""
        if not specs:
            return ALL
        key = (specs, dst_ports)
        cached = self._resolve_cache.get(key)
        if cached is not None:
            return cached
        ranges: dict[str, list[tuple[int, int]]] = {}
        for s in specs:
            if s.port is None:
                ranges.setdefault(s.protocol, []).append((1, PORT_MAX))
            elif isinstance(s.port, int):
                hi = s.end_port if (s.end_port is not None and self.options.endport_support) else s.port
                ranges.setdefault(s.protocol, []).append((s.port, hi))
            elif dst_ports is not None:
                for cp in dst_ports:
                    if cp.name == s.port and cp.protocol == s.protocol:
                        ranges.setdefault(s.protocol, []).append((cp.port, cp.port))
        result = ConnectionSet({p: tuple(r) for p, r in ranges.items()}) if ranges else NONE
        self._resolve_cache[key] = result
        return result

    # --------------------------------------------------------------- profiles
    def _profiles(self, direction: str) -> list[Profile]:
        selecting: list[list[int]] = [[] for _ in self.classes]
        for i, p in enumerate(self.policies):
            if not p.affects(direction):
                continue
            m = self.subjects[i]
            while m:
                low = m & -m
                selecting[low.bit_length() - 1].append(i)
                m ^= low
        admin_selecting: list[list[int]] = [[] for _ in self.classes]
        for i, p in enumerate(self.admin):
            if not p.rules(direction):
                continue
            m = self.admin_subjects[i]
            while m:
                low = m & -m
                admin_selecting[low.bit_length() - 1].append(i)
                m ^= low
        calico_selecting: list[list[int]] = [[] for _ in self.classes]
        skip_of: list[set[tuple[int, int]]] = [set() for _ in self.classes]
        for i, cp in enumerate(self.calico):
            if not cp.affects(direction):
                continue
            m = self.calico_subjects[i]
            if not m:
                continue
            for rule in cp.rules(direction):
                if rule.local.has_peer_match:
                    miss = m & ~self.calico_entity_scope(rule.local, cp)[0]
                    while miss:
                        low = miss & -miss
                        skip_of[low.bit_length() - 1].add((i, rule.index))
                        miss ^= low
            while m:
                low = m & -m
                calico_selecting[low.bit_length() - 1].append(i)
                m ^= low
        cilium_selecting: list[list[int]] = [[] for _ in self.classes]
        for i, cp2 in enumerate(self.cilium):
            if not cp2.affects(direction):
                continue
            m = self.cilium_subjects[i]
            while m:
                low = m & -m
                cilium_selecting[low.bit_length() - 1].append(i)
                m ^= low
        cilium_named = [any(r.has_named_ports for r in p.rules(direction)) for p in self.cilium]
        named = [any(r.has_named_ports for r in p.rules(direction)) for p in self.policies]
        admin_named = [any(r.has_named_ports for r in p.rules(direction)) for p in self.admin]
        calico_named = [any(r.has_named_ports for r in p.rules(direction)) for p in self.calico]
        by_key: dict[tuple[object, ...], Profile] = {}
        self_profile_of: list[Profile] = []
        for c in self.classes:
            pols = tuple(selecting[c.index])
            admins = tuple(admin_selecting[c.index])
            cals = tuple(calico_selecting[c.index])
            skip = frozenset(skip_of[c.index])
            cils = tuple(cilium_selecting[c.index])
            cdeny = any(self.cilium[i].default_deny(direction) for i in cils)
            needs_ports = (any(named[i] for i in pols) or any(admin_named[i] for i in admins)
                           or any(calico_named[i] for i in cals) or any(cilium_named[i] for i in cils))
            ports_key = c.ports if direction == "ingress" and needs_ports else None
            key = (pols, admins, ports_key, cals, skip, cils, cdeny)
            prof = by_key.get(key)
            if prof is None:
                prof = Profile(pols, admins, calico=cals, calico_skip=skip, cilium=cils, cilium_deny=cdeny)
                by_key[key] = prof
            prof.mask |= c.bit
            self_profile_of.append(prof)
        profiles = list(by_key.values())
        for prof in profiles:
            self._fill_profile(prof, direction)
        if direction == "ingress":
            self.class_ingress = self_profile_of
        else:
            self.class_egress = self_profile_of
        return profiles

    def _fill_profile(self, prof: Profile, direction: str) -> None:
        if prof.calico:
            self._fill_calico(prof, direction)
            return
        if prof.cilium:
            self._fill_cilium(prof, direction)
            return
        if prof.admin:
            self._fill_tiered(prof, direction)
            return
        if not prof.isolated:
            prof.pod_parts = [(self.all_mask, ALL)] if self.all_mask else []
            prof.ip_parts = [(self.ip_space, ALL)]
            return
        self._fill_np(prof, direction)

    def _fill_np(self, prof: Profile, direction: str) -> None:
        pod_grants: list[tuple[int, ConnectionSet]] = []
        ip_grants: list[tuple[Intervals, ConnectionSet]] = []
        sample = self.classes[(prof.mask & -prof.mask).bit_length() - 1]
        for i in prof.policies:
            pol = self.policies[i]
            for rule in pol.rules(direction):
                cached = self.np_rule_grants(i, rule, direction, sample)
                pod_grants.extend(cached[0])
                ip_grants.extend(cached[1])
        prof.pod_parts = _refine_masks(pod_grants, self.all_mask)
        prof.ip_parts = _refine_intervals(ip_grants, self.ip_space)

    def np_rule_grants(self, i: int, rule: Rule, direction: str, sample: PodClass) -> Grants:
        """The grants of rule ``rule`` of NetworkPolicy ``i`` for destinations like ``sample``, cached:
        they depend on the destination's ports only for named ingress ports."""
        ports_key = sample.ports if direction == "ingress" and rule.has_named_ports else None
        key = (i, direction, rule.index, ports_key)
        cached = self._grant_cache.get(key)
        if cached is None:
            cached = ([], [])
            self._rule_grants(rule, self.policies[i], direction, sample, cached[0], cached[1])
            self._grant_cache[key] = cached
        return cached

    # ------------------------------------------------------------ admin tiers
    def _admin_subject(self, pol: TieredPolicy) -> int:
        ns_mask = self.namespace_selector_mask(pol.subject_ns)
        if pol.subject_pods is None or pol.subject_pods.is_empty:
            return ns_mask
        m = 0
        for name in self._ns_names_cache[pol.subject_ns]:
            m |= self.pod_selector_mask(name, pol.subject_pods)
        return m

    def node_ips(self, selector: Selector) -> Intervals:
        cached = self._node_ips.get(selector)
        if cached is None:
            cached = ()
            for node in self.cluster.nodes:
                if selector.matches(node.labels):
                    for a in node.addresses:
                        try:
                            v = parse_address(a)
                        except AddressError:
                            continue
                        cached = iv.union(cached, ((v, v),))
            self._node_ips[selector] = cached
        return cached

    def admin_peer_scope(self, rule: AdminRule) -> tuple[int, Intervals]:
        mask = 0
        ips: Intervals = ()
        for peer in rule.peers:
            if peer.kind == "namespaces" and peer.namespace_selector is not None:
                mask |= self.namespace_selector_mask(peer.namespace_selector)
            elif peer.kind == "pods" and peer.namespace_selector is not None and peer.pod_selector is not None:
                mask |= self.peer_mask(Peer(pod_selector=peer.pod_selector,
                                            namespace_selector=peer.namespace_selector), "")
            elif peer.kind == "networks":
                nets = iv.intersect(peer.networks, self.ip_space)
                ips = iv.union(ips, nets)
                if self.options.admin_networks_pod_ips == "match":
                    mask |= self.peer_mask(Peer(ip_block=peer.networks), "") if self._atom_masks else 0
            elif peer.kind == "nodes" and peer.node_selector is not None:
                ips = iv.union(ips, self.node_ips(peer.node_selector))
        return mask, ips

    def _admin_rule_grants(
        self, rule: AdminRule, direction: str, sample: PodClass
    ) -> tuple[list[tuple[int, ConnectionSet, str]], list[tuple[Intervals, ConnectionSet, str]]]:
        mask, ips = self.admin_peer_scope(rule)
        specs = rule.ports or ()
        pods: list[tuple[int, ConnectionSet, str]] = []
        addrs: list[tuple[Intervals, ConnectionSet, str]] = []
        if direction == "ingress":
            conn = self.resolve_ports(specs, sample.ports)
            if mask:
                pods.append((mask, conn, rule.action))
            return pods, addrs
        if rule.has_named_ports:
            for ports, group in self._port_groups.items():
                if mask & group:
                    pods.append((mask & group, self.resolve_ports(specs, ports), rule.action))
        elif mask:
            pods.append((mask, self.resolve_ports(specs, ()), rule.action))
        if ips:
            addrs.append((ips, self.resolve_ports(specs, None), rule.action))
        return pods, addrs

    def _fill_tiered(self, prof: Profile, direction: str) -> None:
        sample = self.classes[(prof.mask & -prof.mask).bit_length() - 1]
        tiers: dict[str, tuple[list[tuple[int, ConnectionSet, str]], list[tuple[Intervals, ConnectionSet, str]]]] = {
            "admin": ([], []), "baseline": ([], [])
        }
        for i in prof.admin:  # already in (tier, priority) order
            pol = self.admin[i]
            for rule in pol.rules(direction):
                pods, addrs = self._admin_rule_grants(rule, direction, sample)
                tiers[pol.tier][0].extend(pods)
                tiers[pol.tier][1].extend(addrs)
        np_pods: list[tuple[int, ConnectionSet]] | None = None
        np_ips: list[tuple[Intervals, ConnectionSet]] | None = None
        if prof.isolated:
            self._fill_np(prof, direction)
            np_pods, np_ips = prof.pod_parts, prof.ip_parts
        prof.pod_parts = tiers_mod.combine(self.all_mask, tiers["admin"][0], np_pods, tiers["baseline"][0],
                                           tiers_mod.MASK_OPS)
        prof.ip_parts = tiers_mod.combine(self.ip_space, tiers["admin"][1], np_ips, tiers["baseline"][1],
                                          tiers_mod.IP_OPS)

    # ------------------------------------------------------------ calico tiers
    def _calico_labels(self, c: PodClass) -> dict[str, str]:
        """What a Calico selector sees on a pod: its labels plus the labels Calico adds
        (namespace, orchestrator, service account, and the namespace's labels as ``pcns.*``)."""
        ns = self.cluster.namespaces.get(c.namespace)
        out = {f"pcns.{k}": v for k, v in (ns.labels if ns else {}).items()}
        out["pcns.projectcalico.org/name"] = c.namespace
        profiles = self.calico_set.profile_labels if self.calico_set is not None else {}
        out.update(profiles.get(f"kns.{c.namespace}", {}))
        if c.service_account:
            accounts = self.calico_set.service_accounts if self.calico_set is not None else {}
            out.update({f"pcsa.{k}": v for k, v in accounts.get((c.namespace, c.service_account), {}).items()})
            out["pcsa.projectcalico.org/name"] = c.service_account
            out.update(profiles.get(f"ksa.{c.namespace}.{c.service_account}", {}))
        out.update(c.labels)
        out["projectcalico.org/namespace"] = c.namespace
        out["projectcalico.org/orchestrator"] = "k8s"
        if c.service_account:
            out["projectcalico.org/serviceaccount"] = c.service_account
        return out

    def calico_expr_mask(self, namespace: str | None, expr: Expr) -> int:
        """Selectable classes (of ``namespace``, or all) matching a Calico selector; cached."""
        key = (namespace, expr)
        m = self._calico_expr_cache.get(key)
        if m is None:
            m = 0
            classes = self.classes if namespace is None else self._by_ns.get(namespace, [])
            for c in classes:
                if c.bit & self._selectable and (expr.is_all or expr.matches(self._calico_labels(c))):
                    m |= c.bit
            self._calico_expr_cache[key] = m
        return m

    def calico_ns_mask(self, expr: Expr) -> int:
        """Selectable classes in the namespaces a Calico ``namespaceSelector`` matches."""
        m = self._calico_ns_cache.get(expr)
        if m is None:
            m = 0
            for name, ns in self.cluster.namespaces.items():
                labels = {**ns.labels, "projectcalico.org/name": name}
                if expr.matches(labels):
                    m |= self._ns_mask.get(name, 0)
            m &= self._selectable
            self._calico_ns_cache[expr] = m
        return m

    def calico_sa_mask(self, names: tuple[str, ...] | None, expr: Expr | None) -> int:
        key = (names, expr)
        m = self._calico_sa_cache.get(key)
        if m is None:
            m = 0
            accounts = self.calico_set.service_accounts if self.calico_set else {}
            for c in self.classes:
                if not c.bit & self._selectable:
                    continue
                if names is not None and c.service_account not in names:
                    continue
                if expr is not None:
                    labels = {**accounts.get((c.namespace, c.service_account), {}),
                              "projectcalico.org/name": c.service_account}
                    if not expr.matches(labels):
                        continue
                m |= c.bit
            self._calico_sa_cache[key] = m
        return m

    def _calico_subject(self, pol: CalicoPolicy) -> int:
        m = self.calico_expr_mask(pol.namespace, pol.selector)
        if pol.namespace_selector is not None:
            m &= self.calico_ns_mask(pol.namespace_selector)
        if pol.sa_selector is not None:
            m &= self.calico_sa_mask(None, pol.sa_selector)
        return m

    def calico_entity_scope(self, e: Entity, pol: CalicoPolicy) -> tuple[int, Intervals]:
        """The classes and outside addresses a rule's ``source``/``destination`` matches.

        Label selectors of a namespaced policy look in its namespace unless ``namespaceSelector``
        is set; selectors (and service accounts) match workload endpoints only, so an entity
        using them matches no outside address."""
        key = (e, pol.namespace)
        cached = self._calico_entity_cache.get(key)
        if cached is not None:
            return cached
        scope_ns = pol.namespace if e.namespace_selector is None else None
        m = self._selectable
        if e.namespace_selector is not None:
            m &= self.calico_ns_mask(e.namespace_selector)
        if e.selector is not None:
            m &= self.calico_expr_mask(scope_ns, e.selector)
        elif e.namespace_selector is None and scope_ns is not None and e.endpoints_only:
            m &= self._ns_mask.get(scope_ns, 0)
        if e.not_selector is not None:
            m &= ~self.calico_expr_mask(scope_ns, e.not_selector)
        if e.sa_names is not None or e.sa_selector is not None:
            m &= self.calico_sa_mask(e.sa_names, e.sa_selector)
            if e.namespace_selector is None and scope_ns is not None:
                m &= self._ns_mask.get(scope_ns, 0)
        if e.services is not None:
            svc = self._calico_service(e, pol)
            m &= self.label_match_mask(svc.namespace, parse_selector({"matchLabels": svc.selector})) \
                if svc is not None and svc.selector else 0
        if e.nets is not None:
            m &= self.peer_mask(Peer(ip_block=e.nets), "")
        if e.not_nets is not None:
            m &= ~self.peer_mask(Peer(ip_block=e.not_nets), "")
        ips: Intervals = ()
        if not e.endpoints_only:
            ips = iv.intersect(e.nets, self.ip_space) if e.nets is not None else self.ip_space
            if e.not_nets is not None:
                ips = iv.subtract(ips, e.not_nets)
        elif e.sa_names is None and e.sa_selector is None:
            # Label selectors also match NetworkSets / GlobalNetworkSets: their CIDRs join the peer,
            # narrowed by nets / notNets like any address (Calico "Network set" reference).
            set_ips = self.calico_network_set_ips(e, pol)
            if set_ips:
                if e.nets is not None:
                    set_ips = iv.intersect(set_ips, e.nets)
                if e.not_nets is not None:
                    set_ips = iv.subtract(set_ips, e.not_nets)
                ips = iv.intersect(set_ips, self.ip_space)
                if ips:
                    m |= self.peer_mask(Peer(ip_block=ips), "") & self._selectable
        cached = (m, ips)
        self._calico_entity_cache[key] = cached
        return cached

    def calico_network_set_ips(self, e: Entity, pol: CalicoPolicy) -> Intervals:
        """CIDRs of the network sets a rule entity's selectors match.

        In scope: with ``namespaceSelector``, NetworkSets of the matching namespaces and, when the
        expression holds ``global()``, GlobalNetworkSets; without it, NetworkSets of a namespaced
        policy's own namespace, or every set for a GlobalNetworkPolicy."""
        if self.calico_set is None or not self.calico_set.network_sets:
            return ()
        out: Intervals = ()
        for ns in self.calico_set.network_sets:
            labels = dict(ns.labels)
            if e.namespace_selector is not None:
                if ns.namespace is None:
                    if not e.namespace_selector.matches({}, is_global=True):
                        continue
                else:
                    space = self.cluster.namespaces.get(ns.namespace)
                    ns_labels = {**(space.labels if space else {}), "projectcalico.org/name": ns.namespace}
                    if not e.namespace_selector.matches(ns_labels):
                        continue
            elif pol.namespace is not None and ns.namespace != pol.namespace:
                continue
            if ns.namespace is not None:
                labels["projectcalico.org/namespace"] = ns.namespace
            if e.selector is not None and not e.selector.matches(labels):
                continue
            if e.not_selector is not None and e.not_selector.matches(labels):
                continue
            out = iv.union(out, ns.nets)
        return out

    def _calico_service(self, e: Entity, pol: CalicoPolicy) -> Service | None:
        if e.services is None:
            return None
        ns = e.services[0] or pol.namespace or ""
        return next((s for s in self.cluster.services if s.namespace == ns and s.name == e.services[1]), None)

    def _service_port_specs(self, rule: CalicoRule, pi: int) -> tuple[PortSpec, ...] | None:
        """A destination ``services`` match allows the Service's target ports (numbers or names)."""
        if rule.destination.services is None:
            return None
        svc = self._calico_service(rule.destination, self.calico[pi])
        if svc is None:
            return ()
        return tuple(PortSpec(p.protocol, p.target) for p in svc.ports)

    def calico_rule_conn(self, rule: CalicoRule, dst_ports: tuple[ContainerPort, ...] | None,
                         pi: int | None = None) -> ConnectionSet:
        """Protocols x (ports minus notPorts), named ports resolved on the destination."""
        service_ports = self._service_port_specs(rule, pi) if pi is not None else None
        if service_ports == ():
            return NONE
        conn = self.resolve_ports(rule.port_specs("ports", service_ports), dst_ports)
        if rule.destination.not_ports:
            conn = conn - self.resolve_ports(rule.port_specs("notPorts"), dst_ports)
        return conn

    def calico_rule_grants(
        self, pi: int, rule: CalicoRule, direction: str, sample: PodClass
    ) -> tuple[list[tuple[int, ConnectionSet, str]], list[tuple[Intervals, ConnectionSet, str]]]:
        """What one Calico rule decides for a destination like ``sample``: (peer classes, conns,
        action) and (peer addresses, conns, action)."""
        ports_key = sample.ports if direction == "ingress" and rule.has_named_ports else None
        key = (pi, direction, rule.index, ports_key)
        cached = self._calico_grant_cache.get(key)
        if cached is not None:
            return cached
        pods: list[tuple[int, ConnectionSet, str]] = []
        addrs: list[tuple[Intervals, ConnectionSet, str]] = []
        if not rule.ignored and rule.protocols and rule.action != "log":
            mask, ips = self.calico_entity_scope(rule.peer, self.calico[pi])
            if direction == "ingress":
                conn = self.calico_rule_conn(rule, sample.ports, pi)
                if mask and conn:
                    pods.append((mask, conn, rule.action))
                if ips and conn:
                    addrs.append((ips, conn, rule.action))
            else:
                if rule.has_named_ports:
                    for ports, group in self._port_groups.items():
                        if mask & group:
                            conn = self.calico_rule_conn(rule, ports, pi)
                            if conn:
                                pods.append((mask & group, conn, rule.action))
                elif mask:
                    conn = self.calico_rule_conn(rule, (), pi)
                    if conn:
                        pods.append((mask, conn, rule.action))
                if ips:
                    conn = self.calico_rule_conn(rule, None, pi)
                    if conn:
                        addrs.append((ips, conn, rule.action))
        cached = (pods, addrs)
        self._calico_grant_cache[key] = cached
        return cached

    def calico_tiers(self, prof: Profile, direction: str) -> list[tuple[str, float, str, list[tuple[str, object]]]]:
        """The tiers that select ``prof`` in order: (name, order, default action, members) where
        members are ("calico", index), ("k8s", index) or ("admin", index) in evaluation order."""
        assert self.calico_set is not None
        tiers: dict[str, tuple[float, str, list[tuple[tuple[float, str], str, int]]]] = {}
        for i in prof.calico:
            cp = self.calico[i]
            t = self.calico_set.tier(cp.tier)
            tiers.setdefault(cp.tier, (t.order, t.default_action, []))[2].append((cp.sort_key, "calico", i))
        for i in prof.policies:
            t = self.calico_set.tier(DEFAULT_TIER)
            name = f"knp.default.{self.policies[i].name}"
            tiers.setdefault(DEFAULT_TIER, (t.order, t.default_action, []))[2].append(((K8S_NP_ORDER, name), "k8s", i))
        for i in prof.admin:
            pol = self.admin[i]
            tname = "adminnetworkpolicy" if pol.tier == "admin" else "baselineadminnetworkpolicy"
            order = ADMIN_TIER_ORDER if pol.tier == "admin" else BASELINE_TIER_ORDER
            tiers.setdefault(tname, (order, "pass", []))[2].append(((float(pol.priority), pol.name), "admin", i))
        out = []
        for name, (order, action, members) in sorted(tiers.items(), key=lambda kv: (kv[1][0], kv[0])):
            members.sort(key=lambda m: m[0])
            out.append((name, order, action, [(kind, idx) for _, kind, idx in members]))
        return out

    def _fill_calico(self, prof: Profile, direction: str) -> None:
        sample = self.classes[(prof.mask & -prof.mask).bit_length() - 1]
        pod_tiers: list[tuple[list[tuple[int, ConnectionSet, str]], str]] = []
        ip_tiers: list[tuple[list[tuple[Intervals, ConnectionSet, str]], str]] = []
        for _name, _order, action, members in self.calico_tiers(prof, direction):
            pods: list[tuple[int, ConnectionSet, str]] = []
            addrs: list[tuple[Intervals, ConnectionSet, str]] = []
            for kind, idx in members:
                assert isinstance(idx, int)
                if kind == "calico":
                    for rule in self.calico[idx].rules(direction):
                        if (idx, rule.index) in prof.calico_skip:
                            continue
                        rp, ra = self.calico_rule_grants(idx, rule, direction, sample)
                        pods.extend(rp)
                        addrs.extend(ra)
                elif kind == "k8s":
                    pol = self.policies[idx]
                    for rule in pol.rules(direction):
                        pg, ig = self.np_rule_grants(idx, rule, direction, sample)
                        pods.extend((m, c, "allow") for m, c in pg)
                        addrs.extend((r, c, "allow") for r, c in ig)
                else:
                    for arule in self.admin[idx].rules(direction):
                        rp2, ra2 = self._admin_rule_grants(arule, direction, sample)
                        pods.extend(rp2)
                        addrs.extend(ra2)
            pod_tiers.append((pods, action))
            ip_tiers.append((addrs, action))
        prof.pod_parts = tiers_mod.evaluate_tiers(self.all_mask, pod_tiers, tiers_mod.MASK_OPS)
        prof.ip_parts = tiers_mod.evaluate_tiers(self.ip_space, ip_tiers, tiers_mod.IP_OPS)

    # ----------------------------------------------------------------- cilium
    def cilium_selector_mask(self, selector: Selector) -> int:
        """Selectable classes whose Cilium identity labels match ``selector`` (keys normalised)."""
        m = self._cilium_sel_cache.get(selector)
        if m is None:
            m = 0
            for c in self.classes:
                if not c.bit & self._selectable:
                    continue
                ns = self.cluster.namespaces.get(c.namespace)
                labels = identity_labels(c.labels, c.namespace, ns.labels if ns else {}, c.service_account)
                if selector.matches(labels):
                    m |= c.bit
            self._cilium_sel_cache[selector] = m
        return m

    def cilium_peer_scope(self, rule: CiliumRule) -> tuple[int, Intervals]:
        """The classes and outside addresses a Cilium rule's L3 part matches."""
        if rule.l3_wildcard:
            return self.all_mask, self.ip_space
        mask = 0
        ips: Intervals = ()
        nodes = iv.intersect(self.node_ips(Selector()), self.ip_space)
        for sel in rule.endpoints or ():
            mask |= self.cilium_selector_mask(sel)
        for e in rule.entities:
            if e in ("all", "cluster"):
                mask |= self.all_mask
                ips = iv.union(ips, self.ip_space if e == "all" else nodes)
            elif e in ("world", "world-ipv4", "world-ipv6"):
                ips = iv.union(ips, iv.subtract(self.ip_space, nodes))
            elif e in ("host", "remote-node", "kube-apiserver"):
                ips = iv.union(ips, nodes)
        if rule.cidrs:
            ips = iv.union(ips, iv.intersect(rule.cidrs, self.ip_space))
        return mask, ips

    def cilium_rule_grants(self, pi: int, rule: CiliumRule, direction: str, sample: PodClass) -> TieredGrants:
        ports_key = sample.ports if direction == "ingress" and rule.has_named_ports else None
        key = (pi, direction, rule.index * 2 + rule.deny, ports_key)
        cached = self._cilium_grant_cache.get(key)
        if cached is not None:
            return cached
        action = "deny" if rule.deny else "allow"
        specs = rule.ports or ()
        mask, ips = self.cilium_peer_scope(rule)
        pods: list[tuple[int, ConnectionSet, str]] = []
        addrs: list[tuple[Intervals, ConnectionSet, str]] = []
        if direction == "ingress":
            conn = self.resolve_ports(specs, sample.ports)
            if mask and conn:
                pods.append((mask, conn, action))
            if ips and conn:
                addrs.append((ips, conn, action))
        else:
            if rule.has_named_ports:
                for ports, group in self._port_groups.items():
                    if mask & group:
                        conn = self.resolve_ports(specs, ports)
                        if conn:
                            pods.append((mask & group, conn, action))
            elif mask:
                pods.append((mask, self.resolve_ports(specs, ()), action))
            if ips:
                conn = self.resolve_ports(specs, None)
                if conn:
                    addrs.append((ips, conn, action))
        cached = (pods, addrs)
        self._cilium_grant_cache[key] = cached
        return cached

    def _fill_cilium(self, prof: Profile, direction: str) -> None:
        """Deny rules first (they take precedence), then every allow (Cilium and NetworkPolicy);
        what is left is denied when the endpoint is default-deny in this direction."""
        sample = self.classes[(prof.mask & -prof.mask).bit_length() - 1]
        deny_p: list[tuple[int, ConnectionSet, str]] = []
        deny_i: list[tuple[Intervals, ConnectionSet, str]] = []
        allow_p: list[tuple[int, ConnectionSet, str]] = []
        allow_i: list[tuple[Intervals, ConnectionSet, str]] = []
        for idx in prof.cilium:
            for rule in self.cilium[idx].rules(direction):
                rp, ra = self.cilium_rule_grants(idx, rule, direction, sample)
                (deny_p if rule.deny else allow_p).extend(rp)
                (deny_i if rule.deny else allow_i).extend(ra)
        for idx in prof.policies:
            pol = self.policies[idx]
            for nrule in pol.rules(direction):
                pg, ig = self.np_rule_grants(idx, nrule, direction, sample)
                allow_p.extend((m, c, "allow") for m, c in pg)
                allow_i.extend((r, c, "allow") for r, c in ig)
        end = "deny" if (prof.cilium_deny or prof.policies) else "pass"
        pod_parts = tiers_mod.evaluate_tiers(self.all_mask, [(deny_p + allow_p, end)], tiers_mod.MASK_OPS)
        ip_parts = tiers_mod.evaluate_tiers(self.ip_space, [(deny_i + allow_i, end)], tiers_mod.IP_OPS)
        if not prof.admin:
            prof.pod_parts, prof.ip_parts = pod_parts, ip_parts
            return
        # AdminNetworkPolicy around Cilium's verdict, as for NetworkPolicy (Admin -> this -> Baseline).
        tiers: dict[str, TieredGrants] = {"admin": ([], []), "baseline": ([], [])}
        for i in prof.admin:
            apol = self.admin[i]
            for arule in apol.rules(direction):
                rp2, ra2 = self._admin_rule_grants(arule, direction, sample)
                tiers[apol.tier][0].extend(rp2)
                tiers[apol.tier][1].extend(ra2)
        prof.pod_parts = tiers_mod.combine(self.all_mask, tiers["admin"][0], pod_parts, tiers["baseline"][0],
                                           tiers_mod.MASK_OPS)
        prof.ip_parts = tiers_mod.combine(self.ip_space, tiers["admin"][1], ip_parts, tiers["baseline"][1],
                                          tiers_mod.IP_OPS)

    def rule_peer_scope(self, rule: Rule, pol: NetworkPolicy) -> tuple[int, Intervals]:
        """The classes and addresses a rule's peers cover."""
        if rule.peers is None:
            return self.all_mask, self.ip_space
        mask = 0
        ips: Intervals = ()
        for peer in rule.peers:
            mask |= self.peer_mask(peer, pol.namespace)
            if peer.ip_block is not None:
                ips = iv.union(ips, iv.intersect(peer.ip_block, self.ip_space))
        return mask, ips

    def _rule_grants(
        self,
        rule: Rule,
        pol: NetworkPolicy,
        direction: str,
        sample: PodClass,
        pod_grants: list[tuple[int, ConnectionSet]],
        ip_grants: list[tuple[Intervals, ConnectionSet]],
    ) -> None:
        mask, ips = self.rule_peer_scope(rule, pol)
        if direction == "ingress":
            conn = self.resolve_ports(rule.ports, sample.ports)
            if conn:
                if mask:
                    pod_grants.append((mask, conn))
                if ips:
                    ip_grants.append((ips, conn))
            return
        # Egress: named ports resolve on each destination class.
        if rule.has_named_ports:
            for ports, group in self._port_groups.items():
                m = mask & group
                if m:
                    conn = self.resolve_ports(rule.ports, ports)
                    if conn:
                        pod_grants.append((m, conn))
        elif mask:
            conn = self.resolve_ports(rule.ports, ())
            if conn:
                pod_grants.append((mask, conn))
        if ips:
            conn = self.resolve_ports(rule.ports, None)
            if conn:
                ip_grants.append((ips, conn))

    # ------------------------------------------------------------ reachability
    def pod_rects(self) -> Iterator[Rect]:
        """Rectangles (source classes, destination classes, connections) of allowed pod traffic."""
        ingress = self.ingress
        class_ingress = self.class_ingress
        n_profiles = len(ingress)
        for pe in self.egress:
            srcs_all = pe.mask
            for dmask, ce in pe.pod_parts:
                if dmask.bit_count() * 4 < n_profiles:
                    # Few destinations: visit only the profiles they belong to.
                    touched: dict[int, Profile] = {}
                    m = dmask
                    while m:
                        low = m & -m
                        prof = class_ingress[low.bit_length() - 1]
                        touched[id(prof)] = prof
                        m ^= low
                    candidates: list[Profile] | tuple[Profile, ...] = list(touched.values())
                else:
                    candidates = ingress
                for pi in candidates:
                    dsts = pi.mask & dmask
                    if not dsts:
                        continue
                    for smask, ci in pi.pod_parts:
                        srcs = smask & srcs_all
                        if not srcs:
                            continue
                        conn = ce & ci
                        if conn:
                            yield srcs, dsts, conn

    def ingress_from_ips(self) -> Iterator[tuple[Intervals, int, ConnectionSet]]:
        for pi in self.ingress:
            for ips, conn in pi.ip_parts:
                yield ips, pi.mask, conn

    def egress_to_ips(self) -> Iterator[tuple[int, Intervals, ConnectionSet]]:
        for pe in self.egress:
            for ips, conn in pe.ip_parts:
                yield pe.mask, ips, conn

    def classes_in(self, mask: int) -> Iterator[PodClass]:
        classes = self.classes
        while mask:
            low = mask & -mask
            yield classes[low.bit_length() - 1]
            mask ^= low

    def isolation(self, cls: PodClass) -> tuple[bool, bool]:
        """(ingress-isolated, egress-isolated) for a class."""
        return self.class_ingress[cls.index].isolated, self.class_egress[cls.index].isolated

    def isolated_by(self, cls: PodClass, direction: str) -> list[str]:
        """What takes ``cls`` out of the default allow in ``direction``, by object reference.

        The one answer every isolation check asks for, whatever the policy engine: Kubernetes
        NetworkPolicies selecting it, Calico policies applying to it (an endpoint with a policy
        in a direction is denied what no rule allows), Cilium policies that make it default-deny
        (a section for the direction, unless enableDefaultDeny is off), and Admin/Baseline
        policies whose subject holds it with a Deny rule in that direction. An Allow-only Admin
        policy isolates nothing: what it does not allow stays allowed.
        """
        return [p.ref for p in self.isolating_policies(cls, direction)]

    def isolating_policies(
        self, cls: PodClass, direction: str
    ) -> list[NetworkPolicy | CalicoPolicy | CiliumPolicy | TieredPolicy]:
        """The policy objects behind ``isolated_by`` (each has ``ref`` and ``document``)."""
        prof = (self.class_ingress if direction == "ingress" else self.class_egress)[cls.index]
        out: list[NetworkPolicy | CalicoPolicy | CiliumPolicy | TieredPolicy] = [
            self.policies[i] for i in prof.policies]
        out += [self.calico[i] for i in prof.calico]
        out += [self.cilium[i] for i in prof.cilium if self.cilium[i].default_deny(direction)]
        out += [self.admin[i] for i in prof.admin
                if any(r.action == "deny" for r in self.admin[i].rules(direction))]
        return out

    def external_space_of(self, ranges: Intervals) -> Intervals:
        return family_space(ranges)


def _calico_uses_sa(policies: list[CalicoPolicy]) -> bool:
    for p in policies:
        exprs = [p.selector, p.namespace_selector, p.sa_selector]
        if p.sa_selector is not None:
            return True
        for r in (*p.ingress, *p.egress):
            for e in (r.source, r.destination):
                if e.sa_names is not None or e.sa_selector is not None:
                    return True
                exprs += [e.selector, e.not_selector]
        if any(x is not None and (mentions_key(x, "projectcalico.org/serviceaccount") or mentions_prefix(x, "pcsa."))
               for x in exprs):
            return True
    return False


def _cilium_uses_sa(policies: list[CiliumPolicy]) -> bool:
    for p in policies:
        sels = [p.endpoint_selector] + [s for r in (*p.ingress, *p.egress) for s in (r.endpoints or ())]
        if any(s is not None and SA_KEY in s.keys for s in sels):
            return True
    return False


def _refine_masks(grants: list[tuple[int, ConnectionSet]], universe: int) -> list[tuple[int, ConnectionSet]]:
    """Partition ``universe`` by the union of the connection sets granted to each element."""
    if not grants:
        return []
    by_conn: dict[ConnectionSet, int] = {}
    for m, c in grants:
        by_conn[c] = by_conn.get(c, 0) | m
    parts: list[tuple[int, ConnectionSet]] = [(universe, NONE)]
    for c, m in by_conn.items():
        new: list[tuple[int, ConnectionSet]] = []
        for pm, pc in parts:
            inside = pm & m
            if inside:
                new.append((inside, pc | c))
            outside = pm & ~m
            if outside:
                new.append((outside, pc))
        parts = new
    merged: dict[ConnectionSet, int] = {}
    for m, c in parts:
        if c:
            merged[c] = merged.get(c, 0) | m
    return [(m, c) for c, m in merged.items()]


def _refine_intervals(
    grants: list[tuple[Intervals, ConnectionSet]], universe: Intervals
) -> list[tuple[Intervals, ConnectionSet]]:
    if not grants:
        return []
    by_conn: dict[ConnectionSet, Intervals] = {}
    for r, c in grants:
        by_conn[c] = iv.union(by_conn.get(c, ()), r)
    parts: list[tuple[Intervals, ConnectionSet]] = [(universe, NONE)]
    for c, r in by_conn.items():
        new: list[tuple[Intervals, ConnectionSet]] = []
        for pr, pc in parts:
            inside = iv.intersect(pr, r)
            if inside:
                new.append((inside, pc | c))
            outside = iv.subtract(pr, r)
            if outside:
                new.append((outside, pc))
        parts = new
    merged: dict[ConnectionSet, Intervals] = {}
    for r, c in parts:
        if c:
            merged[c] = iv.union(merged.get(c, ()), r)
    return [(r, c) for c, r in merged.items()]


def conn_for(parts: list[tuple[int, ConnectionSet]], bit: int) -> ConnectionSet:
    """The connection set a partition grants to the class with ``bit``."""
    for m, c in parts:
        if m & bit:
            return c
    return NONE


def ingress_conn(engine: Engine, dst: PodClass, src: PodClass) -> ConnectionSet:
    """What ``dst``'s ingress policies allow from ``src``."""
    return conn_for(engine.class_ingress[dst.index].pod_parts, src.bit)


def egress_conn(engine: Engine, src: PodClass, dst: PodClass) -> ConnectionSet:
    """What ``src``'s egress policies allow to ``dst``."""
    return conn_for(engine.class_egress[src.index].pod_parts, dst.bit)


def pair_conn(engine: Engine, src: PodClass, dst: PodClass) -> ConnectionSet:
    """What may flow from ``src`` to ``dst``: egress at the source AND ingress at the destination."""
    return egress_conn(engine, src, dst) & ingress_conn(engine, dst, src)
