"""Wrong types and unknown fields are rejected as the API server's strict validation would (#14.5, #15)."""

from __future__ import annotations

from pathlib import Path

from ringwall.analysis.estate import load_estate
from ringwall.analysis.scan import run_scan
from ringwall.model.diagnostics import Level

TYPO = """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web-only
  namespace: shop
spec:
  podSelector:
    matchLabel:
      app: web
  ingress: []
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: shop, labels: {app: db}}
spec:
  containers: [{name: db, image: postgres, ports: [{containerPort: 5432}]}]
"""


def _errors(estate) -> list[tuple[str, int | None, str]]:  # type: ignore[no-untyped-def]
    return [(d.code, d.location.line, d.message) for d in estate.sink.items if d.level is Level.ERROR]


def test_selector_typo_rejects_the_policy_instead_of_isolating_every_pod(tmp_path: Path) -> None:
    (tmp_path / "np.yaml").write_text(TYPO)
    estate = load_estate([tmp_path])
    assert _errors(estate) == [(
        "RW-NP-020", 8, 'NetworkPolicy shop/web-only: spec.podSelector.matchLabel: unknown field '
        '"spec.podSelector.matchLabel"; the API server rejects the object, so it takes no effect')]
    assert estate.policies.policies == []  # no effect: the db pod is not isolated
    rejected = [f for f in run_scan(estate, cross_layer=False).findings if f.check.id == "RW-NP-020"]
    assert [str(f.locations[0]) for f in rejected] == [f"{tmp_path / 'np.yaml'}:8"]


def test_wrong_types_are_reported_at_the_field_and_the_object_takes_no_effect(tmp_path: Path) -> None:
    (tmp_path / "objects.yaml").write_text("""apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: 5
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      hostNetwork: "yes"
      containers: [{name: api, image: api, ports: [{containerPort: 99999999999}]}]
---
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels: {team: [a, b]}
""")
    estate = load_estate([tmp_path])
    assert [(code, line) for code, line, _ in _errors(estate)] == [
        ("k8s.rejected", 6), ("k8s.rejected", 16), ("k8s.rejected", 17), ("k8s.rejected", 23)]
    messages = [m for _, _, m in _errors(estate)]
    assert messages[0] == ("Service shop/web: spec.ports: expected a list, got a number; the API server rejects "
                           "the object, so it takes no effect")
    assert "spec.template.spec.hostNetwork: expected a boolean, got a string" in messages[1]
    assert "containerPort: 99999999999 does not fit in a 32-bit integer" in messages[2]
    assert "metadata.labels.team: expected a string, got a list" in messages[3]
    assert estate.cluster.services == [] and estate.cluster.workloads == []
    assert [d.kind for d, _ in estate.inventory.rejected] == ["Service", "Deployment", "Namespace"]


def test_a_field_differing_only_by_case_is_read_with_a_warning(tmp_path: Path) -> None:
    """Go's case-insensitive decoding (non-strict clients, netpol-analyzer) reads containerport as
    containerPort; kubectl apply's strict validation refuses it: a warning, and read as meant."""
    (tmp_path / "pod.yaml").write_text("""apiVersion: v1
kind: Pod
metadata: {name: a, namespace: shop, labels: {app: a}}
spec:
  containers:
  - name: a
    image: a
    ports:
    - containerport: 8080
      name: http
""")
    estate = load_estate([tmp_path])
    assert [(d.level.value, d.code, d.location.line) for d in estate.sink.items] == [("warning", "k8s.field-case", 9)]
    assert [p.port for w in estate.cluster.workloads for v in w.variants for p in v.ports] == [8080]
