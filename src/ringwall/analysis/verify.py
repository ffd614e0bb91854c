"""Check an estate against an intent: intended flows that break, unintended flows that are open,
unintended flows blocked by too few layers, and protections that are missing."""

from __future__ import annotations

from dataclasses import dataclass, field

from ringwall.analysis.depth import weakest_piece
from ringwall.analysis.estate import Estate
from ringwall.analysis.flows import FlowModel, Pair, build_flow_model
from ringwall.analysis.intent import Intent, IntentError
from ringwall.analysis.zones import covered_by
from ringwall.model.connections import ALL, NONE, ConnectionSet
from ringwall.model.findings import Check, Finding, Severity, register
from ringwall.model.location import Location
from ringwall.sources import locate
from ringwall.sources.reading import read_input

SCHEMA = "ringwall.verify/v1"
_DOC = "https://kubernetes.io/docs/concepts/security/"


def _check(cid: str, name: str, sev: Severity, summary: str, remediation: str) -> Check:
    return register(Check(cid, name, sev, "depth", summary, remediation, _DOC, ("depth",)))


SINGLE_LAYER = _check(
    "RW-DEPTH-001", "SingleLayerDependence", Severity.HIGH,
    "Flows that should be blocked are blocked by fewer independent layers than the intent requires.",
    "Add a second layer that blocks them (NetworkPolicy default deny, mesh authorization, host firewall).")
OPEN_EVERYWHERE = _check(
    "RW-DEPTH-004", "UnwantedFlowOpenEverywhere", Severity.CRITICAL,
    "A flow the intent forbids is allowed by every layer.",
    "Block the flow in at least one layer; the intent file names the flows that should work.")
UNENCRYPTED = _check(
    "RW-DEPTH-017", "UnencryptedCrossNodeFlow", Severity.MEDIUM,
    "An allowed flow that must be encrypted is neither mTLS-protected nor otherwise encrypted.",
    "Enable strict mTLS for the workloads (mesh) or encrypt at the CNI or host layer.")
INTENDED_BLOCKED = _check(
    "RW-DEPTH-024", "IntendedFlowBlocked", Severity.HIGH,
    "A flow the intent requires is blocked by some layer: a silent outage.",
    "Allow the flow in the layer that blocks it, or correct the intent.")
PROTECTION_MISSING = _check(
    "RW-DEPTH-025", "RequiredProtectionMissing", Severity.MEDIUM,
    "An intended flow lacks a protection the intent requires (peer or request authentication, explicit "
    "authorization, logging).",
    "Add the layer that provides the protection (mesh, gateway authentication, logging).")
DNS_BLOCKED = register(Check(
    "RW-DEPTH-002", "EgressRestrictedWithoutDns", Severity.HIGH, "depth",
    "Egress is restricted but no path to cluster DNS (UDP and TCP 53 to the kube-dns pods) is allowed.",
    "Allow egress to the kube-dns pods (namespaceSelector kubernetes.io/metadata.name=kube-system AND "
    "podSelector k8s-app=kube-dns in one peer) on UDP and TCP 53.",
    "https://kubernetes.io/docs/concepts/services-networking/network-policies/", ("depth", "dns", "netpol"),
))
DNS = ConnectionSet.of("UDP", [(53, 53)]) | ConnectionSet.of("TCP", [(53, 53)])


@dataclass
class VerifyResult:
    intent: Intent
    model: FlowModel
    findings: list[Finding] = field(default_factory=list)
    intended_ok: int = 0
    intended_total: int = 0

    def to_json(self) -> dict[str, object]:
        return {
            "schema": SCHEMA, "intent": self.intent.name, "min_depth": self.intent.min_depth,
            "layers": [v.name for v in self.model.layers],
            "intended": {"total": self.intended_total, "working": self.intended_ok},
            "findings": [f.to_json() for f in self.findings],
        }


class _Locator:
    def __init__(self, path: str) -> None:
        self.path = path
        text = read_input(path, None)
        self.lines = text.split("\n") if text else []

    def at(self, *keys: str | int) -> Location:
        line = locate.yaml_path_line(self.lines, 0, len(self.lines), list(keys)) + 1 if self.lines else None
        return Location(self.path, line, None, "Intent")


def _expand(name: str, intent: Intent, estate: Estate) -> list[str]:
    zone = intent.zone(name)
    if zone is not None:
        if zone.external:
            return [z.endpoint for z in covered_by(zone, intent.zones)]
        return [w.key for w in estate.cluster.workloads if zone.contains(w)]
    hits = [w.key for w in estate.cluster.workloads if name in (w.key, f"{w.namespace}/{w.name}")]
    if not hits:
        raise IntentError(f"{intent.path}: {name!r} is neither a zone of the intent nor a workload of the estate")
    return hits


def verify(estate: Estate, intent: Intent, model: FlowModel | None = None) -> VerifyResult:
    """``model``: the flow model built with the intent's zones, when the caller already has it."""
    model = model or build_flow_model(estate, intent.zones)
    result = VerifyResult(intent, model)
    loc = _Locator(intent.path)
    wanted: dict[Pair, ConnectionSet] = {}
    wl = {w.key: w for w in estate.cluster.workloads}
    ignored = {k for k, w in wl.items() if w.namespace in intent.ignore_namespaces}

    # 1. intended flows work, with the protections they need
    for i, flow in enumerate(intent.flows):
        for s in _expand(flow.src, intent, estate):
            for d in _expand(flow.dst, intent, estate):
                if s == d:
                    continue
                pair = (s, d)
                wanted[pair] = wanted.get(pair, NONE) | flow.conn
                result.intended_total += 1
                missing = flow.conn - model.combined(pair)
                if missing:
                    blockers = [n for n, c in model.verdicts(pair).items() if flow.conn - c]
                    result.findings.append(Finding(
                        INTENDED_BLOCKED,
                        f"Intended flow {flow.name!r} {s} => {d} is blocked on {missing} by "
                        f"{', '.join(blockers) or 'no layer in scope'}.",
                        (loc.at("flows", i),), f"{s}->{d}", flow.name,
                        properties={"flow": f"{s} -> {d}", "blocked_by": blockers},
                    ))
                    continue
                result.intended_ok += 1
                need = set(flow.require) | (set(intent.require) if s in wl and d in wl else set())
                lacking = sorted(need - model.protections(pair))
                for p in lacking:
                    check = UNENCRYPTED if p == "encrypted" else PROTECTION_MISSING
                    result.findings.append(Finding(
                        check, f"Intended flow {flow.name!r} {s} => {d} is not {p}.",
                        (loc.at("flows", i),), f"{s}->{d}", f"{flow.name}:{p}",
                    ))

    # 2. DNS for every workload that is judged
    if intent.dns:
        dns_pods = [k for k, w in wl.items() if w.namespace == "kube-system" and w.labels.get("k8s-app") == "kube-dns"]
        for k, w in wl.items():
            if k in ignored or w.host_network or not dns_pods:
                continue
            reach = NONE
            for d in dns_pods:
                wanted[(k, d)] = wanted.get((k, d), NONE) | DNS
                reach = reach | (model.combined((k, d)) & DNS)
            if reach != DNS:
                result.findings.append(Finding(
                    DNS_BLOCKED,
                    f"{w.kind} {w.namespace}/{w.name} cannot reach cluster DNS on {DNS - reach} through every layer.",
                    (w.location,) if w.location else (loc.at("dns"),), w.ref, "dns",
                ))

    # 3. unintended flows: open, or not deep enough
    judged = [e for e in model.endpoints if e not in ignored]
    shallow: dict[str, dict[tuple[str, ...], int]] = {}
    open_to: dict[str, list[tuple[str, ConnectionSet, tuple[str, ...]]]] = {}
    candidates = model.candidate_pairs()
    for pair in sorted(candidates):
        s, d = pair
        if s in ignored or d in ignored:
            continue
        unwanted = ALL - wanted.get(pair, NONE)
        if not unwanted:
            continue  # every connection of the pair is intended: nothing to block
        open_ = model.combined(pair) & unwanted
        if open_:
            open_to.setdefault(d, []).append((s, open_, tuple(model.verdicts(pair))))
            continue
        pd = weakest_piece(pair, model.verdicts(pair), unwanted)
        if pd.depth < intent.min_depth:
            shallow.setdefault(d, {})
            shallow[d][pd.blocking] = shallow[d].get(pd.blocking, 0) + 1
    for d in judged:
        seen = {p[0] for p in candidates if p[1] == d}
        for s_kind in ("workload", "zone"):
            if d.startswith("zone:") and s_kind == "zone":
                continue
            sources = [s for s in judged if s != d and s not in seen and (s.startswith("zone:") == (s_kind == "zone"))
                       and not s.startswith("host:")]
            if not sources:
                continue
            layers = tuple(v.name for v in model.layers if v.scope(sources[0], d))
            if len(layers) < intent.min_depth:
                shallow.setdefault(d, {})
                shallow[d][layers] = shallow[d].get(layers, 0) + len(sources)
    for d, items in sorted(open_to.items()):
        layers = sorted({x for _, _, ls in items for x in ls})
        shown = "; ".join(f"{s} : {c}" for s, c, _ in items[:4]) + (" ..." if len(items) > 4 else "")
        result.findings.append(Finding(
            OPEN_EVERYWHERE,
            f"{len(items)} unintended flow(s) to {d} are allowed by every layer "
            f"({', '.join(layers) or 'none in scope'}): {shown}",
            _where(wl, d, loc), d, "open", properties={"sources": [s for s, _, _ in items]},
        ))
    for d, by_layers in sorted(shallow.items()):
        for layers, n in sorted(by_layers.items()):
            what = " and ".join(layers) if layers else "no layer"
            result.findings.append(Finding(
                SINGLE_LAYER,
                f"{n} unintended flow(s) to {d} are blocked by {what} only (intent asks for {intent.min_depth}).",
                _where(wl, d, loc), d, ",".join(layers), properties={"sources": n, "layers": list(layers)},
            ))
    return result


def _where(wl: dict, key: str, loc: _Locator) -> tuple[Location, ...]:  # type: ignore[type-arg]
    w = wl.get(key)
    if w is not None and w.location is not None:
        return (w.location,)
    return (loc.at("flows"),)
