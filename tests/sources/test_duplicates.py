"""An object given twice (a base and a rendered copy): one diagnostic, the later copy takes effect.

Reference: ``kubectl apply -f DIR`` applies the files in name order and each apply replaces the
object with the manifest just applied, so the last copy is what the cluster runs. Reproduction
from issue #14 point 1: the same Deployment in two files crashed ``scan``/``depth``/``scorecard``
(StopIteration, exit 70) and got no "defined twice" diagnostic.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ringwall.analysis.estate import load_estate
from ringwall.cli import app

WEB = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
      - name: web
        image: nginx
        ports:
        - containerPort: {port}
"""

CLIENT = """\
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: client}
spec:
  selector: {matchLabels: {app: client}}
  template:
    metadata: {labels: {app: client}}
    spec: {containers: [{name: c, image: busybox}]}
"""


@pytest.fixture
def base_and_rendered(tmp_path: Path) -> Path:
    (tmp_path / "base.yaml").write_text(WEB.format(port=8080))
    (tmp_path / "rendered.yaml").write_text(WEB.format(port=9090) + CLIENT)
    return tmp_path


def _duplicate_diagnostics(estate) -> list[str]:  # type: ignore[no-untyped-def]
    return [f"{d.location.path.rsplit('/', 1)[-1]}:{d.location.line} {d.message}"
            for d in estate.sink.items if d.code == "k8s.duplicate"]


def test_the_later_copy_takes_effect_and_is_reported_once(base_and_rendered: Path) -> None:
    estate = load_estate([base_and_rendered])
    webs = [w for w in estate.cluster.workloads if w.name == "web"]
    assert len(webs) == 1
    assert [p.port for v in webs[0].variants for p in v.ports] == [9090]
    assert webs[0].location.path.endswith("rendered.yaml")
    base = base_and_rendered / "base.yaml"
    assert _duplicate_diagnostics(estate) == [
        f"rendered.yaml:1 Deployment default/web is defined twice (the copies differ); the later definition "
        f"takes effect, as with kubectl apply (the earlier one at {base}:1 is ignored)"
    ]


def test_argument_order_decides_which_copy_is_later(base_and_rendered: Path) -> None:
    estate = load_estate([base_and_rendered / "rendered.yaml", base_and_rendered / "base.yaml"])
    (web,) = [w for w in estate.cluster.workloads if w.name == "web"]
    assert [p.port for v in web.variants for p in v.ports] == [8080]


@pytest.mark.parametrize("command", ["scan", "depth", "scorecard", "matrix", "verify"])
def test_commands_do_not_crash_on_a_duplicated_workload(base_and_rendered: Path, command: str) -> None:
    args = [command, str(base_and_rendered)]
    if command == "verify":
        intent = base_and_rendered.parent / "intent.yaml"
        intent.write_text(
            "apiVersion: ringwall.dev/v1alpha1\nkind: Intent\nmetadata: {name: t}\nzones:\n"
            "- {name: web, workloads: [default/web]}\n- {name: client, workloads: [default/client]}\n"
            "flows:\n- {name: c, from: client, to: web, ports: [TCP/9090]}\n")
        args = [command, str(intent), str(base_and_rendered)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code in (0, 1), result.output
    assert result.stderr.count("Deployment default/web is defined twice") == 1


def test_every_kind_gets_the_same_handling(tmp_path: Path) -> None:
    """Services, Calico cluster-scoped policies, routes, NetworkPolicies under two API groups."""
    svc = "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {ports: [{port: %d}]}\n"
    gnp = ("apiVersion: %s\nkind: GlobalNetworkPolicy\nmetadata: {name: deny-all%s}\n"
           "spec: {selector: all(), types: [Ingress]}\n")
    netpol = ("apiVersion: %s\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: shop}\n"
              "spec: {podSelector: {}}\n")
    calico_np = ("apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: shop}\n"
                 "spec: {selector: all(), types: [Ingress]}\n")
    (tmp_path / "a.yaml").write_text("---\n".join([
        svc % 80, gnp % ("projectcalico.org/v3", ""), netpol % "extensions/v1beta1", calico_np]))
    (tmp_path / "b.yaml").write_text("---\n".join([
        svc % 8080, gnp % ("crd.projectcalico.org/v1", ", namespace: ignored"), netpol % "networking.k8s.io/v1"]))
    estate = load_estate([tmp_path])
    found = sorted(m.split(" is defined")[0].split(" ", 1)[1] for m in _duplicate_diagnostics(estate))
    assert found == ["GlobalNetworkPolicy deny-all", "NetworkPolicy shop/deny", "Service shop/web"]
    (web,) = estate.cluster.services
    assert [p.port for p in web.ports] == [8080]
    # The Kubernetes NetworkPolicy pair keeps its own finding (RW-NP-028); Calico's namesake is
    # another object and stays.
    assert [(k.api_version, d.api_version) for k, d in estate.policies.duplicates] == [
        ("networking.k8s.io/v1", "extensions/v1beta1")]
    assert len(estate.inventory.documents("NetworkPolicy")) == 2


def test_scan_reports_the_duplicated_networkpolicy_as_rw_np_028(tmp_path: Path) -> None:
    netpol = ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: shop}\n"
              "spec: {podSelector: {}}\n")
    (tmp_path / "a.yaml").write_text(netpol)
    (tmp_path / "b.yaml").write_text(netpol)
    result = CliRunner().invoke(app, ["scan", str(tmp_path), "--format", "json"])
    data = json.loads(result.stdout)
    dup = [f for f in data["findings"] if f["id"] == "RW-NP-028"]
    assert [f["subject"] for f in dup] == ["NetworkPolicy/shop/deny"]
    assert [loc["path"].rsplit("/", 1)[-1] for loc in dup[0]["locations"]] == ["b.yaml", "a.yaml"]
    assert "defined twice (identical copies)" in result.stderr
