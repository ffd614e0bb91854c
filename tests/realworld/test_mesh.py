"""Real-world mesh shapes with the verdicts their documentation states.

References: Istio's "Authorization on HTTP traffic" task on Bookinfo (allow-nothing, then ALLOW
GET per service from the caller's service account; STRICT mTLS) and Linkerd's "Restricting access
to services" task on emojivoto (a Server on voting's gRPC port, an AuthorizationPolicy requiring
web's identity through a MeshTLSAuthentication; the default policy elsewhere).
"""

from __future__ import annotations

import json

from tests.realworld.helpers import DATA, run

MESH = DATA / "mesh"


def _flows(path) -> dict[tuple[str, str, str], tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(src name, dst name, conn) -> (verdict[: condition], mtls) for pod-to-pod TCP flows."""
    code, out, err = run("mesh", "flows", path, "--format", "json")
    assert code == 0, err
    short = lambda ref: ref.split("/", 1)[1].split("[")[0]  # noqa: E731
    return {(short(f["src"]), short(f["dst"]), f["conn"]):
            (f["verdict"] + (f": {f['condition']}" if f.get("condition") else ""), f["mtls"])
            for f in json.loads(out)["flows"] if f["conn"].startswith("TCP") and "[External]" not in f["src"] + f["dst"]
            and "istiod" not in f["src"] + f["dst"]}


def test_bookinfo_http_authorization() -> None:
    flows = _flows(MESH / "bookinfo-authz.yaml")
    port = "TCP 9080"
    # GET only, from the caller the policies name: conditional on the method, mTLS (STRICT).
    for src, dst in (("details-v1", "productpage-v1"), ("productpage-v1", "details-v1"),
                     ("productpage-v1", "reviews-v2"), ("reviews-v2", "ratings-v1")):
        assert flows[(src, dst, port)] == ("conditional: GET", "yes"), (src, dst)
    # Identities the policies do not name are denied, whatever the method.
    for src, dst in (("productpage-v1", "ratings-v1"), ("details-v1", "ratings-v1"), ("ratings-v1", "reviews-v2"),
                     ("reviews-v2", "details-v1")):
        assert flows[(src, dst, port)] == ("deny", "yes"), (src, dst)


def test_emojivoto_voting_admits_only_web() -> None:
    flows = _flows(MESH / "emojivoto-authz.yaml")
    port = "TCP 8080"
    assert flows[("web", "voting", port)] == ("allow", "yes")
    assert flows[("web", "emoji", port)] == ("allow", "yes")
    for src in ("vote-bot", "emoji"):
        assert flows[(src, "voting", port)] == ("deny", "yes")
    assert flows[("vote-bot", "emoji", port)] == ("deny", "yes")
    # Ports no Server covers fall to the cluster default, all-unauthenticated: allowed.
    assert flows[("vote-bot", "web", "TCP 1-65535")][0] == "allow"
