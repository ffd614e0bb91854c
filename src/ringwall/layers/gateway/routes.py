"""Compute external routes from Ingress (ingress-nginx, Kong), Gateway API (+ Envoy Gateway) and Services.

Each reader resolves its product's attachment rules:

* ingress-nginx: annotations per Ingress (client certificates apply per host), the controller
  ConfigMap's ``global-auth-url`` unless ``enable-global-auth: "false"``, ``satisfy: any``;
* Kong: ``konghq.com/plugins`` on the Ingress, route or backend Service, naming KongPlugins of the
  same namespace or KongClusterPlugins, plus KongClusterPlugins labelled ``global: "true"``;
* Istio ingress gateway: RequestAuthentication on the gateway pods counts as enforced JWT only with
  an ALLOW AuthorizationPolicy requiring ``requestPrincipals`` (or a CUSTOM ext-authz policy);
  ``MUTUAL`` server TLS is a client certificate, ``OPTIONAL_MUTUAL`` is not;
* Envoy Gateway: the *most specific* SecurityPolicy wins (route > listener > gateway) unless the
  route-level one sets ``mergeType``; ``jwt.optional``/``failOpen`` make JWT optional;
  BackendTrafficPolicy ``rateLimit`` and ClientTrafficPolicy ``tls.clientValidation``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ringwall.model.cluster import Cluster
from ringwall.model.location import Location
from ringwall.sources.documents import Document
from ringwall.sources.inventory import Inventory

from . import kong
from .model import PUBLIC_ANNOTATION, Auth, Issue, Route

NGINX = "nginx.ingress.kubernetes.io/"
INTERNAL_LB = {
    "service.beta.kubernetes.io/aws-load-balancer-internal": "true",
    "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
    "networking.gke.io/load-balancer-type": "Internal",
    "service.beta.kubernetes.io/azure-load-balancer-internal": "true",
}
SNIPPETS = ("configuration-snippet", "server-snippet", "auth-snippet", "modsecurity-snippet", "stream-snippet")


@dataclass
class GatewayResult:
    routes: list[Route] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    gateways: list[dict[str, object]] = field(default_factory=list)


def _md(doc: Document, key: str) -> dict[str, str]:
    v = doc.metadata.get(key)
    return {str(k): str(x) for k, x in v.items()} if isinstance(v, dict) else {}


def service_workloads(cluster: Cluster, ns: str, name: str) -> list[str]:
    svc = next((s for s in cluster.services if s.namespace == ns and s.name == name), None)
    if svc is None or not svc.selector:
        return []
    sel = svc.selector
    return [w.ref for w in cluster.workloads
            if w.namespace == ns and all(w.labels.get(k) == v for k, v in sel.items())]


def compute_routes(inv: Inventory) -> GatewayResult:
    res = GatewayResult()
    _ingresses(inv, res)
    _gateway_api(inv, res)
    _istio(inv, res)
    _services(inv, res)
    _controllers(inv, res)
    return res


# ---------------------------------------------------------------- ingress-nginx and Kong (Ingress)

def _nginx_configmap(inv: Inventory) -> tuple[dict[str, str], Document | None]:
    for cm in inv.documents("ConfigMap"):
        if "ingress-nginx" in cm.name or cm.name == "nginx-configuration":
            data = cm.obj.get("data")
            if isinstance(data, dict):
                return {str(k): str(v) for k, v in data.items()}, cm
    return {}, None


def _kong_plugins(inv: Inventory) -> tuple[dict[tuple[str, str], Document], dict[str, Document], list[Document]]:
    ns_plugins = {(p.namespace(inv.default_namespace), p.name): p for p in inv.documents("KongPlugin")}
    cluster_plugins = {p.name: p for p in inv.documents("KongClusterPlugin")}
    global_plugins = [p for p in cluster_plugins.values()
                      if _md(p, "labels").get("global") == "true" and p.obj.get("disabled") is not True]
    return ns_plugins, cluster_plugins, global_plugins


def _kong_route(route: Route, names: list[str], ns: str, inv: Inventory, res: GatewayResult) -> None:
    """Apply the named KongPlugins (then the global KongClusterPlugins) to ``route``, then work out
    which KongConsumers get through (their credentials and ACL groups)."""
    ns_plugins, cluster_plugins, global_plugins = _kong_plugins(inv)
    docs: list[Document] = []
    for n in dict.fromkeys(names):
        doc = ns_plugins.get((ns, n)) or cluster_plugins.get(n)
        if doc is None:
            res.issues.append(Issue("diag", f"konghq.com/plugins names {n!r}, which is not defined", route.location,
                                    route.source))
            continue
        docs.append(doc)
    auth_plugins: list[str] = []
    acls: list[dict[str, Any]] = []
    for doc in [*docs, *(g for g in global_plugins if g not in docs)]:
        if doc.obj.get("disabled") is True:
            continue
        refused = kong.config_rejection(doc)
        if refused is not None:
            message, path = refused
            res.issues.append(Issue("RW-GW-018", f"{doc.ref} ({kong.plugin_name(doc)}): {message}; Kong refuses this "
                                    f"plugin, so {route.source} runs without it", doc.locate(path), doc.ref, message))
            continue
        plugin = _kong_plugin(route, doc, res)
        if plugin in kong.AUTH_PLUGINS and not kong.plugin_config(doc).get("anonymous"):
            auth_plugins.append(plugin)
        elif plugin == "acl":
            acls.append(kong.plugin_config(doc))
    known = kong.consumers(inv)
    if auth_plugins and not any(c.unread for c in known):
        # Without every credential Secret (a live read never asks for Secrets) who gets through is
        # unknown, and said so by leaving ``consumers`` unset rather than naming too few.
        route.consumers = sorted(c.username for c in known if kong.admitted(c, auth_plugins, acls))


def _kong_plugin(route: Route, doc: Document, res: GatewayResult) -> str:
    plugin = kong.plugin_name(doc)
    config = kong.plugin_config(doc)
    if plugin in kong.AUTH_PLUGINS:
        anonymous = config.get("anonymous")
        route.auth.append(Auth(kong.AUTH_PLUGINS[plugin], not anonymous, doc.ref, doc.locate(),
                               f"config.anonymous: {anonymous}" if anonymous else ""))
        if anonymous:
            res.issues.append(Issue("RW-GW-005", f"{doc.ref} ({plugin}) sets config.anonymous: {anonymous}: "
                                    "requests without valid credentials pass as that consumer",
                                    doc.locate(("config", "anonymous")), doc.ref, "anonymous"))
        if plugin == "jwt" and "exp" not in (config.get("claims_to_verify") or []):
            res.issues.append(Issue("RW-GW-010", f"{doc.ref} (jwt) does not list exp in config.claims_to_verify: "
                                    "expired tokens are accepted", doc.locate(), doc.ref, "exp"))
    elif plugin == "acl":
        allow, deny = config.get("allow") or [], config.get("deny") or []
        groups = f"allow {', '.join(map(str, allow))}" if allow else f"deny {', '.join(map(str, deny))}"
        # The ACL refuses every request whose consumer it cannot identify: with or without an
        # authentication plugin, anonymous requests do not pass it.
        route.auth.append(Auth("authorization", True, doc.ref, doc.locate(("config",)), f"kong acl: {groups}"))
    elif plugin in kong.RATE_PLUGINS:
        route.rate_limit.append(f"kong {plugin} ({doc.ref})")
    return plugin


def _ingresses(inv: Inventory, res: GatewayResult) -> None:
    cm, cm_doc = _nginx_configmap(inv)
    for p in inv.documents("KongPlugin"):
        if _md(p, "labels").get("global") == "true":
            res.issues.append(Issue("RW-GW-015", f"{p.ref} is labelled global: \"true\", which only KongClusterPlugin "
                                    "honours: it applies nowhere by itself", p.locate(("metadata", "labels")), p.ref))
    classes = _ingress_classes(inv)
    # Istio serves Ingresses of class "istio" (IngressClass controller istio.io/ingress-controller)
    # through its ingress gateway (pods labelled istio=ingressgateway, meshConfig ingressSelector).
    istio_pods = [w for w in inv.cluster.workloads if w.labels.get("istio") == "ingressgateway"]
    istio_auth = _istio_gateway_auth(inv, {"istio": "ingressgateway"},
                                     istio_pods[0].namespace if istio_pods else "istio-system")
    for ing in inv.documents("Ingress"):
        ns = ing.namespace(inv.default_namespace)
        ann = _md(ing, "annotations")
        spec = ing.obj.get("spec") if isinstance(ing.obj.get("spec"), dict) else {}
        controller, how = _ingress_controller(spec, ann, classes)
        if controller == "ingress-nginx":
            res.issues.append(Issue("RW-GW-008", f"{ing.ref} uses ingress-nginx ({how}), "
                                    "retired in March 2026 with no further security fixes",
                                    ing.locate(("spec", "ingressClassName")) if spec.get("ingressClassName")
                                    else ing.locate(), ing.ref, "class"))
        if ing.api_version in REMOVED_INGRESS_APIS:
            res.issues.append(Issue("RW-GW-017", f"{ing.ref} is {ing.api_version}, removed in Kubernetes 1.22: "
                                    "current API servers refuse it, so this route exists only where an old "
                                    "cluster still serves it (its backends are read as written)",
                                    ing.locate(), ing.ref, ing.api_version))
        tls_hosts = {h for t in spec.get("tls") or [] if isinstance(t, dict) for h in t.get("hosts") or []}
        any_tls = bool(spec.get("tls"))
        public = ann.get(PUBLIC_ANNOTATION) == "public"
        paths: list[tuple[str, str, dict[str, Any], tuple[str | int, ...]]] = []
        for ri, rule in enumerate(spec.get("rules") or []):
            if not isinstance(rule, dict):
                continue
            for pi, p in enumerate(((rule.get("http") or {}).get("paths")) or []):
                if isinstance(p, dict):
                    paths.append((rule.get("host", ""), p.get("path", "/"), p.get("backend") or {},
                                  ("spec", "rules", ri, "http", "paths", pi)))
        if isinstance(spec.get("defaultBackend"), dict):
            paths.append(("", "/*", spec["defaultBackend"], ("spec", "defaultBackend")))
        if isinstance(spec.get("backend"), dict):  # v1beta1 spelling of defaultBackend
            paths.append(("", "/*", spec["backend"], ("spec", "backend")))
        for host, path, backend, loc_path in paths:
            name, port_s = _ingress_backend(backend)
            route = Route(controller, ing.ref, ns, host, path, f"{ns}/{name}:{port_s}", ing.locate(loc_path),
                          workloads=service_workloads(inv.cluster, ns, name),
                          tls=host in tls_hosts or (any_tls and not host), public=public)
            if controller == "ingress-nginx":
                _nginx_route(route, ann, cm, cm_doc, ing, res)
            if controller == "istio":
                route.auth.extend(istio_auth)
            if controller == "kong":
                svc_doc = next((d for d in inv.documents("Service") if d.name == name
                                and d.namespace(inv.default_namespace) == ns), None)
                _kong_route(route, kong.annotation_plugins(ing) + kong.annotation_plugins(svc_doc), ns, inv, res)
            res.routes.append(route)
        if controller == "ingress-nginx":
            _nginx_ingress_issues(ing, ann, cm, cm_doc, res)


REMOVED_INGRESS_APIS = ("extensions/v1beta1", "networking.k8s.io/v1beta1")
NGINX_CONTROLLER = "k8s.io/ingress-nginx"
KONG_CONTROLLER = "ingress-controllers.konghq.com/kong"


def _ingress_backend(backend: dict[str, Any]) -> tuple[str, str]:
    """(Service name, port) of an Ingress backend: v1 ``service: {name, port: {number|name}}`` or
    the v1beta1 ``serviceName``/``servicePort`` (a number or a port name)."""
    svc = backend.get("service")
    if isinstance(svc, dict):
        port = svc.get("port") if isinstance(svc.get("port"), dict) else {}
        return str(svc.get("name", "")), str(port.get("number") or port.get("name") or "")
    if "serviceName" in backend:
        return str(backend.get("serviceName") or ""), str(backend.get("servicePort") or "")
    return "", ""


ISTIO_CONTROLLER = "istio.io/ingress-controller"


def _ingress_classes(inv: Inventory) -> tuple[dict[str, str], str | None]:
    """IngressClass name -> controller, and the default class (``is-default-class: "true"``)."""
    by_name: dict[str, str] = {}
    default = None
    for doc in inv.documents("IngressClass"):
        spec = doc.obj.get("spec") if isinstance(doc.obj.get("spec"), dict) else {}
        by_name[doc.name] = str(spec.get("controller") or "")
        if _md(doc, "annotations").get("ingressclass.kubernetes.io/is-default-class") == "true":
            default = doc.name
    return by_name, default


def _ingress_controller(spec: dict[str, Any], ann: dict[str, str],
                        classes: tuple[dict[str, str], str | None]) -> tuple[str, str]:
    """Which controller serves an Ingress, and how we know it (said in findings).

    The class comes from ``spec.ingressClassName``, else the deprecated
    ``kubernetes.io/ingress.class`` annotation, else the default IngressClass. An IngressClass
    object in the input names the controller exactly; otherwise the class name is read as the
    usual one (``nginx`` -> ingress-nginx, ``kong`` -> Kong). With no class at all, the
    controller-specific annotations the Ingress carries are the only clue.
    """
    by_name, default = classes
    if spec.get("ingressClassName"):
        cls, how = str(spec["ingressClassName"]), "class {cls}"
    elif ann.get("kubernetes.io/ingress.class"):
        cls, how = ann["kubernetes.io/ingress.class"], "class {cls} from the kubernetes.io/ingress.class annotation"
    elif default:
        cls, how = default, "the default IngressClass {cls}"
    else:
        cls, how = "", ""
    how = how.format(cls=cls)
    controller_name = by_name.get(cls, "")
    if controller_name == NGINX_CONTROLLER or (not controller_name and "nginx" in cls):
        return "ingress-nginx", how + (f", IngressClass controller {controller_name}" if controller_name else "")
    if controller_name == KONG_CONTROLLER or (not controller_name and "kong" in cls):
        return "kong", how
    if controller_name == ISTIO_CONTROLLER or (not controller_name and cls == "istio"):
        return "istio", how
    for controller, prefix, product in (("ingress-nginx", NGINX, "ingress-nginx"), ("kong", "konghq.com/", "Kong")):
        if not controller_name and any(k.startswith(prefix) for k in ann):
            inferred = f"{product} inferred from its {prefix}* annotations"
            return controller, f"{how}; {inferred}" if how else f"no ingress class; {inferred}"
    return "ingress", how


def _nginx_route(route: Route, ann: dict[str, str], cm: dict[str, str], cm_doc: Document | None, ing: Document,
                 res: GatewayResult) -> None:
    a = {k[len(NGINX):]: v for k, v in ann.items() if k.startswith(NGINX)}
    loc = ing.locate(("metadata", "annotations"))
    if a.get("auth-type") in ("basic", "digest") and a.get("auth-secret"):
        route.auth.append(Auth("basic", True, f"{ing.ref} auth-type {a['auth-type']}", loc))
    if a.get("auth-url"):
        route.auth.append(Auth("external", True, f"{ing.ref} auth-url", loc))
    elif cm.get("global-auth-url") and a.get("enable-global-auth", "true") != "false":
        route.auth.append(Auth("external", True, "ConfigMap global-auth-url", cm_doc.locate() if cm_doc else loc))
    if a.get("auth-tls-secret"):
        mode = a.get("auth-tls-verify-client", "on")
        route.auth.append(Auth("client-cert", mode == "on", f"{ing.ref} auth-tls-verify-client {mode}", loc))
    if any(a.get(k) for k in ("limit-rps", "limit-rpm", "limit-connections")):
        route.rate_limit.append("ingress-nginx " + ", ".join(f"{k}={a[k]}" for k in ("limit-connections",
                                "limit-rpm", "limit-rps") if a.get(k)))
    if a.get("satisfy") == "any" and route.auth:
        for au in route.auth:
            au.enforced = False
            au.note = "satisfy: any"
    if a.get("force-ssl-redirect") == "true" or (route.tls and a.get("ssl-redirect", "true") != "false"):
        route.https_redirect = True


def _nginx_ingress_issues(ing: Document, ann: dict[str, str], cm: dict[str, str], cm_doc: Document | None,
                          res: GatewayResult) -> None:
    a = {k[len(NGINX):]: v for k, v in ann.items() if k.startswith(NGINX)}
    loc = ing.locate(("metadata", "annotations"))
    ref = ing.ref
    if a.get("auth-type") and not a.get("auth-secret"):
        res.issues.append(Issue("RW-GW-012", f"{ref} sets auth-type {a['auth-type']} without auth-secret: no "
                                "authentication is applied", loc, ref, "auth-secret"))
    mode = a.get("auth-tls-verify-client")
    if a.get("auth-tls-secret") and mode in ("optional", "optional_no_ca", "off"):
        res.issues.append(Issue("RW-GW-003", f"{ref} auth-tls-verify-client {mode}: requests without a valid client "
                                "certificate reach the backend", loc, ref, "verify-client"))
    if a.get("satisfy") == "any":
        res.issues.append(Issue("RW-GW-005", f"{ref} satisfy: any: one requirement (for example the address "
                                "allow-list) suffices, the others become optional", loc, ref, "satisfy"))
    for s in SNIPPETS:
        if s in a:
            res.issues.append(Issue("RW-GW-007", f"{ref} uses the {s} annotation (risk level Critical)", loc, ref, s))
    if a.get("backend-protocol", "").upper() in ("HTTPS", "GRPCS") and a.get("proxy-ssl-verify") != "on":
        res.issues.append(Issue("RW-GW-016", f"{ref} backend-protocol {a['backend-protocol']} without "
                                "proxy-ssl-verify: \"on\": the backend certificate is not checked", loc, ref))
    if a.get("enable-global-auth") == "false" and cm.get("global-auth-url"):
        res.issues.append(Issue("RW-GW-013", f"{ref} sets enable-global-auth: \"false\" while global-auth-url is "
                                "configured", loc, ref))
    for k in ("whitelist-source-range", "allowlist-source-range", "denylist-source-range"):
        cm_key = "denylist-source-range" if k.startswith("deny") else "whitelist-source-range"
        if k in a and cm.get(cm_key):
            res.issues.append(Issue("RW-GW-014", f"{ref} {k} replaces the ConfigMap {cm_key} ({cm[cm_key]}) instead "
                                    "of adding to it", loc, ref, k))


def _controllers(inv: Inventory, res: GatewayResult) -> None:
    for w in inv.cluster.workloads:
        images = [str(c.get("image", "")) for c in w.spec.get("containers") or [] if isinstance(c, dict)]
        if any("ingress-nginx/controller" in i for i in images):
            loc = w.location or Location("", None, None, w.ref)
            res.issues.append(Issue("RW-GW-008", f"{w.ref} runs the ingress-nginx controller, retired in March 2026",
                                    loc, w.ref, "controller"))
    cm, cm_doc = _nginx_configmap(inv)
    if cm_doc is not None:
        if cm.get("allow-snippet-annotations") == "true":
            res.issues.append(Issue("RW-GW-007", "allow-snippet-annotations: \"true\" in the controller ConfigMap",
                                    cm_doc.locate(("data", "allow-snippet-annotations")), cm_doc.ref, "allow"))
        if cm.get("annotations-risk-level") == "Critical":
            res.issues.append(Issue("RW-GW-007", "annotations-risk-level: Critical admits snippet annotations",
                                    cm_doc.locate(("data", "annotations-risk-level")), cm_doc.ref, "risk"))


# ---------------------------------------------------------------- Gateway API and Envoy Gateway

def _targets(doc: Document) -> list[dict[str, Any]]:
    spec = doc.obj.get("spec") if isinstance(doc.obj.get("spec"), dict) else {}
    refs = list(spec.get("targetRefs") or [])
    if isinstance(spec.get("targetRef"), dict):
        refs.append(spec["targetRef"])
    return [r for r in refs if isinstance(r, dict)]


def _policy_auth(doc: Document) -> list[Auth]:
    spec = doc.obj.get("spec") or {}
    out: list[Auth] = []
    jwt = spec.get("jwt")
    if isinstance(jwt, dict):
        optional = jwt.get("optional") is True or jwt.get("failOpen") is True
        note = "failOpen" if jwt.get("failOpen") else "optional" if jwt.get("optional") else ""
        out.append(Auth("jwt", not optional, doc.ref, doc.locate(("spec", "jwt")), note))
    for key, kind in (("oidc", "oidc"), ("apiKeyAuth", "api-key"), ("basicAuth", "basic"), ("extAuth", "external")):
        if isinstance(spec.get(key), dict):
            out.append(Auth(kind, True, doc.ref, doc.locate(("spec", key))))
    authz = spec.get("authorization")
    if isinstance(authz, dict) and authz.get("defaultAction", "Deny") == "Deny":
        rules = [r for r in authz.get("rules") or [] if isinstance(r, dict)]
        identity = any(set((r.get("principal") or {}).keys()) - {"clientCIDRs"} for r in rules)
        if identity:
            out.append(Auth("authorization", True, doc.ref, doc.locate(("spec", "authorization"))))
    return out


def _gateway_api(inv: Inventory, res: GatewayResult) -> None:
    gateways = {(g.namespace(inv.default_namespace), g.name): g for g in inv.documents("Gateway")
                if "gateway.networking.k8s.io" in g.api_version}
    listeners: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for key, g in gateways.items():
        spec = g.obj.get("spec") or {}
        ls = [x for x in spec.get("listeners") or [] if isinstance(x, dict)]
        listeners[key] = ls
        res.gateways.append({"gateway": g.ref, "class": spec.get("gatewayClassName"),
                             "listeners": [{"name": x.get("name"), "port": x.get("port"), "protocol": x.get("protocol"),
                                            "hostname": x.get("hostname")} for x in ls]})
        for i, x in enumerate(ls):
            frm = ((x.get("allowedRoutes") or {}).get("namespaces") or {}).get("from")
            if frm == "All":
                res.issues.append(Issue("RW-GW-009", f"{g.ref} listener {x.get('name')} accepts routes from all "
                                        "namespaces", g.locate(("spec", "listeners", i, "allowedRoutes")), g.ref,
                                        str(x.get("name"))))
        validation = ((((spec.get("tls") or {}).get("frontend") or {}).get("default") or {}).get("validation") or {})
        if validation.get("mode") == "AllowInsecureFallback":
            res.issues.append(Issue("RW-GW-003", f"{g.ref} frontend validation mode AllowInsecureFallback: clients "
                                    "without a valid certificate are let through",
                                    g.locate(("spec", "tls", "frontend", "default", "validation")), g.ref, "mode"))
    sec = [p for p in inv.documents("SecurityPolicy") if "envoyproxy.io" in p.api_version]
    btp = [p for p in inv.documents("BackendTrafficPolicy") if "envoyproxy.io" in p.api_version]
    ctp = [p for p in inv.documents("ClientTrafficPolicy") if "envoyproxy.io" in p.api_version]
    for p in ctp:
        cv = ((p.obj.get("spec") or {}).get("tls") or {}).get("clientValidation")
        if isinstance(cv, dict):
            mode = cv.get("mode", "RequireAndVerify")
            weak = []
            if mode != "RequireAndVerify":
                weak.append(f"mode {mode}")
            if cv.get("optional") is True:
                weak.append("optional: true")
            if cv.get("allowExpiredCertificate") is True:
                weak.append("allowExpiredCertificate: true")
            if weak:
                res.issues.append(Issue("RW-GW-003", f"{p.ref} clientValidation {', '.join(weak)}: client "
                                        "certificates are not strictly verified",
                                        p.locate(("spec", "tls", "clientValidation")), p.ref))

    def attached(policies: list[Document], kind: str, ns: str, name: str, section: str | None = None) -> list[Document]:
        out = []
        for p in policies:
            if p.namespace(inv.default_namespace) != ns:
                continue
            for t in _targets(p):
                if t.get("kind") == kind and t.get("name") == name and (
                        (section is None and not t.get("sectionName"))
                        or (section is not None and t.get("sectionName") == section)):
                    out.append(p)
        return out

    for kind in ("HTTPRoute", "GRPCRoute", "TLSRoute"):
        for r in inv.documents(kind):
            ns = r.namespace(inv.default_namespace)
            spec = r.obj.get("spec") or {}
            public = _md(r, "annotations").get(PUBLIC_ANNOTATION) == "public"
            hostnames = spec.get("hostnames") or [""]
            for pi, parent in enumerate(spec.get("parentRefs") or []):
                if not isinstance(parent, dict):
                    continue
                gkey = (str(parent.get("namespace") or ns), str(parent.get("name")))
                gdoc = gateways.get(gkey)
                if gdoc is None:
                    continue
                section = parent.get("sectionName")
                ls = [x for x in listeners[gkey] if section is None or x.get("name") == section]
                # Route-level policy beats listener-level beats gateway-level (no mergeType).
                route_pols = attached(sec, kind, ns, r.name)
                gw_pols = attached(sec, "Gateway", gkey[0], gkey[1])
                for li in ls:
                    lst_pols = attached(sec, "Gateway", gkey[0], gkey[1], str(li.get("name")))
                    upper = lst_pols or gw_pols
                    merge = route_pols and all((p.obj.get("spec") or {}).get("mergeType") for p in route_pols)
                    effective = (route_pols + upper) if merge else (route_pols or upper)
                    auth = [a for p in effective for a in _policy_auth(p)]
                    # Client certificates are checked at the listener (ClientTrafficPolicy): they
                    # authenticate every route served there.
                    client_pols = (attached(ctp, "Gateway", gkey[0], gkey[1], str(li.get("name")))
                                   or attached(ctp, "Gateway", gkey[0], gkey[1]))
                    for cp in client_pols:
                        cv = ((cp.obj.get("spec") or {}).get("tls") or {}).get("clientValidation")
                        if isinstance(cv, dict):
                            strict = (cv.get("mode", "RequireAndVerify") == "RequireAndVerify"
                                      and not cv.get("optional"))
                            where = cp.locate(("spec", "tls", "clientValidation"))
                            auth.append(Auth("client-cert", strict, cp.ref, where, "" if strict else "optional"))
                    if route_pols and not merge and upper:
                        lost = [a.kind for p in upper for a in _policy_auth(p)]
                        have = {a.kind for a in auth}
                        missing = [k for k in lost if k not in have]
                        if missing:
                            res.issues.append(Issue(
                                "RW-GW-006", f"{route_pols[0].ref} targets {r.ref} without mergeType and replaces "
                                f"{upper[0].ref}: the route loses {', '.join(missing)}", route_pols[0].locate(),
                                r.ref, f"{gkey[1]}/{li.get('name')}", (upper[0].locate(),)))
                    rate = [f"envoy-gateway rateLimit ({p.ref})" for p in
                            attached(btp, kind, ns, r.name) + attached(btp, "Gateway", gkey[0], gkey[1])
                            if isinstance((p.obj.get("spec") or {}).get("rateLimit"), dict)]
                    proto = str(li.get("protocol", "HTTP")).upper()
                    rules = [x for x in spec.get("rules") or [] if isinstance(x, dict)]
                    redirect_only = bool(rules) and all(
                        any((f.get("requestRedirect") or {}).get("scheme") == "https" for f in x.get("filters") or []
                            if isinstance(f, dict)) for x in rules)
                    for ri, rule in enumerate(rules or [{}]):
                        paths = [((m.get("path") or {}).get("value") or "/") for m in rule.get("matches") or []
                                 if isinstance(m, dict)] or ["/"]
                        backends = [b for b in rule.get("backendRefs") or [] if isinstance(b, dict)]
                        targets = [f"{b.get('namespace') or ns}/{b.get('name')}:{b.get('port', '')}" for b in backends]
                        wl = sorted({w for b in backends for w in service_workloads(
                            inv.cluster, str(b.get("namespace") or ns), str(b.get("name")))})
                        is_kong = _gateway_controller(inv, gdoc) == kong.KIC_GATEWAY_CONTROLLER
                        controller = "kong" if is_kong else "envoy-gateway" if sec or btp or ctp else "gateway-api"
                        for host in hostnames:
                            for path in paths:
                                res.routes.append(Route(
                                    controller, r.ref, ns,
                                    host or str(li.get("hostname") or ""), path,
                                    ", ".join(targets) or ("redirect" if redirect_only else ""),
                                    r.locate(("spec", "rules", ri)) if rules else r.locate(("spec", "parentRefs", pi)),
                                    listener=f"{gdoc.ref}/{li.get('name')}", workloads=wl,
                                    auth=[Auth(a.kind, a.enforced, a.source, a.location, a.note) for a in auth],
                                    rate_limit=rate, tls=proto in ("HTTPS", "TLS"), https_redirect=redirect_only,
                                    public=public))
                                if is_kong:
                                    svc_docs = [_service_doc(inv, str(b.get("namespace") or ns), str(b.get("name")))
                                                for b in backends]
                                    names = kong.annotation_plugins(r) + kong.extension_ref_plugins(rule)
                                    names += [n for d in svc_docs for n in kong.annotation_plugins(d)]
                                    _kong_route(res.routes[-1], names, ns, inv, res)
                    for a in auth:
                        if a.kind == "jwt" and not a.enforced:
                            which = "with an invalid or without" if a.note == "failOpen" else "without"
                            res.issues.append(Issue("RW-GW-005", f"{a.source} jwt.{a.note}: {r.ref} accepts "
                                                    f"requests {which} a token", a.location or r.locate(), a.source,
                                                    a.note))


def _gateway_controller(inv: Inventory, gateway: Document) -> str:
    """The controllerName of the Gateway's GatewayClass; a class named like ``kong`` with no
    GatewayClass object in the input is taken as Kong's (the name KIC's charts give it)."""
    spec = gateway.obj.get("spec") if isinstance(gateway.obj.get("spec"), dict) else {}
    cls = str(spec.get("gatewayClassName") or "")
    for doc in inv.documents("GatewayClass"):
        if doc.name == cls and "gateway.networking.k8s.io" in doc.api_version:
            gspec = doc.obj.get("spec") if isinstance(doc.obj.get("spec"), dict) else {}
            return str(gspec.get("controllerName") or "")
    return kong.KIC_GATEWAY_CONTROLLER if "kong" in cls else ""


def _service_doc(inv: Inventory, ns: str, name: str) -> Document | None:
    return next((d for d in inv.documents("Service") if d.name == name
                 and d.namespace(inv.default_namespace) == ns), None)


# ---------------------------------------------------------------- Services

def _services(inv: Inventory, res: GatewayResult) -> None:
    for doc in inv.documents("Service"):
        spec = doc.obj.get("spec") if isinstance(doc.obj.get("spec"), dict) else {}
        typ = spec.get("type", "ClusterIP")
        ann = _md(doc, "annotations")
        internal = any(ann.get(k) == v for k, v in INTERNAL_LB.items())
        if typ == "LoadBalancer" and internal:
            continue
        if typ not in ("LoadBalancer", "NodePort") and not spec.get("externalIPs"):
            continue
        ns = doc.namespace(inv.default_namespace)
        ports = ",".join(str(p.get("port")) for p in spec.get("ports") or [] if isinstance(p, dict))
        route = Route("service", doc.ref, ns, "", "", f"{ns}/{doc.name}:{ports}", doc.locate(("spec", "type"))
                      if "type" in spec else doc.locate(),
                      listener=typ if typ != "ClusterIP" else "externalIPs",
                      workloads=service_workloads(inv.cluster, ns, doc.name),
                      public=ann.get(PUBLIC_ANNOTATION) == "public")
        if spec.get("loadBalancerSourceRanges"):
            route.listener += f" (source ranges {', '.join(map(str, spec['loadBalancerSourceRanges']))})"
        res.routes.append(route)


# ---------------------------------------------------------------- Istio ingress gateway

def _selects(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    match = (selector or {}).get("matchLabels") if isinstance(selector, dict) else None
    if not isinstance(match, dict):
        return selector is None or selector == {}
    return all(labels.get(str(k)) == str(v) for k, v in match.items())


def _istio_gateway_auth(inv: Inventory, gw_labels: dict[str, str], pod_ns: str) -> list[Auth]:
    """RequestAuthentication + an ALLOW policy requiring requestPrincipals, or a CUSTOM (ext-authz) policy (§3.5)."""
    roots = {pod_ns, "istio-system"}
    ras = [d for d in inv.documents("RequestAuthentication") if d.namespace(inv.default_namespace) in roots
           and _selects((d.obj.get("spec") or {}).get("selector"), gw_labels)]
    aps = [d for d in inv.documents("AuthorizationPolicy") if d.namespace(inv.default_namespace) in roots
           and _selects((d.obj.get("spec") or {}).get("selector"), gw_labels)]
    out: list[Auth] = []
    requiring = [ap for ap in aps if (ap.obj.get("spec") or {}).get("action", "ALLOW") == "ALLOW" and any(
        (f.get("source") or {}).get("requestPrincipals") for r in (ap.obj.get("spec") or {}).get("rules") or []
        if isinstance(r, dict) for f in r.get("from") or [] if isinstance(f, dict))]
    if ras:
        if requiring:
            out.append(Auth("jwt", True, f"{ras[0].ref} + {requiring[0].ref}", ras[0].locate()))
        else:
            out.append(Auth("jwt", False, ras[0].ref, ras[0].locate(),
                            "RequestAuthentication without an AuthorizationPolicy requiring requestPrincipals"))
    for ap in aps:
        if (ap.obj.get("spec") or {}).get("action") == "CUSTOM":
            out.append(Auth("external", True, ap.ref, ap.locate()))
    return out


def _istio(inv: Inventory, res: GatewayResult) -> None:
    gateways = {(g.namespace(inv.default_namespace), g.name): g for g in inv.documents("Gateway")
                if "networking.istio.io" in g.api_version}
    if not gateways:
        return
    filters = [f for f in inv.documents("EnvoyFilter") if any(
        (p.get("match") or {}).get("context") == "GATEWAY" and ("ratelimit" in str(p.get("patch")))
        for p in (f.obj.get("spec") or {}).get("configPatches") or [] if isinstance(p, dict))]
    for key, g in gateways.items():
        spec = g.obj.get("spec") or {}
        sel = {str(k): str(v) for k, v in (spec.get("selector") or {}).items()}
        pods = [w for w in inv.cluster.workloads if sel and all(w.labels.get(k) == v for k, v in sel.items())]
        pod_ns = pods[0].namespace if pods else "istio-system"
        auth = _istio_gateway_auth(inv, sel, pod_ns)
        rate = [f"istio EnvoyFilter ({f.ref})" for f in filters
                if _selects({"matchLabels": (f.obj.get("spec") or {}).get("workloadSelector", {}).get("labels")}
                            if (f.obj.get("spec") or {}).get("workloadSelector") else None, sel)]
        servers = [s for s in spec.get("servers") or [] if isinstance(s, dict)]
        for si, srv in enumerate(servers):
            tls = srv.get("tls") or {}
            mode = tls.get("mode")
            if mode == "OPTIONAL_MUTUAL":
                res.issues.append(Issue("RW-GW-003", f"{g.ref} server {si} tls.mode OPTIONAL_MUTUAL: client "
                                        "certificates are optional", g.locate(("spec", "servers", si, "tls")),
                                        g.ref, f"server{si}"))
            if "*" in (srv.get("hosts") or []):
                res.issues.append(Issue("RW-GW-009", f"{g.ref} server {si} has hosts \"*\": any VirtualService may "
                                        "bind to it", g.locate(("spec", "servers", si, "hosts")), g.ref,
                                        f"server{si}"))
        for vs in inv.documents("VirtualService"):
            vns = vs.namespace(inv.default_namespace)
            vspec = vs.obj.get("spec") or {}
            bound = [str(x) for x in vspec.get("gateways") or []]
            if not any(b in (f"{key[0]}/{key[1]}", key[1] if vns == key[0] else "") for b in bound):
                continue
            for si, srv in enumerate(servers):
                tls = srv.get("tls") or {}
                proto = str((srv.get("port") or {}).get("protocol", "HTTP")).upper()
                cert_auth = [Auth("client-cert", True, g.ref, g.locate(("spec", "servers", si)))] \
                    if tls.get("mode") == "MUTUAL" else []
                for hi, http in enumerate(vspec.get("http") or []):
                    if not isinstance(http, dict):
                        continue
                    paths = [str((m.get("uri") or {}).get("prefix") or (m.get("uri") or {}).get("exact") or "/")
                             for m in http.get("match") or [] if isinstance(m, dict)] or ["/"]
                    dests = [(d.get("destination") or {}) for d in http.get("route") or [] if isinstance(d, dict)]
                    targets, wl = [], []
                    for d in dests:
                        host = str(d.get("host", ""))
                        name, _, rest = host.partition(".")
                        ns = rest.split(".")[0] if rest else vns
                        targets.append(f"{ns}/{name}:{(d.get('port') or {}).get('number', '')}")
                        wl.extend(service_workloads(inv.cluster, ns, name))
                    for host in vspec.get("hosts") or ["*"]:
                        for path in paths:
                            res.routes.append(Route(
                                "istio", vs.ref, vns, str(host), path,
                                ", ".join(targets) or ("redirect" if http.get("redirect") else ""),
                                vs.locate(("spec", "http", hi)), listener=f"{g.ref}/server{si}",
                                workloads=sorted(set(wl)),
                                auth=[Auth(a.kind, a.enforced, a.source, a.location, a.note)
                                      for a in auth + cert_auth],
                                rate_limit=rate, tls=proto in ("HTTPS", "TLS") or bool(tls.get("mode")),
                                https_redirect=bool(tls.get("httpsRedirect")),
                                public=_md(vs, "annotations").get(PUBLIC_ANNOTATION) == "public"))
