"""The combined flow model: one decision per (source, destination) across every layer.

Each layer contributes a ``LayerView``: which flows it sees (its scope), what it allows among them
(connection sets per endpoint pair, sparse: pairs it does not list are denied when in scope), the
protections it adds (encrypted, peer-authenticated, ...), and where its allowances are explicit
rather than defaults. Layers register a builder with ``register_flow_layer``; analyses (depth,
whatif, verify, scorecard) only read views, so layers that land later join without changes here.

Endpoints are workload keys (``ns/name[Kind]``), ``zone:<name>`` for external address zones and
``host:<name>`` for hosts whose firewall ruleset was given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ringwall.analysis.registry import Registry
from ringwall.analysis.zones import Zone, default_zones
from ringwall.model.connections import ALL, NONE, ConnectionSet

if TYPE_CHECKING:
    from ringwall.analysis.estate import Estate

Pair = tuple[str, str]

PROTECTIONS = ("encrypted", "peer-authenticated", "request-authenticated", "explicitly-authorized", "logged")


@dataclass
class LayerView:
    name: str
    title: str
    scope: Callable[[str, str], bool]
    """Does this layer see traffic from the first endpoint to the second?"""
    allowed: dict[Pair, ConnectionSet]
    """What the layer lets through, for pairs in scope (absent: nothing)."""
    explicit: set[Pair] = field(default_factory=set)
    """Pairs whose allowance comes from a rule written for them (not from a default)."""
    protections: dict[Pair, frozenset[str]] = field(default_factory=dict)
    enforced: bool = True
    note: str = ""
    conditional: dict[Pair, ConnectionSet] = field(default_factory=dict)
    """Part of ``allowed`` that passes only for some requests (HTTP method/path, JWT, host name)."""
    conditions: dict[Pair, tuple[tuple[ConnectionSet, str], ...]] = field(default_factory=dict)
    """For those pairs, per connection set, what the verdict depends on (``GET /api/*``)."""

    def verdict(self, pair: Pair) -> ConnectionSet | None:
        """Allowed connections, or None when the layer does not see the flow."""
        if not self.scope(*pair):
            return None
        if not self.enforced:
            return ALL
        return self.allowed.get(pair, NONE)


@dataclass(frozen=True)
class Degradation:
    """A what-if: a layer removed or weakened (``cni none``, ``mtls permissive``, ``hostfw flushed``)."""

    without: frozenset[str] = frozenset()
    cni_none: bool = False
    mtls_permissive: bool = False
    hostfw_flushed: bool = False

    def describe(self) -> str:
        parts = [f"without {x}" for x in sorted(self.without)]
        if self.cni_none:
            parts.append("CNI not enforcing NetworkPolicy")
        if self.mtls_permissive:
            parts.append("mTLS permissive")
        if self.hostfw_flushed:
            parts.append("host firewalls flushed")
        return ", ".join(parts) or "as configured"


LayerBuilder = Callable[["Estate", "FlowContext"], "LayerView | None"]
_BUILDERS: Registry[LayerBuilder] = Registry()
register_flow_layer = _BUILDERS.register


@dataclass
class FlowContext:
    zones: list[Zone]
    degradation: Degradation = field(default_factory=Degradation)


@dataclass
class FlowModel:
    endpoints: list[str]
    workloads: list[str]
    zones: list[Zone]
    layers: list[LayerView]
    degradation: Degradation

    def layer(self, name: str) -> LayerView | None:
        return next((v for v in self.layers if v.name == name), None)

    def candidate_pairs(self) -> set[Pair]:
        """Pairs some layer allows something for (the rest is blocked by every layer in scope)."""
        out: set[Pair] = set()
        for v in self.layers:
            out.update(p for p, c in v.allowed.items() if c)
        return {p for p in out if p[0] != p[1]}

    def all_pairs(self) -> Iterator[Pair]:
        for s in self.endpoints:
            for d in self.endpoints:
                if s != d and not (s.startswith("zone:") and d.startswith("zone:")):
                    yield (s, d)

    def verdicts(self, pair: Pair) -> dict[str, ConnectionSet]:
        """Per layer in scope: what it allows for ``pair``."""
        out: dict[str, ConnectionSet] = {}
        for v in self.layers:
            c = v.verdict(pair)
            if c is not None:
                out[v.name] = c
        return out

    def combined(self, pair: Pair) -> ConnectionSet:
        """What gets through every layer in scope (no layer in scope: open)."""
        result = ALL
        for c in self.verdicts(pair).values():
            result = result & c
        return result

    def conditional(self, pair: Pair) -> tuple[ConnectionSet, tuple[tuple[ConnectionSet, str], ...]]:
        """The part of ``combined(pair)`` that some layer allows only for some requests, and on what
        (per connection set)."""
        conn = NONE
        conds: list[tuple[ConnectionSet, str]] = []
        for v in self.layers:
            part = v.conditional.get(pair)
            if part and v.scope(*pair) and v.enforced:
                conn = conn | part
                conds += [c for c in v.conditions.get(pair, ()) if c not in conds]
        return conn & self.combined(pair), tuple(conds)

    def protections(self, pair: Pair) -> frozenset[str]:
        out: set[str] = set()
        for v in self.layers:
            if v.scope(*pair) and v.enforced:
                out |= v.protections.get(pair, frozenset())
        return frozenset(out)


def build_flow_model(estate: Estate, zones: list[Zone] | None = None,
                     degradation: Degradation | None = None) -> FlowModel:
    # Importing the built-in adapters registers them.
    from ringwall.analysis import flow_edge, flow_layers, flow_mesh  # noqa: F401

    ctx = FlowContext(zones or default_zones(), degradation or Degradation())
    views: list[LayerView] = []
    for name, builder in _BUILDERS.items():
        if name in ctx.degradation.without:
            continue
        view = builder(estate, ctx)
        if view is not None:
            views.append(view)
    workloads = [w.key for w in estate.cluster.workloads]
    from ringwall.analysis.hosts import host_inventory

    hosts = [h.endpoint for h in host_inventory(estate)] if any(v.name == "hostfw" for v in views) else []
    endpoints = workloads + [z.endpoint for z in ctx.zones if z.external] + hosts
    return FlowModel(endpoints, workloads, ctx.zones, views, ctx.degradation)
