"""The host reader: unit behaviour, and real rulesets read back from lab network namespaces."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from ringwall.analysis.estate import LoadOptions
from ringwall.analysis.hostfw_layer import host_ruleset_files
from ringwall.lab.netns import Lab, missing_requirements
from ringwall.layers.hostfw.api import decide, load_ruleset
from ringwall.live.estate import load_live_estate
from ringwall.live.host import (
    iptables_has_rules,
    nft_has_rules,
    parse_host_spec,
    read_local_host,
    read_saved_host,
    write_host,
)
from ringwall.live.snapshot import write_snapshot
from ringwall.live.source import LiveOptions, read_live
from ringwall.model.diagnostics import DiagnosticSink

HOSTFW_DATA = Path(__file__).resolve().parents[1] / "hostfw" / "data"

NFT_RULES = """table inet filter {
  chain input {
    type filter hook input priority 0; policy drop;
    iif "lo" accept
    ct state established,related accept
    ip saddr 192.0.2.0/24 tcp dport 22 accept
    tcp dport 443 accept
  }
}
"""

IPTABLES_RULES = """*filter
:INPUT DROP [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -s 198.51.100.0/24 -p tcp -m tcp --dport 22 -j ACCEPT
-A INPUT -p tcp -m multiport --dports 80,443 -j ACCEPT
COMMIT
"""

WG = """[Interface]
Address = 192.0.2.1/24
ListenPort = 51820
PrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=

[Peer]
PublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=
AllowedIPs = 192.0.2.2/32
"""


def test_has_rules_detection() -> None:
    assert not nft_has_rules('{"nftables": [{"metainfo": {"version": "1.0.9"}}]}')
    assert nft_has_rules('{"nftables": [{"metainfo": {}}, {"table": {"family": "inet", "name": "f"}}]}')
    assert not nft_has_rules("not json")
    assert not iptables_has_rules("*filter\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n")
    assert iptables_has_rules("*filter\n:INPUT DROP [0:0]\nCOMMIT\n")
    assert iptables_has_rules("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\nCOMMIT\n")


def test_parse_host_spec() -> None:
    assert parse_host_spec("local") == ("local", None)
    assert parse_host_spec("node-1=/dumps/n1") == ("node-1", Path("/dumps/n1"))
    for bad in ("node-1", "=x", "a=", "../x=y", "a/b=c"):
        with pytest.raises(ValueError):
            parse_host_spec(bad)


def test_saved_dumps_keep_their_paths_and_wireguard_keys_are_not_copied(tmp_path: Path) -> None:
    dump = tmp_path / "dump"
    (dump / "wireguard").mkdir(parents=True)
    (dump / "iptables.rules").write_text(IPTABLES_RULES)
    (dump / "wireguard" / "wg0.conf").write_text(WG)
    (dump / "wireguard" / "wg0.conf").chmod(0o600)
    host = read_saved_host("node-1", dump)
    assert [f.name for f in host.files] == ["iptables.rules", "wireguard/wg0.conf"]
    assert host.source_paths == [dump / "iptables.rules", dump / "wireguard" / "wg0.conf"]
    wg = host.files[1]
    expected = base64.b64encode(hashlib.sha256(b"yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=").digest()).decode()
    assert "yAnz5TF" not in wg.text and f"PrivateKey = {expected}" in wg.text
    assert wg.mode == 0o600
    written = write_host(host, tmp_path / "out")
    assert (written[1].stat().st_mode & 0o777) == 0o600
    missing = read_saved_host("x", tmp_path / "absent")
    assert missing.problems == [("error", f"--host x={tmp_path / 'absent'}: no such file or directory")]


def test_host_name_path_feeds_the_hostfw_layer(tmp_path: Path) -> None:
    estate, capture = load_live_estate(LiveOptions(hosts=(f"edge={HOSTFW_DATA / 'demo.rules'}",)), LoadOptions())
    assert host_ruleset_files(estate) == [HOSTFW_DATA / "demo.rules"]  # read in place, locations stay true
    write_snapshot(capture, tmp_path / "snap")
    assert (tmp_path / "snap" / "hosts" / "edge" / "demo.rules").read_text() == (HOSTFW_DATA / "demo.rules").read_text()


def test_duplicate_host_names_are_refused() -> None:
    with pytest.raises(ValueError, match="given twice"):
        read_live(LiveOptions(hosts=("a=/x", "a=/y")))


@pytest.fixture
def lab() -> Lab:
    missing = missing_requirements()
    if missing:
        pytest.skip("needs " + ", ".join(missing))
    with Lab(tag="live") as lab:
        yield lab


def _read(lab: Lab, tmp_path: Path, wg: Path | None = None):  # type: ignore[no-untyped-def]
    host = read_local_host("fw", prefix=("ip", "netns", "exec", lab.fw), sshd=False, wireguard_dir=wg)
    return host, write_host(host, tmp_path / "fw")


@pytest.mark.root
def test_reads_an_nft_ruleset_from_a_namespace(lab: Lab, tmp_path: Path) -> None:
    lab.load_nft(NFT_RULES)
    wg = tmp_path / "etc-wireguard"
    wg.mkdir()
    (wg / "wg0.conf").write_text(WG)
    host, files = _read(lab, tmp_path, wg)
    assert [f.name for f in host.files] == ["nftables.json", "wireguard/wg0.conf"]
    assert host.versions["nft"].startswith("nftables v")
    sink = DiagnosticSink()
    ruleset = load_ruleset([p for p in files if p.suffix == ".json"], sink)
    assert not sink.errors
    assert decide(ruleset, "192.0.2.100", "192.0.2.1", "tcp", 22).action == "accept"
    assert decide(ruleset, "203.0.113.5", "192.0.2.1", "tcp", 22).action == "drop"
    assert decide(ruleset, "203.0.113.5", "192.0.2.1", "tcp", 443).action == "accept"


@pytest.mark.root
def test_reads_iptables_nft_rules_from_both_tools(lab: Lab, tmp_path: Path) -> None:
    lab.load_iptables(IPTABLES_RULES)
    host, files = _read(lab, tmp_path)
    names = [f.name for f in host.files]
    assert "iptables.rules" in names
    sink = DiagnosticSink()
    ruleset = load_ruleset(files, sink)  # nft JSON (opaque xt) + iptables-save, as docs/hostfw.md advises
    assert not sink.errors
    assert decide(ruleset, "198.51.100.10", "198.51.100.1", "tcp", 22).action == "accept"
    assert decide(ruleset, "192.0.2.100", "192.0.2.1", "tcp", 22).action == "drop"
    assert decide(ruleset, "192.0.2.100", "192.0.2.1", "tcp", 80).action == "accept"


@pytest.mark.root
def test_empty_namespace_has_no_ruleset(lab: Lab, tmp_path: Path) -> None:
    host, files = _read(lab, tmp_path)
    assert files == []
    assert ("info", "no firewall rules are loaded (nft and iptables are empty)") in host.problems


@pytest.mark.root
def test_local_host_through_the_estate_and_snapshot(lab: Lab, tmp_path: Path) -> None:
    lab.load_nft(NFT_RULES)
    options = LiveOptions(hosts=("local",), host_prefix=("ip", "netns", "exec", lab.fw), sshd=False,
                          wireguard_dir=None)
    estate, capture = load_live_estate(options, LoadOptions(), workdir=tmp_path / "work")
    assert host_ruleset_files(estate) == [tmp_path / "work" / "hosts" / "local" / "nftables.json"]
    write_snapshot(capture, tmp_path / "snap")
    assert (tmp_path / "snap" / "hosts" / "local" / "nftables.json").is_file()
    from ringwall.analysis.estate import load_estate

    offline = load_estate([tmp_path / "snap"])
    assert [p.name for p in host_ruleset_files(offline)] == ["nftables.json"]


def test_host_names_are_checked_against_the_cluster_nodes(fake_api) -> None:  # type: ignore[no-untyped-def]
    _, kc = fake_api()
    rules = HOSTFW_DATA / "demo.rules"
    estate, _ = load_live_estate(LiveOptions(kubeconfig=str(kc), context="fake", timeout=5,
                                             hosts=(f"node-1={rules}", f"node-9={rules}")))
    unknown = [d for d in estate.sink.items if d.code == "live.host-unknown"]
    assert [str(d) for d in unknown] == [
        "host:node-9: warning: host node-9 is not a node of cluster fake (nodes: node-0, node-1, node-2) "
        "[live.host-unknown]"]
