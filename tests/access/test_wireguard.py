"""wg-quick reading, cryptokey routing and RW-WG checks (wg(8), wg-quick(8), allowedips.c)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from ringwall.layers.access.wireguard import describe_routes, read_wg_quick, valid_key
from ringwall.layers.access.wireguard_checks import check_wireguard
from ringwall.model.diagnostics import DiagnosticSink
from tests.conftest import REPO_ROOT

K1 = base64.b64encode(bytes([1] * 32)).decode()
K2 = base64.b64encode(bytes([2] * 32)).decode()
K3 = base64.b64encode(bytes([3] * 32)).decode()
PSK = base64.b64encode(bytes([9] * 32)).decode()


def _read(tmp_path: Path, text: str, mode: int = 0o600, name: str = "wg0.conf"):  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_text(text)
    path.chmod(mode)
    sink = DiagnosticSink()
    return read_wg_quick(path, sink), sink


# (name, config, expected reachable CIDRs per peer in order, rule)
ROUTING = [
    ("most specific prefix wins",
     f"[Interface]\nPrivateKey = {K1}\n[Peer]\nPublicKey = {K2}\nAllowedIPs = 10.0.0.0/8\n"
     f"[Peer]\nPublicKey = {K3}\nAllowedIPs = 10.1.0.0/16\n",
     [["10.0.0.0/16", "10.2.0.0/15", "10.4.0.0/14", "10.8.0.0/13", "10.16.0.0/12", "10.32.0.0/11", "10.64.0.0/10",
       "10.128.0.0/9"], ["10.1.0.0/16"]],
     "allowedips.c: longest-prefix match"),
    ("identical prefix: the last peer wins",
     f"[Interface]\nPrivateKey = {K1}\n[Peer]\nPublicKey = {K2}\nAllowedIPs = 10.9.0.0/24, 10.8.0.0/24\n"
     f"[Peer]\nPublicKey = {K3}\nAllowedIPs = 10.9.0.0/24\n",
     [["10.8.0.0/24"], ["10.9.0.0/24"]],
     "wg(8)/allowedips.c: re-adding a prefix re-points it to the new peer"),
    ("wg set in PostUp replaces the list",
     f"[Interface]\nPrivateKey = {K1}\nPostUp = wg set %i peer {K2} allowed-ips 192.168.7.0/24\n"
     f"[Peer]\nPublicKey = {K2}\nAllowedIPs = 10.0.0.0/24\n",
     [["192.168.7.0/24"]],
     "wg(8) set: allowed-ips replaces the peer's list"),
    ("wg set with + adds",
     f"[Interface]\nPrivateKey = {K1}\nPostUp = wg set wg0 peer {K2} allowed-ips +192.168.7.0/24\n"
     f"[Peer]\nPublicKey = {K2}\nAllowedIPs = 10.0.0.0/24\n",
     [["10.0.0.0/24", "192.168.7.0/24"]],
     "wg(8) set: + and - prefixes add and remove"),
]


@pytest.mark.parametrize(("name", "text", "expected", "rule"), ROUTING, ids=[r[0] for r in ROUTING])
def test_cryptokey_routing(tmp_path: Path, name: str, text: str, expected: list[list[str]], rule: str) -> None:
    cfg, sink = _read(tmp_path, text)
    assert not sink.errors
    got = [p["routes_to"] for p in describe_routes(cfg)]
    assert got == expected, rule


HUB = (f"[Interface]\nAddress = 10.44.0.1/24\nListenPort = 51820\nPrivateKey = {K1}\n"
       f"[Peer]\nPublicKey = {K2}\nPresharedKey = {PSK}\nAllowedIPs = 10.44.0.11/32\n")

# (name, config, mode, expected [(id, message)], rule)
CHECKS = [
    ("clean hub", HUB, 0o600, [], "wg-quick(8)"),
    ("world-readable key", HUB, 0o644,
     [("RW-WG-001", "{path} holds a PrivateKey and has mode 0644 (world-readable; want 0600)")],
     "wg-quick(8): warns when world accessible; catalogue wants 0600"),
    ("server peer with any source",
     HUB + f"[Peer]\nPublicKey = {K3}\nPresharedKey = {PSK}\nAllowedIPs = 0.0.0.0/0\n", 0o600,
     [("RW-WG-002", "peer {k3} (line 9) has AllowedIPs 0.0.0.0/0 on a server: it may send packets from any source "
                    "address")],
     "allowedips.c inbound check: the source must map to the peer"),
    ("duplicate and broad hub peer",
     HUB + f"[Peer]\nPublicKey = {K3}\nPresharedKey = {PSK}\nAllowedIPs = 10.44.0.11/32, 10.50.0.0/16\n", 0o600,
     [("RW-WG-003", "10.44.0.11/32 is listed by peer {k2} (line 5) and peer {k3} (line 9): only the later peer "
                    "gets it"),
      ("RW-WG-005", "road-warrior peer {k3} on a hub has AllowedIPs 10.50.0.0/16")],
     "allowedips.c: identical prefix goes to the last peer"),
    ("client full tunnel leaks",
     f"[Interface]\nPrivateKey = {K1}\nAddress = 10.44.0.11/32\n[Peer]\nPublicKey = {K2}\nPresharedKey = {PSK}\n"
     "Endpoint = vpn.example.com:51820\nAllowedIPs = 0.0.0.0/0\nPersistentKeepalive = 5\n",
     0o600,
     [("RW-WG-006", "full tunnel through {k2} routes 0.0.0.0/0 but not ::/0: IPv6 traffic leaks outside the tunnel"),
      ("RW-WG-006", "full tunnel through {k2} without DNS =: queries go to the local resolver outside the tunnel"),
      ("RW-WG-008", "peer {k2} has PersistentKeepalive 5 (< 10 s)")],
     "wg-quick(8) DNS; catalogue RW-WG-006/008"),
    ("hooks, save config, no psk, bad key",
     f"[Interface]\nPrivateKey = {K1}\nSaveConfig = true\nPostUp = iptables -A FORWARD -i %i -j ACCEPT\n"
     "[Peer]\nPublicKey = notakey\nAllowedIPs = 10.0.0.2/32\n", 0o600,
     [("RW-WG-007", "peer notakey has no PresharedKey"),
      ("RW-WG-009", "postup runs as root: iptables -A FORWARD -i %i -j ACCEPT"),
      ("RW-WG-010", "SaveConfig = true"),
      ("RW-WG-011", "PublicKey of peer at line 5 is not base64 of 32 bytes")],
     "wg-quick(8) PostUp/SaveConfig; wg(8) keys are base64 of 32 bytes"),
]


@pytest.mark.parametrize(("name", "text", "mode", "expected", "rule"), CHECKS, ids=[c[0] for c in CHECKS])
def test_checks(tmp_path: Path, name: str, text: str, mode: int, expected: list[tuple[str, str]], rule: str) -> None:
    cfg, sink = _read(tmp_path, text, mode)
    assert not sink.errors, [str(d) for d in sink.items]
    got = sorted((f.check.id, f.message) for f in check_wireguard([cfg]))
    fmt = {"path": cfg.path, "k2": K2[:10] + "…", "k3": K3[:10] + "…"}
    assert got == sorted((i, m.format(**fmt)) for i, m in expected), rule


def test_shared_private_key_across_hosts(tmp_path: Path) -> None:
    a, _ = _read(tmp_path, HUB, name="wg0.conf")
    b, _ = _read(tmp_path, HUB, name="wg1.conf")
    got = [f.message for f in check_wireguard([a, b]) if f.check.id == "RW-WG-001"]
    assert got == [f"the same PrivateKey is used by 2 interfaces: {a.path}, {b.path}"]


def test_lenient_reader_one_diagnostic_per_bad_line(tmp_path: Path) -> None:
    text = ("Address = 1.2.3.4/32\n[Interface]\nPrivateKey = x\nListenPort = nope\nBogus = 1\n[Peer]\n"
            "AllowedIPs = 10.0.0.0/33, 10.0.1.0/24\nnot a pair\n[Weird]\n")
    cfg, sink = _read(tmp_path, text)
    got = [(d.code, d.location.line) for d in sink.items]
    assert got == [("wg.outside-section", 1), ("wg.bad-value", 4), ("wg.unknown-key", 5), ("wg.bad-value", 7),
                   ("wg.syntax", 8), ("wg.unknown-section", 9), ("wg.peer-without-key", 6)]
    assert [p.text for p in cfg.peers[0].allowed] == ["10.0.1.0/24"]


def test_shop_bastion_is_clean_and_placeholders_are_not_judged() -> None:
    path = REPO_ROOT / "examples" / "shop" / "access" / "wg0.conf"
    sink = DiagnosticSink()
    cfg = read_wg_quick(path, sink)
    assert not sink.items and cfg.private_key == "<bastion-private-key>"
    assert check_wireguard([cfg]) == []
    assert [p["routes_to"] for p in describe_routes(cfg)] == [["10.44.0.11/32"], ["10.44.0.12/32"]]


@pytest.mark.parametrize(("key", "ok"), [(K1, True), (K1[:-2] + "==", False), ("<x>", False), ("a" * 44, False)])
def test_key_format(key: str, ok: bool) -> None:
    """wg(8): keys are 32 bytes, base64 (44 characters)."""
    assert valid_key(key) is ok


def test_wg_set_script_changes_the_named_interface(tmp_path: Path) -> None:
    """wg(8) set: a runtime script re-points a prefix; the scan applies it to the interface it names."""
    from ringwall.layers.access.api import read_inputs

    (tmp_path / "wg0.conf").write_text(f"[Interface]\nPrivateKey = {K1}\n[Peer]\nPublicKey = {K2}\n"
                                       f"AllowedIPs = 10.0.0.0/24\n[Peer]\nPublicKey = {K3}\n"
                                       "AllowedIPs = 10.0.1.0/24\n")
    (tmp_path / "rotate.sh").write_text(f"#!/bin/sh\nwg set wg0 peer {K3} allowed-ips 10.0.1.0/24,10.0.0.0/24\n")
    sink = DiagnosticSink()
    inputs = read_inputs(sorted(tmp_path.iterdir()), sink)
    assert [p["routes_to"] for p in describe_routes(inputs.wireguard[0])] == [[], ["10.0.0.0/23"]]
    assert [f.check.id for f in check_wireguard(inputs.wireguard) if f.check.id == "RW-WG-003"] == ["RW-WG-003"]
