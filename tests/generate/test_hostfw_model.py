"""Ringwall's own host firewall analysis reads the generated rules without a complaint, and finds the
nftables table and the iptables-restore files of a role equivalent packet by packet."""

from __future__ import annotations

import ipaddress
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from ringwall.analysis.intent import parse_ports
from ringwall.generate.base import port_ranges
from ringwall.generate.cli import generate, write
from ringwall.layers.hostfw.api import check_ruleset, load_ruleset
from ringwall.layers.hostfw.trace import make_packet, trace
from ringwall.model.diagnostics import DiagnosticSink
from ringwall.model.findings import Severity

from .helpers import INTENTS

ROLES = ("bastion", "control-plane", "worker")
SOURCES = ("192.0.2.7", "192.0.2.200", "198.51.100.10", "198.51.100.77", "203.0.113.5", "10.244.3.4", "10.200.0.2",
           "2001:db8:ad::1", "2001:db8:ff::1", "fd00::1")
PORTS = (("tcp", 22), ("tcp", 2222), ("tcp", 6443), ("tcp", 2379), ("tcp", 10250), ("tcp", 10255), ("tcp", 9100),
         ("tcp", 30080), ("tcp", 179), ("udp", 4789), ("udp", 51820), ("udp", 53), ("tcp", 53))


@pytest.fixture(scope="module")
def hosts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("shop")
    write(generate(INTENTS / "shop-full.yaml", ["nftables", "iptables"])[0], out)
    return out / "hosts"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("fmt", ["nft", "iptables"])
def test_own_checks_find_nothing_above_info(hosts: Path, role: str, fmt: str) -> None:
    files = [hosts / f"{role}.nft"] if fmt == "nft" else [hosts / f"{role}.rules.v4", hosts / f"{role}.rules.v6"]
    sink = DiagnosticSink()
    rs = load_ruleset(files, sink)
    assert sink.items == []
    serious = [f"{f.check.id} {f.message}" for f in check_ruleset(rs) if f.check.severity != Severity.INFO]
    assert serious == []


@pytest.mark.parametrize("role", ROLES)
def test_nft_and_iptables_agree(hosts: Path, role: str) -> None:
    nft = load_ruleset([hosts / f"{role}.nft"], DiagnosticSink())
    ipt = load_ruleset([hosts / f"{role}.rules.v4", hosts / f"{role}.rules.v6"], DiagnosticSink())
    for src in SOURCES:
        dst = "2001:db8::1" if ":" in src else "192.0.2.1"
        for proto, port in PORTS:
            pkt = make_packet(src, dst, proto, port, iif="eth0")
            a, b = trace(nft, pkt, "input").verdict, trace(ipt, pkt, "input").verdict
            assert a == b, f"{role}: {src} -> {proto}/{port}: nft {a}, iptables {b}"


# Random host intents: a custom role (no built-in profile) with random services, checked packet by packet
# against the intent itself as the oracle, in Ringwall's model of both nftables and iptables.
BLOCKS = ("192.0.2.0/25", "192.0.2.128/26", "198.51.100.0/24", "203.0.113.0/28", "2001:db8:1::/48", "2001:db8:2::/64")
PROBE_SOURCES = ("192.0.2.1", "192.0.2.130", "192.0.2.200", "198.51.100.9", "203.0.113.3", "203.0.113.99",
                 "2001:db8:1::5", "2001:db8:2::5", "2001:db8:3::5")

service = st.fixed_dictionaries({
    "ports": st.lists(st.one_of(
        st.builds(lambda p: f"TCP/{p}", st.integers(1, 65535)),
        st.builds(lambda p: f"UDP/{p}", st.integers(1, 65535)),
        st.builds(lambda a, n: f"TCP/{a}-{a + n}", st.integers(2, 60000), st.integers(1, 100))),
        min_size=1, max_size=3),
    "from": st.lists(st.sampled_from(BLOCKS), min_size=1, max_size=3, unique=True),
})


@settings(max_examples=40, deadline=None)
@given(services=st.lists(service, min_size=1, max_size=4), mgmt=st.lists(st.sampled_from(BLOCKS), min_size=1,
                                                                        max_size=2, unique=True))
def test_random_host_services_admit_exactly_the_intent(services: list[dict[str, object]], mgmt: list[str]) -> None:
    doc = {"apiVersion": "ringwall.dev/v1alpha1", "kind": "Intent", "metadata": {"name": "hosts"},
           "zones": [{"name": "admins", "cidrs": mgmt}], "flows": [],
           "hosts": {"management": "admins", "roles": {"edge": {"services": [
               {"name": f"s{i}", **s} for i, s in enumerate(services)]}}}}
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "intent.yaml"
        path.write_text(yaml.safe_dump(doc))
        out = Path(d) / "out"
        write(generate(path, ["nftables", "iptables"])[0], out)
        nft = load_ruleset([out / "hosts" / "edge.nft"], DiagnosticSink())
        ipt = load_ruleset([out / "hosts" / "edge.rules.v4", out / "hosts" / "edge.rules.v6"], DiagnosticSink())
        opened = [(parse_ports(s["ports"], "t"), [ipaddress.ip_network(c) for c in s["from"]]) for s in services]
        opened.append((parse_ports(["TCP/22"], "t"), [ipaddress.ip_network(c) for c in mgmt]))
        # both ends of every range and the ports just outside them
        ports = {(p, x) for conn, _ in opened for p, lo, hi in port_ranges(conn)
                 for x in (lo - 1, lo, hi, hi + 1) if 1 <= x <= 65535} | {("TCP", 1), ("UDP", 65535)}
        for src in PROBE_SOURCES:
            dst = "2001:db8::1" if ":" in src else "192.0.2.1"
            for proto, port in sorted(ports):
                want = any(conn.allows(proto, port) and any(ipaddress.ip_address(src) in n for n in nets)
                           for conn, nets in opened)
                pkt = make_packet(src, dst, proto.lower(), port, iif="eth0")
                for name, rs in (("nft", nft), ("iptables", ipt)):
                    got = trace(rs, pkt, "input").verdict == "accept"
                    assert got == want, f"{name}: {src} -> {proto}/{port}: model {got}, intent {want}"
