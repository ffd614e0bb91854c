"""The combined flow model: depth, what-if, verify against an intent, scorecard (on small estates
built here, so that the expected numbers can be derived by hand)."""

from __future__ import annotations

from typing import Any

import pytest

from ringwall.analysis import flows as flows_mod
from ringwall.analysis.depth import compute_depth
from ringwall.analysis.flows import Degradation, FlowContext, LayerView, build_flow_model
from ringwall.analysis.intent import IntentError, parse_intent
from ringwall.analysis.verify import verify
from ringwall.analysis.whatif import what_if
from ringwall.model.connections import ALL, ConnectionSet
from tests.netpol.harness import build, namespace_manifest, pod_manifest

TCP80 = ConnectionSet.of("TCP", [(80, 80)])


def np(name: str, ns: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": ns}, "spec": spec}


def estate():  # type: ignore[no-untyped-def]
    """a/web may reach b/db on TCP 80; b is default-deny for ingress; a/web is not isolated."""
    objs = [namespace_manifest("a", {}), namespace_manifest("b", {}),
            pod_manifest("a", "web", [80], ["TCP"]), pod_manifest("b", "db", [80], ["TCP"]),
            pod_manifest("b", "cache", [80], ["TCP"]),
            np("deny", "b", {"podSelector": {}, "policyTypes": ["Ingress"]}),
            np("web-to-db", "b", {"podSelector": {"matchLabels": {"pod": "db"}}, "policyTypes": ["Ingress"],
                                  "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {
                                      "kubernetes.io/metadata.name": "a"}}}], "ports": [{"port": 80}]}]})]
    return build(objs).estate


WEB, DB, CACHE = "a/web[Pod]", "b/db[Pod]", "b/cache[Pod]"


def test_verdicts_and_combined() -> None:
    model = build_flow_model(estate())
    assert [v.name for v in model.layers] == ["netpol"]
    assert model.verdicts((WEB, DB)) == {"netpol": TCP80}
    assert model.combined((DB, WEB)) == ALL  # a/web is not isolated
    assert model.combined((WEB, CACHE)).is_all() is False


def test_depth_counts_single_layer_flows() -> None:
    result = compute_depth(build_flow_model(estate()))
    single = {(d, layer): n for d, layer, n in result.single_layer()}
    # b/db: web (partly), cache, and both external zones are blocked by NetworkPolicy alone.
    assert single[(DB, "netpol")] == 4
    assert single[(CACHE, "netpol")] == 4
    assert (WEB, "netpol") not in single


def test_depth_with_a_second_layer(monkeypatch: pytest.MonkeyPatch) -> None:
    def second(est, ctx: FlowContext) -> LayerView:  # type: ignore[no-untyped-def]
        return LayerView("extra", "Extra", lambda s, d: d == CACHE, {}, set(), {})

    monkeypatch.setattr(flows_mod._BUILDERS, "_items", [*flows_mod._BUILDERS._items, ("extra", second)])
    model = build_flow_model(estate())
    result = compute_depth(model)
    single = {(d, layer): n for d, layer, n in result.single_layer()}
    assert (CACHE, "netpol") not in single  # now blocked by two layers
    assert result.histogram[2] == 12  # web, db and the two zones -> cache, for each of TCP, UDP and SCTP


def test_whatif_cni_none_opens_exactly_what_policies_held_back() -> None:
    est = estate()
    result = what_if(est, Degradation(cni_none=True))
    opened = {(o.src, o.dst): o for o in result.opened}
    assert set(opened) == {(WEB, CACHE), (DB, CACHE), (CACHE, DB), (WEB, DB), ("zone:internet", DB),
                           ("zone:internet", CACHE), ("zone:private", DB), ("zone:private", CACHE)}
    assert opened[(WEB, DB)].newly_open == ALL - TCP80
    assert all(o.after == ALL for o in result.opened)


INTENT = {
    "apiVersion": "ringwall.dev/v1alpha1", "kind": "Intent", "metadata": {"name": "t"},
    "zones": [{"name": "web", "namespaces": ["a"]}, {"name": "db", "workloads": ["b/db"]},
              {"name": "cache", "workloads": ["b/cache"]}],
    "flows": [{"name": "web-db", "from": "web", "to": "db", "ports": ["TCP/80"]},
              {"name": "web-cache", "from": "web", "to": "cache", "ports": ["TCP/80"]}],
    "dns": False, "defaults": {"min_depth": 1},
}


def test_verify_reports_broken_and_open_flows() -> None:
    result = verify(estate(), parse_intent(INTENT))
    got = sorted((f.check.id, f.subject) for f in result.findings)
    assert got == [
        ("RW-DEPTH-004", WEB),  # web is reachable from everything: unintended and open everywhere
        ("RW-DEPTH-004", "zone:internet"),  # no workload is egress-isolated
        ("RW-DEPTH-004", "zone:private"),
        ("RW-DEPTH-024", f"{WEB}->{CACHE}"),  # intended, blocked by NetworkPolicy
    ]
    assert (result.intended_ok, result.intended_total) == (1, 2)


def test_verify_min_depth_two_flags_single_layer() -> None:
    intent = parse_intent({**INTENT, "defaults": {"min_depth": 2}})
    ids = sorted({f.check.id for f in verify(estate(), intent).findings})
    assert ids == ["RW-DEPTH-001", "RW-DEPTH-004", "RW-DEPTH-024"]


@pytest.mark.parametrize(("patch", "message"), [
    ({"apiVersion": "v1"}, "apiVersion must be ringwall.dev/v1alpha1"),
    ({"flows": [{"from": "web"}]}, "flows[0]: a flow needs from and to"),
    ({"flows": [{"from": "web", "to": "db", "ports": ["ICMP/1"]}]}, "protocol must be TCP, UDP or SCTP"),
    ({"zones": [{"name": "x", "cidrs": ["10.0.0.300/8"]}]}, "zones[0]"),
    ({"defaults": {"require": ["magic"]}}, "require lists protections"),
])
def test_bad_intent_is_one_clear_error(patch: dict[str, Any], message: str) -> None:
    with pytest.raises(IntentError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_intent({**INTENT, **patch}, "t.yaml")


def test_unknown_flow_endpoint() -> None:
    with pytest.raises(IntentError, match="'nope' is neither a zone"):
        verify(estate(), parse_intent({**INTENT, "flows": [{"from": "nope", "to": "db"}]}, "t.yaml"))


def test_zones_are_carved_and_flows_cover_inner_zones() -> None:
    intent = parse_intent({**INTENT, "zones": [*INTENT["zones"], {"name": "admins", "cidrs": ["198.51.100.0/24"]},
                                               {"name": "world", "cidrs": ["0.0.0.0/0", "::/0"]}]})
    world = intent.zone("world")
    admins = intent.zone("admins")
    assert world is not None and admins is not None
    from ringwall.model import intervals as iv

    assert not iv.intersect(world.addresses, admins.addresses)
    from ringwall.analysis.zones import covered_by

    assert {z.name for z in covered_by(world, intent.zones)} >= {"world", "admins", "private"}


def test_gateway_view_adds_protections_from_routes() -> None:
    from ringwall.analysis.estate import load_estate
    from tests.conftest import REPO_ROOT

    model = build_flow_model(load_estate([str(REPO_ROOT / "examples" / "shop")]))
    gateway = model.layer("gateway")
    assert gateway is not None
    api, web = "backend/api[Deployment]", "frontend/web[Deployment]"
    assert gateway.protections[("zone:internet", api)] == frozenset({"request-authenticated", "encrypted"})
    # web is also reachable through its own LoadBalancer Service, which skips the gateway's TLS and auth
    assert ("zone:internet", web) not in gateway.protections
    assert gateway.verdict(("zone:internet", web)) == ALL  # the gateway forwards; it does not block at L4
    assert gateway.verdict(("backend/api[Deployment]", web)) is None  # it only sees traffic from outside


def test_scorecard_on_the_shop_is_traceable() -> None:
    from ringwall.analysis.estate import load_estate
    from ringwall.analysis.scan import run_scan
    from tests.conftest import REPO_ROOT

    card = run_scan(load_estate([str(REPO_ROOT / "examples" / "shop")])).scorecard
    assert card is not None
    backend, monitoring = card.namespaces["backend"], card.namespaces["monitoring"]
    # Istio STRICT + ALLOW by principal: every inbound backend flow is encrypted and identity-checked.
    assert (backend["identity"].value, backend["encrypt"].value, backend["authorize"].value) == (100, 100, 100)
    # monitoring has no NetworkPolicy: nothing is explicitly authorized, nothing isolated.
    assert monitoring["authorize"].value == 0
    assert monitoring["breach"].evidence[0] == "0 of 2 workloads isolated for ingress and egress"
    assert backend["log"].value == 50
    assert backend["log"].evidence == [
        "dns: logs", "mesh: access logging not configured in the input (no Telemetry with accessLogging)"]
