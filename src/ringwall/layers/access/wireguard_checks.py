"""RW-WG checks on read wg-quick files (one host each; key reuse is checked across files).

Role inference: a config with a ``ListenPort`` and peers without ``Endpoint`` is a *hub* (the
server side); a config whose peers have an ``Endpoint`` and route ``0.0.0.0/0`` is a *client*
full tunnel. Placeholders such as ``<bastion-private-key>`` are never judged as key material.
"""

from __future__ import annotations

from collections import defaultdict

from ringwall.model import addresses as A
from ringwall.model import intervals as iv
from ringwall.model.findings import Check, Finding
from ringwall.model.location import Location

from . import catalogue as K
from .wireguard import Peer, WgConfig, is_placeholder, routes, valid_key

_ANY = {A.ALL_V4, A.ALL_V6}


def is_hub(cfg: WgConfig) -> bool:
    return cfg.listen_port is not None and any(not p.endpoint for p in cfg.peers)


def check_wireguard(configs: list[WgConfig]) -> list[Finding]:
    findings: list[Finding] = []
    for cfg in configs:
        findings.extend(_check_one(cfg))
    # The same private key on several hosts (RW-WG-001).
    by_key: dict[str, list[WgConfig]] = defaultdict(list)
    for cfg in configs:
        if cfg.private_key and not is_placeholder(cfg.private_key):
            by_key[cfg.private_key].append(cfg)
    for group in by_key.values():
        if len(group) > 1:
            locs = tuple(c.keys["privatekey"] for c in group)
            findings.append(Finding(K.WG_PRIVATE_KEY_EXPOSED, f"the same PrivateKey is used by {len(group)} "
                                    f"interfaces: {', '.join(c.path for c in group)}", locs,
                                    f"wireguard:{group[0].path}", "shared-key"))
    return findings


def _check_one(cfg: WgConfig) -> list[Finding]:
    out: list[Finding] = []
    subject = f"wireguard:{cfg.path}"
    ifloc = cfg.location or Location(cfg.path, 1)

    def add(check: Check, msg: str, locs: list[Location], detail: str) -> None:
        out.append(Finding(check, msg, tuple(locs), subject, detail))

    pk = cfg.private_key
    if pk and not is_placeholder(pk) and cfg.mode is not None:
        world = cfg.mode & 0o007
        if world or cfg.mode & 0o077:
            why = "world-readable" if world else "readable by its group"
            add(K.WG_PRIVATE_KEY_EXPOSED, f"{cfg.path} holds a PrivateKey and has mode {cfg.mode:04o} ({why}; "
                f"want 0600)", [cfg.keys["privatekey"]], "mode")
    hub = is_hub(cfg)
    own_pub = ""
    for p in cfg.peers:
        for pfx in p.allowed:
            if pfx.ranges in _ANY and hub and not p.endpoint:
                add(K.WG_SERVER_PEER_ANY, f"peer {p.name} (line {p.location.line}) has AllowedIPs {pfx.text} on a "
                    f"server: it may send packets from any source address", [pfx.location], f"{p.index}|{pfx.text}")
    table = routes(cfg)
    for r in table:
        for loser in r.lost_by:
            lost_loc = next(x.location for x in loser.allowed if x.ranges == r.prefix.ranges)
            add(K.WG_DUPLICATE_PREFIX, f"{r.prefix.text} is listed by peer {loser.name} (line {loser.location.line}) "
                f"and peer {r.peer.name} (line {r.peer.location.line}): only the later peer gets it",
                [lost_loc, r.prefix.location], f"{r.prefix.text}|{loser.index}")
    for i, a in enumerate(table):
        for b in table[i + 1:]:
            if a.peer is b.peer or a.prefix.length == b.prefix.length:
                continue
            if a.prefix.ranges in _ANY or b.prefix.ranges in _ANY:
                continue  # a default route overlapping everything is the full-tunnel case, not ambiguity
            if iv.intersect(a.prefix.ranges, b.prefix.ranges):
                wide, narrow = (a, b) if a.prefix.length < b.prefix.length else (b, a)
                add(K.WG_OVERLAP, f"{narrow.prefix.text} (peer {narrow.peer.name}) lies inside {wide.prefix.text} "
                    f"(peer {wide.peer.name}): that part goes to {narrow.peer.name}",
                    [narrow.prefix.location, wide.prefix.location], f"{narrow.prefix.text}|{wide.prefix.text}")
    if hub:
        for p in cfg.peers:
            if p.endpoint:
                continue
            for pfx in p.allowed:
                if pfx.ranges in _ANY:
                    continue
                single = 32 if not A.is_v6(pfx.ranges[0][0]) else 128
                if pfx.length < single:
                    add(K.WG_BROAD_HUB_PEER, f"road-warrior peer {p.name} on a hub has AllowedIPs {pfx.text}",
                        [pfx.location], f"{p.index}|{pfx.text}")
    for p in cfg.peers:
        full4 = any(x.ranges == A.ALL_V4 for x in p.allowed)
        full6 = any(x.ranges == A.ALL_V6 for x in p.allowed)
        if p.endpoint and full4:
            loc = next(x.location for x in p.allowed if x.ranges == A.ALL_V4)
            if not full6:
                add(K.WG_FULL_TUNNEL_LEAK, f"full tunnel through {p.name} routes 0.0.0.0/0 but not ::/0: IPv6 "
                    "traffic leaks outside the tunnel", [loc], f"{p.index}|v6")
            if not cfg.dns:
                add(K.WG_FULL_TUNNEL_LEAK, f"full tunnel through {p.name} without DNS =: queries go to the local "
                    "resolver outside the tunnel", [loc, ifloc], f"{p.index}|dns")
        if not p.preshared_key:
            add(K.WG_NO_PSK, f"peer {p.name} has no PresharedKey", [p.location], str(p.index))
        if 0 < p.keepalive < 10:
            add(K.WG_KEEPALIVE, f"peer {p.name} has PersistentKeepalive {p.keepalive} (< 10 s)",
                [p.keys["persistentkeepalive"]], str(p.index))
    for kind, text, loc in cfg.hooks:
        add(K.WG_HOOKS, f"{kind} runs as root: {text}", [loc], f"{kind}|{loc.line}")
    if cfg.save_config:
        add(K.WG_SAVE_CONFIG, "SaveConfig = true", [cfg.keys["saveconfig"]], "")
    out.extend(_keys(cfg, subject, own_pub))
    return out


def _keys(cfg: WgConfig, subject: str, own_pub: str) -> list[Finding]:
    out: list[Finding] = []
    if cfg.private_key and not is_placeholder(cfg.private_key) and not valid_key(cfg.private_key):
        out.append(Finding(K.WG_KEY_INVALID, "PrivateKey is not base64 of 32 bytes",
                           (cfg.keys["privatekey"],), subject, "privatekey"))
        own_pub = ""
    elif cfg.private_key and not is_placeholder(cfg.private_key):
        own_pub = _public_key(cfg.private_key)
    seen: dict[str, Peer] = {}
    for p in cfg.peers:
        key = p.public_key
        if not key or is_placeholder(key):
            continue
        loc = p.keys.get("publickey", p.location)
        if not valid_key(key):
            out.append(Finding(K.WG_KEY_INVALID, f"PublicKey of peer at line {p.location.line} is not base64 of "
                               "32 bytes", (loc,), subject, f"{p.index}|invalid"))
        elif key in seen:
            out.append(Finding(K.WG_KEY_INVALID, f"PublicKey {p.name} appears on two peers (lines "
                               f"{seen[key].location.line} and {p.location.line})",
                               (loc, seen[key].keys.get("publickey", seen[key].location)), subject, f"{p.index}|dup"))
        elif own_pub and key == own_pub:
            out.append(Finding(K.WG_KEY_INVALID, f"peer at line {p.location.line} has this interface's own public key",
                               (loc,), subject, f"{p.index}|own"))
        seen.setdefault(key, p)
    return out


def _public_key(private_b64: str) -> str:
    """The X25519 public key for a private key, when ``cryptography`` is available (else unknown)."""
    try:
        import base64

        from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
    except ImportError:
        return ""
    key = X25519PrivateKey.from_private_bytes(base64.b64decode(private_b64))
    return base64.b64encode(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()
