"""Istio sidecar injection and ambient enrolment, rule by rule.

Reference: refs/mesh-edge-access-semantics.md §1.1 (Istio mutatingwebhook.yaml selector pairs,
inject.go ``injectRequired``, istio-cni ``ambient.enablementSelectors``).
"""

from __future__ import annotations

import pytest

from .helpers import deployment, model, namespace, wl

INJ = "sidecar.istio.io/inject"

CASES = [
    # (rule, namespace labels, pod labels, pod annotations, hostNetwork, namespace name, expected mode)
    ("§1.1.1 istio-injection=enabled injects", {"istio-injection": "enabled"}, {}, {}, False, "shop", "sidecar"),
    (
        "§1.1.1 pod label inject=false opts out",
        {"istio-injection": "enabled"},
        {INJ: "false"},
        {},
        False,
        "shop",
        "none",
    ),
    (
        "§1.1.1 deprecated annotation inject=false opts out when no label",
        {"istio-injection": "enabled"},
        {},
        {INJ: "false"},
        False,
        "shop",
        "none",
    ),
    (
        "§1.1.6 label beats annotation",
        {"istio-injection": "enabled"},
        {INJ: "true"},
        {INJ: "false"},
        False,
        "shop",
        "sidecar",
    ),
    (
        "§1.1.2 istio-injection=disabled beats pod label true",
        {"istio-injection": "disabled"},
        {INJ: "true"},
        {},
        False,
        "shop",
        "none",
    ),
    ("§1.1.3 unlabelled namespace: pod label true injects", {}, {INJ: "true"}, {}, False, "shop", "sidecar"),
    ("§1.1.3 unlabelled namespace: annotation true does nothing", {}, {}, {INJ: "true"}, False, "shop", "none"),
    (
        "§1.1.3 unlabelled namespace: pod label istio.io/rev injects",
        {},
        {"istio.io/rev": "canary"},
        {},
        False,
        "shop",
        "sidecar",
    ),
    (
        "§1.1 rev.namespace webhook: istio.io/rev on namespace",
        {"istio.io/rev": "canary"},
        {},
        {},
        False,
        "shop",
        "sidecar",
    ),
    (
        "§1.1.4 istio-injection wins over istio.io/rev",
        {"istio-injection": "disabled", "istio.io/rev": "canary"},
        {},
        {},
        False,
        "shop",
        "none",
    ),
    ("§1.1.5 hostNetwork pods are never injected", {"istio-injection": "enabled"}, {}, {}, True, "shop", "none"),
    (
        "§1.1.5 kube-system is never injected",
        {"istio-injection": "enabled"},
        {INJ: "true"},
        {},
        False,
        "kube-system",
        "none",
    ),
    (
        "§1.1 ambient: namespace dataplane-mode=ambient",
        {"istio.io/dataplane-mode": "ambient"},
        {},
        {},
        False,
        "shop",
        "ambient",
    ),
    (
        "§1.1 ambient: pod dataplane-mode=none opts out",
        {"istio.io/dataplane-mode": "ambient"},
        {"istio.io/dataplane-mode": "none"},
        {},
        False,
        "shop",
        "none",
    ),
    ("§1.1 ambient: pod label alone enrols", {}, {"istio.io/dataplane-mode": "ambient"}, {}, False, "shop", "ambient"),
    (
        "§1.1 ambient: a sidecar namespace is not ambient",
        {"istio-injection": "enabled", "istio.io/dataplane-mode": "ambient"},
        {},
        {},
        False,
        "shop",
        "sidecar",
    ),
    ("§1.1 ambient: hostNetwork never enrolled", {"istio.io/dataplane-mode": "ambient"}, {}, {}, True, "shop", "none"),
]


@pytest.mark.parametrize(
    ("rule", "ns_labels", "pod_labels", "pod_ann", "host_net", "ns", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_injection(
    rule: str,
    ns_labels: dict[str, str],
    pod_labels: dict[str, str],
    pod_ann: dict[str, str],
    host_net: bool,
    ns: str,
    expected: str,
) -> None:
    m = model(
        namespace(ns, ns_labels), deployment(ns, "app", labels=pod_labels, annotations=pod_ann, host_network=host_net)
    )
    assert m.membership(wl(m, f"{ns}/app")).mode == expected, rule


def test_ambient_waypoint_from_namespace_label() -> None:
    """§1.1 ambient: L7 policy needs a waypoint named by istio.io/use-waypoint."""
    m = model(
        namespace("shop", {"istio.io/dataplane-mode": "ambient", "istio.io/use-waypoint": "wp"}),
        deployment("shop", "app"),
    )
    assert m.membership(wl(m, "shop/app")).waypoint == "wp"


def test_control_plane_detection_and_forcing() -> None:
    """§1.1: the mesh is on when istiod or the CRDs are present, or when forced (--mesh istio)."""
    from ringwall.layers.mesh.common import MeshOptions

    m = model(namespace("istio-system"), deployment("istio-system", "istiod"), deployment("shop", "app"))
    assert m.istio and m.istio_control_plane == ["Deployment/istio-system/istiod"]
    m = model(deployment("shop", "app"))
    assert not m.istio and not m.linkerd_on
    m = model(deployment("shop", "app"), options=MeshOptions(mesh="istio"))
    assert m.istio and m.membership(wl(m, "shop/app")).mode == "none"
    m = model(
        namespace("shop", {"istio-injection": "enabled"}), deployment("shop", "app"), options=MeshOptions(mesh="none")
    )
    assert not m.istio and m.membership(wl(m, "shop/app")).mode == "none"
