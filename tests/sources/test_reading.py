"""One reading discipline for every reader: what is refused, how, and that nothing hangs.

Commands run as subprocesses where a regression would hang (FIFOs, symlink loops) so that the
test fails on its timeout instead of blocking the suite.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ringwall.model.diagnostics import DiagnosticSink
from ringwall.sources import reading
from ringwall.sources.loader import load_paths
from tests.conftest import REPO_ROOT

HOSTS = REPO_ROOT / "examples" / "hosts"


def ringwall(*args: str, stdin: bytes | None = None, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ringwall.cli", *args], input=stdin.decode() if stdin is not None else None,
        capture_output=True, text=True, timeout=timeout, cwd=REPO_ROOT,
        env={**os.environ, "COLUMNS": "120"},
    )


GARBAGE = {
    "nul.yaml": (b"\x00" * 64, "binary content (NUL byte)", 1),
    "elf.yaml": (b"\x7fELF\x02\x01\x01" + b"\x00" * 32, "binary content (an ELF executable)", 1),
    "gz.yaml": (gzip.compress(b"kind: Namespace\n"), "binary content (gzip data)", 1),
    "png.yaml": (b"\x89PNG\r\n\x1a\n" + b"\x00" * 16, "binary content (a PNG image)", 1),
    "utf16.yaml": ("kind: Namespace\n".encode("utf-16"), "binary content (UTF-16 text", 1),
    "latin1.yaml": (b"kind: Namespace\nmetadata:\n  name: caf\xe9\n", "not UTF-8 text (byte 0xe9 at column 12)", 3),
    "late-nul.yaml": (b"kind: Namespace\n\nmetadata: {name: a\x00}\n", "binary content (NUL byte)", 3),
}


@pytest.mark.parametrize("name", sorted(GARBAGE))
def test_garbage_is_refused_with_file_and_line(tmp_path: Path, name: str) -> None:
    data, message, line = GARBAGE[name]
    f = tmp_path / name
    f.write_bytes(data)
    sink = DiagnosticSink()
    result = load_paths([f], sink)
    assert result.documents == [] and result.files == []
    assert [(d.level.value, d.location.line) for d in sink.items] == [("error", line)]
    assert message in sink.items[0].message
    assert str(sink.items[0]).startswith(f"{f}:{line}: error: ")


def test_the_rest_is_still_read_and_the_exit_code_is_2(tmp_path: Path) -> None:
    (tmp_path / "ns.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n")
    (tmp_path / "bad.yaml").write_bytes(b"\x89PNG\r\n\x1a\n")
    res = ringwall("scan", str(tmp_path), "--format", "json")
    assert res.returncode == 2
    assert res.stderr == f"{tmp_path / 'bad.yaml'}:1: error: binary content (a PNG image); not read [input.binary]\n"
    assert json.loads(res.stdout)["inventory"]["namespaces"] == 1


def test_stray_binary_in_a_folder_is_a_warning_but_named_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "ns.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n")
    (tmp_path / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    sink = DiagnosticSink()
    assert len(load_paths([tmp_path], sink).documents) == 1
    assert [d.level.value for d in sink.items] == ["warning"]
    sink = DiagnosticSink()
    load_paths([tmp_path / "logo.png"], sink)
    assert [d.level.value for d in sink.items] == ["error"]


def test_fifo_device_and_symlink_loops_do_not_hang(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.yaml")
    (tmp_path / "ns.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n")
    (tmp_path / "loop").symlink_to(tmp_path)  # a folder that contains itself
    (tmp_path / "a.yaml").symlink_to(tmp_path / "b.yaml")  # two links pointing at each other
    (tmp_path / "b.yaml").symlink_to(tmp_path / "a.yaml")
    res = ringwall("scan", str(tmp_path), "--format", "json", timeout=20)
    assert res.returncode == 2
    lines = res.stderr.splitlines()
    assert f"{tmp_path / 'pipe.yaml'}: error: a FIFO, not a regular file; not read [input.not-file]" in lines
    assert f"{tmp_path / 'a.yaml'}: error: cannot read: Too many levels of symbolic links [input.unreadable]" \
        in lines
    assert f"{tmp_path / 'loop'}: warning: folder reached again through a symlink; read once [input.loop]" in lines
    assert json.loads(res.stdout)["inventory"]["namespaces"] == 1
    dev = ringwall("hostfw", "checks", "/dev/zero", timeout=20)
    assert dev.returncode == 2
    assert dev.stderr == "/dev/zero: error: a device, not a regular file; not read [RWD-HOSTFW-001]\n"


def test_size_and_line_limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reading, "MAX_INPUT_BYTES", 1000)
    big = tmp_path / "big.yaml"
    big.write_text("a: b\n" * 400)
    sink = DiagnosticSink()
    assert reading.read_input(big, sink) is None
    assert str(sink.items[0]) == f"{big}: error: 2000 bytes exceeds the limit of 0 MiB; not read [input.too-large]"
    long_line = tmp_path / "wg0.conf"
    long_line.write_text("[Interface]\nPrivateKey = " + "A" * 2000 + "\n")
    monkeypatch.setattr(reading, "MAX_INPUT_BYTES", 10_000)
    sink = DiagnosticSink()
    assert reading.read_input(long_line, sink, line_limit=500) is None
    assert str(sink.items[0]) == \
        f"{long_line}:2: error: line of 2013 characters exceeds the limit of 500; not read [input.too-long]"


def test_ten_megabyte_line_is_refused_quickly(tmp_path: Path) -> None:
    rules = tmp_path / "host.rules"
    rules.write_text("*filter\n:INPUT DROP [0:0]\n-A INPUT -s " + "1" * 10_000_000 + " -j ACCEPT\nCOMMIT\n")
    res = ringwall("hostfw", "checks", str(rules), timeout=20)
    assert res.returncode == 2
    assert res.stderr.startswith(f"{rules}:3: error: line of 10000022 characters exceeds the limit of 1048576")


def test_scan_prints_every_counted_diagnostic_once() -> None:
    """#13.5: scan examples/hosts counted an error it never printed, and the JSON held it twice."""
    res = ringwall("scan", "examples/hosts")
    assert res.returncode == 2
    assert res.stderr == "examples/hosts/mistakes.rules:19: error: jump to undefined chain 'APP' [RWD-HOSTFW-017]\n"
    assert "Input diagnostics: 1 (printed on stderr)" in res.stdout
    data = json.loads(ringwall("scan", "examples/hosts", "--format", "json").stdout)
    assert [d["code"] for d in data["diagnostics"]] == ["RWD-HOSTFW-017"]


def test_hostfw_reads_stdin_and_every_subcommand_exits_2_on_input_errors() -> None:
    """#13.6: '-' everywhere; unreachable/services exited 0 where scan exits 2."""
    res = ringwall("hostfw", "checks", "-", stdin=(HOSTS / "bastion.nft").read_bytes())
    assert res.returncode == 0 and "RW-HOSTFW-025" in res.stdout and res.stderr == ""
    broken = str(HOSTS / "mistakes.rules")
    for command in (["unreachable"], ["services", "--port", "22"], ["checks"],
                    ["trace", "--src", "192.0.2.1", "--dst", "192.0.2.2", "--dport", "22"]):
        res = ringwall("hostfw", *command, broken)
        assert res.returncode == 2, command
        assert res.stderr.endswith("mistakes.rules:19: error: jump to undefined chain 'APP' [RWD-HOSTFW-017]\n")
        assert res.stdout  # the rest was analysed and written


def test_generate_missing_intent_and_stdin_are_input_errors(tmp_path: Path) -> None:
    """#13.6: generate /nonexistent.yaml and generate - were internal errors (exit 70)."""
    res = ringwall("generate", "/nonexistent.yaml")
    assert res.returncode == 2
    assert res.stderr == "/nonexistent.yaml: error: cannot read: No such file or directory\n"
    res = ringwall("generate", "-", stdin=(REPO_ROOT / "examples" / "intents" / "minimal.yaml").read_bytes())
    assert res.returncode == 0 and "==> " in res.stdout


def test_sshd_include_of_a_device_and_an_include_loop(tmp_path: Path) -> None:
    main = tmp_path / "sshd_config"
    (tmp_path / "loop.conf").write_text("Include loop.conf\n")
    main.write_text("Include /dev/zero\nInclude loop.conf\nPermitRootLogin no\n")
    res = ringwall("access", "sshd", str(main), timeout=20)
    assert res.returncode == 2
    assert res.stderr.splitlines() == [
        "/dev/zero: error: a device, not a regular file; not read [input.not-file]",
        f"{tmp_path / 'loop.conf'}:1: error: Include of {tmp_path / 'loop.conf'} loops back to a file that "
        "includes it [sshd.include-loop]",
    ]
