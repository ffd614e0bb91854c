"""Findings point at the object that decides (issue 13.9), not at the first object read."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from ringwall.cli import app
from tests.conftest import REPO_ROOT

SHOP = str(REPO_ROOT / "examples" / "shop")

# A host that accepts SSH from anywhere in its filter table, and has a nat table whose INPUT chain
# is empty (policy ACCEPT) - as every iptables-save of a host that masquerades prints.
SSH_WITH_NAT = """\
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A POSTROUTING -o eth0 -j MASQUERADE
COMMIT
"""


def _findings(*args: str) -> list[dict]:  # type: ignore[type-arg]
    r = CliRunner().invoke(app, ["scan", *args, "--format", "json"])
    return json.loads(r.stdout)["findings"]


def _where(f: dict) -> list[str]:  # type: ignore[type-arg]
    return [f"{loc['path'].split('examples/shop/')[-1]}:{loc['line']}" for loc in f["locations"]]


def test_dns_finding_points_at_the_policy_that_isolates_egress() -> None:
    found = {f["subject"]: f for f in _findings(SHOP) if f["id"] == "RW-DEPTH-002"}
    # data/default-deny (no egress rule) isolates; allow-istiod-egress only opens istiod.
    assert _where(found["StatefulSet/data/postgres"])[0] == "policies/data.yaml:3"
    assert _where(found["StatefulSet/data/redis"])[0] == "policies/data.yaml:3"
    assert "egress-isolated by NetworkPolicy/data/default-deny," in found["StatefulSet/data/postgres"]["message"]


def test_layer_failure_points_at_what_blocks_the_most_exposed_destination() -> None:
    found = {f["subject"]: f for f in _findings(SHOP) if f["id"] == "RW-DEPTH-021"}
    netpol = found["layer/netpol"]
    assert "most exposed destinations: backend/api[Deployment]" in netpol["message"]
    # backend/default-deny and backend/api-ingress select backend/api; istio-system's policy does not.
    assert _where(netpol) == ["policies/backend.yaml:3", "policies/backend.yaml:34"]
    mesh = found["layer/mesh"]
    assert "most exposed destinations: monitoring/prometheus[Deployment]" in mesh["message"]
    assert _where(mesh) == ["mesh/security.yaml:8"]  # the mesh-wide STRICT PeerAuthentication


def test_ssh_open_to_all_points_at_the_filter_rule_not_the_nat_chain(tmp_path: Path) -> None:
    rules = tmp_path / "host.rules"
    rules.write_text(SSH_WITH_NAT)
    r = CliRunner().invoke(app, ["hostfw", "checks", str(rules), "--format", "json"])
    by_id = {f["id"]: f for f in json.loads(r.stdout)["findings"]}
    ssh = by_id["RW-HOSTFW-017"]
    assert [loc["line"] for loc in ssh["locations"]] == [7]
    assert "decided by -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT" in ssh["message"]
    # the same choice for every finding that cites an accepting step (RW-HOSTFW-004 here)
    assert [loc["line"] for loc in by_id["RW-HOSTFW-004"]["locations"]] == [7]
