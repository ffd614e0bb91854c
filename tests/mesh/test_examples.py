"""The mesh layer on the shipped examples: exact findings, flows, coverage and explain.

References: examples/shop/README.md "Mesh" (Istio, refs mesh §1) and
examples/mesh-linkerd/README.md (Linkerd, refs mesh §2).
"""

from __future__ import annotations

from ringwall.analysis.endpoints import resolve
from ringwall.analysis.estate import load_estate
from ringwall.analysis.mesh_explain import explain_mesh
from ringwall.analysis.mesh_layer import mesh_connlist, scan_mesh
from tests.conftest import REPO_ROOT

SHOP = REPO_ROOT / "examples" / "shop"
LINKERD = REPO_ROOT / "examples" / "mesh-linkerd"


def _flows(path: object) -> dict[tuple[str, str, str], tuple[str, str, str]]:
    est = load_estate([path])  # type: ignore[list-item]
    return {(f.src, f.dst, str(f.conn)): (f.mtls, f.authorized, f.decision.verdict) for f in mesh_connlist(est)}


def test_shop_mesh_findings_are_exactly_the_documented_ones() -> None:
    report = scan_mesh(load_estate([SHOP]))
    got = sorted((f.check.id, f.subject) for f in report.findings)
    assert got == [
        ("RW-ISTIO-006", "DestinationRule/data/postgres"),
        ("RW-ISTIO-012", "DaemonSet/monitoring/node-exporter"),
    ]
    dr = next(f for f in report.findings if f.check.id == "RW-ISTIO-006")
    assert dr.locations[0].path.endswith("examples/shop/mesh/postgres-tls.yaml") and dr.locations[0].line == 10
    assert report.status == (
        "Istio (control plane: Deployment/istio-system/istiod); mTLS coverage of allowed workload pairs: 12/37 (32%)"
    )
    cov = report.details["coverage"]
    assert cov["pairs_by_worst_mtls"] == {  # type: ignore[index]
        "broken": 2, "no": 22, "permissive": 1, "refused": 8, "yes": 4}
    assert cov["by_namespace"]["backend"] == {"pairs": 6, "covered": 6, "ratio": 1.0}  # type: ignore[index]


def test_shop_mesh_flows() -> None:
    flows = _flows(SHOP)
    W, A, C, P = (
        "frontend/web[Deployment]",
        "backend/api[Deployment]",
        "backend/checkout[Deployment]",
        "backend/payments[Deployment]",
    )
    PG, PROM, DNS = "data/postgres[StatefulSet]", "monitoring/prometheus[Deployment]", "kube-system/coredns[Deployment]"
    assert flows[(W, A, "TCP 8080")] == ("yes", "allow", "allow")
    assert flows[(A, C, "TCP 8080")] == ("yes", "allow", "allow")
    # (M1) DestinationRule DISABLE towards STRICT postgres: the connection fails.
    assert flows[(A, PG, "TCP 5432")] == ("broken", "n/a", "deny")
    assert flows[(C, PG, "TCP 5432")] == ("broken", "n/a", "deny")
    # (e) closed by the mesh: prometheus is identified and not authorized; coredns is refused (plaintext).
    assert flows[(PROM, P, "TCP 8443")] == ("yes", "deny", "deny")
    assert flows[(DNS, P, "TCP 8443")] == ("no", "n/a", "deny")
    # (M2) STRICT stops Prometheus scraping pod IPs: no Service fronts the metrics port.
    assert flows[(PROM, A, "TCP 9102")] == ("no", "n/a", "deny")
    # The entrypoint keeps accepting the load balancer's plaintext on 8080.
    assert flows[("0.0.0.0-255.255.255.255[External]", W, "TCP 8080")] == ("no", "allow", "allow")


def test_shop_explain() -> None:
    est = load_estate([SHOP])
    eng = est.engine()
    out = explain_mesh(est, resolve(eng, "backend/checkout"), resolve(eng, "data/postgres"), "TCP", 5432)
    assert (out["schema"], out["mtls"], out["verdict"]) == ("ringwall.explain.mesh/v1", "broken", "deny")
    text = "\n".join(out["text"])  # type: ignore[arg-type]
    assert "DestinationRule/data/postgres tls.mode DISABLE" in text and "postgres-tls.yaml:10" in text
    out = explain_mesh(est, resolve(eng, "frontend/web"), resolve(eng, "backend/api"), "TCP", 8080)
    assert (out["mtls"], out["authorization"]) == ("yes", "allow")
    assert "    peer identity verified: cluster.local/ns/frontend/sa/web" in out["text"]  # type: ignore[operator]
    assert any("AuthorizationPolicy/backend/api rules[0]" in line for line in out["text"])  # type: ignore[union-attr]
    ip = explain_mesh(est, resolve(eng, "203.0.113.9"), resolve(eng, "frontend/web"), "TCP", 8080)
    assert (ip["mtls"], ip["authorization"]) == ("no", "allow")


def test_linkerd_example_findings_and_flows() -> None:
    report = scan_mesh(load_estate([LINKERD]))
    assert sorted((f.check.id, f.subject) for f in report.findings) == [
        ("RW-LINKERD-002", "Namespace/legacy"),
        ("RW-LINKERD-003", "Deployment/books/webapp"),
        ("RW-LINKERD-007", "AuthorizationPolicy/books/books-from-webapp"),
    ]
    flows = _flows(LINKERD)
    W, AU, B, R = (
        "books/webapp[Deployment]",
        "books/authors[Deployment]",
        "books/books[Deployment]",
        "legacy/reporter[CronJob]",
    )
    assert flows[(W, AU, "TCP 7001")] == ("yes", "allow", "allow")
    assert flows[(B, AU, "TCP 7001")] == ("yes", "deny", "deny")
    assert flows[(W, B, "TCP 7002")] == ("yes", "deny", "deny")  # (c) dangling reference: fail closed
    assert flows[(R, W, "TCP 1-65535")] == ("no", "deny", "deny")  # all-authenticated refuses plaintext
    assert report.status.endswith("mTLS coverage of allowed workload pairs: 9/20 (45%)")
