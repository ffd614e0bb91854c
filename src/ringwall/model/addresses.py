"""IP addresses of both families on one number line, as interval sets.

IPv4 addresses are 0..2**32-1; IPv6 addresses are shifted above them by ``V6_OFFSET`` so that
one interval set can hold both families without ever merging across them.
"""

from __future__ import annotations

import ipaddress

from ringwall.model import intervals as iv
from ringwall.model.intervals import Intervals

V4_MAX = (1 << 32) - 1
V6_OFFSET = 1 << 33
V6_MAX = V6_OFFSET + (1 << 128) - 1
ALL_V4: Intervals = ((0, V4_MAX),)
ALL_V6: Intervals = ((V6_OFFSET, V6_MAX),)
ALL_IPS: Intervals = (*ALL_V4, *ALL_V6)


class AddressError(ValueError):
    pass


def parse_cidr(text: str) -> tuple[Intervals, bool]:
    """Parse a CIDR leniently, as the API server does for stored objects.

    Returns the interval and whether host bits had to be masked (the caller may warn).
    """
    try:
        net = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError as exc:
        raise AddressError(f"invalid CIDR {text!r}: {exc}") from None
    masked = str(net) != text.strip() and "/" in text
    lo = int(net.network_address)
    hi = int(net.broadcast_address)
    if net.version == 6:
        lo += V6_OFFSET
        hi += V6_OFFSET
    return ((lo, hi),), masked


def parse_address(text: str) -> int:
    try:
        addr = ipaddress.ip_address(text.strip())
    except ValueError as exc:
        raise AddressError(f"invalid IP address {text!r}") from exc
    return int(addr) + (V6_OFFSET if addr.version == 6 else 0)


def is_v6(value: int) -> bool:
    return value >= V6_OFFSET


def format_address(value: int) -> str:
    if value >= V6_OFFSET:
        return str(ipaddress.IPv6Address(value - V6_OFFSET))
    return str(ipaddress.IPv4Address(value))


def format_range(lo: int, hi: int) -> str:
    """``a-b`` as in the connlist grammar (single addresses are still written as ranges)."""
    return f"{format_address(lo)}-{format_address(hi)}"


def to_cidrs(ranges: Intervals) -> list[str]:
    """The shortest list of CIDRs covering ``ranges`` exactly."""
    out: list[str] = []
    for lo, hi in ranges:
        if lo >= V6_OFFSET:
            first, last = ipaddress.IPv6Address(lo - V6_OFFSET), ipaddress.IPv6Address(hi - V6_OFFSET)
        else:
            first, last = ipaddress.IPv4Address(lo), ipaddress.IPv4Address(hi)
        out.extend(str(n) for n in ipaddress.summarize_address_range(first, last))  # type: ignore[arg-type]
    return out


def family_space(ranges: Intervals) -> Intervals:
    """The whole address space of each family that ``ranges`` touches."""
    out: list[tuple[int, int]] = []
    if any(lo <= V4_MAX for lo, _ in ranges):
        out.extend(ALL_V4)
    if any(hi >= V6_OFFSET for _, hi in ranges):
        out.extend(ALL_V6)
    return iv.normalize(out)
