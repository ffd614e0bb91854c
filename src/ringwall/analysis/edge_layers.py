"""The gateway, dns and access layers' contributions to ``scan``.

Inputs are picked by content from ``estate.load.other_files`` (Corefile, wg-quick ``[Interface]``,
sshd keywords) and from the manifests in ``estate.inventory``. When a host ruleset is among the
inputs, the access layer asks the host firewall layer which sources reach the control-plane
ports (6443, 10250, 2379) and the WireGuard ListenPort: an analysis may combine layers, a layer
never imports another.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ringwall.analysis.layers import LayerReport, register_layer
from ringwall.model.findings import Finding
from ringwall.model.location import Location

if TYPE_CHECKING:
    from ringwall.analysis.estate import Estate

# Networks that may reach management ports without a finding: RFC 1918, CGNAT (typical VPN and
# pod ranges), loopback and link-local. Public sources are what RW-K8S-001/011/012 report.
PRIVATE_NETS = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16")


@register_layer("gateway")
def scan_gateway_layer(estate: Estate) -> LayerReport:
    from ringwall.layers.gateway.api import scan_gateway, summarize

    result, findings = scan_gateway(estate.inventory, estate.sink)
    routes = [r for r in result.routes if r.controller != "service"]
    services = [r for r in result.routes if r.controller == "service"]
    if not result.routes:
        return LayerReport("gateway", "Edge gateways and entrypoints", False, None, "no external entrypoint found")
    redirects = [r for r in routes if r.backend in ("", "redirect")]
    public = [r for r in routes if r.public and r not in redirects]
    guarded = [r for r in routes if r not in redirects and r not in public]
    authed = sum(1 for r in guarded if r.enforced_auth)
    status = (f"{len(routes)} gateway route(s): {authed} of {len(guarded)} non-public with enforced "
              f"authentication, {len(public)} declared public, {len(redirects)} redirect(s); "
              f"{len(services)} LoadBalancer/NodePort Service(s)")
    enforced = authed == len(guarded) if guarded else None
    return LayerReport("gateway", "Edge gateways and entrypoints", True, enforced, status, summarize(result),
                       findings)


@register_layer("dns")
def scan_dns_layer(estate: Estate) -> LayerReport:
    from ringwall.layers.dns.api import check_dns, corefiles_from_files, corefiles_from_manifests, summarize

    corefiles = corefiles_from_manifests(estate.inventory, estate.sink)
    corefiles += corefiles_from_files(list(estate.load.other_files), estate.sink)
    findings = check_dns(corefiles, estate.inventory)
    details = summarize(corefiles, estate.inventory)
    kube_dns = details.get("kube_dns")
    if not corefiles and kube_dns is None:
        return LayerReport("dns", "Cluster DNS", False, None, "no Corefile or kube-dns Service found",
                           details, findings)
    fwd = [t for s in details["servers"] for f in s["forward"] for t in f["to"]]  # type: ignore[index]
    enc = all(str(t).startswith(("tls://", "https://")) for t in fwd) if fwd else None
    status = (f"{len(corefiles)} Corefile(s); upstreams {', '.join(map(str, fwd)) or 'none'}"
              f"{' (encrypted)' if enc else ' (unencrypted)' if enc is False else ''}; kube-dns "
              f"{kube_dns['type'] if isinstance(kube_dns, dict) else 'not found'}")
    return LayerReport("dns", "Cluster DNS", True, enc, status, details, findings)


@register_layer("access")
def scan_access_layer(estate: Estate) -> LayerReport:
    from ringwall.layers.access.api import check_access, read_inputs, summarize

    files = list(estate.load.other_files)
    inputs = read_inputs(files, estate.sink)
    findings = check_access(inputs, estate.inventory)
    details = summarize(inputs, estate.inventory)
    exposure, exposure_details = _control_plane_exposure(estate, inputs)
    findings.extend(exposure)
    if exposure_details:
        details["control_plane_ports"] = exposure_details
    found = bool(inputs.wireguard or inputs.sshd or any(f.check.id.startswith("RW-K8S") for f in findings))
    if not found:
        return LayerReport("access", "Management access", False, None,
                           "no WireGuard, sshd or control-plane configuration given", details, findings)
    valid = all(c.valid for c in inputs.sshd)
    status = (f"{len(inputs.wireguard)} WireGuard interface(s) "
              f"({sum(len(c.peers) for c in inputs.wireguard)} peers); {len(inputs.sshd)} sshd config(s)"
              f"{'' if valid else ' (sshd would refuse to start: see diagnostics)'}")
    return LayerReport("access", "Management access", True, None, status, details, findings)


def _control_plane_exposure(estate: Estate, inputs: object) -> tuple[list[Finding], list[dict[str, object]]]:
    """Ask the host firewall which public sources reach 6443/10250/2379 (and the WireGuard port)."""
    from ringwall.analysis.hostfw_layer import host_ruleset_files

    files = host_ruleset_files(estate)
    if not files:
        return [], []
    from ringwall.layers.access.kube_exposure import CONTROL_PORTS, exposure_findings
    from ringwall.layers.hostfw import values as V
    from ringwall.layers.hostfw.api import accepted_sources, load_ruleset
    from ringwall.model import intervals as iv

    ruleset = load_ruleset(files, estate.sink)
    everything = V.parse_net("0.0.0.0/0")[0]
    private: tuple[tuple[int, int], ...] = ()
    for n in PRIVATE_NETS:
        private = iv.union(private, V.parse_net(n)[0])
    dst = next((a for node in estate.cluster.nodes for a in node.addresses if ":" not in a), "192.0.2.10")
    out: list[Finding] = []
    details: list[dict[str, object]] = []
    loc = Location(str(files[0]), None, None, "host ruleset")
    for port in CONTROL_PORTS:
        acc = accepted_sources(ruleset, everything, dst, "tcp", port)
        public = iv.subtract(acc.may, private)
        details.append({"port": port, "accepted_from": V.fmt_ranges(acc.may) if acc.may else "nothing",
                        "exact": acc.exact})
        if public:
            shown = ["any public address"] if public == iv.subtract(everything, private) else \
                V.fmt_ranges(public).split(", ")
            out.extend(exposure_findings(port, shown, list(PRIVATE_NETS), loc, f"Host/{dst}"))
    wg = getattr(inputs, "wireguard", [])
    from ringwall.layers.access.catalogue import WG_LISTEN_OPEN

    for cfg in wg:
        if cfg.listen_port is None or not cfg.peers or any(not p.endpoint for p in cfg.peers):
            continue  # road warriors have no fixed address: an open port is expected
        acc = accepted_sources(ruleset, everything, dst, "udp", cfg.listen_port)
        if acc.may == everything:
            out.append(Finding(WG_LISTEN_OPEN, f"ListenPort {cfg.listen_port}/udp of {cfg.interface} is accepted "
                               "from any address although every peer has a fixed Endpoint",
                               (cfg.keys.get("listenport", loc),), f"wireguard:{cfg.path}", "listenport"))
    return out, details
