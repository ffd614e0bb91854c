"""examples/mesh-istio-egress/README.md as a test: request-level conditions, address-split
authorization, ServiceEntries under REGISTRY_ONLY and a Sidecar (Istio references: AuthorizationPolicy,
ServiceEntry, Sidecar, meshConfig outboundTrafficPolicy)."""

from __future__ import annotations

from typer.testing import CliRunner

from ringwall.analysis.estate import load_estate
from ringwall.analysis.mesh_layer import mesh_connlist, scan_mesh
from ringwall.cli import app
from tests.conftest import REPO_ROOT

EXAMPLE = str(REPO_ROOT / "examples" / "mesh-istio-egress")


def _rows(src: str | None = None, dst: str | None = None) -> list[str]:
    flows = mesh_connlist(load_estate([EXAMPLE]))
    return [f.line() for f in flows if (src is None or f.src == src) and (dst is None or f.dst == dst)
            and f.conn.ports("TCP")]


def test_request_level_conditions() -> None:
    rows = _rows("store/frontend[Deployment]")
    assert ("store/frontend[Deployment] => store/catalog[Deployment] : TCP 8080 : mtls=yes, authz=conditional, "
            "verdict=conditional: GET /catalog/*, peer cluster.local/ns/store/sa/frontend") in rows
    assert ("store/frontend[Deployment] => store/payments[Deployment] : TCP 8080 : mtls=yes, authz=conditional, "
            "verdict=conditional: POST /pay, peer cluster.local/ns/store/sa/frontend") in rows
    assert ("store/frontend[Deployment] => store/orders-db[StatefulSet] : TCP 5432 : mtls=no, authz=n/a, "
            "verdict=deny") in rows
    r = CliRunner().invoke(app, ["explain", EXAMPLE, "--src", "store/frontend", "--dst", "store/catalog",
                                 "--port", "8080/TCP"])
    assert "Through every layer: CONDITIONAL (GET /catalog/*)" in r.stdout


def test_address_split_into_the_database() -> None:
    rows = [r for r in _rows(dst="store/orders-db[StatefulSet]") if "[External]" in r and ": TCP 5432 :" in r]
    assert rows == [
        "0.0.0.0-192.0.1.255[External] => store/orders-db[StatefulSet] : TCP 5432 : mtls=no, authz=deny, verdict=deny",
        "192.0.2.0-192.0.2.255[External] => store/orders-db[StatefulSet] : TCP 5432 : mtls=no, authz=allow, "
        "verdict=allow",
        "192.0.3.0-255.255.255.255[External] => store/orders-db[StatefulSet] : TCP 5432 : mtls=no, authz=deny, "
        "verdict=deny",
    ]


def test_flows_out_of_the_mesh() -> None:
    out = [r for r in _rows("store/payments[Deployment]") if "[External] :" in r]
    assert out == [
        "store/payments[Deployment] => 0.0.0.0-203.0.112.255[External] : TCP 1-442,444-65535 : mtls=no, authz=deny, "
        "verdict=deny, decided by registry-only",
        "store/payments[Deployment] => 0.0.0.0-203.0.112.255[External] : TCP 443 : mtls=no, authz=conditional, "
        "verdict=conditional: host rates.exchange.example, decided by service-entry",
        "store/payments[Deployment] => 203.0.113.0-203.0.113.255[External] : TCP 1-442,444-65535 : mtls=no, "
        "authz=deny, verdict=deny, decided by registry-only",
        "store/payments[Deployment] => 203.0.113.0-203.0.113.255[External] : TCP 443 : mtls=no, authz=allow, "
        "verdict=allow, decided by service-entry",
        "store/payments[Deployment] => 203.0.114.0-255.255.255.255[External] : TCP 1-442,444-65535 : mtls=no, "
        "authz=deny, verdict=deny, decided by registry-only",
        "store/payments[Deployment] => 203.0.114.0-255.255.255.255[External] : TCP 443 : mtls=no, "
        "authz=conditional, verdict=conditional: host rates.exchange.example, decided by service-entry",
    ]
    frontend_out = [r for r in _rows("store/frontend[Deployment]") if "[External] :" in r]
    assert frontend_out and all(r.endswith("verdict=deny, decided by registry-only") for r in frontend_out)


def test_deliberate_findings_only() -> None:
    report = scan_mesh(load_estate([EXAMPLE]))
    assert sorted((f.check.id, f.subject) for f in report.findings) == [
        ("RW-ISTIO-003", "StatefulSet/store/orders-db"),
        ("RW-ISTIO-033", "AuthorizationPolicy/store/orders-db"),
    ]


def test_matrix_explain_and_depth_agree_on_conditional_flows() -> None:
    """Issue 19 "done when": the conditional flows of the mesh matrix are the ones depth counts apart
    and explain headlines CONDITIONAL, with the same condition."""
    from ringwall.analysis.depth import compute_depth
    from ringwall.analysis.flows import build_flow_model

    estate = load_estate([EXAMPLE])
    matrix = {(f.src, f.dst, str(f.conn), f.decision.condition) for f in mesh_connlist(estate)
              if f.decision.verdict == "conditional" and not f.src.endswith("[External]")
              and not f.dst.endswith("[External]")}
    depth = compute_depth(build_flow_model(estate))
    counted = {(s, d, str(c), t[0]) for (s, d), c, t in depth.conditional
               if not (s.startswith("zone:") or d.startswith("zone:"))}
    assert matrix == counted == {
        ("store/frontend[Deployment]", "store/catalog[Deployment]", "TCP 8080", "GET /catalog/*"),
        ("store/frontend[Deployment]", "store/payments[Deployment]", "TCP 8080", "POST /pay"),
    }
    runner = CliRunner()
    for (src, dst, _, cond) in sorted(matrix):
        r = runner.invoke(app, ["explain", EXAMPLE, "--src", src.split("[")[0], "--dst", dst.split("[")[0],
                                "--port", "8080/TCP"])
        assert f"Through every layer: CONDITIONAL ({cond})" in r.stdout


def test_depth_counts_the_mesh_refusing_egress() -> None:
    """Under REGISTRY_ONLY the mesh is a layer that blocks flows to external zones: depth counts it,
    and the ports a ServiceEntry opens to part of a zone (or by name) are conditional."""
    from ringwall.analysis.depth import compute_depth
    from ringwall.analysis.flows import build_flow_model

    depth = compute_depth(build_flow_model(load_estate([EXAMPLE])))
    assert ("zone:internet", "mesh", 4) in depth.single_layer()
    cond = {(s, d): (str(c), t) for (s, d), c, t in depth.conditional}
    assert cond[("store/payments[Deployment]", "zone:internet")] == (
        "TCP 443", ("host rates.exchange.example", "destination in 203.0.113.0/24"))
    assert ("store/frontend[Deployment]", "zone:internet") not in cond  # its Sidecar imports no ServiceEntry
