"""Edge gateway targets (gateway-envoy, gateway-istio): the objects match their CRDs, and the
gateway reader, run on the generated objects plus the shop's workloads, finds every intended route
authenticated the way the intent says, enforced, rate limited where asked, over TLS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from ringwall.analysis.estate import load_estate
from ringwall.analysis.intent import load_intent
from ringwall.generate.base import Context
from ringwall.generate.cli import generate, write
from ringwall.generate.edge_spec import EdgeRoute, load_edge
from ringwall.generate.spec import SpecError, load_spec
from ringwall.layers.gateway.api import scan_gateway
from ringwall.layers.gateway.model import Route
from ringwall.model.findings import Finding, Severity

from .helpers import INTENTS, SHOP_WORKLOADS
from .test_validators import _crd_schema

EDGE = INTENTS / "edge.yaml"
READER_KIND = {"jwt": "jwt", "api_key": "api-key", "client_certificate": "client-cert"}
PLURALS = {
    ("gateway.networking.k8s.io", "Gateway"): "gateways", ("gateway.networking.k8s.io", "HTTPRoute"): "httproutes",
    ("gateway.envoyproxy.io", "SecurityPolicy"): "securitypolicies",
    ("gateway.envoyproxy.io", "ClientTrafficPolicy"): "clienttrafficpolicies",
    ("gateway.envoyproxy.io", "BackendTrafficPolicy"): "backendtrafficpolicies",
    ("networking.istio.io", "Gateway"): "gateways", ("networking.istio.io", "VirtualService"): "virtualservices",
    ("security.istio.io", "RequestAuthentication"): "requestauthentications",
    ("security.istio.io", "AuthorizationPolicy"): "authorizationpolicies",
    ("configuration.konghq.com", "KongPlugin"): "kongplugins",
    ("configuration.konghq.com", "KongConsumer"): "kongconsumers",
}
SUBDIR = {"gateway-envoy": "envoy-gateway", "gateway-istio": "istio", "gateway-kong": "kong"}


def _intent(tmp_path: Path, provider: str, **edits: Any) -> Path:
    """The example edge intent with another provider (and route edits), as a file."""
    raw = yaml.safe_load(EDGE.read_text())
    raw["edge"]["provider"] = provider
    for i, fields in edits.get("routes", {}).items():
        raw["edge"]["routes"][i].update(fields)
    p = tmp_path / f"edge-{provider}.yaml"
    p.write_text(yaml.safe_dump(raw, sort_keys=False))
    return p


def _generated(intent: Path, target: str, out: Path) -> tuple[Path, list[str]]:
    files, notes = generate(intent, [target], [str(w) for w in SHOP_WORKLOADS])
    assert files
    write(files, out)
    return out / "edge" / SUBDIR[target], notes


def _docs(d: Path) -> list[dict[str, Any]]:
    return [doc for f in sorted(d.rglob("*.yaml")) for doc in yaml.safe_load_all(f.read_text()) if doc]


def _spec_routes(intent: Path) -> list[EdgeRoute]:
    it = load_intent(intent)
    spec = load_edge(Context(it, load_spec(it), load_estate([str(w) for w in SHOP_WORKLOADS])))
    assert spec is not None
    return list(spec.routes)


def _scan(d: Path) -> tuple[list[Route], list[Finding]]:
    estate = load_estate([d, *SHOP_WORKLOADS])
    result, findings = scan_gateway(estate.inventory, estate.sink)
    return result.routes, findings


def _in(d: Path, f: Finding) -> bool:
    """The finding is about a generated object (not, say, the shop's own LoadBalancer Service)."""
    return any(str(d) in (loc.path or "") for loc in f.locations)


@pytest.mark.parametrize("target", ["gateway-envoy", "gateway-istio", "gateway-kong"])
def test_objects_match_crds(target: str, tmp_path: Path, shared_dir: Path) -> None:
    import jsonschema

    intent = EDGE if target == "gateway-envoy" else _intent(tmp_path, SUBDIR[target])
    d, _ = _generated(intent, target, tmp_path / "out")
    checked, kinds = 0, set()
    for doc in _docs(d):
        if doc["kind"] == "EnvoyFilter":
            continue  # no EnvoyFilter CRD schema in ../shared (Istio ships it without one)
        if doc["apiVersion"] == "networking.k8s.io/v1":
            kv = pytest.importorskip("kubernetes_validate")
            kv.validate(doc, kv.latest_version(), strict=True)
            kinds.add(doc["kind"])
            continue
        group, version = str(doc["apiVersion"]).split("/")
        jsonschema.validate(doc, _crd_schema(shared_dir, group, PLURALS[(group, str(doc["kind"]))], version))
        checked += 1
        kinds.add(doc["kind"])
    expected = {"gateway-envoy": {"Gateway", "HTTPRoute", "SecurityPolicy", "ClientTrafficPolicy",
                                  "BackendTrafficPolicy"},
                "gateway-istio": {"Gateway", "VirtualService", "RequestAuthentication", "AuthorizationPolicy"},
                "gateway-kong": {"Ingress", "KongPlugin", "KongConsumer"}}[target]
    assert kinds == expected and checked


def test_envoy_closed_loop(tmp_path: Path) -> None:
    d, _ = _generated(EDGE, "gateway-envoy", tmp_path)
    routes, findings = _scan(d)
    intended = _spec_routes(EDGE)
    assert {r.auth for r in intended} == {"none", "jwt", "api_key", "client_certificate"}
    for want in intended:
        got = [r for r in routes if r.source == f"HTTPRoute/{want.backend.namespace}/{want.name}"]
        assert len(got) == 1, want.flow
        r = got[0]
        assert (r.host, r.path, r.backend) == (want.hostname, want.path, f"{want.backend.namespace}/"
                                                                         f"{want.backend.service}:{want.backend.port}")
        assert r.workloads, f"{want.flow}: the backend Service selects no workload"
        assert r.tls and r.controller == "envoy-gateway"
        assert bool(r.rate_limit) == (want.rate_limit is not None)
        if want.auth == "none":
            assert r.public and not r.auth
        elif want.auth != "client_certificate":  # see test_envoy_client_certificate_seen_by_reader
            assert [(a.kind, a.enforced) for a in r.auth] == [(READER_KIND[want.auth], True)]
            assert not r.public
    redirect = [r for r in routes if r.source == "HTTPRoute/edge/http-to-https"]
    assert redirect and all(r.backend == "redirect" and r.https_redirect for r in redirect)
    cert_routes = {f"HTTPRoute/{r.backend.namespace}/{r.name}" for r in intended if r.auth == "client_certificate"}
    serious = [f"{f.check.id} {f.message}" for f in findings if _in(d, f) and f.effective_severity >= Severity.MEDIUM
               and not (f.check.id == "RW-GW-001" and f.subject in cert_routes)]
    assert serious == []
    assert not [f for f in findings if f.check.id in ("RW-GW-003", "RW-GW-005", "RW-GW-006", "RW-GW-009")]


def test_envoy_client_certificate_seen_by_reader(tmp_path: Path) -> None:
    d, _ = _generated(EDGE, "gateway-envoy", tmp_path)
    routes, _ = _scan(d)
    cert = [r for r in routes if r.host == "b2b.shop.example.com"]
    assert cert and all(any(a.kind == "client-cert" and a.enforced for a in r.auth) for r in cert)


def test_istio_closed_loop(tmp_path: Path) -> None:
    intent = _intent(tmp_path, "istio")
    d, notes = _generated(intent, "gateway-istio", tmp_path / "out")
    assert any("partner-keys" in n and "API-key" in n for n in notes)
    routes, findings = _scan(d)
    intended = _spec_routes(intent)
    for want in intended:
        if want.auth == "api_key":
            assert not [r for r in routes if r.path == want.path and r.host == want.hostname]
            continue
        got = [r for r in routes if r.host == want.hostname and r.path == want.path and r.tls]
        assert got, want.flow
        assert all(r.backend == f"{want.backend.namespace}/{want.backend.service}:{want.backend.port}" for r in got)
        if want.rate_limit is not None:
            assert all(r.rate_limit for r in got), want.flow
        if want.auth != "none":
            kind = READER_KIND[want.auth]
            assert any(any(a.kind == kind and a.enforced for a in r.auth) for r in got), want.flow
        if want.auth == "none":
            # One VirtualService per host (Istio merges several in no fixed order): it is annotated public
            # only when every route of the host is anonymous.
            alone = all(o.auth in ("none", "api_key") for o in intended if o.hostname == want.hostname)
            assert all(r.public == alone for r in got)
    plain = [r for r in routes if not r.tls and r.controller == "istio"]
    assert plain and all(r.https_redirect for r in plain)
    serious = [f"{f.check.id} {f.message}" for f in findings if _in(d, f) and f.effective_severity >= Severity.MEDIUM]
    assert serious == []


def test_kong_closed_loop(tmp_path: Path) -> None:
    intent = _intent(tmp_path, "kong")
    d, notes = _generated(intent, "gateway-kong", tmp_path / "out")
    assert any("b2b-orders" in n and "Enterprise" in n for n in notes)
    routes, findings = _scan(d)
    for want in _spec_routes(intent):
        got = [r for r in routes if r.source == f"Ingress/{want.backend.namespace}/{want.name}"]
        if want.auth == "client_certificate":
            assert got == []
            continue
        assert len(got) == 1 and got[0].controller == "kong" and got[0].tls, want.flow
        r = got[0]
        assert r.backend == f"{want.backend.namespace}/{want.backend.service}:{want.backend.port}" and r.workloads
        assert bool(r.rate_limit) == (want.rate_limit is not None)
        if want.auth == "none":
            assert r.public and not r.auth
        else:
            assert [(a.kind, a.enforced) for a in r.auth] == [(READER_KIND[want.auth], True)]
    serious = [f"{f.check.id} {f.message}" for f in findings if _in(d, f) and f.effective_severity >= Severity.MEDIUM]
    assert serious == []


def test_istio_public_path_cannot_open_protected_paths(tmp_path: Path) -> None:
    d, _ = _generated(_intent(tmp_path, "istio"), "gateway-istio", tmp_path / "out")
    (ap,) = [doc for doc in _docs(d) if doc["kind"] == "AuthorizationPolicy"]
    rules = ap["spec"]["rules"]
    public = [r for r in rules if "from" not in r and "/*" in r["to"][0]["operation"]["paths"]
              and "shop.example.com" in r["to"][0]["operation"]["hosts"]]
    assert len(public) == 1 and public[0]["to"][0]["operation"]["notPaths"] == ["/api*"]
    jwt = [r for r in rules if "from" in r]
    assert jwt and all(r["from"][0]["source"]["requestPrincipals"] for r in jwt)
    assert [r["to"][0]["operation"]["paths"] for r in jwt] == [["/api*"]]  # also /apix, as the VirtualService routes


@pytest.mark.parametrize(("fields", "message"), [
    ({"rate_limit": None}, "needs a rate_limit"),
    ({"auth": "none", "public": False}, "needs public: true"),
    ({"auth": {"client_certificate": {"ca_secret": "ca"}}, "hostname": None}, "own hostname"),
    ({"flow": "web-to-api"}, "external zone"),
    ({"auth": {"jwt": {"issuer": "https://x"}}}, "jwks_uri"),
    ({"path": "/v1/../admin"}, "absolute path"),
    ({"path": "v1"}, "absolute path"),
    ({"path": "/api"}, "both serve shop.example.com/api"),
    ({"public": True}, "public: true is for anonymous routes"),
])
def test_refused(tmp_path: Path, fields: dict[str, Any], message: str) -> None:
    intent = _intent(tmp_path, "envoy-gateway", routes={2: fields})
    with pytest.raises(SpecError, match=message):
        generate(intent, ["gateway-envoy"])


def test_backend_lookup(tmp_path: Path) -> None:
    """Without ``backend:`` the Service is found in the workloads (or guessed, with a note); the
    example's explicit backend is what the lookup finds."""
    intent = _intent(tmp_path, "envoy-gateway", routes={0: {"backend": None}})
    files, notes = generate(intent, ["gateway-envoy"])
    assert any("backend assumed to be Service frontend/web port 8080" in n for n in notes)
    assert files
    looked_up, notes_w = generate(intent, ["gateway-envoy"], [str(w) for w in SHOP_WORKLOADS])
    explicit, _ = generate(EDGE, ["gateway-envoy"])
    route = next(f for f in looked_up if f.path.endswith("routes/public-web.yaml"))
    assert "name: web\n      port: 80\n" in route.content  # the Service's port 80 reaches container port 8080
    assert not any("assumed" in n for n in notes_w)
    assert any("frontend/web is itself exposed (LoadBalancer)" in n for n in notes_w)  # the shop's own LB
    assert [f.content for f in looked_up] == [f.content for f in explicit]


def test_no_edge_section_generates_nothing() -> None:
    files, notes = generate(INTENTS / "minimal.yaml", ["gateway-envoy", "gateway-istio"])
    assert files == [] and any("no 'edge:' section" in n for n in notes)
