"""External routes and what guards them: the gateway layer's vocabulary.

One ``Route`` is one externally reachable (host, path) → backend pair with the authentication,
rate limiting and TLS that apply to it after every attachment and precedence rule has been
resolved (mesh-edge-access §3.6). ``Issue`` records configuration facts the checks turn into
findings, with the location that proves them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ringwall.model.location import Location

AUTH_KINDS = ("jwt", "oidc", "api-key", "basic", "client-cert", "external", "oauth2", "hmac", "authorization")
PUBLIC_ANNOTATION = "ringwall.io/exposure"
"""``ringwall.io/exposure: public`` on a route (or Service) declares an intentionally anonymous entrypoint."""


@dataclass
class Auth:
    kind: str  # one of AUTH_KINDS
    enforced: bool = True
    source: str = ""  # the object that provides it (KongPlugin/ns/x, SecurityPolicy/ns/y, annotation …)
    location: Location | None = None
    note: str = ""


@dataclass
class Route:
    controller: str  # ingress-nginx, kong, envoy-gateway, gateway-api, service
    source: str  # Ingress/ns/name, HTTPRoute/ns/name, Service/ns/name
    namespace: str
    host: str
    path: str
    backend: str  # Service ns/name:port
    location: Location
    listener: str = ""
    workloads: list[str] = field(default_factory=list)
    auth: list[Auth] = field(default_factory=list)
    rate_limit: list[str] = field(default_factory=list)
    tls: bool = False
    https_redirect: bool = False
    public: bool = False  # declared intentionally public (ringwall.io/exposure: public)
    consumers: list[str] | None = None
    """Kong: the KongConsumers that get through (a credential for the route's authentication and
    admitted by its ACL); None where the gateway has no consumer model."""

    @property
    def enforced_auth(self) -> list[Auth]:
        return [a for a in self.auth if a.enforced]

    def to_json(self) -> dict[str, object]:
        return {
            "controller": self.controller, "source": self.source, "host": self.host or "*", "path": self.path,
            "listener": self.listener or None, "backend": self.backend, "workloads": self.workloads,
            "authentication": [{"kind": a.kind, "enforced": a.enforced, "source": a.source} for a in self.auth]
            or "none",
            "rate_limit": self.rate_limit, "tls": self.tls, "https_redirect": self.https_redirect,
            "declared_public": self.public,
            **({"consumers": self.consumers} if self.consumers is not None else {}),
            "location": self.location.to_json(),
        }


@dataclass
class Issue:
    """A configuration fact a check reports (check id, message, where, subject, detail)."""

    check: str
    message: str
    location: Location
    subject: str
    detail: str = ""
    extra: tuple[Location, ...] = ()
