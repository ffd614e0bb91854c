"""The shipped ClusterRole covers exactly what the reader lists, with get/list only."""

from __future__ import annotations

from pathlib import Path

import yaml

from ringwall.live.cluster import ClusterOptions, read_cluster
from ringwall.live.kinds import RESOURCES, rbac_rules

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "rbac" / "ringwall-reader.yaml"


def _docs() -> list[dict]:  # type: ignore[type-arg]
    return [d for d in yaml.safe_load_all(EXAMPLE.read_text()) if d]


def test_cluster_role_is_generated_from_the_resource_list() -> None:
    role = next(d for d in _docs() if d["kind"] == "ClusterRole")
    assert role["rules"] == rbac_rules()
    verbs = {v for d in _docs() if d["kind"] in ("ClusterRole", "Role") for r in d["rules"] for v in r["verbs"]}
    assert verbs == {"get", "list"}
    assert not any("secrets" in r["resources"] for d in _docs() if "rules" in d for r in d["rules"])


def test_configmaps_only_in_kube_system() -> None:
    role = next(d for d in _docs() if d["kind"] == "Role")
    assert role["metadata"]["namespace"] == "kube-system"
    assert role["rules"] == [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]
    assert [r.namespace for r in RESOURCES if r.plural == "configmaps"] == ["kube-system"]


def test_docs_ship_the_same_yaml() -> None:
    assert EXAMPLE.read_text() in (ROOT / "docs" / "live.md").read_text()


def test_every_list_request_is_allowed_by_the_role(fake_api) -> None:  # type: ignore[no-untyped-def]
    api, kc = fake_api(installed={r.resource for r in RESOURCES if r.optional})
    read_cluster(ClusterOptions(kubeconfig=str(kc), context="fake", timeout=5))
    allowed = {(g, res) for d in _docs() if "rules" in d for r in d["rules"] for g in r["apiGroups"]
               for res in r["resources"]}
    lists = [p.split("?")[0] for p in api.requests if "?limit=" in p]
    assert lists
    for path in lists:
        parts = path.strip("/").split("/")
        group = "" if parts[0] == "api" else parts[1]
        assert (group, parts[-1]) in allowed, path
