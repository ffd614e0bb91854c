"""Findings about Calico and Cilium policies (RW-CALICO-*, RW-CILIUM-*).

Checks read the engine's evaluation (tiers, grants, profiles) rather than re-deriving
semantics, so a finding and a verdict can never disagree: a Deny is "shadowed" only if, replayed
in evaluation order for every endpoint the policy selects, it never decides a single connection.
"""

from __future__ import annotations

from collections.abc import Iterator

from ringwall.model.connections import ALL, NONE
from ringwall.model.findings import Check, Finding, Severity, register

from . import tiers as tiers_mod
from .calico import CalicoPolicy, CalicoSet
from .cilium import CiliumPolicy, CiliumSet
from .cni import CniInfo
from .engine import Engine

_CALICO_DOC = "https://docs.tigera.io/calico/latest/reference/resources/globalnetworkpolicy"
_CILIUM_DOC = "https://docs.cilium.io/en/stable/security/policy/"


def _c(cid: str, name: str, sev: Severity, summary: str, remediation: str, doc: str, tag: str) -> Check:
    return register(Check(cid, name, sev, "netpol", summary, remediation, doc, ("netpol", tag)))


CALICO_WITHOUT_CALICO = _c(
    "RW-CALICO-001", "CalicoPolicyWithoutCalico", Severity.HIGH,
    "Calico policies are present but the CNI is not Calico (or Canal): they are void.",
    "Install Calico as the policy engine, or express the policies as Kubernetes NetworkPolicies.",
    _CALICO_DOC, "calico",
)
CALICO_PASS_UNCAUGHT = _c(
    "RW-CALICO-002", "CalicoPassWithoutLowerTier", Severity.MEDIUM,
    "A Pass (rule or tier defaultAction) hands traffic to later tiers, but no later tier selects the endpoint: "
    "the traffic is allowed by the endpoint's profile.",
    "Add a policy in a later tier (or a Kubernetes NetworkPolicy) that selects these endpoints, or use Deny.",
    _CALICO_DOC, "calico",
)
CALICO_GLOBAL_ALLOW_ALL = _c(
    "RW-CALICO-003", "CalicoGlobalAllowAll", Severity.HIGH,
    "A GlobalNetworkPolicy rule allows every peer on every protocol and port: nothing in later tiers can restrict "
    "it for the endpoints it selects.",
    "Restrict the rule's source/destination and ports, or use Pass to delegate to later tiers.",
    _CALICO_DOC, "calico",
)
CALICO_ORDER_COLLISION = _c(
    "RW-CALICO-004", "CalicoOrderCollision", Severity.MEDIUM,
    "Two policies of one tier have the same order and select common endpoints with rules of different actions: "
    "only their names decide which applies first.",
    "Give the policies distinct order values.",
    _CALICO_DOC, "calico",
)
CALICO_DENY_SHADOWED = _c(
    "RW-CALICO-005", "CalicoDenyShadowed", Severity.MEDIUM,
    "A Deny rule never takes effect: rules evaluated before it (higher priority) already decide everything it "
    "matches, for every endpoint it applies to.",
    "Move the Deny before the allowing rule (lower order or an earlier tier), or remove it.",
    _CALICO_DOC, "calico",
)
CALICO_APPROXIMATION = _c(
    "RW-CALICO-006", "CalicoNotModelled", Severity.INFO,
    "Part of a Calico object is outside Ringwall's model (ICMP, source ports, services, host endpoints, preDNAT): "
    "the verdicts use a stated approximation.",
    "Review the named field by hand.",
    _CALICO_DOC, "calico",
)
CILIUM_WITHOUT_CILIUM = _c(
    "RW-CILIUM-001", "CiliumPolicyWithoutCilium", Severity.HIGH,
    "Cilium policies are present but the CNI is not Cilium: they are void.",
    "Install Cilium, or express the policies as Kubernetes NetworkPolicies.",
    _CILIUM_DOC, "cilium",
)
CILIUM_NOT_DECIDABLE = _c(
    "RW-CILIUM-002", "CiliumRuleNotStaticallyDecidable", Severity.INFO,
    "A Cilium rule uses toFQDNs, L7 rules, host policies or other fields that are not statically decidable: the "
    "verdicts use a stated approximation.",
    "Review the named field by hand.",
    _CILIUM_DOC, "cilium",
)
CILIUM_ALLOW_ALL = _c(
    "RW-CILIUM-003", "CiliumClusterwideAllowAll", Severity.HIGH,
    "A CiliumClusterwideNetworkPolicy allows every peer (entity all or world) on every port.",
    "Restrict the rule to the peers and ports that need access.",
    _CILIUM_DOC, "cilium",
)


def _pf(check: Check, pol: CalicoPolicy | CiliumPolicy, message: str, path=(), detail: str = "") -> Finding:  # type: ignore[no-untyped-def]
    return Finding(check, message, (pol.document.locate(path, pol.ref),), pol.ref, detail)


def run_cni_checks(engine: Engine, calico: CalicoSet, cilium: CiliumSet, cni: CniInfo) -> list[Finding]:
    out: list[Finding] = []
    out += _gating(calico, cilium, cni)
    out += _approximations(calico, cilium)
    if engine.calico:
        out += _calico_static(engine)
        out += _calico_replay(engine)
    out += _cilium_static(cilium)
    return out


def _gating(calico: CalicoSet, cilium: CiliumSet, cni: CniInfo) -> Iterator[Finding]:
    if calico.policies and cni.name not in ("calico", "canal", "unknown"):
        first = calico.policies[0]
        yield Finding(CALICO_WITHOUT_CALICO,
                      f"{len(calico.policies)} Calico policies are present but the CNI is {cni.name} ({cni.source}): "
                      "they are void and every flow only they block is open.",
                      (first.document.locate((), first.ref), *cni.evidence[:1]), f"cni/{cni.name}", "calico")
    if cilium.policies and cni.name not in ("cilium", "unknown"):
        firstc = cilium.policies[0]
        yield Finding(CILIUM_WITHOUT_CILIUM,
                      f"{len(cilium.policies)} Cilium policies are present but the CNI is {cni.name} ({cni.source}): "
                      "they are void and every flow only they block is open.",
                      (firstc.document.locate((), firstc.ref), *cni.evidence[:1]), f"cni/{cni.name}", "cilium")


def _approximations(calico: CalicoSet, cilium: CiliumSet) -> Iterator[Finding]:
    for check, items in ((CALICO_APPROXIMATION, calico.unmodelled), (CILIUM_NOT_DECIDABLE, cilium.unmodelled)):
        for doc, path, what in items:
            yield Finding(check, what + ".", (doc.locate(path),), doc.ref, ".".join(str(p) for p in path))


def _calico_static(engine: Engine) -> Iterator[Finding]:
    pols = engine.calico
    for i, p in enumerate(pols):
        for direction in ("ingress", "egress"):
            for r in p.rules(direction):
                if (p.namespace is None and r.action == "allow" and not r.peer.has_peer_match
                        and not r.local.has_peer_match and len(r.protocols) == 3 and r.destination.ports is None
                        and r.destination.not_ports is None and not r.ignored):
                    scope = "every endpoint" if p.selector.is_all and p.namespace_selector is None else \
                        f"endpoints matching {p.selector}"
                    yield _pf(CALICO_GLOBAL_ALLOW_ALL, p, f"{p.ref} {direction}[{r.index}] (tier {p.tier}) allows "
                              f"everything for {scope}; later tiers and Kubernetes NetworkPolicies cannot restrict "
                              "it.", r.path, f"{direction}[{r.index}]")
        for j in range(i + 1, len(pols)):
            q = pols[j]
            if p.tier != q.tier or p.order != q.order or not engine.calico_subjects[i] & engine.calico_subjects[j]:
                continue
            for direction in ("ingress", "egress"):
                acts_p = {r.action for r in p.rules(direction)} - {"log"}
                acts_q = {r.action for r in q.rules(direction)} - {"log"}
                if acts_p and acts_q and acts_p | acts_q != {"allow"} and len(acts_p | acts_q) > 1:
                    order = "unset" if p.order == float("inf") else f"{p.order:g}"
                    yield _pf(CALICO_ORDER_COLLISION, q, f"{p.ref} and {q.ref} in tier {p.tier} both have order "
                              f"{order} and select common endpoints ({direction}): {min(p.name, q.name)} is "
                              "evaluated first only because of its name.", ("spec", "order"), p.ref)
                    break


def _calico_replay(engine: Engine) -> Iterator[Finding]:
    """Replay every Calico profile rule by rule: which Deny ever decides something, which Pass ends
    in the profile allow."""
    deny_used: set[tuple[int, str, int]] = set()
    deny_seen: set[tuple[int, str, int]] = set()
    pass_uncaught: dict[tuple[int, str], int] = {}
    tier_uncaught: dict[tuple[str, str], int] = {}
    for direction, profiles in (("ingress", engine.ingress), ("egress", engine.egress)):
        for prof in profiles:
            if not prof.calico:
                continue
            sample = engine.classes[(prof.mask & -prof.mask).bit_length() - 1]
            tiers = engine.calico_tiers(prof, direction)
            parts_p: list = [(engine.all_mask, tiers_mod.START)]
            parts_i: list = [(engine.ip_space, tiers_mod.START)]
            for t_index, (_name, _order, default, members) in enumerate(tiers):
                last = t_index == len(tiers) - 1
                parts_p = [(m, (a, d, NONE)) for m, (a, d, _p) in parts_p]
                parts_i = [(m, (a, d, NONE)) for m, (a, d, _p) in parts_i]
                for kind, idx in members:
                    assert isinstance(idx, int)
                    if kind != "calico":
                        # Kubernetes NetworkPolicies and admin tiers: replay their grants as the engine does.
                        grants = _other_grants(engine, kind, idx, direction, sample)
                        parts_p = tiers_mod.apply_rules(parts_p, grants[0], tiers_mod.MASK_OPS)
                        parts_i = tiers_mod.apply_rules(parts_i, grants[1], tiers_mod.IP_OPS)
                        continue
                    for rule in engine.calico[idx].rules(direction):
                        if (idx, rule.index) in prof.calico_skip:
                            continue
                        gp, gi = engine.calico_rule_grants(idx, rule, direction, sample)
                        key = (idx, direction, rule.index)
                        if rule.action == "deny" and (gp or gi):
                            deny_seen.add(key)
                            if _decides(parts_p, gp, tiers_mod.MASK_OPS) or _decides(parts_i, gi, tiers_mod.IP_OPS):
                                deny_used.add(key)
                        if rule.action == "pass" and last and (_decides(parts_p, gp, tiers_mod.MASK_OPS)
                                                                or _decides(parts_i, gi, tiers_mod.IP_OPS)):
                            pass_uncaught[(idx, direction)] = pass_uncaught.get((idx, direction), 0) | prof.mask
                        if rule.action != "log":
                            parts_p = tiers_mod.apply_rules(parts_p, gp, tiers_mod.MASK_OPS)
                            parts_i = tiers_mod.apply_rules(parts_i, gi, tiers_mod.IP_OPS)
                if default == "deny":
                    parts_p = [(m, (a, d | (ALL - a - d - p), p)) for m, (a, d, p) in parts_p]
                    parts_i = [(m, (a, d | (ALL - a - d - p), p)) for m, (a, d, p) in parts_i]
                elif last and _name not in ("adminnetworkpolicy", "baselineadminnetworkpolicy") and any(
                        ALL - a - d - p for _m, (a, d, p) in (*parts_p, *parts_i)):
                    tier_uncaught[(_name, direction)] = tier_uncaught.get((_name, direction), 0) | prof.mask
    for idx, direction, ri in sorted(deny_seen - deny_used):
        p = engine.calico[idx]
        rule = p.rules(direction)[ri]
        yield _pf(CALICO_DENY_SHADOWED, p, f"{p.ref} {direction}[{ri}] (Deny) never takes effect: earlier rules "
                  f"in tier order already decide all the traffic it matches.", rule.path, f"{direction}[{ri}]")
    for (tname, direction), mask in sorted(tier_uncaught.items()):
        names = sorted({w.key for c in engine.classes_in(mask) for w, _ in c.members})
        t = engine.calico_set.tier(tname) if engine.calico_set else None
        doc = t.document if t is not None else None
        where = (doc.locate(("spec", "defaultAction"), f"Tier/{tname}"),) if doc is not None else ()
        yield Finding(CALICO_PASS_UNCAUGHT, f"Tier {tname} has defaultAction Pass and is the last tier selecting "
                      f"{', '.join(names[:4])}{' and more' if len(names) > 4 else ''} ({direction}): traffic no rule "
                      "decides is allowed.", where, f"Tier/{tname}", direction)
    for (idx, direction), mask in sorted(pass_uncaught.items()):
        p = engine.calico[idx]
        names = sorted({w.key for c in engine.classes_in(mask) for w, _ in c.members})
        yield _pf(CALICO_PASS_UNCAUGHT, p, f"{p.ref} passes {direction} traffic of {', '.join(names[:4])}"
                  f"{' and more' if len(names) > 4 else ''} but no later tier selects them: the traffic is allowed.",
                  ("spec", direction), direction)


def _other_grants(engine: Engine, kind: str, idx: int, direction: str, sample):  # type: ignore[no-untyped-def]
    pods: list = []
    addrs: list = []
    if kind == "k8s":
        pol = engine.policies[idx]
        for rule in pol.rules(direction):
            pg: list = []
            ig: list = []
            engine._rule_grants(rule, pol, direction, sample, pg, ig)
            pods += [(m, c, "allow") for m, c in pg]
            addrs += [(r, c, "allow") for r, c in ig]
    else:
        for arule in engine.admin[idx].rules(direction):
            rp, ra = engine._admin_rule_grants(arule, direction, sample)
            pods += rp
            addrs += ra
    return pods, addrs


def _decides(parts, grants, ops) -> bool:  # type: ignore[no-untyped-def]
    """Whether any grant would decide a connection still undecided in ``parts``."""
    for peers, conn, _action in grants:
        for m, (a, d, p) in parts:
            if ops.inter(m, peers) and conn - (a | d | p):
                return True
    return False


def _cilium_static(cilium: CiliumSet) -> Iterator[Finding]:
    for p in cilium.policies:
        if p.kind != "CiliumClusterwideNetworkPolicy" or p.endpoint_selector is None:
            continue
        for direction in ("ingress", "egress"):
            for r in p.rules(direction):
                if not r.deny and r.ports is None and set(r.entities) & {"all", "world"}:
                    yield _pf(CILIUM_ALLOW_ALL, p, f"{p.ref} {direction} rule {r.index} allows entity "
                              f"{'/'.join(sorted(set(r.entities) & {'all', 'world'}))} on every port for the "
                              f"endpoints matching {p.endpoint_selector}.", r.path, f"{direction}[{r.index}]")
