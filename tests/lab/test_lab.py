"""The kernel as the oracle: real probes in network namespaces against the model's verdicts."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ringwall.lab import netns
from ringwall.lab.cli import lab_command
from ringwall.lab.differential import Differential
from ringwall.lab.netns import Lab, leftovers
from ringwall.lab.randgen import gen_packets, gen_ruleset

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "hosts"
DATA = Path(__file__).resolve().parents[1] / "hostfw" / "data"

app = typer.Typer()
app.command()(lab_command)
runner = CliRunner()


def test_without_root_explains_and_exits_2(monkeypatch):
    monkeypatch.setattr(netns.os, "geteuid", lambda: 1000)
    res = runner.invoke(app, [str(EXAMPLES / "bastion.nft")])
    assert res.exit_code == 2
    assert res.stderr.startswith("ringwall: error: the lab creates network namespaces")
    assert "root (or CAP_NET_ADMIN)" in res.stderr


@pytest.mark.root
@pytest.mark.parametrize("name", ["bastion.nft", "k8s-worker.rules"])
def test_examples_agree_with_the_kernel(lab_ready, name):
    res = runner.invoke(app, [str(EXAMPLES / name), "--format", "json", "--timeout", "0.6"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["disagreements"] == 0
    by = {(p["src"], p["proto"], p["dport"]): p for p in out["probes"]}
    if name == "bastion.nft":
        assert by[("203.0.113.5", "tcp", 22)]["observed"] == "connected"
        assert by[("198.51.100.10", "tcp", 22)]["observed"] == "timeout"
        assert by[("198.51.100.10", "udp", 51820)]["observed"] == "reply"
    else:
        assert by[("198.51.100.10", "tcp", 22)]["observed"] == "connected"
        assert by[("192.0.2.100", "tcp", 10250)]["observed"] == "connected"
        assert by[("203.0.113.5", "tcp", 10250)]["observed"] == "timeout"
    pid = os.getpid()
    assert f"ringwall-{pid}-fw" not in leftovers() and f"ringwall-{pid}-cl" not in leftovers()


@pytest.mark.root
@pytest.mark.parametrize("name", ["demo.rules", "demo.nft", "demo.json"])
def test_demo_reject_is_refused(lab_ready, name):
    res = runner.invoke(app, [str(DATA / name), "--format", "json", "--timeout", "0.6"])
    assert res.exit_code == 0, res.output
    by = {(p["src"], p["proto"], p["dport"]): p for p in json.loads(res.stdout)["probes"]}
    assert by[("192.0.2.200", "tcp", 22)]["observed"] == "refused"  # reject with tcp-reset
    assert by[("192.0.2.100", "tcp", 22)]["observed"] == "connected"
    assert by[("192.0.2.200", "tcp", 8080)]["observed"] == "unreachable"  # icmp admin-prohibited


@pytest.mark.root
def test_scripts_are_never_executed(lab_ready, tmp_path):
    script = tmp_path / "fw.sh"
    script.write_text("iptables -A INPUT -j DROP\n")
    res = runner.invoke(app, [str(script)])
    assert res.exit_code == 2
    assert res.stderr == (f"ringwall: error: {script}: the lab loads iptables-save, nft text or nft JSON "
                          "(iptables-script is not loaded: scripts are never executed)\n")


@pytest.mark.root
def test_cleanup_removes_leftovers_but_not_running_labs(lab_ready):
    netns.run("ip", "netns", "add", "ringwall-leftover-test")
    netns.run("ip", "netns", "add", "ringwall-999999999-dead-fw")
    with Lab(tag="alive") as lab:
        res = runner.invoke(app, ["--cleanup"])
        assert res.exit_code == 0
        assert res.stdout.startswith("removed ")
        removed = res.stdout.split(": ", 1)[1].strip().split(", ")
        assert {"ringwall-999999999-dead-fw", "ringwall-leftover-test"} <= set(removed)
        assert not {lab.fw, lab.client} & set(removed)
        assert {lab.fw, lab.client} <= set(leftovers())
    assert "ringwall-leftover-test" not in leftovers()


@pytest.mark.root
def test_lab_removes_namespaces_on_error(lab_ready):
    names: list[str] = []
    with pytest.raises(RuntimeError), Lab(tag="err1") as lab:
        names = [lab.fw, lab.client]
        assert set(names) <= set(leftovers())
        raise RuntimeError("boom")
    assert names == [f"ringwall-{os.getpid()}-err1-fw", f"ringwall-{os.getpid()}-err1-cl"]
    assert not set(names) & set(leftovers())


@pytest.fixture(scope="module")
def differential():
    if netns.missing_requirements():
        pytest.skip("lab needs root and tools")
    with Lab(tag="hyp") as lab:
        yield Differential(lab)


@pytest.mark.root
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32), fmt=st.sampled_from(["nft", "iptables"]))
def test_differential_model_equals_kernel(differential, seed, fmt):
    """Random rulesets (chains, jumps, gotos, returns, ranges, sets, states, interfaces) x 16 packets."""
    rnd = random.Random(seed)
    spec = gen_ruleset(rnd, with_extra=fmt == "nft")
    probes = gen_packets(rnd, 16, [seed % 50_000])
    assert differential.check(spec, fmt, probes) == []


@pytest.mark.root
def test_ruleset_refused_by_the_kernel_exits_2(lab_ready, tmp_path):
    bad = tmp_path / "condensed.nft"
    bad.write_text("table inet t {\n  chain c { type filter hook input priority 0; policy drop; tcp dport 22 accept }\n"
                   "}\n")
    res = runner.invoke(app, [str(bad)])
    assert res.exit_code == 2
    assert res.stderr.startswith("ringwall: error: ip netns exec ringwall-")
    assert "syntax error" in res.stderr
    assert not {f"ringwall-{os.getpid()}-fw", f"ringwall-{os.getpid()}-cl"} & set(leftovers())
