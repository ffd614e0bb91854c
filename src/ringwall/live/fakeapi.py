"""A read-only imitation of the Kubernetes API server on 127.0.0.1, for tests and benchmarks.

It serves recorded objects the way the API server does — discovery (``/api``, ``/apis``,
``/apis/GROUP/VERSION``), list responses without ``kind`` on items, ``limit``/``continue``
pagination, ``Status`` bodies for 401/403/404 — so the reader can be exercised end to end
through the real ``kubernetes`` client without a cluster. Only GET is answered; anything else
gets 405, which is itself a test that the reader never writes.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

from ringwall.live.kinds import RESOURCES, Resource

BUILTIN_GROUPS = ("apps", "batch", "networking.k8s.io", "rbac.authorization.k8s.io", "apiextensions.k8s.io")


def _status(code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> bytes:
    body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                            "message": message, "reason": reason, "code": code}
    if details:
        body["details"] = details
    return orjson.dumps(body)


class FakeApiServer:
    """``with FakeApiServer(objects) as api:`` then point a kubeconfig at ``api.url`` with ``api.token``.

    ``objects`` maps a resource (``Resource.resource``, e.g. ``pods`` or
    ``networkpolicies.networking.k8s.io``) to its items. A CRD's group is served when one of its
    resources has objects or is named in ``installed``. ``forbidden`` resources answer 403;
    ``missing`` resources are in discovery but answer 404 (a CRD deleted mid-read).
    """

    def __init__(
        self,
        objects: dict[str, list[dict[str, Any]]],
        *,
        token: str = "ringwall-test-token",
        forbidden: Iterable[str] = (),
        missing: Iterable[str] = (),
        installed: Iterable[str] = (),
        server_version: str = "v1.31.2",
        user: str = "system:serviceaccount:ringwall:reader",
    ) -> None:
        self.objects = objects
        self.token = token
        self.forbidden = set(forbidden)
        self.missing = set(missing)
        self.server_version = server_version
        self.user = user
        self.requests: list[str] = []
        self.methods: list[str] = []
        present = set(objects) | set(installed) | self.missing
        self.served: dict[str, Resource] = {}
        """URL path -> resource, for every resource this server lists."""
        self.groups: dict[str, dict[str, list[Resource]]] = {}
        for r in RESOURCES:
            if r.optional and r.resource not in present:
                continue
            if r.group and not r.optional and r.group not in BUILTIN_GROUPS:
                continue
            version = r.versions[0]
            self.groups.setdefault(r.group, {}).setdefault(version, []).append(r)
            self.served[r.path(version)] = r
            if r.namespace:  # the API also answers cluster-wide; the reader must not need it
                self.served[r.path(version).replace(f"/namespaces/{r.namespace}", "")] = r
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @classmethod
    def from_folder(cls, folder: Path, **kwargs: Any) -> FakeApiServer:
        """Recorded responses: one ``<resource>.json`` list body per resource (as ``kubectl get --raw``)."""
        objects: dict[str, list[dict[str, Any]]] = {}
        for f in sorted(folder.glob("*.json")):
            data = orjson.loads(f.read_bytes())
            objects[f.name.removesuffix(".json")] = list(data.get("items") or ())
        return cls(objects, **kwargs)

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def kubeconfig(self, path: Path, context: str = "fake", token: str | None = None) -> Path:
        """Write a kubeconfig for this server (token auth over plain HTTP on loopback)."""
        import yaml

        doc = {
            "apiVersion": "v1", "kind": "Config", "current-context": context,
            "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
            "users": [{"name": "reader", "user": {"token": token if token is not None else self.token}}],
            "contexts": [{"name": context, "context": {"cluster": "fake", "user": "reader"}}],
        }
        path.write_text(yaml.safe_dump(doc), encoding="utf-8")
        return path

    def __enter__(self) -> FakeApiServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            wbufsize = -1  # headers and body in one write: no Nagle/delayed-ACK stall per request

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _send(self, code: int, body: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                fake.methods.append("GET")
                code, body = fake.answer(self.path, self.headers.get("Authorization", ""))
                self._send(code, body)

            def _refuse(self) -> None:
                fake.methods.append(self.command)
                self._send(405, _status(405, "MethodNotAllowed", "this recorded server is read-only"))

            do_POST = do_PUT = do_PATCH = do_DELETE = _refuse

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-kube-api", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # -- the API ---------------------------------------------------------------------------------

    def answer(self, raw_path: str, authorization: str) -> tuple[int, bytes]:
        """(status, body) for one GET: the whole imitation, without sockets (handy to unit-test)."""
        self.requests.append(raw_path)
        if authorization != f"Bearer {self.token}":
            return 401, _status(401, "Unauthorized", "Unauthorized")
        parts = urlsplit(raw_path)
        path = parts.path.rstrip("/")
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if path == "/version":
            return 200, orjson.dumps({"major": "1", "minor": self.server_version.split(".")[1],
                                      "gitVersion": self.server_version})
        if path == "/api":
            return 200, orjson.dumps({"kind": "APIVersions", "versions": ["v1"]})
        if path == "/apis":
            return 200, orjson.dumps(self._group_list())
        resources = self._resource_list(path)
        if resources is not None:
            return 200, orjson.dumps(resources)
        r = self.served.get(path)
        if r is None:
            return 404, _status(404, "NotFound", "the server could not find the requested resource")
        if r.resource in self.forbidden:
            scope = f'in the namespace "{r.namespace}"' if r.namespace else "at the cluster scope"
            return 403, _status(403, "Forbidden",
                                f'{r.resource} is forbidden: User "{self.user}" cannot list resource "{r.plural}" '
                                f'in API group "{r.group}" {scope}', {"group": r.group, "kind": r.plural})
        if r.resource in self.missing:
            return 404, _status(404, "NotFound", "the server could not find the requested resource")
        return 200, self._list(r, path, query)

    def _group_list(self) -> dict[str, Any]:
        groups = []
        for group, versions in self.groups.items():
            if not group:
                continue
            vs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
            groups.append({"name": group, "versions": vs, "preferredVersion": vs[0]})
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}

    def _resource_list(self, path: str) -> dict[str, Any] | None:
        if path == "/api/v1":
            group, version = "", "v1"
        elif path.startswith("/apis/") and path.count("/") == 3:
            _, _, group, version = path.split("/")
        else:
            return None
        served = self.groups.get(group, {}).get(version)
        if served is None:
            return None
        return {
            "kind": "APIResourceList", "groupVersion": f"{group}/{version}" if group else version,
            "resources": [{"name": r.plural, "namespaced": r.namespaced, "kind": r.kind,
                           "verbs": ["get", "list", "watch"]} for r in served],
        }

    def _list(self, r: Resource, path: str, query: dict[str, str]) -> bytes:
        items = self.objects.get(r.resource, [])
        if "/namespaces/" in path:
            ns = path.split("/namespaces/")[1].split("/")[0]
            items = [i for i in items if (i.get("metadata") or {}).get("namespace") == ns]
        start = int(base64.urlsafe_b64decode(query["continue"]).decode()) if query.get("continue") else 0
        limit = int(query.get("limit") or 0) or len(items) or 1
        page = items[start : start + limit]
        more = start + limit < len(items)
        metadata: dict[str, Any] = {"resourceVersion": "4242"}
        if more:
            metadata["continue"] = base64.urlsafe_b64encode(str(start + limit).encode()).decode()
            metadata["remainingItemCount"] = len(items) - start - limit
        version = path.split("/")[2] if path.startswith("/api/") else path.split("/")[3]
        api_version = f"{r.group}/{version}" if r.group else version
        return orjson.dumps({"kind": f"{r.kind}List", "apiVersion": api_version, "metadata": metadata,
                             "items": [_strip(i) for i in page]})


def _strip(item: dict[str, Any]) -> dict[str, Any]:
    """List items come without ``kind`` and ``apiVersion`` from the real API server."""
    return {k: v for k, v in item.items() if k not in ("kind", "apiVersion")}


def objects_from_documents(docs: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Group manifests (``kind``/``apiVersion`` set) by the resource the API would serve them as."""
    by_kind: dict[tuple[str, str], Resource] = {}
    for r in RESOURCES:
        by_kind.setdefault((r.group, r.kind), r)
    out: dict[str, list[dict[str, Any]]] = {}
    for d in docs:
        api_version = str(d.get("apiVersion") or "")
        group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
        r = by_kind.get((group, str(d.get("kind") or "")))
        if r is not None:
            out.setdefault(r.resource, []).append(d)
    return out


def main(argv: list[str] | None = None) -> int:
    """``python -m ringwall.live.fakeapi FOLDER --kubeconfig FILE``: serve recorded lists until stdin closes.

    A separate process, so that a benchmark's client does not share its interpreter (and GIL)
    with the server, as it never does with a real API server.
    """
    import argparse
    import sys

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("folder", type=Path, help="one <resource>.json list per resource")
    parser.add_argument("--kubeconfig", type=Path, required=True, help="write a kubeconfig for the server here")
    parser.add_argument("--context", default="fake")
    args = parser.parse_args(argv)
    with FakeApiServer.from_folder(args.folder) as api:
        api.kubeconfig(args.kubeconfig, args.context)
        sys.stdout.write(api.url + "\n")
        sys.stdout.flush()
        sys.stdin.read()  # until the parent closes our stdin (or exits)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
