"""The mesh layer's programmatic surface: build the model, decide flows, summarise coverage.

Analyses call these; they take workload keys and connection sets (what the NetworkPolicy
connlist yields) so the layer itself never needs another layer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ringwall.model.cluster import Workload
from ringwall.model.connections import ConnectionSet
from ringwall.model.intervals import Intervals
from ringwall.sources.inventory import Inventory

from .checks import run_checks
from .common import MeshOptions
from .decision import FlowDecision, MeshModel

__all__ = ["Coverage", "MeshFlow", "MeshModel", "MeshOptions", "build_model", "coverage", "decide_flows",
           "run_checks"]


def build_model(inventory: Inventory, options: MeshOptions | None = None) -> MeshModel:
    return MeshModel(inventory, options)


@dataclass
class MeshFlow:
    """One (source, destination, port range) with the mesh's decision."""

    src: str
    dst: str
    conn: ConnectionSet
    decision: FlowDecision

    @property
    def mtls(self) -> str:
        return self.decision.mtls

    @property
    def authorized(self) -> str:
        return self.decision.authz

    def line(self) -> str:
        d = self.decision
        ident = f", peer {d.identity}" if d.identity else ""
        by = f", decided by {d.decided_by}" if d.decided_by else ""
        return (f"{self.src} => {self.dst} : {self.conn} : mtls={d.mtls}, authz={d.authz}, "
                f"verdict={d.verdict_text}{ident}{by}")

    def to_json(self) -> dict[str, object]:
        return {"src": self.src, "dst": self.dst, "conn": str(self.conn), "ports": self.conn.to_json(),
                **self.decision.to_json()}


Pair = tuple[str, Workload | None, Intervals | None, Workload, ConnectionSet]
"""(source label, source workload or None, source addresses, destination workload, allowed connections)."""


def decide_flows(model: MeshModel, pairs: Iterable[Pair]) -> list[MeshFlow]:
    out: list[MeshFlow] = []
    for label, src, ips, dst, conn in pairs:
        for sub, d in model.decide_conn(src, ips, dst, conn):
            out.append(MeshFlow(label, dst.key, sub, d))
    return out


@dataclass
class Coverage:
    """mTLS coverage of allowed workload pairs.

    The meshes carry only TCP, so a pair is measured on its allowed TCP ports: it is *covered*
    when every one of them is ``mtls=yes`` (encrypted, peer identity verified, plaintext refused)
    or refuses the pair's plaintext outright (STRICT towards a client without mTLS: ``refused``,
    nothing unencrypted can flow). Pairs allowed only UDP/SCTP are counted apart (``not_tcp``):
    no mesh can protect them.
    """

    pairs: int = 0
    covered: int = 0
    not_tcp: int = 0
    by_mtls: dict[str, int] = field(default_factory=dict)
    by_namespace: dict[str, list[int]] = field(default_factory=dict)
    by_workload: dict[str, list[int]] = field(default_factory=dict)
    mesh_denied: int = 0

    @property
    def ratio(self) -> float | None:
        return self.covered / self.pairs if self.pairs else None

    def to_json(self) -> dict[str, object]:
        def share(c: list[int]) -> dict[str, object]:
            return {"pairs": c[0], "covered": c[1], "ratio": round(c[1] / c[0], 4) if c[0] else None}

        return {
            "pairs": self.pairs, "covered": self.covered,
            "ratio": round(self.ratio, 4) if self.ratio is not None else None,
            "pairs_by_worst_mtls": dict(sorted(self.by_mtls.items())),
            "pairs_with_a_port_denied_by_mesh": self.mesh_denied,
            "pairs_without_tcp": self.not_tcp,
            "by_namespace": {k: share(v) for k, v in sorted(self.by_namespace.items())},
            "by_workload": {k: share(v) for k, v in sorted(self.by_workload.items())},
        }


_WORST = {"refused": 0, "yes": 1, "permissive": 2, "no": 3, "broken": 4}
COVERED = ("yes", "refused")


def coverage(flows: list[MeshFlow]) -> Coverage:
    """Per pair, the worst mTLS over its allowed TCP ports; grouped by destination namespace and workload."""
    worst: dict[tuple[str, str], str] = {}
    seen: set[tuple[str, str]] = set()
    denied: set[tuple[str, str]] = set()
    for f in flows:
        key = (f.src, f.dst)
        seen.add(key)
        if f.decision.verdict == "deny":
            denied.add(key)
        if not f.conn.ports("TCP"):
            continue
        level = "refused" if f.decision.refuses_plaintext else f.mtls
        cur = worst.get(key)
        if cur is None or _WORST[level] > _WORST[cur]:
            worst[key] = level
    cov = Coverage(not_tcp=len(seen - worst.keys()))
    for (_src, dst), m in sorted(worst.items()):
        ok = m in COVERED
        cov.pairs += 1
        cov.covered += ok
        cov.by_mtls[m] = cov.by_mtls.get(m, 0) + 1
        ns = dst.split("/", 1)[0]
        for bucket, k in ((cov.by_namespace, ns), (cov.by_workload, dst)):
            c = bucket.setdefault(k, [0, 0])
            c[0] += 1
            c[1] += ok
    cov.mesh_denied = len(denied)
    return cov
