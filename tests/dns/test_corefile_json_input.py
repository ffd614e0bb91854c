"""A CoreDNS ConfigMap given as JSON (kubectl get cm -o json) is read, not a crash."""

from __future__ import annotations

import json
from pathlib import Path

from ringwall.analysis.estate import load_estate
from ringwall.analysis.scan import run_scan


def test_configmap_from_json(tmp_path: Path) -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "coredns", "namespace": "kube-system"},
          "data": {"Corefile": ".:53 {\n    errors\n    forward . /etc/resolv.conf\n}\n"}}
    (tmp_path / "cm.json").write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": [cm]}, indent=2))
    result = run_scan(load_estate([str(tmp_path)]))
    dns = next(f for f in result.findings if f.check.id == "RW-DNS-001")
    assert dns.locations[0].path.endswith("cm.json")
