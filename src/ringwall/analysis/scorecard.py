"""The zero-trust scorecard: five principles, scored per namespace and overall.

Every score is a share of concrete things (flows, workloads, layers) that meet the principle, and
carries the evidence behind it, so a reader can see why a namespace scores what it does:

* identity  - allowed inbound flows whose caller is peer- or request-authenticated;
* authorize - allowed inbound flows admitted by a rule written for them (not by a default);
* encrypt   - allowed inbound flows that are encrypted;
* log       - layers that log denials (host firewall LOG rules, DNS query log, mesh access logs);
* breach    - blast radius: default deny in both directions, dedicated service accounts without
              automounted tokens, no cluster-admin-like bindings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ringwall.analysis.estate import Estate
from ringwall.analysis.flows import FlowModel
from ringwall.model.findings import Finding

SCHEMA = "ringwall.scorecard/v1"
PRINCIPLES = ("identity", "authorize", "encrypt", "log", "breach")
TITLES = {
    "identity": "Verify identity on every request",
    "authorize": "Authorize every action",
    "encrypt": "Encrypt all traffic",
    "log": "Log and audit everything",
    "breach": "Assume breach",
}
LOGGING_GAP = {"hostfw": "RW-HOSTFW-020", "dns": "RW-DNS-004"}
"""For each layer that can log denials or queries, the finding that says it does not."""
POWERFUL_ROLES = {"cluster-admin", "admin", "edit"}


@dataclass
class Score:
    value: int  # 0-100
    evidence: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {"score": self.value, "evidence": self.evidence}


@dataclass
class Scorecard:
    namespaces: dict[str, dict[str, Score]]
    overall: dict[str, Score]

    def to_json(self) -> dict[str, object]:
        return {
            "schema": SCHEMA,
            "principles": {p: TITLES[p] for p in PRINCIPLES},
            "overall": {p: s.to_json() for p, s in self.overall.items()},
            "namespaces": {ns: {p: s.to_json() for p, s in sc.items()} for ns, sc in self.namespaces.items()},
        }


def _pct(good: int, total: int) -> int:
    return round(100 * good / total) if total else 100


def compute_scorecard(estate: Estate, model: FlowModel, findings: list[Finding],
                      skip: tuple[str, ...] = ("kube-system", "kube-public", "kube-node-lease"),
                      layers_found: frozenset[str] = frozenset()) -> Scorecard:
    workloads = [w for w in estate.cluster.workloads if w.namespace not in skip]
    by_ns: dict[str, list[Any]] = {}
    for w in workloads:
        by_ns.setdefault(w.namespace, []).append(w)
    inbound: dict[str, list[tuple[str, str]]] = {}
    keys = {w.key: w for w in workloads}
    for pair in model.candidate_pairs():
        w = keys.get(pair[1])
        if w is not None and model.combined(pair):
            inbound.setdefault(w.namespace, []).append(pair)
    explicit: set[tuple[str, str]] = set()
    for v in model.layers:
        explicit |= v.explicit
    log_score = _log_score(estate, layers_found | {v.name for v in model.layers}, findings)
    bindings = _powerful_bindings(estate)
    namespaces: dict[str, dict[str, Score]] = {}
    for ns, members in sorted(by_ns.items()):
        flows = inbound.get(ns, [])
        n = len(flows)
        prot = [model.protections(p) for p in flows]
        ident = sum(1 for p in prot if {"peer-authenticated", "request-authenticated"} & p)
        enc = sum(1 for p in prot if "encrypted" in p)
        auth = sum(1 for p in flows if p in explicit)
        sc: dict[str, Score] = {
            "identity": Score(_pct(ident, n), [f"{ident} of {n} allowed inbound flows authenticate the caller"]),
            "authorize": Score(_pct(auth, n),
                               [f"{auth} of {n} allowed inbound flows are admitted by an explicit rule"]),
            "encrypt": Score(_pct(enc, n), [f"{enc} of {n} allowed inbound flows are encrypted"]),
            "log": log_score,
            "breach": _breach(estate, ns, members, model, bindings),
        }
        namespaces[ns] = sc
    overall: dict[str, Score] = {}
    total = sum(len(m) for m in by_ns.values()) or 1
    for p in PRINCIPLES:
        value = round(sum(namespaces[ns][p].value * len(by_ns[ns]) for ns in namespaces) / total) if namespaces else 0
        overall[p] = Score(value, [f"weighted by workloads over {len(namespaces)} namespace(s)"])
    return Scorecard(namespaces, overall)


def _log_score(estate: Estate, layers: set[str], findings: list[Finding]) -> Score:
    """The share of layers that can log which do: host firewall LOG rules for drops, CoreDNS query
    log, mesh access logs (an Istio Telemetry resource with accessLogging)."""
    ids = {f.check.id for f in findings}
    evidence: list[str] = []
    capable = 0
    logging = 0
    for layer in ("hostfw", "dns"):
        if layer in layers:
            capable += 1
            ok = LOGGING_GAP[layer] not in ids
            logging += ok
            evidence.append(f"{layer}: {'logs' if ok else 'does not log (' + LOGGING_GAP[layer] + ')'}")
    if "mesh" in layers:
        capable += 1
        telemetry = [d for d in estate.inventory.documents("Telemetry")
                     if isinstance(d.obj.get("spec"), dict) and d.obj["spec"].get("accessLogging")]
        logging += bool(telemetry)
        evidence.append("mesh: access logging " + (f"on ({telemetry[0].ref})" if telemetry else
                        "not configured in the input (no Telemetry with accessLogging)"))
    if not capable:
        return Score(0, ["no layer that logs was given (host firewall, DNS, mesh)"])
    return Score(_pct(logging, capable), evidence)


def _powerful_bindings(estate: Estate) -> dict[str, list[str]]:
    """namespace -> service accounts bound to cluster-admin/admin/edit (RoleBinding or ClusterRoleBinding)."""
    out: dict[str, list[str]] = {}
    for doc in estate.inventory.documents("ClusterRoleBinding", "RoleBinding"):
        role = (doc.obj.get("roleRef") or {}).get("name")
        if role not in POWERFUL_ROLES:
            continue
        for subj in doc.obj.get("subjects") or []:
            if isinstance(subj, dict) and subj.get("kind") == "ServiceAccount":
                ns = subj.get("namespace") or doc.namespace(estate.inventory.default_namespace)
                out.setdefault(str(ns), []).append(f"{subj.get('name')} -> {role} ({doc.ref})")
    return out


def _sa_without_token(estate: Estate) -> set[tuple[str, str]]:
    out = set()
    for doc in estate.inventory.documents("ServiceAccount"):
        if doc.obj.get("automountServiceAccountToken") is False:
            out.add((doc.namespace(estate.inventory.default_namespace), doc.name))
    return out


def _breach(estate: Estate, ns: str, members: list[Any], model: FlowModel, bindings: dict[str, list[str]]) -> Score:
    engine = estate.engine(enforced=True)
    iso = 0
    for w in members:
        classes = list(engine.classes_in(engine.workload_classes.get(w.key, 0)))
        if classes and all((engine.class_ingress[c.index].isolated or engine.class_ingress[c.index].admin)
                           and (engine.class_egress[c.index].isolated or engine.class_egress[c.index].admin)
                           for c in classes):
            iso += 1
    netpol = model.layer("netpol")
    if netpol is not None and not netpol.enforced:
        iso = 0
    no_token = _sa_without_token(estate)
    sa_ok = sum(1 for w in members if w.service_account != "default" and (
        w.automount_token is False or (w.automount_token is None and (w.namespace, w.service_account) in no_token)))
    sa_dedicated = sum(1 for w in members if w.service_account != "default")
    n = len(members)
    risky = bindings.get(ns, [])
    value = round(0.5 * _pct(iso, n) + 0.25 * _pct(sa_dedicated + sa_ok, 2 * n) + 0.25 * (0 if risky else 100))
    evidence = [
        f"{iso} of {n} workloads isolated for ingress and egress",
        f"{sa_dedicated} of {n} use a dedicated service account; {sa_ok} also turn off token automount",
    ]
    evidence += [f"powerful binding: {b}" for b in risky] or ["no service account bound to cluster-admin/admin/edit"]
    return Score(value, evidence)
