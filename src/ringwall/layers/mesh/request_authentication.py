"""Istio RequestAuthentication (JWT): whether a request *without* a token still gets through.

RequestAuthentication only rejects invalid tokens; a request with no token passes with no
request identity (refs mesh §1.5). A token is required only when an AuthorizationPolicy says
so: every ALLOW rule that applies needs ``requestPrincipals`` (or a ``request.auth`` condition),
or a DENY matches ``notRequestPrincipals: ["*"]``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ringwall.model.cluster import Workload
from ringwall.sources.documents import Document

from .authorization import AuthorizationPolicy
from .common import Evidence, ParsedObject, labels_match, match_labels, spec_of, str_list


@dataclass
class RequestAuthentication(ParsedObject):
    selector: dict[str, str] | None = None
    issuers: tuple[str, ...] = ()
    has_target_refs: bool = False


def parse_request_authentication(doc: Document, default_ns: str) -> RequestAuthentication:
    spec = spec_of(doc)
    issuers = tuple(str(r.get("issuer", "")) for r in spec.get("jwtRules") or () if isinstance(r, dict))
    return RequestAuthentication(doc, doc.namespace(default_ns), doc.name, selector=match_labels(spec.get("selector")),
                                 issuers=issuers, has_target_refs=bool(spec.get("targetRefs") or spec.get("targetRef")))


def applies(ra: RequestAuthentication, w: Workload, root: str) -> bool:
    if ra.has_target_refs:
        return False
    if ra.namespace not in (root, w.namespace):
        return False
    return ra.selector is None or labels_match(ra.selector, w.labels)


def _source_requires_token(rule: dict[str, object]) -> bool:
    froms = rule.get("from")
    if isinstance(froms, list) and froms:
        ok = True
        for f in froms:
            s = f.get("source") if isinstance(f, dict) else None
            if not (isinstance(s, dict) and str_list(s.get("requestPrincipals"))):
                ok = False
        if ok:
            return True
    whens = rule.get("when")
    return isinstance(whens, list) and any(
        isinstance(c, dict) and str(c.get("key", "")).startswith("request.auth.") for c in whens
    )


def token_requirement(policies: list[AuthorizationPolicy]) -> Evidence | None:
    """The policy that makes a token mandatory for the workload, or None if tokenless requests pass."""
    enforced = [p for p in policies if not p.dry_run]
    for p in enforced:
        if p.action != "DENY":
            continue
        for i, r in enumerate(p.rules):
            for f in r.get("from") or ():
                s = f.get("source") if isinstance(f, dict) else None
                if isinstance(s, dict) and "*" in str_list(s.get("notRequestPrincipals")) and len(s) == 1:
                    return Evidence(f"DENY {p.ref} rules[{i}] denies requests without a token",
                                    p.locate("spec", "rules", i))
    allows = [p for p in enforced if p.action == "ALLOW"]
    if allows and all(r and _source_requires_token(r) for p in allows for r in p.rules) and any(
            p.rules for p in allows):
        p = next(p for p in allows if p.rules)
        return Evidence(f"every ALLOW rule (e.g. {p.ref}) requires requestPrincipals", p.locate("spec", "rules"))
    return None
