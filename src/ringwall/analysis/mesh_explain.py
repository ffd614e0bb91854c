"""One flow through the mesh layer, for ``ringwall explain`` after the NetworkPolicy decision.

Answers, with evidence: is each end in the mesh (and why), what does the client send, what does
the server accept (mTLS yes / permissive / no / broken), which peer identity is verified, and
which AuthorizationPolicy / Linkerd authorization decides.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ringwall.analysis.endpoints import Endpoint
from ringwall.analysis.mesh_layer import mesh_model
from ringwall.model.connections import ALL, ConnectionSet

if TYPE_CHECKING:
    from ringwall.analysis.estate import Estate

SCHEMA = "ringwall.explain.mesh/v1"


def explain_mesh(estate: Estate, src: Endpoint, dst: Endpoint, protocol: str | None,
                 port: int | None) -> dict[str, object]:
    """The mesh part of an explanation: JSON-able, with ``text`` lines ready to print."""
    model = mesh_model(estate)
    out: dict[str, object] = {"schema": SCHEMA, "layer": "mesh", "src": src.label, "dst": dst.label,
                              "protocol": protocol, "port": port}
    lines: list[str] = []
    if not model.istio and not model.linkerd_on:
        out.update(applies=False, decisions=[], text=["mesh layer - no service mesh found"])
        return out
    names = [n for n, on in (("Istio", model.istio), ("Linkerd", model.linkerd_on)) if on]
    lines.append(f"mesh layer - {', '.join(names)}")
    for label, ep in (("source", src), ("destination", dst)):
        if ep.workload is None:
            lines.append(f"  {label.capitalize()} {ep.label}: an address, not in the mesh")
        else:
            m = model.membership(ep.workload)
            lines.append(f"  {label.capitalize()} {ep.label}: {m.mode} - {m.reason}"
                         + (f"  ({m.location})" if m.location else ""))
    if dst.workload is None:
        lines.append("  The destination is not a pod: no mesh proxy decides this flow.")
        out.update(applies=False, decisions=[], text=lines)
        return out
    src_ips = None
    if src.workload is None and src.address is not None:
        src_ips = ((src.address, src.address),)
    if protocol is not None and port is not None:
        conn = ConnectionSet.of(protocol, [(port, port)])
    elif protocol is not None:
        conn = ConnectionSet.of(protocol)
    else:
        conn = ALL
    decisions = []
    for sub, d in model.decide_conn(src.workload, src_ips, dst.workload, conn):
        decisions.append({"conn": str(sub), **d.to_json()})
        verdict = d.verdict.upper() + (f": {d.condition}" if d.verdict == "conditional" and d.condition else "")
        lines.append(f"  {sub}: mTLS {d.mtls}, authorization {d.authz}, verdict {verdict}")
        lines.append(f"    {d.reason}")
        if d.identity:
            lines.append(f"    peer identity verified: {d.identity}")
        for e in d.evidence:
            lines.append(f"    - {e}")
        for n in d.notes:
            lines.append(f"    note: {n}")
    out.update(applies=True, decisions=decisions, text=lines)
    if len(decisions) == 1:
        first = decisions[0]
        out.update(mtls=first["mtls"], authorization=first["authorization"], verdict=first["verdict"])
    return out
