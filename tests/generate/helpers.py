"""Shared by the generate tests: synthetic workloads, the CLI app, the closed-loop check."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import typer
import yaml

from ringwall.analysis.estate import load_estate
from ringwall.analysis.intent import load_intent
from ringwall.analysis.verify import VerifyResult, verify
from ringwall.generate.cli import generate_command

REPO = Path(__file__).resolve().parents[2]
INTENTS = REPO / "examples" / "intents"
SHOP = REPO / "examples" / "shop"
SHOP_WORKLOADS = [SHOP / f"{n}.yaml" for n in ("namespaces", "kube-system", "frontend", "backend", "data",
                                                "monitoring")]
EXAMPLES = {
    "minimal": [INTENTS / "workloads" / "minimal.yaml"],
    "shop-full": SHOP_WORKLOADS,
}


def cli_app() -> typer.Typer:
    """The command as the main CLI will register it (``ringwall generate``)."""
    app = typer.Typer()
    app.command("generate")(generate_command)
    app.command("version")(lambda: None)  # two commands: typer keeps "generate" as a sub-command
    return app


def workloads_yaml(pods: Iterable[tuple[str, str, dict[str, str]]]) -> str:
    """Namespaces, one Deployment per ``(namespace, name, labels)`` and kube-dns in kube-system."""
    docs: list[dict[str, object]] = []
    items = [*pods, ("kube-system", "coredns", {"k8s-app": "kube-dns"})]
    for ns in sorted({ns for ns, _, _ in items}):
        docs.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    for ns, name, labels in items:
        docs.append({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": ns},
            "spec": {"selector": {"matchLabels": labels}, "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": name, "image": "registry.example/app:1"}]}}},
        })
    return "---\n".join(yaml.safe_dump(d, sort_keys=False) for d in docs)


def closed_loop(intent: Path, generated: Path, workloads: list[Path]) -> tuple[VerifyResult, set[str]]:
    """``verify`` on the generated Kubernetes objects plus the workloads they are meant for, and the
    keys of hostNetwork workloads (NetworkPolicy cannot govern them: the host firewall does)."""
    estate = load_estate([generated / "kubernetes", *workloads])
    host = {w.key for w in estate.cluster.workloads if w.host_network}
    return verify(estate, load_intent(intent)), host


GAPS = {"RW-DEPTH-024", "RW-DEPTH-002", "RW-DEPTH-004", "RW-DEPTH-001"}


def gaps(result: VerifyResult, host_network: set[str]) -> list[str]:
    """Findings that mean the generated output misses the intent. Findings about hostNetwork
    workloads are not: those pods are outside NetworkPolicy, and the flow model does not yet map
    the host firewall onto them."""
    out = []
    for f in result.findings:
        if f.check.id not in GAPS:
            continue
        if any(h in f.message for h in host_network):
            continue
        out.append(f"{f.check.id} {f.message}")
    return out
