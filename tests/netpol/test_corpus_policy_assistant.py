"""policy-assistant's 21 cases (NetworkPolicy, AdminNetworkPolicy, BaselineAdminNetworkPolicy and
their combinations), scored per direction (ingress and egress tables) and combined."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.conftest import find_shared_dir

from .harness import build, namespace_manifest, pod_manifest

SHARED = find_shared_dir()
FILE = SHARED / "corpora" / "policy-assistant" / "cases.yaml" if SHARED else None
CASES: list[dict[str, Any]] = yaml.safe_load(FILE.read_text())["cases"] if FILE and FILE.exists() else []
NP_ONLY = [c for c in CASES if all(p["kind"] == "NetworkPolicy" for p in c["policies"])]
ALL_IDS = [c["id"] for c in CASES]


@pytest.mark.corpus
@pytest.mark.skipif(not CASES, reason="../shared/corpora/policy-assistant not available")
@pytest.mark.parametrize("case", CASES, ids=ALL_IDS)
def test_policy_assistant_case(case: dict[str, Any]) -> None:
    res = case["resources"]
    objects = [namespace_manifest(ns, {"ns": ns, "kubernetes.io/metadata.name": ns}) for ns in res["namespaces"]]
    objects += [pod_manifest(*p.split("/"), res["ports"], res["protocols"]) for p in res["pods"]]
    objects += case["policies"]
    cluster = build(objects)
    exp = case["expect"]
    flip_in = {(f["from"], f["to"], f["port"], f["protocol"]) for f in exp["non_default_ingress"]}
    flip_eg = {(f["from"], f["to"], f["port"], f["protocol"]) for f in exp["non_default_egress"]}
    for src in res["pods"]:
        for dst in res["pods"]:
            if src == dst:
                continue
            for port in res["ports"]:
                for proto in res["protocols"]:
                    key = (src, dst, port, proto)
                    want_in = (exp["default_ingress"] == "allowed") != (key in flip_in)
                    want_eg = (exp["default_egress"] == "allowed") != (key in flip_eg)
                    assert cluster.ingress_allowed(src, dst, proto, port) == want_in, ("ingress", key)
                    assert cluster.egress_allowed(src, dst, proto, port) == want_eg, ("egress", key)
                    assert cluster.allowed(src, dst, proto, port) == (want_in and want_eg), key


def test_np_cases_present() -> None:
    if not CASES:
        pytest.skip("../shared/corpora/policy-assistant not available")
    assert [c["id"] for c in NP_ONLY] == ["pa-npv1-01", "pa-npv1-02"]
    assert len(CASES) == 21
