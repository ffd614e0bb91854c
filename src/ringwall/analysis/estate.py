"""Load an estate once: documents, inventory, every layer's objects, with timings.

Every command starts here, so reading and parsing happen in one place and analyses only speak
the model.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ringwall.analysis.connlist import Connlist, compute_connlist
from ringwall.layers.netpol.admin import TieredPolicy, load_admin_policies
from ringwall.layers.netpol.calico import CalicoSet, load_calico
from ringwall.layers.netpol.cilium import CiliumSet, load_cilium
from ringwall.layers.netpol.cni import CniInfo, detect_cni
from ringwall.layers.netpol.engine import Engine, EngineOptions
from ringwall.layers.netpol.policyset import PolicySet, load_policies
from ringwall.model.diagnostics import DiagnosticSink
from ringwall.model.location import Location
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
    _engines: dict[bool, Engine] = field(default_factory=dict)
    _connlists: dict[bool, Connlist] = field(default_factory=dict)
    calico: CalicoSet = field(default_factory=CalicoSet)
    cilium: CiliumSet = field(default_factory=CiliumSet)

    @property
    def calico_applies(self) -> bool:
        """Calico objects take effect only when Calico (or Canal) is the CNI; with an unknown CNI
        we assume the policies present are enforced (and say so in the findings)."""
        return self.cni.name in ("calico", "canal") or (self.cni.name == "unknown" and not self.cilium)

    @property
    def cilium_applies(self) -> bool:
        """Cilium objects take effect only when Cilium is the CNI (or, unknown, assumed so)."""
        return self.cni.name == "cilium" or (self.cni.name == "unknown" and not self.calico)

    @property
    def cluster(self):  # type: ignore[no-untyped-def]
        return self.inventory.cluster

    def engine(self, *, enforced: bool | None = None) -> Engine:
        """The NetworkPolicy engine; ``enforced=None`` follows the detected CNI."""
        if enforced is None:
            enforced = self.cni.enforces is not False
        cached = self._engines.get(enforced)
        if cached is not None:
            return cached
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
            calico=self.calico if self.calico and self.calico_applies else None,
            cilium=self.cilium if self.cilium and self.cilium_applies else None,
        )
        self.timings["engine"] = self.timings.get("engine", 0.0) + time.perf_counter() - t
        if not self._engines:
            for where, message in engine.address_approximations:
                self.sink.info("netpol.pod-address-assumed", message, where or Location("<input>"))
        self._engines[enforced] = engine
        return engine

    def connlist(self, *, enforced: bool | None = None) -> Connlist:
        """Who reaches whom at workload level (computed once per engine; several layers read it)."""
        engine = self.engine(enforced=enforced)
        key = engine.options.enforced
        cached = self._connlists.get(key)
        if cached is None:
            cached = self._connlists[key] = compute_connlist(engine)
        return cached


def load_estate(
    paths: Sequence[str | Path], options: LoadOptions | None = None, *, stdin_text: str | None = None
) -> Estate:
    options = options or LoadOptions()
    sink = DiagnosticSink()
    t0 = time.perf_counter()
    loaded = load_paths(paths, sink, stdin_text=stdin_text)
    return estate_from_load(loaded, sink, options, time.perf_counter() - t0)


def estate_from_load(loaded: LoadResult, sink: DiagnosticSink, options: LoadOptions, parse_seconds: float) -> Estate:
    """The model half of ``load_estate``, for documents read elsewhere (live sources, ringwall.live)."""
    t1 = time.perf_counter()
    inventory = build_inventory(loaded.documents, sink, options.namespace)
    policies = load_policies(inventory, sink)
    admin = load_admin_policies(inventory, sink, policies.rejected)
    calico = load_calico(inventory, sink)
    cilium = load_cilium(inventory, sink)
    cni = detect_cni(inventory, options.cni)
    t2 = time.perf_counter()
    return Estate(
        loaded, inventory, policies, admin, cni, sink, options, {"parse": parse_seconds, "model": t2 - t1},
        calico=calico, cilium=cilium,
    )
