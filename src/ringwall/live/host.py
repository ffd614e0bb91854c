"""Read a running host: its firewall ruleset, the effective sshd configuration, WireGuard configs.

Only commands that print state are run (``nft -j list ruleset``, ``iptables-save``,
``ip6tables-save``, ``sshd -T``) and only files are read; nothing is ever loaded, flushed or
restarted. The output is kept as the text the existing readers already understand, so a host
read live and a host dump saved by hand go through the same parsers.

WireGuard private keys are not copied: each ``PrivateKey`` is replaced by a SHA-256 of it (still
32 bytes of base64, so configs stay valid and reuse of one key in two places is still visible).
A snapshot folder is something people attach to tickets; a live key must not travel with it.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from ringwall.sources.reading import read_input_or_reason, walk_inputs

COMMAND_TIMEOUT = 30.0


@dataclass
class HostFile:
    """One file of a host read: its name inside the host's folder, its text and file mode."""

    name: str
    text: str
    mode: int = 0o644
    dir_mode: int | None = None
    """Mode of the folder it came from (WireGuard checks look at both)."""


@dataclass
class HostRead:
    """What was read from one host; ``problems`` are (level, message) for the diagnostics."""

    name: str
    files: list[HostFile] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)
    problems: list[tuple[str, str]] = field(default_factory=list)
    origin: str = "local"
    source_paths: list[Path] = field(default_factory=list)
    """For saved dumps: the original files, which a live (non-snapshot) command reads in place."""


def _run(prefix: Sequence[str], *cmd: str) -> tuple[int, str, str]:
    """Run a read-only command (optionally inside ``prefix``, e.g. ``ip netns exec NS``)."""
    argv = [*prefix, *cmd]
    if shutil.which(argv[0]) is None:
        return 127, "", f"{argv[0]}: command not found"
    try:
        res = subprocess.run(argv, capture_output=True, text=True, timeout=COMMAND_TIMEOUT, check=False,
                             env={**os.environ, "LC_ALL": "C"})
    except subprocess.TimeoutExpired:
        return 124, "", f"{' '.join(cmd)}: timed out after {COMMAND_TIMEOUT:.0f}s"
    except OSError as exc:
        return 126, "", f"{' '.join(cmd)}: {exc}"
    return res.returncode, res.stdout, res.stderr


def nft_has_rules(text: str) -> bool:
    """True when ``nft -j list ruleset`` shows any table (an empty ruleset only has metainfo)."""
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError:
        return False
    items = data.get("nftables") if isinstance(data, dict) else None
    return any(isinstance(i, dict) and "metainfo" not in i for i in items or ())


_POLICY = re.compile(r"^:(\S+) (ACCEPT|DROP|REJECT|QUEUE|RETURN)\b")


def iptables_has_rules(text: str) -> bool:
    """True when an ``iptables-save`` dump holds a rule or a chain policy other than ACCEPT."""
    for line in text.splitlines():
        if line.startswith("-A ") or line.startswith("-I "):
            return True
        m = _POLICY.match(line)
        if m and m.group(2) != "ACCEPT":
            return True
    return False


def _version(prefix: Sequence[str], *cmd: str) -> str:
    rc, out, err = _run(prefix, *cmd)
    text = (out or err).strip().splitlines()
    return text[0] if rc == 0 and text else ""


def _redact_wireguard(text: str) -> str:
    def sub(m: re.Match[str]) -> str:
        digest = hashlib.sha256(m.group(2).strip().encode()).digest()
        return f"{m.group(1)}{base64.b64encode(digest).decode()}  # replaced by ringwall (SHA-256 of the key)"

    return re.sub(r"^(\s*PrivateKey\s*=\s*)(\S+)[^\n]*$", sub, text, flags=re.MULTILINE | re.IGNORECASE)


def read_local_host(
    name: str = "local",
    *,
    prefix: Sequence[str] = (),
    sshd: bool = True,
    wireguard_dir: Path | None = Path("/etc/wireguard"),
) -> HostRead:
    """Read this machine (or, with ``prefix``, a network namespace of it) without changing anything.

    The ruleset comes from ``nft -j list ruleset`` and from ``iptables-save``/``ip6tables-save``,
    each kept only when it holds rules: a host using iptables-nft shows its rules in both, and
    the hostfw reader needs the iptables dump to see inside nft's opaque ``xt`` expressions.
    """
    host = HostRead(name, origin="local" if not prefix else " ".join(prefix))
    rc, out, err = _run(prefix, "nft", "-j", "list", "ruleset")
    if rc == 0:
        host.versions["nft"] = _version(prefix, "nft", "--version")
        if nft_has_rules(out):
            host.files.append(HostFile("nftables.json", out))
    else:
        host.problems.append(("info" if rc == 127 else "warning", f"nft -j list ruleset: {err.strip() or rc}"))
    for tool, fname in (("iptables-save", "iptables.rules"), ("ip6tables-save", "ip6tables.rules")):
        rc, out, err = _run(prefix, tool)
        if rc != 0:
            host.problems.append(("info" if rc == 127 else "warning", f"{tool}: {err.strip() or rc}"))
            continue
        host.versions.setdefault("iptables", _version(prefix, "iptables", "--version"))
        if iptables_has_rules(out):
            host.files.append(HostFile(fname, out))
    if not any(f.name.endswith((".json", ".rules")) for f in host.files):
        host.problems.append(("info", "no firewall rules are loaded (nft and iptables are empty)"))
    if sshd:
        rc, out, err = _run(prefix, "sshd", "-T")
        if rc == 0 and out.strip():
            host.files.append(HostFile("sshd_config", out, 0o600))
            host.versions["sshd"] = _sshd_version(err)
        elif rc == 127:
            host.problems.append(("info", "sshd is not installed; no sshd configuration read"))
        else:
            host.problems.append(("warning", f"sshd -T failed: {(err.strip() or str(rc)).splitlines()[0]}"))
    if wireguard_dir is not None and wireguard_dir.is_dir():
        try:
            dir_mode = wireguard_dir.stat().st_mode & 0o777
            confs = sorted(wireguard_dir.glob("*.conf"))
        except OSError as exc:
            host.problems.append(("warning", f"cannot read {wireguard_dir}: {exc}"))
            confs = []
            dir_mode = None
        for conf in confs:
            try:
                text = conf.read_text(encoding="utf-8", errors="replace")
                mode = conf.stat().st_mode & 0o777
            except OSError as exc:
                host.problems.append(("warning", f"cannot read {conf}: {exc}"))
                continue
            host.files.append(HostFile(f"wireguard/{conf.name}", _redact_wireguard(text), mode, dir_mode))
    return host


def _sshd_version(stderr: str) -> str:
    m = re.search(r"OpenSSH_[\w.]+", stderr)
    return m.group(0) if m else ""


def read_saved_host(name: str, path: Path) -> HostRead:
    """``--host NAME=PATH``: dumps saved earlier (a file, or a folder of them), taken as they are."""
    host = HostRead(name, origin=str(path))
    if not path.exists():
        host.problems.append(("error", f"--host {name}={path}: no such file or directory"))
        return host
    files = sorted(walk_inputs(path)) if path.is_dir() else [path]
    for f in files:
        rel = f.relative_to(path).as_posix() if path.is_dir() else f.name
        text, reason = read_input_or_reason(f)
        if text is None:
            host.problems.append(("error", reason))
            continue
        try:
            mode = f.stat().st_mode & 0o777
        except OSError as exc:
            host.problems.append(("error", f"cannot read {f}: {exc}"))
            continue
        if f.suffix == ".conf" and re.search(r"^\s*\[Interface\]", text, re.MULTILINE | re.IGNORECASE):
            text = _redact_wireguard(text)
        host.files.append(HostFile(rel, text, mode, f.parent.stat().st_mode & 0o777))
        host.source_paths.append(f)
    return host


def parse_host_spec(spec: str) -> tuple[str, Path | None]:
    """``local`` -> ("local", None); ``NAME=PATH`` -> (NAME, PATH). Raises ValueError otherwise."""
    if spec == "local":
        return "local", None
    name, sep, path = spec.partition("=")
    if not sep or not name or not path:
        raise ValueError(f"--host {spec!r}: write 'local' or NAME=PATH")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name) or name in {".", ".."}:
        raise ValueError(f"--host {spec!r}: the host name may only hold letters, digits, '.', '_' and '-'")
    return name, Path(path)


def write_host(host: HostRead, folder: Path) -> list[Path]:
    """Write a host's files under ``folder`` (keeping modes); return the paths written."""
    out = []
    for f in host.files:
        target = folder / f.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(f.text, encoding="utf-8")
        os.chmod(target, f.mode)
        if f.dir_mode is not None and target.parent != folder:
            os.chmod(target.parent, f.dir_mode | 0o700)  # we must still be able to read it back
        out.append(target)
    return out
