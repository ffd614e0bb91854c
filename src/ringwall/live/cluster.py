"""Read a running cluster through the official ``kubernetes`` client: get and list, nothing else.

The typed API classes of the client deserialise every object into Python models, which costs
several times the analysis on a 10,000-pod cluster and knows nothing of CRDs. So the reader uses
the client for what it is good at — kubeconfig and in-cluster loading, exec/OIDC token
refresh, TLS, proxies — and asks it for raw bytes of plain list URLs, which ``orjson`` parses.

Each resource comes back as one ``List`` object whose items carry ``kind`` and ``apiVersion``
(the API omits them from list items), serialised as indented JSON: the same text a snapshot
writes, so the documents, their line numbers and every analysis are identical whether a command
reads the cluster or a snapshot of it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import orjson

from ringwall.live.kinds import RESOURCES, SUPERSEDED_BY, Resource

PAGE_SIZE = 500
"""``kubectl`` pages by 500 as well: large enough to be fast, small enough for etcd."""


class LiveError(RuntimeError):
    """A live source cannot be read (auth, RBAC, network, config): one line for the user, exit 2."""


@dataclass(frozen=True)
class Skipped:
    """A resource that was not read, and why (a CRD that is not installed)."""

    resource: Resource
    reason: str


@dataclass
class ClusterRead:
    """Everything one read of a cluster returned, as text ready for ``parse_text`` or a file."""

    context: str
    server: str
    server_version: str
    texts: dict[str, str] = field(default_factory=dict)
    """File name (``networkpolicies.networking.k8s.io.json``) -> indented JSON ``List``."""
    counts: dict[str, int] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    """Resource -> the API version it was read at."""
    files: dict[str, str] = field(default_factory=dict)
    """Resource -> its file name in ``texts``."""
    skipped: list[Skipped] = field(default_factory=list)


@dataclass(frozen=True)
class ClusterOptions:
    kubeconfig: str | None = None
    context: str | None = None
    in_cluster: bool = False
    timeout: float = 30.0
    """Seconds for connecting and for each response; a hung API server must not hang ringwall."""
    page_size: int = PAGE_SIZE
    resources: Sequence[Resource] = RESOURCES


Fetch = Callable[[str, dict[str, str]], tuple[int, bytes]]


def connect(options: ClusterOptions) -> tuple[Fetch, str, str]:
    """A GET function, the context name and the server URL, from kubeconfig or in-cluster config."""
    try:
        from kubernetes import client, config
        from kubernetes.config.config_exception import ConfigException
    except ImportError:  # pragma: no cover - depends on the install
        raise LiveError("reading a live cluster needs the 'kubernetes' package: pip install 'ringwall[live]'") \
            from None
    cfg = client.Configuration()
    try:
        if options.in_cluster:
            config.load_incluster_config(client_configuration=cfg)
            context = "in-cluster"
        else:
            contexts, active = config.list_kube_config_contexts(config_file=options.kubeconfig)
            names = [c["name"] for c in contexts or ()]
            context = options.context or (active or {}).get("name", "")
            if options.context and options.context not in names:
                raise LiveError(f"kubeconfig has no context {options.context!r} (contexts: {', '.join(names)})")
            config.load_kube_config(config_file=options.kubeconfig, context=options.context,
                                    client_configuration=cfg, persist_config=False)
    except ConfigException as exc:
        raise LiveError(f"cannot load the Kubernetes configuration: {str(exc).splitlines()[0]}") from None
    except OSError as exc:
        raise LiveError(f"cannot read the kubeconfig: {exc}") from None
    cfg.retries = 1  # fail fast: a user waiting on a dead API server wants the error, not backoff
    api = client.ApiClient(cfg)
    timeout = (options.timeout, options.timeout)

    def fetch(path: str, query: dict[str, str]) -> tuple[int, bytes]:
        resource_path = path + ("?" + urlencode(query) if query else "")
        method, url, headers, _, _ = api.param_serialize(
            "GET", resource_path, header_params={"Accept": "application/json"}, auth_settings=["BearerToken"]
        )
        try:
            resp = api.call_api(method, url, header_params=headers, _request_timeout=timeout)
            resp.read()
        except Exception as exc:  # urllib3 raises many kinds; all mean "the server is not reachable"
            reason = getattr(exc, "reason", None) or exc
            raise LiveError(f"cannot reach the API server {cfg.host}: {str(reason).splitlines()[0]}") from None
        return resp.status, resp.data or b""

    return fetch, context, cfg.host


def _status_message(body: bytes) -> str:
    """The ``message`` of a ``Status`` body (what the API server says), else the body's start."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body[:200].decode("utf-8", "replace").strip()
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return data["message"]
    return ""


def _scope(r: Resource) -> str:
    return f"in namespace {r.namespace}" if r.namespace else "cluster-wide"


def _get_json(fetch: Fetch, path: str, query: dict[str, str], context: str, what: str) -> Any:
    status, body = fetch(path, query)
    if status == 401:
        raise LiveError(f"authentication to the API server failed (401 Unauthorized) for context {context!r}: "
                        "the credentials are missing, expired or invalid")
    if status != 200:
        raise LiveError(f"{what}: HTTP {status}: {_status_message(body) or 'no message'}")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise LiveError(f"{what}: the API server sent invalid JSON ({exc.msg})") from None


def discover(fetch: Fetch, context: str) -> dict[str, list[str]]:
    """Served API groups and versions -> resource plurals (one request per group version we use)."""
    wanted = {r.group for r in RESOURCES}
    served: dict[str, list[str]] = {}
    groups = _get_json(fetch, "/apis", {}, context, "get /apis (API discovery)")
    for g in groups.get("groups") or ():
        if isinstance(g, dict) and g.get("name") in wanted:
            served[g["name"]] = [v.get("version") for v in g.get("versions") or () if isinstance(v, dict)]
    out: dict[str, list[str]] = {"": []}
    core = _get_json(fetch, "/api/v1", {}, context, "get /api/v1 (API discovery)")
    out["/v1"] = [r.get("name", "") for r in core.get("resources") or () if isinstance(r, dict)]
    for group, versions in served.items():
        out[group] = list(versions)
        for v in versions:
            doc = _get_json(fetch, f"/apis/{group}/{v}", {}, context, f"get /apis/{group}/{v} (API discovery)")
            out[f"{group}/{v}"] = [r.get("name", "") for r in doc.get("resources") or () if isinstance(r, dict)]
    return out


def _version_for(r: Resource, discovery: dict[str, list[str]]) -> str | None:
    for v in r.versions:
        key = f"{r.group}/{v}" if r.group else f"/{v}"
        if r.plural in discovery.get(key, ()):
            return v
    return None


def list_resource(fetch: Fetch, r: Resource, version: str, context: str, page_size: int) -> list[dict[str, Any]] | None:
    """Every object of ``r``, page by page (``limit``/``continue``); None when the API says 404."""
    items: list[dict[str, Any]] = []
    api_version = f"{r.group}/{version}" if r.group else version
    token = ""
    path = r.path(version)
    for _ in range(1_000_000):
        query = {"limit": str(page_size)}
        if token:
            query["continue"] = token
        status, body = fetch(path, query)
        if status == 404:
            return None
        if status == 401:
            raise LiveError(f"authentication to the API server failed (401 Unauthorized) for context {context!r}: "
                            "the credentials are missing, expired or invalid")
        if status == 403:
            raise LiveError(f"forbidden: cannot list {r.resource} {_scope(r)} (RBAC: grant verb 'list' on "
                            f"{r.resource}; see docs/live.md): {_status_message(body)}")
        if status == 410:
            raise LiveError(f"list {r.resource}: the continue token expired while paging (410 Gone); "
                            "the cluster changed too fast, try again")
        if status != 200:
            raise LiveError(f"list {r.resource} {_scope(r)}: HTTP {status}: {_status_message(body) or 'no message'}")
        try:
            page = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise LiveError(f"list {r.resource}: the API server sent invalid JSON ({exc.msg})") from None
        for item in page.get("items") or ():
            if isinstance(item, dict):
                items.append(_normalise(item, r.kind, api_version))
        token = (page.get("metadata") or {}).get("continue") or ""
        if not token:
            return items
    raise LiveError(f"list {r.resource}: the API server never stopped paging")  # pragma: no cover


def _normalise(item: dict[str, Any], kind: str, api_version: str) -> dict[str, Any]:
    """Give list items their ``kind``/``apiVersion`` and drop ``managedFields`` (bookkeeping that
    is most of an object's size and means nothing to an analysis)."""
    md = item.get("metadata")
    if isinstance(md, dict) and "managedFields" in md:
        md = {k: v for k, v in md.items() if k != "managedFields"}
    out: dict[str, Any] = {"apiVersion": api_version, "kind": kind}
    out.update(item)
    out["apiVersion"], out["kind"] = api_version, kind
    if md is not None:
        out["metadata"] = md
    return out


def list_text(items: list[dict[str, Any]], as_yaml: bool = False) -> str:
    """The text stored for one resource: an indented ``List`` (one key per line keeps locations useful)."""
    doc = {"apiVersion": "v1", "kind": "List", "items": items}
    if as_yaml:
        import yaml

        return yaml.dump(doc, Dumper=_block_dumper(), sort_keys=False, allow_unicode=True, width=1_000_000)
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode() + "\n"


@functools.cache
def _block_dumper() -> type:
    """A SafeDumper writing multi-line strings as ``|`` blocks, so a Corefile keeps its own lines."""
    import yaml

    class BlockDumper(yaml.SafeDumper):
        pass

    def represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|" if "\n" in data else None)

    BlockDumper.add_representer(str, represent_str)
    return BlockDumper


def read_cluster(
    options: ClusterOptions, fetch: Fetch | None = None, context: str = "", server: str = ""
) -> ClusterRead:
    """List every resource of ``options.resources`` the cluster serves; raise ``LiveError`` on failure."""
    if fetch is None:
        fetch, context, server = connect(options)
    try:
        info = _get_json(fetch, "/version", {}, context, "get /version")
        version = str(info.get("gitVersion", "")) if isinstance(info, dict) else ""
    except LiveError as exc:
        if "401" in str(exc):
            raise
        version = ""  # /version is informative only; some proxies hide it
    discovery = discover(fetch, context)
    result = ClusterRead(context, server, version)
    for r in options.resources:
        superseding = SUPERSEDED_BY.get(r.group)
        if superseding and superseding in discovery:
            result.skipped.append(Skipped(r, f"{superseding} is served and holds the same objects"))
            continue
        v = _version_for(r, discovery)
        if v is None:
            if not r.optional:
                raise LiveError(f"the API server does not serve {r.resource} (versions {', '.join(r.versions)})")
            result.skipped.append(Skipped(r, "not installed (the API server does not serve it)"))
            continue
        items = list_resource(fetch, r, v, context, options.page_size)
        if items is None:
            if not r.optional:
                raise LiveError(f"list {r.resource} {_scope(r)}: 404 Not Found")
            result.skipped.append(Skipped(r, "not installed (404 Not Found)"))
            continue
        name = r.file_name
        result.texts[name] = list_text(items, r.yaml)
        result.files[r.resource] = name
        result.counts[r.resource] = len(items)
        result.versions[r.resource] = f"{r.group}/{v}" if r.group else v
    return result
