"""Load an estate once: documents, inventory, every layer's objects, with timings.

Every command starts here, so reading and parsing happen in one place and analyses only speak
the model.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ringwall.layers.netpol.admin import TieredPolicy, load_admin_policies
from ringwall.layers.netpol.cni import CniInfo, detect_cni
from ringwall.layers.netpol.engine import Engine, EngineOptions
from ringwall.layers.netpol.policyset import PolicySet, load_policies
from ringwall.model.diagnostics import DiagnosticSink
from ringwall.sources.inventory import Inventory, build_inventory
from ringwall.sources.loader import LoadResult, load_paths


@dataclass
class LoadOptions:
    namespace: str = "default"
    ipblock_pods: str = "auto"
    host_network: str = "node-ip"
    cni: str | None = None
    ipv4_only: bool = False


@dataclass
class Estate:
    load: LoadResult
    inventory: Inventory
    policies: PolicySet
    admin: list[TieredPolicy]
    cni: CniInfo
    sink: DiagnosticSink
    options: LoadOptions
    timings: dict[str, float] = field(default_factory=dict)
    _engine: Engine | None = None

    @property
    def cluster(self):  # type: ignore[no-untyped-def]
        return self.inventory.cluster

    def engine(self, *, enforced: bool | None = None) -> Engine:
        """The NetworkPolicy engine; ``enforced=None`` follows the detected CNI."""
        if enforced is None:
            enforced = self.cni.enforces is not False
        if self._engine is not None and self._engine.options.enforced == enforced:
            return self._engine
        t = time.perf_counter()
        engine = Engine(
            self.inventory.cluster,
            self.policies.policies,
            EngineOptions(
                ipblock_pods=self.options.ipblock_pods,
                host_network=self.options.host_network,
                enforced=enforced,
                ipv4_only=self.options.ipv4_only,
            ),
            self.admin,
        )
        self.timings["engine"] = self.timings.get("engine", 0.0) + time.perf_counter() - t
        if enforced == (self.cni.enforces is not False):
            self._engine = engine
        return engine


def load_estate(
    paths: Sequence[str | Path], options: LoadOptions | None = None, *, stdin_text: str | None = None
) -> Estate:
    options = options or LoadOptions()
    sink = DiagnosticSink()
    t0 = time.perf_counter()
    loaded = load_paths(paths, sink, stdin_text=stdin_text)
    t1 = time.perf_counter()
    inventory = build_inventory(loaded.documents, sink, options.namespace)
    policies = load_policies(inventory, sink)
    admin = load_admin_policies(inventory, sink)
    cni = detect_cni(inventory, options.cni)
    t2 = time.perf_counter()
    return Estate(
        loaded, inventory, policies, admin, cni, sink, options, {"parse": t1 - t0, "model": t2 - t1}
    )
