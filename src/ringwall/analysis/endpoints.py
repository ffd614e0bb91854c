"""Resolve what a user typed (``shop/web``, ``web``, ``frontend/web[Deployment]``, an IP) to endpoints."""

from __future__ import annotations

from dataclasses import dataclass

from ringwall.layers.netpol.engine import Engine, PodClass
from ringwall.model.addresses import AddressError, format_address, parse_address
from ringwall.model.cluster import Workload


class EndpointError(ValueError):
    pass


@dataclass(frozen=True)
class Endpoint:
    label: str
    workload: Workload | None = None
    classes: tuple[PodClass, ...] = ()
    address: int | None = None

    @property
    def is_address(self) -> bool:
        return self.address is not None


def resolve(engine: Engine, text: str) -> Endpoint:
    text = text.strip()
    try:
        addr = parse_address(text)
    except AddressError:
        addr = None
    if addr is not None:
        # An address that belongs to a known pod is that pod's workload.
        for c in engine.classes:
            for lo, hi in c.ips:
                if lo <= addr <= hi:
                    w = c.members[0][0]
                    return Endpoint(w.key, w, (c,))
        return Endpoint(format_address(addr), address=addr)
    matches = [
        w for w in engine.cluster.workloads
        if text in (w.key, f"{w.namespace}/{w.name}", w.name, w.ref)
    ]
    if not matches:
        raise EndpointError(f"no workload or IP address matches {text!r}")
    if len(matches) > 1:
        names = ", ".join(w.key for w in matches[:6])
        raise EndpointError(f"{text!r} is ambiguous ({names}); write namespace/name")
    w = matches[0]
    mask = engine.workload_classes.get(w.key, 0)
    return Endpoint(w.key, w, tuple(engine.classes_in(mask)))
