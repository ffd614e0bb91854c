"""nftables: one ``inet ringwall`` table per host role, loadable with ``nft -f``.

The file declares the table, deletes it and declares it again, so loading it twice replaces the
previous version atomically (one transaction) and leaves every other table (kube-proxy's, the
CNI's) alone.
"""

from __future__ import annotations

from ringwall.generate.base import Context, GeneratedFile, register, split_families
from ringwall.generate.hostrules import HostRule, role_rules, roles
from ringwall.generate.spec import Network

TABLE = "ringwall"
_SPECIAL = {
    "established": ["ct state established,related accept"],
    "invalid": ["ct state invalid drop"],
    "loopback": ['iif "lo" accept'],
    "icmpv6-nd": ["icmpv6 type { nd-router-solicit, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert } "
                  "ip6 hoplimit 255 accept"],
    "icmpv6-errors": ["icmpv6 type { destination-unreachable, packet-too-big, time-exceeded, parameter-problem } "
                      "accept"],
    "log": ['limit rate 5/minute burst 10 packets log prefix "ringwall-{chain}-drop: " level info'],
}


def _set(items: list[str]) -> str:
    return items[0] if len(items) == 1 else "{ " + ", ".join(items) + " }"


def _full(nets: list[Network]) -> bool:
    return len(nets) == 1 and nets[0].prefixlen == 0


def _lines(rule: HostRule) -> list[str]:
    if rule.special:
        return [line.replace("{chain}", rule.chain) for line in _SPECIAL[rule.special]]
    ports = ""
    if rule.proto:
        ports = f"{rule.proto} dport " + _set([str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in rule.ports])
    s4, s6 = split_families(rule.saddr or ())
    d4, d6 = split_families(rule.daddr or ())
    if rule.daddr is None and _full(s4) and _full(s6):
        return [" ".join(p for p in (ports, "accept") if p)]  # from every address of both families
    out = []
    for fam, src, dst in (("ip", s4, d4), ("ip6", s6, d6)):
        if (rule.saddr is not None and not src) or (rule.daddr is not None and not dst):
            continue  # this family has no address on a side that needs one
        parts = []
        if _full(src) and not dst:
            parts.append(f"meta nfproto {'ipv4' if fam == 'ip' else 'ipv6'}")
        elif src:
            parts.append(f"{fam} saddr " + _set([str(n) for n in src]))
        if dst:
            parts.append(f"{fam} daddr " + _set([str(n) for n in dst]))
        if ports:
            parts.append(ports)
        parts.append("accept")
        out.append(" ".join(parts))
    return out


def render(ctx: Context, role: str, rules: list[HostRule]) -> str:
    lines = [
        "#!/usr/sbin/nft -f",
        f"# {ctx.header()}",
        f"# Host role {role}: default-drop input and forward; output open. Load with nft -f.",
        "",
        f"table inet {TABLE}",
        f"delete table inet {TABLE}",
        "",
        f"table inet {TABLE} {{",
    ]
    for chain in ("input", "forward"):
        lines += [f"\tchain {chain} {{", f"\t\ttype filter hook {chain} priority filter; policy drop;"]
        last = ""
        for rule in (r for r in rules if r.chain == chain):
            body = _lines(rule)
            if not body:
                continue
            if rule.comment != last:  # one comment for the rules of one purpose (one per protocol)
                lines.append(f"\t\t# {rule.comment}")
                last = rule.comment
            lines += [f"\t\t{b}" for b in body]
        lines.append("\t}")
    lines += ["}", ""]
    return "\n".join(lines)


@register("nftables", "hostfw", "host firewall per role as an nftables inet table (hosts/<role>.nft)")
def generate(ctx: Context) -> list[GeneratedFile]:
    return [GeneratedFile(f"hosts/{r.name}.nft", render(ctx, r.name, role_rules(ctx, r))) for r in roles(ctx)]
