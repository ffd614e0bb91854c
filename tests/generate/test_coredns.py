"""CoreDNS generation: valid objects, and ringwall's own DNS layer finds nothing to report in them.

References: CoreDNS forward plugin (tls://, tls_servername), kubernetes plugin (pods verified),
the upstream CoreDNS ClusterRole (list/watch of endpoints, endpointslices, services, pods,
namespaces) - netpol-semantics' companion mesh-edge-access-semantics §4.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from ringwall.analysis.estate import load_estate
from ringwall.analysis.intent import parse_intent
from ringwall.analysis.scan import run_scan
from ringwall.cli import app
from ringwall.generate.coredns import corefile, load_coredns_spec
from ringwall.generate.spec import SpecError

INTENT = Path(__file__).parent / "data" / "coredns-intent.yaml"


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("coredns") / "out"
    result = CliRunner().invoke(app, ["generate", str(INTENT), "-t", "coredns", "-o", str(d)])
    assert result.exit_code == 0, result.output
    return d


def test_the_dns_layer_finds_nothing_in_what_was_generated(out: Path) -> None:
    result = run_scan(load_estate([str(out)]))
    assert [f.check.id for f in result.findings if f.check.layer == "dns"] == []
    dns = next(layer for layer in result.layers if layer.name == "dns")
    assert dns.found and "(encrypted)" in dns.status


def test_objects_match_openapi(out: Path) -> None:
    kv = pytest.importorskip("kubernetes_validate")
    docs = [d for d in yaml.safe_load_all((out / "dns" / "coredns.yaml").read_text()) if d]
    assert [d["kind"] for d in docs] == ["ConfigMap", "ClusterRole", "ClusterRoleBinding", "Service"]
    for doc in docs:
        kv.validate(doc, kv.latest_version(), strict=True)
    svc = docs[3]
    assert svc["spec"]["type"] == "ClusterIP" and svc["spec"]["clusterIP"] == "10.96.0.10"
    rules = docs[1]["rules"]
    assert all(r["verbs"] == ["list", "watch"] for r in rules)


def test_corefile_content() -> None:
    spec = load_coredns_spec({"coredns": {"upstreams": [{"address": "9.9.9.9", "server_name": "dns.quad9.net"}]}},
                             "t.yaml")
    assert spec is not None
    text = corefile(spec)
    assert "forward . tls://9.9.9.9 {" in text and "tls_servername dns.quad9.net" in text
    assert "pods verified" in text and "    log\n" in text


@pytest.mark.parametrize(("section", "message"), [
    ({"upstreams": []}, "at least one"),
    ({"upstreams": [{"address": "9.9.9.9"}]}, "needs address and server_name"),
    ({"upstreams": [{"address": "dns.example", "server_name": "x"}]}, "is not an IP address"),
    ({"upstreams": [{"address": "9.9.9.9", "server_name": "a"}, {"address": "1.1.1.1", "server_name": "b"}]},
     "one server_name per forward block"),
])
def test_bad_sections_are_one_clear_error(section: dict[str, object], message: str) -> None:
    with pytest.raises(SpecError, match=message):
        load_coredns_spec({"coredns": section}, "t.yaml")


def test_deterministic_and_skips_without_a_section() -> None:
    runner = CliRunner()
    a = runner.invoke(app, ["generate", str(INTENT), "-t", "coredns"]).stdout
    b = runner.invoke(app, ["generate", str(INTENT), "-t", "coredns"]).stdout
    assert a == b and "tls_servername dns.quad9.net" in a
    doc = parse_intent({"apiVersion": "ringwall.dev/v1alpha1", "kind": "Intent", "metadata": {"name": "x"}})
    assert load_coredns_spec(doc.raw, "x") is None
