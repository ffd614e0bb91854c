"""Kernel: the generated host rules, loaded in a lab namespace, admit exactly the intended packets.

The expectations below are written from the lab intent by hand (not computed by the generator), and
every port the rules mention is probed from every lab client, plus ports they must not open.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from pathlib import Path

import pytest

from ringwall.generate.cli import generate
from ringwall.lab.netns import CLIENT_ADDRS, FW_ADDRS, Lab, missing_requirements

pytestmark = pytest.mark.root

INTENT = Path(__file__).with_name("data") / "lab.yaml"
NODES, ADMINS, PARTNER = "192.0.2.0/25", "198.51.100.0/26", "203.0.113.0/26"
EVERYONE = "0.0.0.0/0"
EXPECTED: dict[str, dict[tuple[str, int], tuple[str, ...]]] = {
    "control-plane": {("tcp", 22): (ADMINS,), ("tcp", 6443): (NODES, ADMINS), ("tcp", 2379): (NODES,),
                      ("tcp", 2380): (NODES,), ("tcp", 10250): (NODES,), ("udp", 4789): (NODES,),
                      ("tcp", 179): (NODES,)},
    "worker": {("tcp", 22): (ADMINS,), ("tcp", 10250): (NODES,), ("udp", 4789): (NODES,), ("tcp", 179): (NODES,),
               ("tcp", 30080): (PARTNER,), ("tcp", 9100): (ADMINS,)},
    "bastion": {("tcp", 22): (ADMINS,), ("udp", 51820): (PARTNER,)},
}
NEVER = [("tcp", 23), ("tcp", 80), ("tcp", 443), ("tcp", 2222), ("tcp", 10255), ("tcp", 30081), ("udp", 53),
         ("udp", 4790), ("udp", 51821)]
PROBED = sorted({k for role in EXPECTED.values() for k in role} | set(NEVER))


def _expected(role: str, src: str, proto: str, port: int) -> bool:
    nets = EXPECTED[role].get((proto, port), ())
    return any(ipaddress.ip_address(src) in ipaddress.ip_network(n) for n in nets)


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    if missing_requirements():
        pytest.skip("the lab needs " + ", ".join(missing_requirements()))
    with Lab(tag="gen") as lab:
        lab.agent("fw", "listen", ",".join(FW_ADDRS), *[f"{p}:{n}" for p, n in PROBED])
        yield lab


@pytest.mark.parametrize("fmt", ["nft", "rules.v4"])
@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_generated_rules_admit_exactly_the_intent(lab: Lab, role: str, fmt: str) -> None:
    files = {f.path: f.content for f in generate(INTENT, ["nftables", "iptables"])[0]}
    text = files[f"hosts/{role}.{fmt}"]
    lab.flush()
    if fmt == "nft":
        lab.load_nft(text)
    else:
        lab.load_iptables(text, 4)
    probes = [{"proto": p, "src": s, "dst": FW_ADDRS[0], "dport": n} for s in CLIENT_ADDRS for p, n in PROBED]
    client = lab.agent("client", "connect")
    try:
        observed = client.ask({"probes": probes, "timeout": 0.7})["results"]
    finally:
        client.stop()
        lab.agents.remove(client)
    wrong = []
    for p, obs in zip(probes, observed, strict=True):
        got = obs in ("connected", "reply")
        want = _expected(role, p["src"], p["proto"], p["dport"])
        if got != want:
            wrong.append(f"{p['src']} -> {p['proto']}/{p['dport']}: kernel {obs}, intent {'admit' if want else 'drop'}")
    assert wrong == []


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_lab_model_agrees_with_kernel(role: str, tmp_path: Path) -> None:
    """``ringwall lab`` on the generated file: Ringwall's model predicts every kernel verdict."""
    if missing_requirements():
        pytest.skip("the lab needs " + ", ".join(missing_requirements()))
    from ringwall.lab.runner import run_lab

    files = {f.path: f.content for f in generate(INTENT, ["nftables"])[0]}
    path = tmp_path / f"{role}.nft"
    path.write_text(files[f"hosts/{role}.nft"])
    results, _ = run_lab([path], timeout=0.7)
    assert results and [r for r in results if not r.agrees] == []
