"""The dns layer as the rest of Ringwall sees it: find Corefiles, read them, check the estate.

A Corefile comes from the ``Corefile`` key of a ConfigMap (the ``kube-system/coredns`` one in
every kubeadm-style cluster) or from a file named ``Corefile`` (or that reads like one) among the
non-manifest inputs. Lines of an embedded Corefile point into the manifest.
"""

from __future__ import annotations

from pathlib import Path

from ringwall.model.diagnostics import DiagnosticSink
from ringwall.model.findings import Finding
from ringwall.sources.inventory import Inventory
from ringwall.sources.reading import MAX_INPUT_BYTES, input_head, lines_within_limit

from .checks import check_corefile, check_exposure, check_nodelocal, check_rbac, nodelocal_address
from .corefile import Corefile, looks_like_corefile, parse_corefile


def corefiles_from_manifests(inv: Inventory, sink: DiagnosticSink) -> list[Corefile]:
    out: list[Corefile] = []
    for cm in inv.documents("ConfigMap"):
        data = cm.obj.get("data")
        if not isinstance(data, dict) or not isinstance(data.get("Corefile"), str):
            continue
        key_line = cm.locate(("data", "Corefile")).line or 0
        text = data["Corefile"]
        if cm.source.is_json:
            # JSON holds the Corefile as one escaped string: lines point at the ConfigMap itself.
            out.append(parse_corefile(text, cm.source.path, sink, max(key_line - 1, 0), cm.ref))
            continue
        lines = cm.source.lines
        # A block scalar starts on the next line; a quoted/plain one on the key's own line.
        head = lines[key_line - 1] if 0 < key_line <= len(lines) else ""
        _, colon, rest = head.partition(":")
        inline = bool(colon) and rest.strip() not in ("|", "|-", "|+", ">", "")
        out.append(parse_corefile(text, cm.source.path, sink, key_line - 1 if inline else key_line, cm.ref))
    return out


def corefiles_from_files(files: list[Path], sink: DiagnosticSink) -> list[Corefile]:
    out: list[Corefile] = []
    for f in files:
        text = input_head(f, MAX_INPUT_BYTES)
        if looks_like_corefile(f.name, text[:8192]) and lines_within_limit(text, f, sink):
            out.append(parse_corefile(text, str(f), sink))
    return out


def check_dns(corefiles: list[Corefile], inv: Inventory | None) -> list[Finding]:
    findings: list[Finding] = []
    for cf in corefiles:
        findings.extend(check_corefile(cf))
    if inv is not None:
        findings.extend(check_exposure(inv))
        findings.extend(check_rbac(inv))
        addr = nodelocal_address(inv, corefiles)
        if addr:
            findings.extend(check_nodelocal(inv, addr))
    return findings


def summarize(corefiles: list[Corefile], inv: Inventory | None) -> dict[str, object]:
    servers = []
    for cf in corefiles:
        for s in cf.servers:
            fwd = [{"from": d.args[0] if d.args else "", "to": d.args[1:],
                    "tls_servername": (d.sub("tls_servername").args[0:1] or [None])[0]
                    if d.sub("tls_servername") else None} for d in s.plugins("forward")]
            servers.append({"source": cf.obj or cf.path, "line": s.location.line, "zones": s.keys,
                            "plugins": [d.name for d in s.directives], "forward": fwd})
    kube_dns = None
    if inv is not None:
        svc = next((x for x in inv.cluster.services if x.namespace == "kube-system" and x.name == "kube-dns"), None)
        if svc is not None:
            kube_dns = {"type": svc.type, "cluster_ip": svc.cluster_ip, "external_ips": list(svc.external_ips)}
    return {"corefiles": len(corefiles), "servers": servers, "kube_dns": kube_dns,
            "nodelocal": nodelocal_address(inv, corefiles) if inv is not None else None}
