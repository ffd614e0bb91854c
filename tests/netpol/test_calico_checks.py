"""RW-CALICO-* / RW-CILIUM-* findings on small inputs (issue 5: shadowed denies, Pass with no
lower tier, global allow-all, priority collisions, policies for a CNI that is not installed)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from ringwall.analysis.estate import LoadOptions, load_estate
from ringwall.layers.netpol.cni_checks import run_cni_checks

from .test_calico_helpers import BASE, gnp, knp, tier


def findings(objects: list[dict[str, Any]], cni: str | None = None) -> list[tuple[str, str, str]]:
    estate = load_estate(["-"], LoadOptions(host_network="pod", cni=cni),
                         stdin_text=yaml.safe_dump_all([*BASE, *objects], sort_keys=False))
    engine = estate.engine(enforced=True)
    return sorted((f.check.id, f.subject, f.detail) for f in run_cni_checks(engine, estate.calico, estate.cilium,
                                                                             estate.cni))


CCNP_ALL = {"apiVersion": "cilium.io/v2", "kind": "CiliumClusterwideNetworkPolicy", "metadata": {"name": "open"},
            "spec": {"endpointSelector": {}, "ingress": [{"fromEntities": ["world"]}]}}

CASES = [
    ("Calico policies under another CNI are void (RW-CALICO-001)",
     [gnp("p", {"selector": "all()", "ingress": [{"action": "Deny"}]})], "cilium",
     [("RW-CALICO-001", "cni/cilium", "calico")]),
    ("Cilium policies under another CNI are void (RW-CILIUM-001); a world allow-all is reported (RW-CILIUM-003)",
     [CCNP_ALL], "calico",
     [("RW-CILIUM-001", "cni/calico", "cilium"),
      ("RW-CILIUM-003", "CiliumClusterwideNetworkPolicy/open", "ingress[0]")]),
    ("A Pass in the last tier selecting the endpoint ends in the profile allow (RW-CALICO-002)",
     [tier("sec", 100), gnp("sec.p", {"tier": "sec", "selector": "app == 'db'", "ingress": [{"action": "Pass"}]})],
     "calico",
     [("RW-CALICO-002", "GlobalNetworkPolicy/sec.p", "ingress")]),
    ("A tier with defaultAction Pass that is the last to select the endpoint (RW-CALICO-002)",
     [tier("sec", 100, "Pass"),
      gnp("sec.p", {"tier": "sec", "selector": "app == 'db'",
                    "ingress": [{"action": "Allow", "source": {"selector": "app == 'web'"}}]})],
     "calico",
     [("RW-CALICO-002", "Tier/sec", "ingress")]),
    ("A Pass caught by a Kubernetes NetworkPolicy in the default tier is not reported",
     [tier("sec", 100), gnp("sec.p", {"tier": "sec", "selector": "app == 'db'", "ingress": [{"action": "Pass"}]}),
      knp("a", "np", {"podSelector": {}, "ingress": [{}]})],
     "calico", []),
    ("An unconditional Allow in a GlobalNetworkPolicy (RW-CALICO-003)",
     [gnp("open", {"selector": "all()", "ingress": [{"action": "Allow"}]})], "calico",
     [("RW-CALICO-003", "GlobalNetworkPolicy/open", "ingress[0]")]),
    ("Same tier, same order, common endpoints, different actions (RW-CALICO-004)",
     [gnp("a-allow", {"order": 10, "selector": "app == 'db'",
                      "ingress": [{"action": "Allow", "source": {"selector": "app == 'web'"}}]}),
      gnp("b-deny", {"order": 10, "selector": "has(app)",
                     "ingress": [{"action": "Deny", "source": {"selector": "app == 'web'"}}]})], "calico",
     # b-deny still decides for web -> web and web -> cli, so it is not shadowed.
     [("RW-CALICO-004", "GlobalNetworkPolicy/b-deny", "GlobalNetworkPolicy/a-allow")]),
    ("A Deny after an Allow covering it never takes effect (RW-CALICO-005)",
     [gnp("p", {"selector": "app == 'db'", "ingress": [
         {"action": "Allow", "source": {"selector": "has(app)"}},
         {"action": "Deny", "source": {"selector": "app == 'web'"}, "protocol": "TCP",
          "destination": {"ports": [80]}}]})],
     "calico",
     [("RW-CALICO-005", "GlobalNetworkPolicy/p", "ingress[1]")]),
    ("A Deny that still decides something is not shadowed",
     [gnp("p", {"selector": "app == 'db'", "ingress": [
         {"action": "Allow", "source": {"selector": "app == 'cli'"}},
         {"action": "Deny", "source": {"selector": "has(app)"}}]})], "calico", []),
]


@pytest.mark.parametrize(("rule", "objects", "cni", "expected"), CASES, ids=[c[0][:60] for c in CASES])
def test_cni_checks(rule: str, objects: list[dict[str, Any]], cni: str, expected: list[tuple[str, str, str]]) -> None:
    got = [f for f in findings(objects, cni) if not f[0].endswith(("-006", "-002")) or f[0] == "RW-CALICO-002"]
    assert got == sorted(expected), rule


def test_approximations_are_findings() -> None:
    """ICMP and source ports are outside the model: an info finding says so (RW-CALICO-006)."""
    got = findings([gnp("p", {"selector": "all()", "ingress": [
        {"action": "Deny", "protocol": "ICMP"},
        {"action": "Allow", "protocol": "TCP", "source": {"ports": [1234]}}]})], "calico")
    assert [f[0] for f in got if f[0] == "RW-CALICO-006"] == ["RW-CALICO-006", "RW-CALICO-006"]
