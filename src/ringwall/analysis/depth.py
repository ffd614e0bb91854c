"""Depth: for every blocked flow, which independent layers block it.

A flow is a (source, destination, protocol). Its *depth* is the smallest number of layers that
block any port of that protocol the flow cannot use: TCP to a meshed workload stopped by both
NetworkPolicy and mesh authorization has depth 2, while UDP to the same workload - which no mesh
carries - may hang on NetworkPolicy alone. Pairs no layer allows anything for are blocked by every
layer in scope; they are counted per destination without enumerating sources.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ringwall.analysis.flows import FlowModel, Pair
from ringwall.model.connections import ALL, NONE, PROTOCOLS, ConnectionSet

SCHEMA = "ringwall.depth/v1"


@dataclass
class PairDepth:
    pair: Pair
    depth: int
    blocking: tuple[str, ...]  # the layers blocking the weakest part
    _weakest: ConnectionSet | None  # the connections that hang on ``blocking`` only (None: space - open)
    open: ConnectionSet  # what gets through every layer
    space: ConnectionSet = ALL  # the connections judged (one protocol, or all)

    @property
    def weakest(self) -> ConnectionSet:
        if self._weakest is None:
            self._weakest = self.space - self.open if self.depth else NONE
        return self._weakest


@dataclass
class DestinationDepth:
    dst: str
    single_layer: dict[str, int] = field(default_factory=dict)  # layer -> sources that hang on it alone
    unprotected_sources: int = 0  # sources blocked by no layer at all (open)


@dataclass
class DepthResult:
    histogram: Counter[int]
    pairs: list[PairDepth]  # per protocol, for candidate pairs only (some layer allows something)
    destinations: dict[str, DestinationDepth]
    layers: list[str]
    conditional: list[tuple[Pair, ConnectionSet, tuple[str, ...]]] = field(default_factory=list)
    """Flows a layer lets through only for some requests (``GET /api/*``): open, but not for every
    request - counted apart, with what they depend on."""

    def single_layer(self) -> list[tuple[str, str, int]]:
        """(destination, layer, sources) for flows that hang on exactly one layer, most exposed first."""
        out = [(d.dst, layer, n) for d in self.destinations.values() for layer, n in d.single_layer.items() if n]
        return sorted(out, key=lambda x: (-x[2], x[0], x[1]))

    def to_json(self, flows: bool = True) -> dict[str, object]:
        """``flows=False`` leaves out the per-flow list (large estates: hundreds of thousands)."""
        return {
            "schema": SCHEMA,
            "layers": self.layers,
            "histogram": {str(k): v for k, v in sorted(self.histogram.items())},
            "single_layer": [{"dst": d, "layer": layer, "sources": n} for d, layer, n in self.single_layer()],
            "conditional": [{"src": p[0], "dst": p[1], "conn": str(c), "conditions": list(t)}
                            for p, c, t in self.conditional],
            "flows": [
                {"src": p.pair[0], "dst": p.pair[1], "depth": p.depth, "blocking": list(p.blocking),
                 "weakest": str(p.weakest) if p.weakest else None, "open": str(p.open) if p.open else None}
                for p in (self.pairs if flows else [])
            ],
        }


def weakest_piece(pair: Pair, verdicts: dict[str, ConnectionSet], space: ConnectionSet) -> PairDepth:
    """The weakest piece of ``space`` that the layers block, and by whom (``verify`` judges an
    intent's unwanted connections with it, ``depth`` each protocol)."""
    open_ = space
    for c in verdicts.values():
        open_ = open_ & c
    blocked = space - open_
    if not blocked:
        return PairDepth(pair, 0, (), NONE, open_, space)
    # Split the blocked connections by the set of layers that block them; keep the weakest piece.
    pieces: dict[tuple[str, ...], ConnectionSet] = {(): blocked}
    for name, allowed in verdicts.items():
        new: dict[tuple[str, ...], ConnectionSet] = {}
        for layers, conn in pieces.items():
            stop = conn - allowed
            keep = conn & allowed
            if stop:
                new[(*layers, name)] = new.get((*layers, name), NONE) | stop
            if keep:
                new[layers] = new.get(layers, NONE) | keep
        pieces = new
    layers, weakest = min(pieces.items(), key=lambda kv: (len(kv[0]), kv[0]))
    return PairDepth(pair, len(layers), layers, weakest, open_, space)


_PROTO_ALL = {p: ConnectionSet.of(p) for p in PROTOCOLS}
_FULL = ((1, 65535),)


def _by_protocol(pair: Pair, model: FlowModel) -> list[PairDepth]:
    """A pair's depth per protocol: TCP, UDP and SCTP are separate flows."""
    verdicts = model.verdicts(pair)
    if not verdicts:
        return [PairDepth(pair, 0, (), NONE, ALL)]
    if len(verdicts) == 1:  # the common case: one layer sees the flow; no set algebra needed
        (name, allowed), = verdicts.items()
        out = []
        for proto in PROTOCOLS:
            only = _PROTO_ALL[proto]
            ranges = allowed.ports(proto)
            if ranges == _FULL:
                out.append(PairDepth(pair, 0, (), NONE, only, only))
            else:
                out.append(PairDepth(pair, 1, (name,), None, allowed & only if ranges else NONE, only))
        return out
    out = []
    for proto in PROTOCOLS:
        only = _PROTO_ALL[proto]
        sub = {n: c & only for n, c in verdicts.items()}
        out.append(weakest_piece(pair, sub, only))
    return out


def compute_depth(model: FlowModel) -> DepthResult:
    """Histogram over (source, destination, protocol) flows; single-layer dependence per destination."""
    histogram: Counter[int] = Counter()
    candidates = model.candidate_pairs()
    pairs = [x for p in sorted(candidates) for x in _by_protocol(p, model)]
    dests: dict[str, DestinationDepth] = {}
    by_dst: dict[str, set[str]] = {}
    single: dict[tuple[str, str], set[str]] = {}
    open_sources: dict[str, set[str]] = {}
    for pd in pairs:
        src, dst = pd.pair
        by_dst.setdefault(dst, set()).add(src)
        dests.setdefault(dst, DestinationDepth(dst))
        if pd.depth == 0 and not pd.weakest:
            if not pd.blocking and pd.open:
                histogram[0] += 1
                open_sources.setdefault(dst, set()).add(src)
            continue
        histogram[pd.depth] += 1
        if pd.depth == 1:
            single.setdefault((dst, pd.blocking[0]), set()).add(src)
    for (dst, layer), sources in single.items():
        dests[dst].single_layer[layer] = len(sources)
    for dst, sources in open_sources.items():
        dests[dst].unprotected_sources = len(sources)
    # Pairs that no layer allows anything: blocked by every layer in scope, for every protocol.
    kinds = _by_kind(model)
    kinds_set = {k: set(v) for k, v in kinds.items()}
    for dst in model.endpoints:
        seen = by_dst.get(dst, set())
        for kind, sources in kinds.items():
            if dst.startswith("zone:") and kind == "zone":
                continue
            members = kinds_set[kind]
            n = len(sources) - (1 if dst in members else 0) - sum(1 for s in seen if s in members)
            if n <= 0:
                continue
            sample = next(s for s in sources if s != dst and s not in seen)
            in_scope = [v.name for v in model.layers if v.scope(sample, dst)]
            histogram[len(in_scope)] += n * len(PROTOCOLS)
            if len(in_scope) == 1:
                d = dests.setdefault(dst, DestinationDepth(dst))
                d.single_layer[in_scope[0]] = d.single_layer.get(in_scope[0], 0) + n
            elif not in_scope:
                dests.setdefault(dst, DestinationDepth(dst)).unprotected_sources += n
    conditional = []
    if any(v.conditional for v in model.layers):
        for p in sorted(candidates):
            conn, conds = model.conditional(p)
            if conn:
                conditional.append((p, conn, tuple(dict.fromkeys(t for c, t in conds if c & conn))))
    return DepthResult(histogram, pairs, dests, [v.name for v in model.layers], conditional)


def _by_kind(model: FlowModel) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {"workload": [], "zone": [], "host": []}
    for e in model.endpoints:
        kind = "zone" if e.startswith("zone:") else "host" if e.startswith("host:") else "workload"
        out[kind].append(e)
    return out
