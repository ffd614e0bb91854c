"""Depth: for every blocked flow, which independent layers block it.

A flow is a (source, destination) pair. Its *depth* is the smallest number of layers that block
any connection the pair cannot use: a pair whose blocked traffic is stopped by NetworkPolicy alone
has depth 1, however many layers stop other ports. Pairs no layer allows anything for are blocked
by every layer in scope; they are counted per destination without enumerating sources.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ringwall.analysis.flows import FlowModel, Pair
from ringwall.model.connections import ALL, NONE, ConnectionSet

SCHEMA = "ringwall.depth/v1"


@dataclass
class PairDepth:
    pair: Pair
    depth: int
    blocking: tuple[str, ...]  # the layers blocking the weakest part
    weakest: ConnectionSet  # the connections that hang on ``blocking`` only
    open: ConnectionSet  # what gets through every layer


@dataclass
class DestinationDepth:
    dst: str
    single_layer: dict[str, int] = field(default_factory=dict)  # layer -> sources that hang on it alone
    unprotected_sources: int = 0  # sources blocked by no layer at all (open)


@dataclass
class DepthResult:
    histogram: Counter[int]
    pairs: list[PairDepth]  # candidate pairs only (some layer allows something)
    destinations: dict[str, DestinationDepth]
    layers: list[str]

    def single_layer(self) -> list[tuple[str, str, int]]:
        """(destination, layer, sources) for flows that hang on exactly one layer, most exposed first."""
        out = [(d.dst, layer, n) for d in self.destinations.values() for layer, n in d.single_layer.items() if n]
        return sorted(out, key=lambda x: (-x[2], x[0], x[1]))

    def to_json(self) -> dict[str, object]:
        return {
            "schema": SCHEMA,
            "layers": self.layers,
            "histogram": {str(k): v for k, v in sorted(self.histogram.items())},
            "single_layer": [{"dst": d, "layer": layer, "sources": n} for d, layer, n in self.single_layer()],
            "pairs": [
                {"src": p.pair[0], "dst": p.pair[1], "depth": p.depth, "blocking": list(p.blocking),
                 "weakest": str(p.weakest), "open": str(p.open)}
                for p in self.pairs
            ],
        }


def pair_depth(model: FlowModel, pair: Pair) -> PairDepth:
    verdicts = model.verdicts(pair)
    if not verdicts:
        return PairDepth(pair, 0, (), NONE, ALL)
    if len(verdicts) == 1:  # the common case: one layer sees the flow
        (name, allowed), = verdicts.items()
        blocked = ALL - allowed
        return PairDepth(pair, 1 if blocked else 0, (name,) if blocked else (), blocked, allowed)
    open_ = ALL
    for c in verdicts.values():
        open_ = open_ & c
    blocked = ALL - open_
    if not blocked:
        return PairDepth(pair, 0, (), NONE, open_)
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
    return PairDepth(pair, len(layers), layers, weakest, open_)


def compute_depth(model: FlowModel) -> DepthResult:
    histogram: Counter[int] = Counter()
    candidates = model.candidate_pairs()
    pairs = [pair_depth(model, p) for p in sorted(candidates)]
    dests: dict[str, DestinationDepth] = {}
    by_dst: dict[str, set[str]] = {}
    for pd in pairs:
        by_dst.setdefault(pd.pair[1], set()).add(pd.pair[0])
        d = dests.setdefault(pd.pair[1], DestinationDepth(pd.pair[1]))
        if pd.depth == 0 and pd.open == ALL:
            histogram[0] += 1
            d.unprotected_sources += 1
            continue
        histogram[pd.depth] += 1
        if pd.depth == 1:
            d.single_layer[pd.blocking[0]] = d.single_layer.get(pd.blocking[0], 0) + 1
    # Pairs that no layer allows anything: blocked by every layer in scope.
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
            histogram[len(in_scope)] += n
            if len(in_scope) == 1:
                d = dests.setdefault(dst, DestinationDepth(dst))
                d.single_layer[in_scope[0]] = d.single_layer.get(in_scope[0], 0) + n
            elif not in_scope:
                dests.setdefault(dst, DestinationDepth(dst)).unprotected_sources += n
    return DepthResult(histogram, pairs, dests, [v.name for v in model.layers])


def _by_kind(model: FlowModel) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {"workload": [], "zone": [], "host": []}
    for e in model.endpoints:
        kind = "zone" if e.startswith("zone:") else "host" if e.startswith("host:") else "workload"
        out[kind].append(e)
    return out
