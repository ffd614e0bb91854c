"""The ``edge`` section of an intent: which intended external flows a gateway exposes, and how each
route authenticates its clients.

Flows say *who may reach what*; an edge gateway also has to say *how the caller proves who it is*
(a token, an API key, a client certificate, or nobody on purpose) and how fast it may call. Those
facts live next to the flows in the same intent so that the gateway targets (``gateway_envoy.py``,
``gateway_istio.py``, ``gateway_kong.py``) and the gateway reader (``layers/gateway``) speak about the same routes.

.. code-block:: yaml

    edge:
      provider: envoy-gateway          # envoy-gateway, istio or kong: the target that generates
      gateway: {name: public, namespace: edge, hostname: shop.example.com, tls_secret: shop-tls,
                class: envoy-gateway,  # GatewayClass (envoy-gateway only)
                selector: {istio: ingressgateway}, pod_namespace: istio-system}   # istio only
      routes:
        - {flow: public-web, path: /, auth: none, public: true, rate_limit: {requests: 100, unit: Second},
           backend: {service: web, port: 80}}   # default: found in --workloads, else <app label>:<flow port>
        - {flow: partner-api, path: /api, auth: {jwt: {issuer: "https://idp", jwks_uri: "https://idp/jwks",
                                                      audiences: [partner-api]}}}
        - {flow: b2b, hostname: b2b.shop.example.com, auth: {client_certificate: {ca_secret: partner-ca}}}
        - {flow: keyed, path: /v1, auth: {api_key: {secret: api-keys, header: x-api-key}},
           rate_limit: {requests: 10, unit: Second}}

Refused (``SpecError``): a route whose flow does not come from an external zone into the cluster,
an anonymous route without ``public: true`` (anonymity must be a decision, not an omission), an API
key without a rate limit (a leaked key would be usable at full speed: RW-GW-002), and a client
certificate on the gateway's main hostname (certificate validation is per listener, so it would
apply to every other route of that hostname too).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ringwall.generate.base import Context, port_ranges
from ringwall.generate.netpol import dns_name, groups
from ringwall.generate.spec import SpecError

PROVIDERS = ("envoy-gateway", "istio", "kong")
UNITS = ("Second", "Minute", "Hour")
AUTH_KINDS = ("jwt", "api_key", "client_certificate")
_PATH = re.compile(r"^/(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|%[0-9a-fA-F]{2})*$")
"""A Gateway API path prefix (the HTTPRoute CRD's own rule); ``//``, dot segments and ``%2f`` are refused below."""
_HOST = re.compile(r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


@dataclass(frozen=True)
class RateLimit:
    requests: int
    unit: str


@dataclass(frozen=True)
class Backend:
    """The Service an intended flow's destination is served by."""

    namespace: str
    service: str
    port: int


@dataclass(frozen=True)
class EdgeRoute:
    name: str
    flow: str
    path: str
    hostname: str
    auth: str
    """``none``, ``jwt``, ``api_key`` or ``client_certificate``."""
    settings: tuple[tuple[str, Any], ...]
    """The auth kind's fields (issuer, jwks_uri, audiences / secret, header / ca_secret)."""
    public: bool
    rate_limit: RateLimit | None
    tls_secret: str
    backend: Backend

    def get(self, key: str, default: Any = None) -> Any:
        return dict(self.settings).get(key, default)


@dataclass(frozen=True)
class EdgeSpec:
    provider: str
    name: str
    namespace: str
    hostname: str
    tls_secret: str
    gateway_class: str
    selector: tuple[tuple[str, str], ...]
    pod_namespace: str
    routes: tuple[EdgeRoute, ...]

    def hostnames(self) -> list[str]:
        """Every hostname served, the gateway's own first (each one is a listener or a server)."""
        return [self.hostname, *sorted({r.hostname for r in self.routes} - {self.hostname})]

    def tls_for(self, hostname: str) -> str:
        return next((r.tls_secret for r in self.routes if r.hostname == hostname), self.tls_secret)


def _rate(value: object, where: str) -> RateLimit | None:
    if value is None:
        return None
    if not isinstance(value, dict) or "requests" not in value:
        raise SpecError(f"{where}.rate_limit: give requests and unit ({', '.join(UNITS)})")
    unit = str(value.get("unit", "Second"))
    if unit not in UNITS:
        raise SpecError(f"{where}.rate_limit.unit: one of {', '.join(UNITS)}")
    req = value["requests"]
    if not isinstance(req, int) or isinstance(req, bool) or req < 1:
        raise SpecError(f"{where}.rate_limit.requests: a positive integer")
    return RateLimit(req, unit)


def _auth(value: object, where: str) -> tuple[str, tuple[tuple[str, Any], ...]]:
    if value in (None, "none"):
        return "none", ()
    if not isinstance(value, dict) or len(value) != 1 or next(iter(value)) not in AUTH_KINDS:
        raise SpecError(f"{where}.auth: none, or a mapping with exactly one of {', '.join(AUTH_KINDS)}")
    kind, fields = next(iter(value.items()))
    if not isinstance(fields, dict):
        raise SpecError(f"{where}.auth.{kind} must be a mapping")
    need = {"jwt": ("issuer", "jwks_uri"), "api_key": ("secret",), "client_certificate": ("ca_secret",)}[kind]
    missing = [k for k in need if not fields.get(k)]
    if missing:
        raise SpecError(f"{where}.auth.{kind}: give {', '.join(missing)}")
    out: dict[str, Any] = {k: str(v) for k, v in fields.items() if k != "audiences"}
    if kind == "jwt":
        aud = fields.get("audiences") or []
        out["audiences"] = tuple(str(a) for a in (aud if isinstance(aud, list) else [aud]))
    if kind == "api_key":
        out.setdefault("header", "x-api-key")
    return str(kind), tuple(sorted(out.items()))


def _backend(ctx: Context, flow_name: str, where: str, given: object = None) -> Backend:
    """The Service behind a flow's destination: as the route states it (``backend: {service, port}``),
    else looked up in the workloads when they are given (the Service selecting the zone's pods, the
    port that reaches the flow's port), else ``<app label or zone name>`` on the flow's first port
    (said in the notes, since that is a guess)."""
    flow = ctx.flow(flow_name)
    g = groups(ctx, flow.dst)[0]
    if given is not None:
        if not isinstance(given, dict) or not given.get("service") or not isinstance(given.get("port"), int):
            raise SpecError(f"{where}.backend: give service (a name in {g.namespace}) and port (a number)")
        b = Backend(g.namespace, str(given["service"]), int(given["port"]))
        if ctx.estate is not None and not any(s.namespace == b.namespace and s.name == b.service
                                              and any(p.port == b.port for p in s.ports)
                                              for s in ctx.estate.cluster.services):
            ctx.notes.append(f"edge: route {flow_name}: Service {b.namespace}/{b.service} port {b.port} is not among "
                             "the workloads")
        return b
    ranges = [(p, lo) for p, lo, _ in port_ranges(flow.conn) if p == "TCP"]
    if not ranges:
        raise SpecError(f"{where}: flow {flow_name!r} has no TCP port for an HTTP route")
    port = ranges[0][1]
    labels = dict(g.labels)
    if ctx.estate is not None:
        pods = [w for w in ctx.estate.cluster.workloads
                if w.namespace == g.namespace and all(w.labels.get(k) == v for k, v in labels.items())]
        for svc in sorted(ctx.estate.cluster.services, key=lambda s: s.name):
            if svc.namespace != g.namespace or not svc.selector:
                continue
            if not any(all(w.labels.get(k) == v for k, v in svc.selector.items()) for w in pods):
                continue
            named = {str(p.get("name")): int(p.get("containerPort", 0))
                     for w in pods for c in w.spec.get("containers") or [] if isinstance(c, dict)
                     for p in c.get("ports") or [] if isinstance(p, dict) and p.get("name")}
            for sp in svc.ports:
                target = named.get(sp.target, 0) if isinstance(sp.target, str) else sp.target
                if port in (sp.port, target):
                    return Backend(svc.namespace, svc.name, sp.port)
            if svc.ports:
                ctx.notes.append(f"edge: route {flow_name}: Service {svc.namespace}/{svc.name} has no port reaching "
                                 f"{port}: using its first port {svc.ports[0].port}")
                return Backend(svc.namespace, svc.name, svc.ports[0].port)
        ctx.notes.append(f"edge: route {flow_name}: no Service selects the pods of {flow.dst} among the workloads")
    name = labels.get("app") or dns_name(flow.dst)
    if ctx.estate is None:
        ctx.notes.append(f"edge: route {flow_name}: backend assumed to be Service {g.namespace}/{name} port {port} "
                         "(give --workloads to look it up)")
    return Backend(g.namespace, name, port)


def load_edge(ctx: Context) -> EdgeSpec | None:
    """Read ``edge`` from ``intent.raw``; None when the intent has none."""
    raw = ctx.intent.raw.get("edge")
    if raw is None:
        return None
    w = f"{ctx.intent.path or '<intent>'}: edge"
    if not isinstance(raw, dict):
        raise SpecError(f"{w} must be a mapping")
    provider = str(raw.get("provider") or "envoy-gateway")
    if provider not in PROVIDERS:
        raise SpecError(f"{w}.provider: one of {', '.join(PROVIDERS)}")
    gw = raw.get("gateway") or {}
    if not isinstance(gw, dict) or not gw.get("hostname") or not gw.get("tls_secret"):
        raise SpecError(f"{w}.gateway: give at least hostname and tls_secret (the edge serves HTTPS only)")
    hostname = str(gw["hostname"]).lower()
    if not _HOST.match(hostname):
        raise SpecError(f"{w}.gateway.hostname: {hostname!r} is not a DNS name")
    tls = str(gw["tls_secret"])
    sel = gw.get("selector") or {"istio": "ingressgateway"}
    if not isinstance(sel, dict):
        raise SpecError(f"{w}.gateway.selector must map labels to values")
    routes: list[EdgeRoute] = []
    for i, r in enumerate(raw.get("routes") or []):
        rw = f"{w}.routes[{i}]"
        if not isinstance(r, dict) or "flow" not in r:
            raise SpecError(f"{rw}: a route names the intent flow it serves (flow)")
        flow = next((f for f in ctx.intent.flows if f.name == r["flow"]), None)
        if flow is None:
            raise SpecError(f"{rw}: {r['flow']!r} is not a flow of the intent")
        if ctx.external(flow.src) is None:
            raise SpecError(f"{rw}: flow {flow.name!r} must come from an external zone to be an edge route")
        if ctx.external(flow.dst) is not None:
            raise SpecError(f"{rw}: flow {flow.name!r} leaves the estate: a gateway route needs a workload behind it")
        kind, settings = _auth(r.get("auth"), rw)
        public = r.get("public") is True
        if kind == "none" and not public:
            raise SpecError(f"{rw}: auth none needs public: true (say that the route is anonymous on purpose)")
        if kind != "none" and public:
            raise SpecError(f"{rw}: public: true is for anonymous routes; this one authenticates ({kind})")
        rate = _rate(r.get("rate_limit"), rw)
        if kind == "api_key" and rate is None:
            raise SpecError(f"{rw}: an API key route needs a rate_limit (a leaked key would be usable at full speed)")
        path = str(r.get("path") or "/")
        if not _PATH.match(path) or any(bad in path.lower() for bad in ("//", "/./", "/../", "%2f")) \
                or path.endswith(("/.", "/..")):
            raise SpecError(f"{rw}.path: {path!r} must be an absolute path without //, . or .. segments or %2F")
        host = str(r.get("hostname") or hostname).lower()
        if not _HOST.match(host):
            raise SpecError(f"{rw}.hostname: {host!r} is not a DNS name")
        if kind == "client_certificate" and host == hostname:
            raise SpecError(f"{rw}: client certificates are verified per listener (hostname): give the route its "
                            f"own hostname, or every route of {hostname} would require one")
        if rate is None:
            ctx.notes.append(f"edge: route {flow.name} has no rate_limit: the gateway checks will report RW-GW-002")
        routes.append(EdgeRoute(dns_name(str(r.get("name") or flow.name)), flow.name, path, host, kind, settings,
                                public, rate, str(r.get("tls_secret") or tls),
                                _backend(ctx, flow.name, rw, r.get("backend"))))
    if ctx.estate is not None:
        for r in routes:
            svc = next((x for x in ctx.estate.cluster.services if (x.namespace, x.name) ==
                        (r.backend.namespace, r.backend.service)), None)
            if svc is not None and (svc.type in ("LoadBalancer", "NodePort") or svc.external_ips):
                ctx.notes.append(f"edge: route {r.flow}: Service {svc.namespace}/{svc.name} is itself exposed "
                                 f"({svc.type}): clients can skip the gateway (RW-GW-011); make it ClusterIP")
    seen: dict[tuple[str, str], str] = {}
    for r in routes:
        if (r.hostname, r.path) in seen:
            raise SpecError(f"{w}: routes {seen[(r.hostname, r.path)]} and {r.flow} both serve {r.hostname}{r.path}")
        seen[(r.hostname, r.path)] = r.flow
    for host in {r.hostname for r in routes}:
        kinds = {r.auth == "client_certificate" for r in routes if r.hostname == host}
        if len(kinds) > 1:
            raise SpecError(f"{w}: hostname {host} mixes client-certificate routes with others; certificates are "
                            "verified per hostname")
    if len({r.name for r in routes}) != len(routes):
        raise SpecError(f"{w}: two routes have the same name; give them distinct names")
    return EdgeSpec(provider, dns_name(str(gw.get("name") or "public")), dns_name(str(gw.get("namespace") or "edge")),
                    hostname, tls, str(gw.get("class") or "envoy-gateway"),
                    tuple(sorted((str(k), str(v)) for k, v in sel.items())),
                    str(gw.get("pod_namespace") or "istio-system"), tuple(routes))


def meta(ctx: Context, name: str, ns: str, flow: str | None = None, public: bool = False) -> dict[str, Any]:
    """Metadata every edge object carries: managed-by, the intent and the flow it serves, and the
    reader's ``ringwall.io/exposure: public`` on anonymous routes."""
    notes = {"ringwall.dev/intent": ctx.intent.name}
    if flow:
        notes["ringwall.dev/flow"] = flow
    if public:
        notes["ringwall.io/exposure"] = "public"
    return {"name": name, "namespace": ns, "labels": {"app.kubernetes.io/managed-by": "ringwall"},
            "annotations": notes}


def describe(r: EdgeRoute) -> str:
    how = {"none": "anonymous on purpose", "jwt": f"JWT from {r.get('issuer')}",
           "api_key": f"API key in header {r.get('header')}", "client_certificate": "client certificate"}[r.auth]
    limit = f", {r.rate_limit.requests}/{r.rate_limit.unit}" if r.rate_limit else ", no rate limit"
    return f"flow {r.flow}: https://{r.hostname}{r.path} -> {r.backend.namespace}/{r.backend.service}:" \
           f"{r.backend.port} ({how}{limit})"
