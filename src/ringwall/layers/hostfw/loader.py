"""Loading rulesets from files: format detection, reading, merging, recognising firewall tools."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ringwall.model.diagnostics import DiagnosticSink
from ringwall.model.location import Location
from ringwall.sources.reading import lines_within_limit, read_input

from .detect import detect_format
from .ipset import read_ipsets, set_predicate
from .ipt_rule import IpsetResolver
from .model import Backend, Pred, Ruleset, Table
from .parse_iptables import read_iptables_save, read_iptables_script, tools_of_chain
from .parse_nft_json import read_nft_json
from .parse_nft_text import read_nft_text

FATAL_CODES = {"RWD-HOSTFW-001", "RWD-HOSTFW-004"}
"""Diagnostics after which the input as a whole is unusable (the CLI exits 2)."""


def _resolver(ipset_files: Sequence[Path], sink: DiagnosticSink) -> IpsetResolver | None:
    if not ipset_files:
        return None
    sets = read_ipsets(list(ipset_files), sink)

    def resolve(name: str, dirs: list[str], family: int) -> Pred | None:
        s = sets.get(name)
        return set_predicate(s, dirs) if s is not None else None

    return resolve


def read_file(path: Path, sink: DiagnosticSink, input_format: str = "auto",
              ipsets: IpsetResolver | None = None) -> tuple[list[Table], str | None]:
    text = read_input(path, sink, code="RWD-HOSTFW-001")
    if text is None:
        return [], None
    fmt = detect_format(path, text) if input_format == "auto" else input_format
    name = str(path)
    if fmt != "nft-json" and not lines_within_limit(text, name, sink, code="RWD-HOSTFW-001"):
        return [], None
    if fmt == "iptables-save":
        tables = read_iptables_save(text, name, sink, ipsets)
    elif fmt == "iptables-script":
        tables = read_iptables_script(text, name, sink, ipsets)
    elif fmt in ("nft", "nft-script"):
        tables = read_nft_text(text, name, sink)
    elif fmt == "nft-json":
        tables = read_nft_json(text, name, sink)
    else:
        sink.error("RWD-HOSTFW-004", "not a recognised ruleset (iptables-save, iptables or nft script, "
                   "nft text or nft JSON)", Location(name, 1))
        return [], fmt
    return tables, fmt


def load(paths: Sequence[Path], sink: DiagnosticSink, ipset_files: Sequence[Path] = (),
         input_format: str = "auto") -> Ruleset:
    """Read every file into one ruleset, as the kernel would hold them all at once."""
    ipsets = _resolver(ipset_files, sink)
    rs = Ruleset()
    for path in paths:
        tables, fmt = read_file(path, sink, input_format, ipsets)
        rs.sources.append(str(path))
        if fmt:
            rs.formats.append(fmt)
        rs.tables.extend(tables)
    _prefer_iptables_dump(rs, sink)
    for t in rs.tables:
        for c in t.chains.values():
            rs.tools |= tools_of_chain(c.name)
        if t.name in ("firewalld", "ufw"):
            rs.tools.add(t.name)
        if t.name == "kube-proxy":
            rs.tools.add("kube-proxy")
    return rs


def _prefer_iptables_dump(rs: Ruleset, sink: DiagnosticSink) -> None:
    """A table seen both as opaque iptables-nft JSON and in iptables-save: keep the iptables-save one."""
    ipt = {(t.family, t.name) for t in rs.tables if t.reader == "iptables"}
    keep: list[Table] = []
    for t in rs.tables:
        if t.reader == "nft" and t.backend is Backend.IPTABLES_NFT and (t.family, t.name) in ipt:
            sink.info("RWD-HOSTFW-005", f"table {t.ident} read from the iptables-save dump instead", t.location)
            continue
        keep.append(t)
    rs.tables = keep
