"""Closed loop: ``verify`` on what ``generate`` wrote finds no gap, for the examples and for random intents."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ringwall.generate.cli import generate, write

from .helpers import EXAMPLES, INTENTS, closed_loop, gaps, workloads_yaml


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_examples_verify_without_gaps(name: str, tmp_path: Path) -> None:
    files, _ = generate(INTENTS / f"{name}.yaml", ["netpol"])
    write(files, tmp_path)
    result, host_network = closed_loop(INTENTS / f"{name}.yaml", tmp_path, EXAMPLES[name])
    assert gaps(result, host_network) == []
    assert result.intended_total > 0 and result.intended_ok == result.intended_total


# A small synthetic cluster: three namespaces, two deployments each, a "tier" label shared across namespaces.
NAMESPACES = ("alpha", "beta", "gamma")
PODS = [(ns, f"{app}", {"app": app, "tier": tier}) for ns in NAMESPACES
        for app, tier in (("front", "web"), ("store", "data"))]
EXTERNAL = {"partner": ["203.0.113.0/24"], "office": ["198.51.100.0/24", "2001:db8::/32"]}

internal_zone = st.one_of(
    st.builds(lambda ns: {"namespaces": [ns]}, st.sampled_from(NAMESPACES)),
    st.builds(lambda ns, app: {"namespaces": [ns], "selector": {"app": app}},
              st.sampled_from(NAMESPACES), st.sampled_from(["front", "store"])),
    st.builds(lambda nss, tier: {"namespaces": sorted(set(nss)), "selector": {"tier": tier}},
              st.lists(st.sampled_from(NAMESPACES), min_size=1, max_size=3), st.sampled_from(["web", "data"])),
)
port = st.one_of(
    st.builds(lambda p: f"TCP/{p}", st.integers(1, 65535)),
    st.builds(lambda p: f"UDP/{p}", st.integers(1, 65535)),
    st.builds(lambda a, n: f"TCP/{a}-{min(65535, a + n)}", st.integers(1000, 9000), st.integers(1, 50)),
)


@st.composite
def intents(draw: st.DrawFn) -> dict[str, object]:
    zones: list[dict[str, object]] = [{"name": n, "cidrs": c} for n, c in EXTERNAL.items()]
    for i, z in enumerate(draw(st.lists(internal_zone, min_size=1, max_size=4))):
        zones.append({"name": f"z{i}", **z})
    internal = [z["name"] for z in zones if "cidrs" not in z]
    anywhere = [*internal, "internet", *EXTERNAL]
    flows = []
    for i in range(draw(st.integers(1, 6))):
        src = draw(st.sampled_from(anywhere))
        dst = draw(st.sampled_from(internal)) if src not in internal else draw(st.sampled_from(anywhere))
        flow: dict[str, object] = {"name": f"flow-{i}", "from": src, "to": dst}
        ports = draw(st.one_of(st.none(), st.lists(port, min_size=1, max_size=3)))
        if ports is not None:
            flow["ports"] = ports
        flows.append(flow)
    return {"apiVersion": "ringwall.dev/v1alpha1", "kind": "Intent", "metadata": {"name": "random"},
            "zones": zones, "flows": flows, "dns": True, "defaults": {"min_depth": 1},
            "cluster": {"pod_cidr": "10.244.0.0/16", "service_cidr": "10.96.0.0/12", "namespaces": list(NAMESPACES)}}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=intents())
def test_random_intents_verify_without_gaps(doc: dict[str, object], tmp_path_factory: pytest.TempPathFactory) -> None:
    tmp = tmp_path_factory.mktemp("loop")
    intent = tmp / "intent.yaml"
    intent.write_text(yaml.safe_dump(doc, sort_keys=False))
    workloads = tmp / "workloads.yaml"
    workloads.write_text(workloads_yaml(PODS))
    files, _ = generate(intent, ["netpol"])
    out = tmp / "out"
    write(files, out)
    result, host_network = closed_loop(intent, out, [workloads])
    assert gaps(result, host_network) == []
    assert result.intended_ok == result.intended_total


def test_flow_without_ports_verifies_without_gaps(tmp_path: Path) -> None:
    doc = {"apiVersion": "ringwall.dev/v1alpha1", "kind": "Intent", "metadata": {"name": "all-ports"},
           "zones": [{"name": "z0", "namespaces": ["beta"]}], "flows": [{"name": "in", "from": "internet", "to": "z0"}],
           "cluster": {"pod_cidr": "10.244.0.0/16", "namespaces": list(NAMESPACES)}}
    intent = tmp_path / "intent.yaml"
    intent.write_text(yaml.safe_dump(doc, sort_keys=False))
    workloads = tmp_path / "workloads.yaml"
    workloads.write_text(workloads_yaml(PODS))
    files, _ = generate(intent, ["netpol"])
    write(files, tmp_path / "out")
    result, host_network = closed_loop(intent, tmp_path / "out", [workloads])
    assert gaps(result, host_network) == []
