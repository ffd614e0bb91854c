"""Kubernetes YAML is read as Kubernetes objects whatever the file is called (issue #14 point 10).

The CoreDNS addon ships as ``coredns.yaml.base`` / ``coredns.yaml.sed`` (a List or a stream of
ServiceAccount, ClusterRole, ConfigMap with the Corefile, Deployment, Service, with placeholders
substituted by sed before ``kubectl apply``). It was read as a Corefile: 190 syntax errors, no
Kubernetes object, and ``dns corefile`` exited 0.
"""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from ringwall.cli import app
from ringwall.model.diagnostics import DiagnosticSink
from ringwall.sources.loader import load_paths
from tests.conftest import REPO_ROOT

BASE = REPO_ROOT / "tests" / "realworld" / "data" / "dns" / "coredns.yaml.base"


def test_the_addon_list_is_read_as_kubernetes_objects() -> None:
    sink = DiagnosticSink()
    loaded = load_paths([BASE], sink)
    assert [d.kind for d in loaded.documents] == ["ServiceAccount", "ClusterRole", "ConfigMap", "Deployment",
                                                  "Service"]
    assert loaded.other_files == []
    assert sink.items == []


def test_dns_corefile_reads_the_corefile_inside_the_configmap() -> None:
    result = CliRunner().invoke(app, ["dns", "corefile", str(BASE), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    data = json.loads(result.stdout)
    (server,) = data["servers"]
    assert server["source"] == "ConfigMap/kube-system/coredns"
    assert server["zones"] == [".:53"]
    assert server["forward"] == [{"from": ".", "to": ["/etc/resolv.conf"], "tls_servername": None}]
    assert data["kube_dns"]["type"] == "ClusterIP"


def test_a_sed_template_stream_and_a_real_corefile_side_by_side(tmp_path: Path) -> None:
    """The stream form (``---`` separated) under a .sed name is manifests; a file called Corefile
    whose text is a Corefile stays a Corefile; a broken Corefile is an input error (exit 2)."""
    stream = BASE.read_text().replace("apiVersion: v1\nkind: List\nitems:\n", "")
    stream = "\n".join(line[2:] if line.startswith(("- ", "  ")) else line for line in stream.splitlines())
    stream = stream.replace("\napiVersion:", "\n---\napiVersion:")
    (tmp_path / "coredns.yaml.sed").write_text(stream)
    (tmp_path / "Corefile").write_text("example.org:53 {\n    forward . tls://198.51.100.53\n}\n")
    sink = DiagnosticSink()
    loaded = load_paths([tmp_path], sink)
    assert sorted(d.kind for d in loaded.documents) == ["ClusterRole", "ConfigMap", "Deployment", "Service",
                                                        "ServiceAccount"]
    assert [p.name for p in loaded.other_files] == ["Corefile"]
    result = CliRunner().invoke(app, ["dns", "corefile", str(tmp_path), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    assert sorted(s["source"] for s in json.loads(result.stdout)["servers"]) == sorted([
        "ConfigMap/kube-system/coredns", str(tmp_path / "Corefile")])
    (tmp_path / "Corefile").write_text(".:53 {\n  forward . 192.0.2.53\n  }}} {\n")
    result = CliRunner().invoke(app, ["dns", "corefile", str(tmp_path / "Corefile")])
    assert result.exit_code == 2
    assert "error: unexpected brace" in result.stderr


def test_no_corefile_at_all_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("nothing to see\n")
    result = CliRunner().invoke(app, ["dns", "corefile", str(tmp_path)])
    assert result.exit_code == 2
    assert "no Corefile" in result.stderr
