"""The lab: a firewall namespace and a client namespace joined by a veth pair, TEST-NET only.

Names start with ``ringwall-`` so that ``ringwall lab --cleanup`` can find leftovers. Every
namespace is removed on exit, on error and on SIGINT/SIGTERM (hostfw-semantics §7). Only the
documentation prefixes 192.0.2.0/24, 198.51.100.0/24 and 203.0.113.0/24 are ever configured, and
packets go only to the firewall namespace's addresses.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

PREFIX = "ringwall-"
FW_ADDRS = ("192.0.2.1", "198.51.100.1", "203.0.113.1")
CLIENT_ADDRS = ("192.0.2.100", "192.0.2.200", "198.51.100.10", "198.51.100.77", "203.0.113.5", "203.0.113.66")
AGENT = Path(__file__).with_name("agent.py")
TOOLS = ("ip", "nft", "iptables-restore")


class LabError(RuntimeError):
    """The lab cannot run (not root, a tool missing, the kernel refused a command)."""


def missing_requirements() -> list[str]:
    """What the lab needs and does not have: root and the ip/nft/iptables tools."""
    out = []
    if os.geteuid() != 0:
        out.append("root (or CAP_NET_ADMIN) to create network namespaces")
    out.extend(f"the '{t}' command" for t in TOOLS if shutil.which(t) is None)
    return out


def run(*cmd: str, check: bool = True, input_text: str | None = None) -> subprocess.CompletedProcess[str]:
    res = subprocess.run(cmd, capture_output=True, text=True, input=input_text, check=False)
    if check and res.returncode != 0:
        raise LabError(f"{' '.join(cmd)}: {res.stderr.strip() or res.stdout.strip()}")
    return res


def leftovers() -> list[str]:
    res = run("ip", "netns", "list", check=False)
    return [line.split()[0] for line in res.stdout.splitlines() if line.startswith(PREFIX)]


def _owner_alive(ns: str) -> bool:
    """Namespaces are named ``ringwall-<pid>-…``: a lab whose process still runs is not a leftover."""
    pid = ns[len(PREFIX):].split("-")[0]
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def cleanup_leftovers() -> list[str]:
    """Remove ``ringwall-*`` namespaces whose lab process is gone (never those of a running lab)."""
    removed = []
    for ns in leftovers():
        if _owner_alive(ns):
            continue
        run("ip", "netns", "del", ns, check=False)
        removed.append(ns)
    return removed


class Agent:
    """A probe agent process inside a namespace, spoken to in JSON lines."""

    def __init__(self, ns: str, *args: str) -> None:
        self.proc = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, str(AGENT), *args],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, bufsize=1)
        first = self.read()
        if not first.get("ready"):
            raise LabError(f"agent {args[0]} did not start in {ns}")

    def read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            err = self.proc.stderr.read() if self.proc.stderr else ""
            raise LabError(f"agent stopped: {err.strip()[-300:]}")
        return json.loads(line)  # type: ignore[no-any-return]

    def ask(self, msg: str | dict[str, Any]) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write((msg if isinstance(msg, str) else json.dumps(msg)) + "\n")
        self.proc.stdin.flush()
        return self.read()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=5)


class Lab:
    """``with Lab() as lab:`` — two namespaces, always removed afterwards."""

    def __init__(self, iif: str = "eth0", tag: str | None = None) -> None:
        pid = os.getpid()
        self.tag = f"{pid}-{tag}" if tag else str(pid)
        self.fw = f"{PREFIX}{self.tag}-fw"
        self.client = f"{PREFIX}{self.tag}-cl"
        self.veth = f"{pid % 1_000_000}{tag or ''}"[:12]
        self.iif = iif
        self.agents: list[Agent] = []
        self._old: dict[int, Any] = {}
        self.tmp = Path(tempfile.mkdtemp(prefix="ringwall-lab-"))

    def __enter__(self) -> Lab:
        missing = missing_requirements()
        if missing:
            raise LabError("the lab needs " + ", ".join(missing))
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._old[sig] = signal.signal(sig, self._on_signal)
        try:
            self._create()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.close()
        raise KeyboardInterrupt

    def _create(self) -> None:
        vf, vc = f"rwf{self.veth}", f"rwc{self.veth}"
        run("ip", "netns", "add", self.fw)
        run("ip", "netns", "add", self.client)
        run("ip", "link", "add", vf, "type", "veth", "peer", "name", vc)
        run("ip", "link", "set", vf, "netns", self.fw)
        run("ip", "link", "set", vc, "netns", self.client)
        run("ip", "-n", self.fw, "link", "set", vf, "name", self.iif)
        for ns in (self.fw, self.client):
            run("ip", "-n", ns, "link", "set", "lo", "up")
            for key in ("net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0"):
                run("ip", "netns", "exec", ns, "sysctl", "-qw", key, check=False)
        for a in FW_ADDRS:
            run("ip", "-n", self.fw, "addr", "add", f"{a}/24", "dev", self.iif)
        for a in CLIENT_ADDRS:
            run("ip", "-n", self.client, "addr", "add", f"{a}/24", "dev", vc)
        run("ip", "netns", "exec", self.fw, "sysctl", "-qw", f"net.ipv4.conf.{self.iif}.rp_filter=0", check=False)
        run("ip", "-n", self.fw, "link", "set", self.iif, "up")
        run("ip", "-n", self.client, "link", "set", vc, "up")

    def agent(self, where: str, *args: str) -> Agent:
        a = Agent(self.fw if where == "fw" else self.client, *args)
        self.agents.append(a)
        return a

    def flush(self) -> None:
        run("ip", "netns", "exec", self.fw, "nft", "flush", "ruleset")

    def load_nft(self, text: str) -> None:
        path = self.tmp / "ruleset.nft"
        path.write_text(text)
        run("ip", "netns", "exec", self.fw, "nft", "-f", str(path))

    def load_nft_json(self, text: str) -> None:
        """``nft -j list ruleset`` lists maps before chains; a verdict map that jumps to a chain then
        fails to load ("No such file or directory"), so objects are reordered: tables, chains, sets,
        maps, elements, rules."""
        rank = {"table": 0, "chain": 1, "set": 2, "map": 2, "element": 3, "rule": 4}
        doc = json.loads(text)
        items = [i for i in doc.get("nftables", []) if isinstance(i, dict) and "metainfo" not in i]
        items.sort(key=lambda i: rank.get(next(iter(i)), 5))
        path = self.tmp / "ruleset.json"
        path.write_text(json.dumps({"nftables": items}))
        run("ip", "netns", "exec", self.fw, "nft", "-j", "-f", str(path))

    def load_iptables(self, text: str, family: int = 4) -> None:
        tool = "iptables-restore" if family == 4 else "ip6tables-restore"
        run("ip", "netns", "exec", self.fw, tool, input_text=text)

    def close(self) -> None:
        for a in self.agents:
            with contextlib.suppress(Exception):
                a.stop()
        self.agents.clear()
        for ns in (self.fw, self.client):
            run("ip", "netns", "del", ns, check=False)
        shutil.rmtree(self.tmp, ignore_errors=True)
        for sig, old in self._old.items():
            signal.signal(sig, old)
        self._old.clear()
