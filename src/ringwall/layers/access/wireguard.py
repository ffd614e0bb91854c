"""wg-quick configuration files and cryptokey routing (wg(8), wg-quick(8), allowedips.c).

The reader keeps every key's file:line, accepts what wg-quick accepts (case-insensitive keys,
repeated ``Address``/``AllowedIPs`` lines, ``#`` comments) and reports one diagnostic per line it
cannot use. ``routes`` then computes what the kernel computes: one longest-prefix-match table per
interface, where the identical prefix on two peers belongs to the *last* peer, so each peer's
reachable networks are its own prefixes minus the more specific ones owned by others.

``wg set IFACE peer KEY allowed-ips LIST`` in ``PostUp`` lines (or given separately) replaces
that peer's list at runtime (``+``/``-`` prefixes add or remove entries), so the routes reflect
the state after the hooks ran.
"""

from __future__ import annotations

import base64
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from ringwall.model import addresses as A
from ringwall.model import intervals as iv
from ringwall.model.diagnostics import DiagnosticSink
from ringwall.model.intervals import Intervals
from ringwall.model.location import Location
from ringwall.sources.reading import MAX_LINE_CHARS, read_input

INTERFACE_KEYS = {"privatekey", "listenport", "fwmark", "address", "dns", "mtu", "table", "preup", "postup",
                  "predown", "postdown", "saveconfig"}
PEER_KEYS = {"publickey", "presharedkey", "allowedips", "endpoint", "persistentkeepalive"}
_PLACEHOLDER = re.compile(r"^<[^<>]+>$")


@dataclass
class Prefix:
    text: str
    ranges: Intervals
    length: int
    location: Location


@dataclass
class Peer:
    index: int
    location: Location
    public_key: str = ""
    preshared_key: bool = False
    allowed: list[Prefix] = field(default_factory=list)
    endpoint: str = ""
    keepalive: int = 0
    keys: dict[str, Location] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.public_key[:10] + "…" if len(self.public_key) > 12 else (self.public_key or f"peer#{self.index}")


@dataclass
class WgConfig:
    path: str
    interface: str
    location: Location | None = None
    private_key: str = ""
    listen_port: int | None = None
    addresses: list[Prefix] = field(default_factory=list)
    dns: list[str] = field(default_factory=list)
    hooks: list[tuple[str, str, Location]] = field(default_factory=list)
    save_config: bool = False
    peers: list[Peer] = field(default_factory=list)
    keys: dict[str, Location] = field(default_factory=dict)
    mode: int | None = None
    dir_mode: int | None = None


def is_placeholder(value: str) -> bool:
    """``<bastion-private-key>``-style stand-ins used in examples instead of real keys."""
    return bool(_PLACEHOLDER.match(value.strip()))


def valid_key(value: str) -> bool:
    """A WireGuard key is base64 of exactly 32 bytes: 44 characters ending in ``=``."""
    if len(value) != 44 or not value.endswith("="):
        return False
    try:
        return len(base64.b64decode(value, validate=True)) == 32
    except ValueError:
        return False


def parse_prefix(text: str, loc: Location) -> Prefix:
    """A CIDR (bare addresses are /32 or /128). Raises AddressError."""
    t = text.strip()
    if "/" not in t:
        t += "/128" if ":" in t else "/32"
    ranges, _ = A.parse_cidr(t)
    length = int(t.rsplit("/", 1)[1])
    return Prefix(text.strip(), ranges, length, loc)


def looks_like_wg_quick(head: str) -> bool:
    return bool(re.search(r"^\s*\[Interface\]\s*$", head, re.MULTILINE | re.IGNORECASE))


def read_wg_quick(path: Path | str, sink: DiagnosticSink, text: str | None = None) -> WgConfig:
    path = Path(path)
    if text is None:
        text = read_input(path, sink, line_limit=MAX_LINE_CHARS)
        if text is None:
            return WgConfig(str(path), path.stem)
        try:
            mode = path.stat().st_mode & 0o777
            dir_mode = path.parent.stat().st_mode & 0o777
        except OSError:  # stdin, or removed since it was read: no permissions to judge
            mode = dir_mode = None
    else:
        mode = dir_mode = None
    cfg = WgConfig(str(path), path.stem, mode=mode, dir_mode=dir_mode)
    if not re.fullmatch(r"[a-zA-Z0-9_=+.-]{1,15}", path.stem):
        sink.warning("wg.interface-name", f"wg-quick needs an interface name of 1-15 characters "
                     f"[a-zA-Z0-9_=+.-], not {path.stem!r}", Location(str(path), 1))
    section: str | None = None
    peer: Peer | None = None
    for lineno, raw in enumerate(text.splitlines(), 1):
        loc = Location(str(path), lineno)
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("["):
            name = line.strip("[]").strip().lower()
            if name == "interface":
                if cfg.location is not None:
                    sink.error("wg.duplicate-interface", "a second [Interface] section", loc)
                cfg.location = loc
                section, peer = "interface", None
            elif name == "peer":
                peer = Peer(len(cfg.peers), loc)
                cfg.peers.append(peer)
                section = "peer"
            else:
                sink.error("wg.unknown-section", f"unknown section {line}", loc)
                section = None
            continue
        key, sep, value = line.partition("=")
        key, value = key.strip().lower(), value.strip()
        if not sep:
            sink.error("wg.syntax", f"expected Key = Value, got {line!r}", loc)
            continue
        if section is None:
            sink.error("wg.outside-section", f"{key} outside [Interface] or [Peer]", loc)
            continue
        if section == "interface":
            _interface_key(cfg, key, value, loc, sink)
        else:
            assert peer is not None
            _peer_key(peer, key, value, loc, sink)
    if cfg.location is None:
        sink.error("wg.no-interface", "no [Interface] section", Location(str(path), 1))
    for p in cfg.peers:
        if not p.public_key:
            sink.error("wg.peer-without-key", "[Peer] without PublicKey", p.location)
    for cmd, text_, loc in cfg.hooks:
        if cmd == "postup":
            apply_wg_set(cfg, text_, loc, sink)
    return cfg


def _interface_key(cfg: WgConfig, key: str, value: str, loc: Location, sink: DiagnosticSink) -> None:
    if key not in INTERFACE_KEYS:
        sink.error("wg.unknown-key", f"unknown [Interface] key {key!r}", loc)
        return
    cfg.keys.setdefault(key, loc)
    if key == "privatekey":
        cfg.private_key = value
    elif key == "listenport":
        if value.isdigit() and 0 <= int(value) < 65536:
            cfg.listen_port = int(value)
        else:
            sink.error("wg.bad-value", f"ListenPort {value!r} is not a port", loc)
    elif key == "address":
        for part in filter(None, (x.strip() for x in value.split(","))):
            try:
                cfg.addresses.append(parse_prefix(part, loc))
            except A.AddressError as exc:
                sink.error("wg.bad-value", str(exc), loc)
    elif key == "dns":
        cfg.dns.extend(x.strip() for x in value.split(",") if x.strip())
    elif key in ("preup", "postup", "predown", "postdown"):
        cfg.hooks.append((key, value, loc))
    elif key == "saveconfig":
        cfg.save_config = value.lower() == "true"


def _peer_key(peer: Peer, key: str, value: str, loc: Location, sink: DiagnosticSink) -> None:
    if key not in PEER_KEYS:
        sink.error("wg.unknown-key", f"unknown [Peer] key {key!r}", loc)
        return
    peer.keys.setdefault(key, loc)
    if key == "publickey":
        peer.public_key = value
    elif key == "presharedkey":
        peer.preshared_key = bool(value)
    elif key == "allowedips":
        for part in filter(None, (x.strip() for x in value.split(","))):
            try:
                peer.allowed.append(parse_prefix(part, loc))
            except A.AddressError as exc:
                sink.error("wg.bad-value", str(exc), loc)
    elif key == "endpoint":
        peer.endpoint = value
    elif key == "persistentkeepalive":
        if value.lower() == "off":
            peer.keepalive = 0
        elif value.isdigit() and int(value) <= 65535:
            peer.keepalive = int(value)
        else:
            sink.error("wg.bad-value", f"PersistentKeepalive {value!r} is not 0-65535 or off", loc)


def apply_wg_set(cfg: WgConfig, command: str, loc: Location, sink: DiagnosticSink) -> None:
    """Apply every ``wg set <iface> peer <key> allowed-ips <list>`` in a shell command line."""
    for part in re.split(r"[;&|]+", command.replace("%i", cfg.interface)):
        try:
            words = shlex.split(part)
        except ValueError:
            continue
        if len(words) < 3 or words[0] not in ("wg", "/usr/bin/wg") or words[1] != "set":
            continue
        peer: Peer | None = None
        i = 3
        while i < len(words):
            w = words[i]
            if w == "peer" and i + 1 < len(words):
                peer = next((p for p in cfg.peers if p.public_key == words[i + 1]), None)
                if peer is None:
                    peer = Peer(len(cfg.peers), loc, public_key=words[i + 1])
                    cfg.peers.append(peer)
                i += 2
                continue
            if w == "allowed-ips" and peer is not None and i + 1 < len(words):
                spec = words[i + 1]
                entries = [x.strip() for x in spec.split(",") if x.strip()]
                incremental = entries and all(e[0] in "+-" for e in entries)
                if not incremental:
                    peer.allowed = []
                for e in entries:
                    op, text = (e[0], e[1:]) if e[0] in "+-" else ("+", e)
                    try:
                        pfx = parse_prefix(text, loc)
                    except A.AddressError as exc:
                        sink.error("wg.bad-value", str(exc), loc)
                        continue
                    if op == "-":
                        peer.allowed = [p for p in peer.allowed if p.ranges != pfx.ranges]
                    else:
                        peer.allowed.append(pfx)
                i += 2
                continue
            if w == "remove" and peer is not None:
                cfg.peers.remove(peer)
                peer = None
            i += 1


@dataclass
class Route:
    """One prefix in the interface's table and the peer that owns it."""

    prefix: Prefix
    peer: Peer
    lost_by: list[Peer] = field(default_factory=list)
    """Earlier peers that listed the identical prefix and silently lost it."""


def routes(cfg: WgConfig) -> list[Route]:
    """The cryptokey routing table: the last peer listing a prefix owns it."""
    table: dict[Intervals, Route] = {}
    for peer in cfg.peers:
        for pfx in peer.allowed:
            old = table.get(pfx.ranges)
            if old is None:
                table[pfx.ranges] = Route(pfx, peer)
            elif old.peer is not peer:
                table[pfx.ranges] = Route(pfx, peer, [*old.lost_by, old.peer])
    return list(table.values())


def reachable(cfg: WgConfig) -> dict[int, Intervals]:
    """For each peer index: the destinations routed to it (its prefixes minus more specific ones of others)."""
    table = routes(cfg)
    out: dict[int, Intervals] = {p.index: () for p in cfg.peers}
    for r in table:
        own = r.prefix.ranges
        for other in table:
            if other.peer is not r.peer and other.prefix.length > r.prefix.length:
                own = iv.subtract(own, other.prefix.ranges)
        out[r.peer.index] = iv.union(out[r.peer.index], own)
    return out


def describe_routes(cfg: WgConfig) -> list[dict[str, object]]:
    """Per peer: what it lists, what it really gets, what it lost (for ``ringwall access wg-routes``)."""
    reach = reachable(cfg)
    table = routes(cfg)
    out: list[dict[str, object]] = []
    for p in cfg.peers:
        lost = [r.prefix.text for r in table if p in r.lost_by]
        out.append({
            "peer": p.public_key or f"peer#{p.index}",
            "line": p.location.line,
            "endpoint": p.endpoint or None,
            "allowed_ips": [x.text for x in p.allowed],
            "routes_to": A.to_cidrs(reach[p.index]),
            "lost_to_later_peer": lost,
        })
    return out
