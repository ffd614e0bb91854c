"""``ringwall access|gateway|dns`` sub-commands: exit codes and JSON schemas."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from ringwall.layers.access.cli import app as access_app
from ringwall.layers.dns.cli import app as dns_app
from ringwall.layers.gateway.cli import app as gateway_app
from tests.conftest import REPO_ROOT

SHOP = REPO_ROOT / "examples" / "shop"
runner = CliRunner()


def test_wg_routes_shows_a_lost_prefix(tmp_path: Path) -> None:
    """allowedips.c: the identical prefix goes to the last peer; the first one reports it lost."""
    f = tmp_path / "wg0.conf"
    f.write_text("[Interface]\nPrivateKey = <k>\n[Peer]\nPublicKey = <a>\nAllowedIPs = 10.0.0.0/24\n"
                 "[Peer]\nPublicKey = <b>\nAllowedIPs = 10.0.0.0/24\n")
    res = runner.invoke(access_app, ["wg-routes", str(f)])
    assert res.exit_code == 0
    assert res.stdout.splitlines()[1:] == [
        "  peer <a> (line 3): routes nothing  LOST to a later peer: 10.0.0.0/24",
        "  peer <b> (line 6): routes 10.0.0.0/24",
    ]
    data = json.loads(runner.invoke(access_app, ["wg-routes", str(f), "--format", "json"]).stdout)
    assert data["schema"] == "ringwall.wg-routes/v1"
    assert runner.invoke(access_app, ["wg-routes", str(tmp_path / "nope.conf")]).exit_code == 2


def test_sshd_command_exit_codes(tmp_path: Path) -> None:
    res = runner.invoke(access_app, ["sshd", str(SHOP / "access" / "sshd_config"), "--format", "json"])
    data = json.loads(res.stdout)
    assert res.exit_code == 0 and data["valid"] and data["bastion"] and data["findings"] == []
    assert data["effective"]["passwordauthentication"]["value"] == "no"
    bad = tmp_path / "sshd_config"
    bad.write_text("PermitRootLogin maybe\n")
    res = runner.invoke(access_app, ["sshd", str(bad)])
    # A line sshd -t refuses is an input error: exit 2, the effective values are still printed.
    assert res.exit_code == 2 and "INVALID" in res.stdout
    assert res.stderr.startswith(f"{bad}:1: error: ")
    assert runner.invoke(access_app, ["sshd", str(bad), "--format", "xml"]).exit_code == 2


def test_gateway_routes_and_dns_corefile() -> None:
    res = runner.invoke(gateway_app, ["routes", str(SHOP), "--format", "json"])
    data = json.loads(res.stdout)
    assert res.exit_code == 0 and data["schema"] == "ringwall.gateway-routes/v1" and len(data["routes"]) == 4
    res = runner.invoke(dns_app, ["corefile", str(SHOP), "--format", "json"])
    data = json.loads(res.stdout)
    assert res.exit_code == 0 and data["schema"] == "ringwall.dns/v1"
    assert data["servers"][0]["forward"] == [{"from": ".", "to": ["/etc/resolv.conf"], "tls_servername": None}]
