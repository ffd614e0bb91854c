"""Mesh output (Istio, Linkerd): valid against the CRDs, and a second layer in the closed loop.

With NetworkPolicies and the generated mesh policies, ``verify`` finds every intended flow working,
encrypted and peer-authenticated, and every unintended TCP connection between workloads blocked by
both layers (depth 2). UDP stays at depth 1: neither mesh authorizes UDP.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ringwall.analysis.estate import load_estate
from ringwall.analysis.intent import load_intent
from ringwall.analysis.verify import verify
from ringwall.generate.cli import generate, write
from ringwall.model.connections import ConnectionSet

from .helpers import INTENTS, SHOP_WORKLOADS, gaps

SHOP = INTENTS / "shop-full.yaml"
PLURALS = {"PeerAuthentication": "peerauthentications", "AuthorizationPolicy": "authorizationpolicies",
           "Server": "servers", "MeshTLSAuthentication": "meshtlsauthentications",
           "NetworkAuthentication": "networkauthentications"}
TCP = ConnectionSet.of("TCP")


def _intent(tmp: Path, provider: str, drop_scrapes: bool = False, require: bool = False) -> Path:
    doc = yaml.safe_load(SHOP.read_text())
    doc["mesh"]["provider"] = provider
    if drop_scrapes:
        doc["flows"] = [f for f in doc["flows"] if not f["name"].startswith("scrape-")]
    if require:
        doc["defaults"] = {"min_depth": 1, "require": ["encrypted", "peer-authenticated"]}
    path = tmp / f"{provider}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@pytest.mark.parametrize("provider", ["istio", "linkerd"])
def test_mesh_objects_match_crds(provider: str, shared_dir: Path, tmp_path: Path) -> None:
    import jsonschema

    files, _ = generate(_intent(tmp_path, provider), [provider])
    checked = 0
    for f in files:
        for doc in yaml.safe_load_all(f.content):
            if doc["kind"] not in PLURALS:
                continue
            group, version = doc["apiVersion"].split("/")
            crd = yaml.safe_load((shared_dir / "schemas" / "crds" / group / f"{PLURALS[doc['kind']]}.yaml").read_text())
            (ver,) = [v for v in crd["spec"]["versions"] if v["name"] == version]
            jsonschema.validate(doc, ver["schema"]["openAPIV3Schema"])
            checked += 1
    assert checked > 10


@pytest.fixture(scope="module", params=["istio", "linkerd"])
def mesh_result(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """For Istio, the shop without Prometheus' scrapes: it scrapes pod IPs on ports no Service
    exposes, which a sidecar passes through without mTLS, so STRICT mTLS refuses them (a real Istio
    limitation that metrics merging, not authorization, solves). Linkerd has no such exception."""
    provider = request.param
    tmp = tmp_path_factory.mktemp(provider)
    intent = _intent(tmp, provider, drop_scrapes=provider == "istio", require=True)
    files, _ = generate(intent, ["netpol", provider])
    write(files, tmp / "out")
    estate = load_estate([*SHOP_WORKLOADS, tmp / "out" / "kubernetes", tmp / "out" / "mesh"])
    host = {w.key for w in estate.cluster.workloads if w.host_network}
    return verify(estate, load_intent(intent)), host, estate


def test_mesh_closed_loop(mesh_result) -> None:  # type: ignore[no-untyped-def]
    result, host, _ = mesh_result
    assert "mesh" in [v.name for v in result.model.layers]
    assert gaps(result, host) == []
    assert [f.message for f in result.findings if f.check.id in ("RW-DEPTH-017", "RW-DEPTH-025")] == []
    assert result.intended_ok == result.intended_total > 0


def _leaks(mesh_result, skip_external_ports: bool) -> list[str]:  # type: ignore[no-untyped-def]
    result, host, estate = mesh_result
    model = result.model
    wanted: dict[tuple[str, str], ConnectionSet] = {}
    external: dict[str, ConnectionSet] = {}
    intent = result.intent
    for flow in intent.flows:
        src = intent.zone(flow.src)
        if src is not None and src.external:
            for d in _members(intent, estate, flow.dst):
                external[d] = external.get(d, ConnectionSet.none()) | flow.conn
        for s in _members(intent, estate, flow.src):
            for d in _members(intent, estate, flow.dst):
                wanted[(s, d)] = wanted.get((s, d), ConnectionSet.none()) | flow.conn
    judged = [w.key for w in estate.cluster.workloads
              if w.namespace not in intent.ignore_namespaces and w.key not in host]
    shallow = []
    for s in judged:
        for d in judged:
            if s == d:
                continue
            unwanted = TCP - wanted.get((s, d), ConnectionSet.none())
            for layer in ("netpol", "mesh"):
                leak = model.verdicts((s, d)).get(layer, ConnectionSet.all()) & unwanted
                if skip_external_ports and layer == "mesh":
                    leak = leak - external.get(d, ConnectionSet.none())
                if leak:
                    shallow.append(f"{s} -> {d}: {layer} allows {leak}")
    return shallow


def test_unintended_tcp_is_blocked_by_both_layers(mesh_result) -> None:  # type: ignore[no-untyped-def]
    """Linkerd: ports open to an external zone are set aside here (see the next test)."""
    shallow = _leaks(mesh_result, skip_external_ports=_provider(mesh_result) == "linkerd")
    assert shallow == [], "\n".join(shallow)


@pytest.mark.xfail(strict=True, reason="the Linkerd model cannot tell that a NetworkAuthentication whose networks "
                   "except the pod CIDR refuses pods whose addresses the manifests do not give (_in_nets answers "
                   "'unknown' instead of 'no' when the cluster networks lie outside the networks)")
def test_linkerd_external_ports_refuse_pods(tmp_path_factory: pytest.TempPathFactory) -> None:
    tmp = tmp_path_factory.mktemp("linkerd-ext")
    intent = _intent(tmp, "linkerd", require=True)
    files, _ = generate(intent, ["netpol", "linkerd"])
    write(files, tmp / "out")
    estate = load_estate([*SHOP_WORKLOADS, tmp / "out" / "kubernetes", tmp / "out" / "mesh"])
    host = {w.key for w in estate.cluster.workloads if w.host_network}
    leaks = _leaks((verify(estate, load_intent(intent)), host, estate), skip_external_ports=False)
    assert leaks == []


def _provider(mesh_result) -> str:  # type: ignore[no-untyped-def]
    return str(mesh_result[0].intent.raw["mesh"]["provider"])


def _members(intent, estate, name: str) -> list[str]:  # type: ignore[no-untyped-def]
    zone = intent.zone(name)
    if zone is None or zone.external:
        return []
    return [w.key for w in estate.cluster.workloads if zone.contains(w)]
