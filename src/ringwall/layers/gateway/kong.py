"""Kong as the Kong Ingress Controller (KIC) configures it: plugins, consumers, ACL groups.

* Plugins attach to an Ingress, an HTTPRoute/GRPCRoute (Gateway API under a GatewayClass whose
  controller is ``konghq.com/kic-gateway-controller``) or the backend Service with the
  ``konghq.com/plugins`` annotation, to an HTTPRoute rule with an ``ExtensionRef`` filter naming a
  KongPlugin, and everywhere with a KongClusterPlugin labelled ``global: "true"``.
* Consumers are KongConsumer objects; their ``credentials`` name Secrets whose type is the
  ``konghq.com/credential`` label (KIC 3) or the ``kongCredType`` key (older KIC). An ``acl``
  credential puts the consumer in the Secret's ``group``.
* The ACL plugin admits a consumer whose groups meet ``config.allow`` (or miss ``config.deny``);
  it needs an authentication plugin on the same route to know the consumer, otherwise it refuses
  every request. A consumer passes a route when it holds a credential for one of the route's
  authentication plugins and the ACL (if any) admits it.
* Kong validates each plugin's ``config`` against the plugin schema. A config it refuses (an
  unknown field, ``allow`` and ``deny`` together, a rate limit with no limit...) never runs: KIC's
  admission webhook refuses the KongPlugin, and without the webhook Kong refuses the whole
  configuration push and keeps serving the previous one. Ringwall counts such a plugin as
  absent and reports it (RW-GW-018).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any

from ringwall.sources.documents import Document
from ringwall.sources.inventory import Inventory

KIC_GATEWAY_CONTROLLER = "konghq.com/kic-gateway-controller"
AUTH_PLUGINS = {"key-auth": "api-key", "basic-auth": "basic", "jwt": "jwt", "hmac-auth": "hmac",
                "ldap-auth": "basic", "oauth2": "oauth2", "openid-connect": "oidc", "mtls-auth": "client-cert",
                "key-auth-enc": "api-key"}
RATE_PLUGINS = {"rate-limiting", "rate-limiting-advanced", "request-size-limiting"}
_CREDENTIAL_OF = {"key-auth": "key-auth", "key-auth-enc": "key-auth", "basic-auth": "basic-auth", "jwt": "jwt",
                  "hmac-auth": "hmac-auth", "oauth2": "oauth2", "mtls-auth": "mtls-auth"}
_LIMITS = ("second", "minute", "hour", "day", "month", "year")

# Config fields of the plugins whose schemas Ringwall checks (Kong 3.x plugin schemas). Other
# plugins are taken as written.
_SCHEMA_FIELDS: dict[str, frozenset[str]] = {
    "acl": frozenset({"allow", "deny", "hide_groups_header", "include_consumer_groups",
                      "always_use_authenticated_groups"}),
    "key-auth": frozenset({"key_names", "hide_credentials", "anonymous", "key_in_header", "key_in_query",
                           "key_in_body", "run_on_preflight", "realm"}),
    "basic-auth": frozenset({"anonymous", "hide_credentials", "realm"}),
    "jwt": frozenset({"uri_param_names", "cookie_names", "header_names", "claims_to_verify", "key_claim_name",
                      "secret_is_base64", "anonymous", "run_on_preflight", "maximum_expiration", "realm"}),
    "rate-limiting": frozenset({"second", "minute", "hour", "day", "month", "year", "limit_by", "header_name",
                                "path", "policy", "fault_tolerant", "redis", "hide_client_headers",
                                "error_code", "error_message", "sync_rate", "consumer_group"}),
    "ip-restriction": frozenset({"allow", "deny", "status", "message"}),
}


@dataclass
class Consumer:
    """A KongConsumer with the credential types it holds and its ACL groups."""

    ref: str
    username: str
    credentials: set[str] = field(default_factory=set)
    groups: set[str] = field(default_factory=set)
    unread: list[str] = field(default_factory=list)
    """Credential Secrets the input does not hold (a live read never asks for Secrets)."""


def plugin_name(doc: Document) -> str:
    return str(doc.obj.get("plugin", ""))


def plugin_config(doc: Document) -> dict[str, Any]:
    config = doc.obj.get("config")
    return config if isinstance(config, dict) else {}


def config_rejection(doc: Document) -> tuple[str, tuple[str | int, ...]] | None:
    """Why Kong would refuse this plugin's config (message, field path), or None."""
    plugin = plugin_name(doc)
    config = plugin_config(doc)
    fields = _SCHEMA_FIELDS.get(plugin)
    if fields is None:
        return None
    for key in config:
        if key not in fields:
            renamed = {"whitelist": "allow", "blacklist": "deny"}.get(str(key))
            hint = f" (renamed {renamed} in Kong 3.0)" if renamed and plugin in ("acl", "ip-restriction") else ""
            return f"config.{key}: unknown field{hint}", ("config", str(key))
    if plugin in ("acl", "ip-restriction"):
        given = [k for k in ("allow", "deny") if config.get(k)]
        if len(given) == 2:
            return "config.allow and config.deny are both set; only one of them may be", ("config",)
        if not given and plugin == "acl":
            return "one of config.allow or config.deny must be set", ("config",) if config else ()
    if plugin == "rate-limiting" and not any(config.get(k) is not None for k in _LIMITS):
        return "at least one of config.second, minute, hour, day, month or year must be set", \
            ("config",) if config else ()
    if plugin == "jwt":
        bad = [c for c in config.get("claims_to_verify") or [] if c not in ("exp", "nbf")]
        if bad:
            return f"config.claims_to_verify: {bad[0]!r} is not one of exp, nbf", ("config", "claims_to_verify")
    if plugin == "key-auth" and config.get("key_names") == []:
        return "config.key_names: an empty list names no key", ("config", "key_names")
    return None


def _secret_values(doc: Document) -> dict[str, str]:
    out: dict[str, str] = {}
    data = doc.obj.get("data")
    if isinstance(data, dict):
        for k, v in data.items():
            try:
                out[str(k)] = base64.b64decode(str(v), validate=True).decode("utf-8", errors="replace")
            except (binascii.Error, ValueError):
                continue
    string_data = doc.obj.get("stringData")
    if isinstance(string_data, dict):
        out.update({str(k): str(v) for k, v in string_data.items()})
    return out


def consumers(inv: Inventory) -> list[Consumer]:
    """Every KongConsumer with the credential types and ACL groups its Secrets give it."""
    secrets = {(d.namespace(inv.default_namespace), d.name): d for d in inv.documents("Secret")}
    out: list[Consumer] = []
    for doc in inv.documents("KongConsumer"):
        ns = doc.namespace(inv.default_namespace)
        consumer = Consumer(doc.ref, str(doc.obj.get("username") or doc.name))
        for name in doc.obj.get("credentials") or []:
            secret = secrets.get((ns, str(name)))
            if secret is None:
                consumer.unread.append(str(name))
                continue
            values = _secret_values(secret)
            labels = secret.metadata.get("labels") if isinstance(secret.metadata.get("labels"), dict) else {}
            kind = str(labels.get("konghq.com/credential") or values.get("kongCredType") or "")
            if kind:
                consumer.credentials.add(kind)
            if kind == "acl" and values.get("group"):
                consumer.groups.add(values["group"])
        out.append(consumer)
    return out


def admitted(consumer: Consumer, auth_plugins: list[str], acls: list[dict[str, Any]]) -> bool:
    """Whether ``consumer`` gets through a route with these auth plugins and ACL configs."""
    if not any(_CREDENTIAL_OF.get(p) in consumer.credentials for p in auth_plugins):
        return False
    for acl in acls:
        allow = set(map(str, acl.get("allow") or []))
        deny = set(map(str, acl.get("deny") or []))
        if allow and not consumer.groups & allow:
            return False
        if deny and consumer.groups & deny:
            return False
    return True


def annotation_plugins(doc: Document | None) -> list[str]:
    if doc is None:
        return []
    ann = doc.metadata.get("annotations")
    value = ann.get("konghq.com/plugins", "") if isinstance(ann, dict) else ""
    return [n.strip() for n in str(value).split(",") if n.strip()]


def extension_ref_plugins(rule: dict[str, Any]) -> list[str]:
    """KongPlugins an HTTPRoute rule names in ``ExtensionRef`` filters."""
    out = []
    for f in rule.get("filters") or []:
        ref = f.get("extensionRef") if isinstance(f, dict) and f.get("type") == "ExtensionRef" else None
        if isinstance(ref, dict) and ref.get("kind") == "KongPlugin" and ref.get("name"):
            out.append(str(ref["name"]))
    return out
