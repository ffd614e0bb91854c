"""Values shared by every reader: addresses, protocols, ports, ICMP types, TCP flags, ct states.

Addresses become intervals of the one 128-bit space of the model (IPv4 as ``::ffff:0:0/96``),
so IPv4 and IPv6 are both first class and a rule never needs to know its family to be compared.
Every parser raises ``ValueError`` with a short, user-facing reason; readers turn it into a
diagnostic with file and line.
"""

from __future__ import annotations

import ipaddress

from ringwall.model import intervals as iv
from ringwall.model.intervals import Intervals

from .model import CT_STATES, V4_BASE

PROTOCOLS: dict[str, int] = {
    "icmp": 1, "igmp": 2, "ipip": 4, "tcp": 6, "egp": 8, "udp": 17, "dccp": 33, "ipv6": 41,
    "gre": 47, "esp": 50, "ah": 51, "icmpv6": 58, "ipv6-icmp": 58, "icmp6": 58, "ospf": 89,
    "ospfigp": 89, "pim": 103, "vrrp": 112, "l2tp": 115, "sctp": 132, "udplite": 136, "mpls-in-ip": 137,
}
PROTO_NAMES: dict[int, str] = {1: "icmp", 6: "tcp", 17: "udp", 58: "ipv6-icmp", 132: "sctp",
                               33: "dccp", 136: "udplite", 47: "gre", 50: "esp", 51: "ah", 2: "igmp",
                               112: "vrrp", 4: "ipip", 41: "ipv6", 89: "ospf", 103: "pim"}

ICMP_TYPES: dict[str, tuple[int, int | None]] = {
    "echo-reply": (0, None), "pong": (0, None), "destination-unreachable": (3, None),
    "network-unreachable": (3, 0), "host-unreachable": (3, 1), "protocol-unreachable": (3, 2),
    "port-unreachable": (3, 3), "fragmentation-needed": (3, 4), "source-route-failed": (3, 5),
    "network-unknown": (3, 6), "host-unknown": (3, 7), "network-prohibited": (3, 9),
    "host-prohibited": (3, 10), "communication-prohibited": (3, 13), "admin-prohibited": (3, 13),
    "source-quench": (4, None), "redirect": (5, None), "echo-request": (8, None), "ping": (8, None),
    "router-advertisement": (9, None), "router-solicitation": (10, None), "time-exceeded": (11, None),
    "ttl-exceeded": (11, None), "ttl-zero-during-transit": (11, 0), "parameter-problem": (12, None),
    "timestamp-request": (13, None), "timestamp-reply": (14, None), "info-request": (15, None),
    "info-reply": (16, None), "address-mask-request": (17, None), "address-mask-reply": (18, None),
}
ICMPV6_TYPES: dict[str, tuple[int, int | None]] = {
    "destination-unreachable": (1, None), "no-route": (1, 0), "communication-prohibited": (1, 1),
    "admin-prohibited": (1, 1), "address-unreachable": (1, 3), "port-unreachable": (1, 4),
    "packet-too-big": (2, None), "time-exceeded": (3, None), "ttl-exceeded": (3, None),
    "parameter-problem": (4, None), "echo-request": (128, None), "ping": (128, None),
    "echo-reply": (129, None), "pong": (129, None), "mld-listener-query": (130, None),
    "mld-listener-report": (131, None), "mld-listener-done": (132, None), "mld-listener-reduction": (132, None),
    "nd-router-solicit": (133, None), "router-solicitation": (133, None),
    "nd-router-advert": (134, None), "router-advertisement": (134, None),
    "nd-neighbor-solicit": (135, None), "neighbour-solicitation": (135, None),
    "neighbor-solicitation": (135, None), "nd-neighbor-advert": (136, None),
    "neighbour-advertisement": (136, None), "neighbor-advertisement": (136, None),
    "nd-redirect": (137, None), "redirect": (137, None), "mld2-listener-report": (143, None),
}
TCP_FLAGS: dict[str, int] = {"fin": 0x01, "syn": 0x02, "rst": 0x04, "psh": 0x08, "ack": 0x10,
                             "urg": 0x20, "ecn": 0x40, "cwr": 0x80}
SERVICES: dict[str, int] = {
    "ssh": 22, "http": 80, "https": 443, "domain": 53, "dns": 53, "smtp": 25, "ntp": 123, "bgp": 179,
    "ftp": 21, "telnet": 23, "pop3": 110, "imap": 143, "imaps": 993, "pop3s": 995, "submission": 587,
    "snmp": 161, "ldap": 389, "ldaps": 636, "mysql": 3306, "postgresql": 5432, "http-alt": 8080,
    "bootps": 67, "bootpc": 68, "tftp": 69, "syslog": 514, "rsync": 873, "openvpn": 1194,
    "wireguard": 51820, "kerberos": 88, "microsoft-ds": 445, "rdp": 3389, "ms-wbt-server": 3389,
    "sunrpc": 111, "nfs": 2049, "redis": 6379, "isakmp": 500, "ipsec-nat-t": 4500, "www": 80,
    "smtps": 465, "imap2": 143, "netbios-ns": 137, "netbios-dgm": 138, "netbios-ssn": 139,
}
FULL_V4 = (V4_BASE, V4_BASE + 0xFFFF_FFFF)


def v4(addr: int) -> int:
    return V4_BASE + addr


def is_v4(value: int) -> bool:
    return V4_BASE <= value <= V4_BASE + 0xFFFF_FFFF


def parse_ip(text: str) -> tuple[int, int]:
    """One address as (unified value, family)."""
    ip = ipaddress.ip_address(text.strip("[]"))
    if ip.version == 4:
        return v4(int(ip)), 4
    return int(ip), 6


def parse_net(text: str) -> tuple[Intervals, int]:
    """An address, CIDR, dotted netmask (``/255.255.255.0``) or ``a-b`` range, as intervals."""
    text = text.strip()
    if "-" in text and "/" not in text and not text.startswith("-"):
        lo_t, hi_t = text.split("-", 1)
        lo, fam = parse_ip(lo_t)
        hi, fam2 = parse_ip(hi_t)
        if fam != fam2 or lo > hi:
            raise ValueError(f"bad address range {text!r}")
        return ((lo, hi),), fam
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise ValueError(f"bad address {text!r}") from None
    lo, hi = int(net.network_address), int(net.broadcast_address)
    if net.version == 4:
        return ((v4(lo), v4(hi)),), 4
    return ((lo, hi),), 6


def fmt_addr(value: int) -> str:
    if is_v4(value):
        return str(ipaddress.IPv4Address(value - V4_BASE))
    return str(ipaddress.IPv6Address(value))


def fmt_ranges(ranges: Intervals, *, braces: bool = False) -> str:
    """Address intervals as CIDRs where exact (``10.0.0.0/8``), else ``lo-hi``; joined by ``, ``."""
    parts: list[str] = []
    for lo, hi in ranges:
        parts.extend(_cidrs_or_range(lo, hi, braces=braces))
    return ", ".join(parts)


def _cidrs_or_range(lo: int, hi: int, *, braces: bool) -> list[str]:
    if lo == hi:
        return [fmt_addr(lo)]
    both_v4 = is_v4(lo) and is_v4(hi)
    if both_v4 or (not is_v4(lo) and not is_v4(hi)):
        if both_v4:
            nets = list(ipaddress.summarize_address_range(ipaddress.IPv4Address(lo - V4_BASE),
                                                          ipaddress.IPv4Address(hi - V4_BASE)))
        else:
            nets = list(ipaddress.summarize_address_range(ipaddress.IPv6Address(lo), ipaddress.IPv6Address(hi)))
        if len(nets) == 1:
            return [str(nets[0])]
    if braces:
        return [f"{{{fmt_addr(lo)} .. {fmt_addr(hi)}}}"]
    return [f"{fmt_addr(lo)}-{fmt_addr(hi)}"]


def parse_proto(text: str) -> int | None:
    """A protocol name or number; ``None`` for all/0 (every protocol)."""
    t = text.strip().lower()
    if t in ("all", "0", "ip"):
        return None
    if t.isdigit():
        n = int(t)
        if n > 255:
            raise ValueError(f"bad protocol {text!r}")
        return n
    if t in PROTOCOLS:
        return PROTOCOLS[t]
    raise ValueError(f"unknown protocol {text!r}")


def proto_name(n: int) -> str:
    return PROTO_NAMES.get(n, str(n))


def parse_port(text: str) -> int:
    t = text.strip().lower()
    if t.isdigit():
        n = int(t)
        if n > 65535:
            raise ValueError(f"port out of range: {text!r}")
        return n
    if t in SERVICES:
        return SERVICES[t]
    raise ValueError(f"unknown service or port {text!r}")


def parse_port_range(text: str, sep: str = ":") -> tuple[int, int]:
    """``22``, ``1024:65535``, ``:1023``, ``1024:`` (iptables) or ``a-b`` (nft, ``sep='-'``)."""
    if sep in text:
        lo_t, hi_t = text.split(sep, 1)
        lo = parse_port(lo_t) if lo_t else 0
        hi = parse_port(hi_t) if hi_t else 65535
        if lo > hi:  # iptables swaps reversed ranges silently
            lo, hi = hi, lo
        return lo, hi
    p = parse_port(text)
    return p, p


def parse_ports(text: str, sep: str = ":") -> Intervals:
    """A comma list of ports and ranges."""
    return iv.normalize(parse_port_range(t, sep) for t in text.split(",") if t)


def parse_ct_states(text: str) -> Intervals:
    vals = []
    for part in text.replace(" ", "").split(","):
        p = part.lower()
        if p in ("snat", "dnat"):
            raise ValueError(f"conntrack pseudo-state {part} is not modelled")
        if p not in CT_STATES:
            raise ValueError(f"unknown conntrack state {part!r}")
        i = CT_STATES.index(p)
        vals.append((i, i))
    return iv.normalize(vals)


def parse_tcp_flags(text: str) -> int:
    t = text.strip().lower()
    if t == "all":
        return 0xFF
    if t == "none" or not t:
        return 0
    out = 0
    for part in t.replace("|", ",").split(","):
        part = part.strip()
        if part.startswith("0x") or part.isdigit():
            out |= int(part, 0)
        elif part in TCP_FLAGS:
            out |= TCP_FLAGS[part]
        else:
            raise ValueError(f"unknown TCP flag {part!r}")
    return out


def parse_int(text: str) -> int:
    return int(text.strip(), 0)
