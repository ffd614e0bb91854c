"""The access layer as the rest of Ringwall sees it: find inputs, read them, check them.

Inputs are picked by content, not by name: a file with an ``[Interface]`` section is a wg-quick
file, a file with sshd server keywords is an ``sshd_config`` (drop-ins reached through
``Include`` are read as part of their main file, never twice).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ringwall.model.diagnostics import DiagnosticSink
from ringwall.model.findings import Finding
from ringwall.model.location import Location
from ringwall.sources.inventory import Inventory
from ringwall.sources.reading import input_head

from . import catalogue as K
from .kube_exposure import api_endpoints, check_kube_exposure
from .sshd import DEFAULT_VERSION, SshdConfig, Version, looks_like_sshd_config, read_sshd_config
from .sshd_checks import check_sshd, is_bastion
from .wireguard import WgConfig, apply_wg_set, describe_routes, looks_like_wg_quick, read_wg_quick
from .wireguard_checks import check_wireguard, is_hub


@dataclass
class AccessInputs:
    wireguard: list[WgConfig] = field(default_factory=list)
    sshd: list[SshdConfig] = field(default_factory=list)


def read_inputs(files: list[Path], sink: DiagnosticSink, version: Version = DEFAULT_VERSION) -> AccessInputs:
    """Read every wg-quick and sshd file among ``files`` (others are ignored)."""
    out = AccessInputs()
    sshd_candidates: list[Path] = []
    scripts: list[tuple[Path, str]] = []
    for f in files:
        head = input_head(f)
        if looks_like_wg_quick(head):
            out.wireguard.append(read_wg_quick(f, sink))
        elif looks_like_sshd_config(f, head):
            sshd_candidates.append(f)
        elif re.search(r"^\s*(?:/usr/bin/)?wg\s+set\s", head, re.MULTILINE):
            scripts.append((f, head))
    # Shell scripts with "wg set IFACE peer KEY allowed-ips ..." change the interface they name.
    for f, text in scripts:
        for n, line in enumerate(text.splitlines(), 1):
            words = line.split()
            if len(words) > 2 and words[0].endswith("wg") and words[1] == "set":
                for cfg in out.wireguard:
                    if cfg.interface == words[2]:
                        apply_wg_set(cfg, line, Location(str(f), n), sink)
    # Main files first: a drop-in read through an Include is not a configuration of its own.
    mains = sorted(sshd_candidates, key=lambda p: (p.parent.name == "sshd_config.d", str(p)))
    read: set[str] = set()
    for f in mains:
        if str(f) in read:
            continue
        cfg = read_sshd_config(f, sink, version=version)
        read.update(cfg.files)
        out.sshd.append(cfg)
    return out


def container_ssh_findings(inventory: Inventory) -> list[Finding]:
    """RW-SSH-014: containers that declare port 22/TCP."""
    out: list[Finding] = []
    for w in inventory.cluster.workloads:
        for v in w.variants[:1]:
            for p in v.ports:
                if p.port == 22 and p.protocol == "TCP":
                    loc = w.location
                    out.append(Finding(K.SSH_IN_CONTAINER, f"container {p.container or '?'} of {w.ref} declares 22/TCP",
                                       (loc,) if loc else (), w.ref, p.container))
    return out


def check_access(inputs: AccessInputs, inventory: Inventory | None = None) -> list[Finding]:
    findings = check_wireguard(inputs.wireguard)
    for cfg in inputs.sshd:
        findings.extend(check_sshd(cfg))
    if inventory is not None:
        findings.extend(container_ssh_findings(inventory))
        findings.extend(check_kube_exposure(
            inventory.documents("KubeletConfiguration"), inventory.documents("Pod"),
            [d for d in inventory.documents("Config") if "clusters" in d.obj],
            [d for d in inventory.documents("ClusterConfig") if "eksctl" in d.api_version]))
    return findings


def summarize(inputs: AccessInputs, inventory: Inventory | None = None) -> dict[str, object]:
    """JSON-able details for ``scan``: interfaces and what each peer reaches; sshd roles and validity."""
    return {
        "wireguard": [
            {"path": c.path, "interface": c.interface, "listen_port": c.listen_port,
             "role": "hub" if is_hub(c) else "client", "peers": describe_routes(c)}
            for c in inputs.wireguard
        ],
        "sshd": [
            {"path": c.path, "files": c.files, "valid": c.valid, "bastion": is_bastion(c),
             "match_blocks": [m.text for m in c.matches]}
            for c in inputs.sshd
        ],
        "api_endpoints": [
            {"server": e.server, "public": e.public} for e in
            api_endpoints([d for d in inventory.documents("Config") if "clusters" in d.obj])
        ] if inventory is not None else [],
    }
