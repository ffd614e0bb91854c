"""Differential testing: random rulesets and packets, the model's verdict against the kernel's.

Each random ruleset is rendered (nft text or iptables-save), read back by Ringwall's own
readers, loaded into the firewall namespace, and probed with crafted packets from the client
namespace. The kernel's verdict is whether the packet reached a raw socket in the firewall
namespace (raw delivery happens after the input hook); the model's is ``semantics.evaluate``.
Reject and drop both count as "not delivered". States probed: new (first packet of a flow).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ringwall.layers.hostfw import values as V
from ringwall.layers.hostfw.model import Packet, Ruleset
from ringwall.layers.hostfw.parse_iptables import read_iptables_save
from ringwall.layers.hostfw.parse_nft_text import read_nft_text
from ringwall.layers.hostfw.semantics import evaluate
from ringwall.model.diagnostics import DiagnosticSink

from .netns import Agent, Lab, LabError
from .randgen import RSpec, gen_packets, gen_ruleset, render_iptables, render_nft

SETTLE = 0.06


@dataclass
class Disagreement:
    ruleset: str
    fmt: str
    probe: dict[str, Any]
    kernel: bool
    model: bool


@dataclass
class DiffResult:
    rulesets: int = 0
    pairs: int = 0
    disagreements: list[Disagreement] = field(default_factory=list)
    seconds: float = 0.0


def model_packet(p: dict[str, Any], iif: str) -> Packet:
    proto = p["proto"]
    return Packet(family=4, saddr=V.parse_ip(p["src"])[0], daddr=V.parse_ip(p["dst"])[0], proto=proto,
                  sport=p.get("sport", 0), dport=p.get("dport", 0), icmp_type=p.get("type", 0) if proto == 1 else 0,
                  tcp_flags=2 if proto == 6 else 0, ct_state=0, iif=iif)


def parse(text: str, fmt: str) -> Ruleset:
    sink = DiagnosticSink()
    tables = read_nft_text(text, "random.nft", sink) if fmt == "nft" else read_iptables_save(text, "random.rules", sink)
    if sink.errors:
        raise LabError("generated ruleset not read: " + "; ".join(str(d) for d in sink.errors))
    return Ruleset(tables=tables, sources=["random"])


class Differential:
    """One lab with a sink and a sender, reused for every ruleset."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self.sink: Agent = lab.agent("fw", "sink")
        self.sender: Agent = lab.agent("client", "send")

    def kernel(self, probes: list[dict[str, Any]]) -> set[str]:
        self.sink.ask("reset")
        self.sender.ask({"probes": probes})
        time.sleep(SETTLE)
        return set(self.sink.ask("dump")["seen"])

    def check(self, spec: RSpec, fmt: str, probes: list[dict[str, Any]]) -> list[Disagreement]:
        from .agent import key_of

        text = render_nft(spec) if fmt == "nft" else render_iptables(spec)
        rs = parse(text, fmt)
        self.lab.flush()
        if fmt == "nft":
            self.lab.load_nft(text)
        else:
            self.lab.load_iptables(text)
        seen = self.kernel(probes)
        out = []
        for p in probes:
            k = key_of(p)
            got = k in seen
            want = all(o.action == "accept" for o in evaluate(rs, model_packet(p, self.lab.iif), "input"))
            if got != want:
                out.append(Disagreement(text, fmt, p, got, want))
        return out


def run(pairs: int, seed: int = 1, per_ruleset: int = 25,
        progress: Callable[[DiffResult], None] | None = None) -> DiffResult:
    """At least ``pairs`` (ruleset, packet) pairs, alternating nft and iptables."""
    rnd = random.Random(seed)
    res = DiffResult()
    ids = [seed * 1000]
    start = time.time()
    with Lab(tag=f"d{seed % 1000}") as lab:
        diff = Differential(lab)
        while res.pairs < pairs:
            fmt = "nft" if res.rulesets % 2 == 0 else "iptables"
            spec = gen_ruleset(rnd, with_extra=fmt == "nft")
            probes = gen_packets(rnd, per_ruleset, ids)
            res.disagreements.extend(diff.check(spec, fmt, probes))
            res.rulesets += 1
            res.pairs += len(probes)
            if progress and res.rulesets % 50 == 0:
                progress(res)
    res.seconds = time.time() - start
    return res
