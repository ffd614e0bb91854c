"""The 48 upstream Kubernetes e2e NetworkPolicy scenarios, probe by probe (oracle: [E2E])."""

from __future__ import annotations

import copy
import fnmatch
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import find_shared_dir

from .harness import build, namespace_manifest, pod_manifest

SHARED = find_shared_dir()
CASES_FILE = SHARED / "corpora" / "k8s-e2e" / "cases.yaml" if SHARED else None
CASES: list[dict[str, Any]] = (
    yaml.safe_load(CASES_FILE.read_text())["cases"] if CASES_FILE and CASES_FILE.exists() else []
)
_PLACEHOLDER = re.compile(r"\$\{IP\(([a-z]+/[a-z]+)\)( masked to /4)?\}")


def _ips(pods: list[str]) -> dict[str, str]:
    # Data only (never used as a traffic target): all in one /4, as case 35 requires.
    return {p: f"192.0.2.{i + 1}" for i, p in enumerate(pods)}


def _substitute(obj: Any, ips: dict[str, str]) -> Any:
    if isinstance(obj, dict):
        return {k: _substitute(v, ips) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_substitute(v, ips) for v in obj]
    if isinstance(obj, str) and "${IP(" in obj:
        def repl(m: re.Match[str]) -> str:
            ip = ips[m.group(1)]
            if m.group(2):
                first = int(ip.split(".")[0]) & 0xF0
                return f"{first}.0.0.0"
            return ip
        return _PLACEHOLDER.sub(repl, obj)
    return obj


def _matches(pattern: str, pod: str) -> bool:
    return pattern == "*" or fnmatch.fnmatchcase(pod, pattern)


@pytest.mark.corpus
@pytest.mark.skipif(not CASES, reason="../shared/corpora/k8s-e2e not available")
@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_e2e_case(case: dict[str, Any]) -> None:
    pods: list[str] = case["pods"]
    ips = _ips(pods)
    ns_labels = {ns: {"kubernetes.io/metadata.name": ns} for ns in ("x", "y", "z")}
    pod_labels = {p: {"pod": p.split("/")[1]} for p in pods}
    policies: dict[tuple[str, str], dict[str, Any]] = {}
    ports, protocols = case["servers"]["ports"], case["servers"]["protocols"]
    scored = 0
    for step in case["steps"]:
        for key in ("apply", "update"):
            for pol in step.get(key, []):
                pol = _substitute(copy.deepcopy(pol), ips)
                policies[(pol["metadata"]["namespace"], pol["metadata"]["name"])] = pol
        for ns, labels in step.get("add_namespace_labels", {}).items():
            ns_labels[ns].update(labels)
        for pod, labels in step.get("add_pod_labels", {}).items():
            pod_labels[pod].update(labels)
        if step.get("delete_all_policies"):
            policies.clear()
        objects = [namespace_manifest(ns, labels) for ns, labels in ns_labels.items()]
        objects += [pod_manifest(*p.split("/"), ports, protocols, ips[p], pod_labels[p]) for p in pods]
        objects += list(policies.values())
        cluster = build(objects, ipblock_pods="auto")
        for probe in step["probes"]:
            for src in pods:
                for dst in pods:
                    if src == dst:
                        continue  # loopback is not scored upstream
                    expected = probe["default"]
                    for e in probe["expect"]:
                        if _matches(e["from"], src) and _matches(e["to"], dst):
                            expected = e["allowed"]
                    got = cluster.allowed(src, dst, probe["protocol"], probe["port"])
                    assert got == expected, (
                        f"{case['id']}: {src} -> {dst} {probe['protocol']}/{probe['port']}: "
                        f"expected {expected}, got {got}"
                    )
                    scored += 1
    assert scored > 0


def test_corpus_count() -> None:
    if not CASES:
        pytest.skip("../shared/corpora/k8s-e2e not available")
    assert len(CASES) == 48
    assert Path(str(CASES_FILE)).exists()
