"""WireGuard for the bastion and each client, with the least broad AllowedIPs that still work.

On the bastion each peer may source only its own tunnel address (``/32`` or ``/128``): AllowedIPs
is also the source filter, so a wider value would let one client pose as another. A client
routes only the bastion's tunnel address and the ``allow_forward_to`` targets into the tunnel,
never ``0.0.0.0/0``. Keys are placeholders (``<...>``) to be replaced on each machine with
``wg genkey``/``wg pubkey``, so no private key is ever written to the output directory.
"""

from __future__ import annotations

import ipaddress

from ringwall.generate.base import Context, GeneratedFile, register, split_families
from ringwall.generate.spec import Network

BASTION_KEY = "<bastion-private-key>"
BASTION_PUB = "<bastion-public-key>"


def _host(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> Network:
    return ipaddress.ip_network(f"{addr}/{addr.max_prefixlen}")


def bastion_conf(ctx: Context) -> str:
    wg = ctx.spec.wireguard
    assert wg is not None
    lines = [
        f"# {ctx.header()}",
        "# Bastion WireGuard interface (wg-quick). Replace every <...> key; never commit private keys.",
        "[Interface]",
        f"Address = {wg.address}/{wg.network.prefixlen}",
        f"ListenPort = {wg.port}",
        f"PrivateKey = {BASTION_KEY}",
    ]
    for p in wg.peers:
        lines += [
            "",
            f"# peer {p.name}: may only use its own tunnel address",
            "[Peer]",
            f"PublicKey = <{p.name}-public-key>",
            f"AllowedIPs = {_host(p.address)}",
        ]
    return "\n".join(lines) + "\n"


def client_allowed(ctx: Context) -> list[Network]:
    wg = ctx.spec.wireguard
    assert wg is not None
    nets: list[Network] = [_host(wg.address)]
    if ctx.spec.bastion is not None:
        nets += [t.cidr for t in ctx.spec.bastion.allow_forward_to]
    v4, v6 = split_families(nets)
    return [*v4, *v6]


def client_conf(ctx: Context, name: str) -> str:
    wg = ctx.spec.wireguard
    assert wg is not None
    peer = next(p for p in wg.peers if p.name == name)
    endpoint = f"[{wg.endpoint}]" if ":" in wg.endpoint else wg.endpoint
    lines = [
        f"# {ctx.header()}",
        f"# WireGuard client {name}: only the bastion and the targets it may reach go through the tunnel.",
        "[Interface]",
        f"Address = {_host(peer.address)}",
        f"PrivateKey = <{name}-private-key>",
        "",
        "[Peer]",
        f"PublicKey = {BASTION_PUB}",
        f"Endpoint = {endpoint}:{wg.port}",
        "AllowedIPs = " + ", ".join(str(n) for n in client_allowed(ctx)),
        "PersistentKeepalive = 25",
        "",
    ]
    return "\n".join(lines)


@register("wireguard", "access", "WireGuard for the bastion and each client (access/wireguard/...)")
def generate(ctx: Context) -> list[GeneratedFile]:
    wg = ctx.spec.wireguard
    if wg is None:
        ctx.notes.append("access: no access.wireguard in the intent: no WireGuard configuration generated")
        return []
    out = [GeneratedFile("access/wireguard/wg0.conf", bastion_conf(ctx))]
    out += [GeneratedFile(f"access/wireguard/clients/{p.name}.conf", client_conf(ctx, p.name))
            for p in sorted(wg.peers, key=lambda p: p.name)]
    return out
