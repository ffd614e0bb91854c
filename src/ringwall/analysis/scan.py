"""The main job: inventory, layers found and enforced, connectivity summary, findings."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ringwall import __version__
from ringwall.analysis.depth import DepthResult, compute_depth
from ringwall.analysis.depth_checks import cross_layer_findings
from ringwall.analysis.estate import Estate
from ringwall.analysis.flows import FlowModel, build_flow_model
from ringwall.analysis.intent import Intent
from ringwall.analysis.layers import LayerReport, scanners
from ringwall.analysis.scorecard import Scorecard, compute_scorecard
from ringwall.analysis.verify import VerifyResult, verify
from ringwall.model.findings import Finding, Severity, sort_findings

SCHEMA = "ringwall.scan/v1"


@dataclass
class Connectivity:
    workloads: int
    pairs_allowed: int
    pairs_possible: int
    reachable_from_outside: int
    reaching_outside: int
    enforced: bool

    def to_json(self) -> dict[str, object]:
        return {
            "workloads": self.workloads, "pairs_allowed": self.pairs_allowed,
            "pairs_possible": self.pairs_possible, "reachable_from_outside": self.reachable_from_outside,
            "reaching_outside": self.reaching_outside, "as_enforced": self.enforced,
        }


@dataclass
class ScanResult:
    estate: Estate
    layers: list[LayerReport]
    connectivity: Connectivity
    findings: list[Finding]
    timings: dict[str, float] = field(default_factory=dict)
    depth: DepthResult | None = None
    scorecard: Scorecard | None = None
    model: FlowModel | None = None

    @property
    def flow_layers(self) -> list[str]:
        return [v.name for v in self.model.layers] if self.model else []
    verified: VerifyResult | None = None

    def counts(self) -> dict[str, int]:
        out = {s.label: 0 for s in sorted(Severity, reverse=True)}
        for f in self.findings:
            out[f.effective_severity.label] += 1
        return out

    def inventory_json(self) -> dict[str, int]:
        c = self.estate.cluster
        return {
            "files": len(self.estate.load.files),
            "documents": len(self.estate.load.documents),
            "namespaces": len(c.namespaces),
            "workloads": len(c.workloads),
            "pods": sum(v.count for w in c.workloads for v in w.variants),
            "services": len(c.services),
            "network_policies": len(self.estate.policies.policies),
        }

    def to_json(self) -> dict[str, object]:
        return {
            "schema": SCHEMA,
            "tool": {"name": "ringwall", "version": __version__},
            "inventory": self.inventory_json(),
            "layers": [layer.to_json() for layer in self.layers],
            "connectivity": self.connectivity.to_json(),
            "summary": self.counts(),
            "depth": self.depth.to_json(flows=False) if self.depth else None,
            "scorecard": self.scorecard.to_json() if self.scorecard else None,
            "intent": self.verified.to_json() if self.verified else None,
            "findings": [f.to_json() for f in self.findings],
            "diagnostics": [d.to_json() for d in self.estate.sink.items],
        }


def connectivity_summary(estate: Estate) -> Connectivity:
    """Workload pairs that may talk, as the CNI really enforces (all open when it does not)."""
    engine = estate.engine()
    n = len(engine.classes)
    class_weight = [len({w.key for w, _ in c.members}) for c in engine.classes]
    reach = [0] * n
    for srcs, dsts, _conn in engine.pod_rects():
        for c in engine.classes_in(srcs):
            reach[c.index] |= dsts
    pairs = 0
    unit = all(w == 1 for w in class_weight)
    for i, m in enumerate(reach):
        if not m:
            continue
        w = class_weight[i]
        if unit:
            cnt = m.bit_count() - (1 if m >> i & 1 else 0)
            pairs += cnt
        else:
            total = sum(class_weight[c.index] for c in engine.classes_in(m))
            pairs += w * total - (w if m >> i & 1 else 0)
    workloads = len(engine.cluster.workloads)
    outside_in = 0
    for _ips, dmask, _c in engine.ingress_from_ips():
        outside_in |= dmask
    outside_out = 0
    for smask, _ips, _c in engine.egress_to_ips():
        outside_out |= smask
    weight = lambda m: sum(class_weight[c.index] for c in engine.classes_in(m))  # noqa: E731
    return Connectivity(
        workloads, pairs, workloads * (workloads - 1), weight(outside_in), weight(outside_out),
        engine.options.enforced,
    )


def run_scan(estate: Estate, intent: Intent | None = None, *, cross_layer: bool = True,
             progress: Callable[[str], None] | None = None) -> ScanResult:
    """Every layer's report, the connectivity summary, and (``cross_layer``) depth, scorecard and intent.

    ``progress`` is told what is being computed (the CLI shows it as a spinner on long runs).
    """
    say = progress or (lambda _msg: None)
    t = time.perf_counter()
    reports: list[LayerReport] = []
    findings: list[Finding] = []
    for name, fn in scanners():
        say(f"layer {name}")
        report = fn(estate)
        if report is not None:
            reports.append(report)
            findings.extend(report.findings)
    say("connectivity")
    conn = connectivity_summary(estate)
    if not cross_layer:
        result = ScanResult(estate, reports, conn, sort_findings(findings))
        result.timings = {**estate.timings, "analysis": time.perf_counter() - t}
        return result
    say("flow model across layers")
    model = build_flow_model(estate, intent.zones if intent else None)
    say("depth")
    depth = compute_depth(model)
    findings.extend(cross_layer_findings(estate, model, depth))
    verified = None
    if intent is not None:
        say("verify against the intent")
        verified = verify(estate, intent, model)
        seen = {(f.check.id, f.subject, f.detail) for f in findings}
        findings.extend(f for f in verified.findings if (f.check.id, f.subject, f.detail) not in seen)
    scorecard = compute_scorecard(estate, model, findings, layers_found=frozenset(r.name for r in reports if r.found))
    result = ScanResult(estate, reports, conn, sort_findings(findings), depth=depth, scorecard=scorecard,
                        model=model, verified=verified)
    result.timings = {**estate.timings, "analysis": time.perf_counter() - t}
    return result
