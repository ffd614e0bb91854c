"""The mesh layer's contribution to ``scan``, and the mesh view of the connlist.

This is where the mesh meets the NetworkPolicy engine: coverage is measured over the workload
pairs the engine allows, because a flow the network already blocks needs no encryption.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ringwall.analysis.connlist import compute_connlist, ip_endpoint
from ringwall.analysis.layers import LayerReport, register_layer
from ringwall.layers.mesh.api import Coverage, MeshFlow, coverage, decide_flows
from ringwall.layers.mesh.checks import run_checks
from ringwall.layers.mesh.common import MeshOptions
from ringwall.layers.mesh.decision import MeshModel
from ringwall.model.addresses import AddressError, parse_address

if TYPE_CHECKING:
    from ringwall.analysis.estate import Estate

def set_mesh_options(estate: Estate, options: MeshOptions) -> None:
    """Record CLI options (``--mesh``, ``--istio-root-namespace``) for this estate's mesh model.

    Options and model live on the estate itself, so they can never leak to another estate.
    """
    estate._mesh_options = options  # type: ignore[attr-defined]
    estate._mesh_model = None  # type: ignore[attr-defined]


def mesh_model(estate: Estate) -> MeshModel:
    """The mesh model of an estate, built once per estate."""
    model: MeshModel | None = getattr(estate, "_mesh_model", None)
    if model is not None:
        return model
    t = time.perf_counter()
    model = MeshModel(estate.inventory, getattr(estate, "_mesh_options", None), estate.sink)
    estate.timings["mesh_model"] = time.perf_counter() - t
    estate._mesh_model = model  # type: ignore[attr-defined]
    return model


def _range(text: str) -> tuple[int, int] | None:
    """``10.0.0.0-10.0.0.255[External]`` -> its interval."""
    body = text.removesuffix("[External]")
    lo, _, hi = body.partition("-")
    try:
        a = parse_address(lo)
        return a, parse_address(hi) if hi else a
    except AddressError:
        return None


def mesh_connlist(estate: Estate, focus: str | None = None, *, include_external: bool = True) -> list[MeshFlow]:
    """Every flow the NetworkPolicy layer allows, split by how the mesh treats it.

    Rows: ``MeshFlow(src, dst, conn, decision)`` with ``.mtls`` (yes/permissive/no/broken),
    ``.authorized`` (allow/deny/conditional/n/a) and ``.decision.verdict``. Flows from outside
    addresses are cut where the destination's AuthorizationPolicies name address ranges; flows to
    outside addresses (``include_external``) are decided by the source's sidecar (ServiceEntry,
    egress gateway, REGISTRY_ONLY or nothing) and are never mTLS.
    """
    model = mesh_model(estate)
    cl = compute_connlist(estate.engine(), focus) if focus else estate.connlist()
    by_key = {w.key: w for w in estate.cluster.workloads}
    out: list[MeshFlow] = []
    for c in cl.connections:
        if c.dst_is_ip:
            src = by_key.get(c.src)
            r = _range(c.dst)
            if not include_external or src is None or r is None:
                continue
            for ips, conn, d in model.decide_external(src, (r,), c.conn):
                out.append(MeshFlow(c.src, c.dst if ips == (r,) else ip_endpoint(*ips[0]), conn, d))
            continue
        dst = by_key.get(c.dst)
        if dst is None:
            continue
        if c.src_is_ip:
            if not include_external:
                continue
            r = _range(c.src)
            if r is None:
                out.extend(decide_flows(model, [(c.src, None, None, dst, c.conn)]))
                continue
            for piece in model.split_sources(dst, (r,)):
                label = c.src if piece == (r,) else ip_endpoint(*piece[0])
                out.extend(decide_flows(model, [(label, None, piece, dst, c.conn)]))
        else:
            src = by_key.get(c.src)
            if src is not None:
                out.extend(decide_flows(model, [(c.src, src, None, dst, c.conn)]))
    return out


def mesh_coverage(estate: Estate) -> tuple[Coverage, list[MeshFlow]]:
    flows = mesh_connlist(estate, include_external=False)
    return coverage(flows), flows


@register_layer("mesh")
def scan_mesh(estate: Estate) -> LayerReport:
    model = mesh_model(estate)
    if not model.istio and not model.linkerd_on:
        return LayerReport("mesh", "Service mesh", False, None, "no service mesh found", {"meshes": []}, [])
    t = time.perf_counter()
    findings = run_checks(model)
    cov, flows = mesh_coverage(estate)
    estate.timings["mesh"] = time.perf_counter() - t
    meshes = []
    parts = []
    if model.istio:
        cp = model.istio_control_plane
        meshes.append({"name": "istio", "control_plane": cp, "root_namespace": model.root,
                       "trust_domain": model.trust_domain})
        parts.append("Istio " + (f"(control plane: {cp[0]})" if cp else "(configuration only: no istiod or CRDs in the "
                                 "input; its policies are assumed enforced)"))
    if model.linkerd_on:
        cp = model.linkerd.control_plane
        meshes.append({"name": "linkerd", "control_plane": cp, "default_inbound_policy": model.linkerd.default_policy})
        parts.append("Linkerd " + (f"(control plane: {cp[0]})" if cp else "(configuration only; its policies are "
                                   "assumed enforced)"))
    members: dict[str, int] = {}
    for w in estate.cluster.workloads:
        mode = model.membership(w).mode
        members[mode] = members.get(mode, 0) + 1
    pct = f"{cov.covered}/{cov.pairs} ({100 * cov.ratio:.0f}%)" if cov.ratio is not None else "no allowed pairs"
    status = f"{', '.join(parts)}; mTLS coverage of allowed workload pairs: {pct}"
    details: dict[str, object] = {
        "meshes": meshes,
        "workloads_by_mode": dict(sorted(members.items())),
        "coverage": cov.to_json(),
        "flows_decided": len(flows),
    }
    # One stance everywhere: mesh objects in the input are taken as enforced (flows, explain, depth
    # and RW-DEPTH-021 count them); without the control plane in the input that is an assumption,
    # so the layer shows enforced "unknown", never "NO".
    control = True if (model.istio_control_plane or model.linkerd.control_plane) else None
    return LayerReport("mesh", "Service mesh", True, control, status, details, findings)
