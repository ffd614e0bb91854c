"""``ringwall hostfw …`` commands: outputs and exact exit codes."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from ringwall.layers.hostfw.cli import app

from .conftest import DATA, EXAMPLES

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def test_trace_json():
    res = run("trace", DATA / "demo.nft", "--src", "192.0.2.100", "--dst", "192.0.2.1", "--dport", "22",
              "--format", "json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["verdict"] == "accept" and out["exact"] is True
    assert [(r["line"], r["event"]) for r in out["rules"]] == [(13, "match")]
    assert out["rules"][0]["file"].endswith("demo.nft")


def test_trace_text_and_bad_address():
    res = run("trace", DATA / "demo.rules", "--src", "192.0.2.200", "--dst", "192.0.2.1", "--dport", "80")
    assert res.exit_code == 0
    assert res.stdout.splitlines()[-1] == "verdict: reject"
    bad = run("trace", DATA / "demo.rules", "--src", "192.0.2.500", "--dst", "192.0.2.1")
    assert bad.exit_code == 2
    assert bad.stderr == "ringwall: error: '192.0.2.500' does not appear to be an IPv4 or IPv6 address\n"


def test_services_json_and_md():
    res = run("services", DATA / "demo.nft", "--port", "22", "--format", "json")
    assert res.exit_code == 0
    m = json.loads(res.stdout)["matrices"][0]
    assert [c["cidrs"] for c in m["classes"]][1] == ["192.0.2.0/25", "198.51.100.10"]
    md = run("services", DATA / "demo.nft", "--port", "22", "--format", "md")
    assert "| b | 192.0.2.0/25, 198.51.100.10 | a, b |" in md.stdout


def test_checks_exit_codes():
    assert run("checks", EXAMPLES / "bastion.nft").exit_code == 0
    assert run("checks", EXAMPLES / "bastion.nft", "--fail-on", "info").exit_code == 1
    # mistakes.rules jumps to a chain it never defines: iptables-restore refuses the file, so it is an
    # input error (exit 2) even though the findings are still computed and written.
    res = run("checks", EXAMPLES / "mistakes.rules", "--format", "json")
    assert res.exit_code == 2
    assert res.stderr == "examples/hosts/mistakes.rules:19: error: jump to undefined chain 'APP' [RWD-HOSTFW-017]\n" \
        or res.stderr.endswith("mistakes.rules:19: error: jump to undefined chain 'APP' [RWD-HOSTFW-017]\n")
    assert json.loads(res.stdout)["findings"][0]["id"] == "RW-HOSTFW-002"
    assert run("checks", EXAMPLES / "mistakes.rules", "--fail-on", "bogus").exit_code == 2


def test_unreadable_and_unrecognised_files(tmp_path):
    res = run("checks", tmp_path / "missing.rules")
    assert res.exit_code == 2
    assert res.stderr == \
        f"{tmp_path / 'missing.rules'}: error: cannot read: No such file or directory [RWD-HOSTFW-001]\n"
    junk = tmp_path / "junk.txt"
    junk.write_text("hello world\n")
    res = run("unreachable", junk)
    assert res.exit_code == 2
    assert res.stderr.strip() == f"{junk}:1: error: not a recognised ruleset (iptables-save, iptables or " \
        "nft script, nft text or nft JSON) [RWD-HOSTFW-004]"


def test_unreachable_search_compare():
    res = run("unreachable", EXAMPLES / "mistakes.rules", "--format", "json")
    assert [u["location"]["line"] for u in json.loads(res.stdout)["unreachable"]] == [12, 15, 18, 22]
    s = run("search", EXAMPLES / "bastion.nft", "--src-not", "203.0.113.0/26", "--src-not", "198.51.100.7/32",
            "--proto", "tcp", "--dport", "22", "--family", "4")
    assert s.exit_code == 0 and s.stdout.startswith("No packet matching the constraints is accepted")
    c = run("compare", DATA / "demo.nft", DATA / "demo.json", "--format", "json")
    assert c.exit_code == 0 and json.loads(c.stdout)["equal"] is True


def test_input_format_forced(tmp_path):
    res = run("checks", DATA / "demo.nft", "--input-format", "iptables-save")
    assert res.exit_code == 2  # every line refused: an input error; the findings are still written
    assert res.stdout.startswith(f"{DATA / 'demo.nft'}:1: high: RW-HOSTFW-001 NoHostFirewall")
    assert "RWD-HOSTFW-018" in res.stderr  # nft text read as iptables-save: every line is reported
    assert run("checks", DATA / "demo.nft", "--input-format", "pf").exit_code == 2
