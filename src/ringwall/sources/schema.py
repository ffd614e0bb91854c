"""Field types and known fields of the Kubernetes kinds ringwall reads, checked as the API server would.

``kubectl apply`` validates strictly: an unknown field (``matchLabel`` for ``matchLabels``) or a
value of the wrong type (``ports: 5``) makes the API server reject the whole object, so it never
takes effect. Readers downstream assumed well-typed objects; instead of guarding every access,
each object of a kind below is checked once, when the inventory is built, and an object that
fails takes no part in the analysis (one error diagnostic per problem, at the field's line).

The specs are compact and hand-written from the Kubernetes API reference (no schema files are
needed at run time). Type words: ``str``, ``int`` (int32), ``int64``, ``bool``, ``num``,
``intstr`` (IntOrString), ``any`` (a known field whose content ringwall does not read; not
checked), ``quantity``. A dict is an object with exactly these fields; ``[spec]`` a list of
``spec``; ``Map(spec)`` a string-keyed map.

Kinds not listed here (CRDs of meshes, gateways and CNIs) are validated by the layer that reads
them; their objects still get the ObjectMeta check.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ringwall.sources.documents import Document

PathT = tuple[str | int, ...]
INT32 = (-(1 << 31), (1 << 31) - 1)
INT64 = (-(1 << 63), (1 << 63) - 1)


@dataclass(frozen=True)
class Map:
    values: Any


@dataclass(frozen=True)
class Problem:
    path: PathT
    message: str
    rejects: bool = True
    """False for a field name that differs from a known one only by case: the API server's strict
    decoding rejects it, but Go's case-insensitive decoding (non-strict clients, netpol-analyzer)
    reads it as the known field, and so does ringwall, with a warning."""

    @property
    def field(self) -> str:
        return dotted(self.path)


def dotted(path: PathT) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else p)
    return out


_STR_MAP = Map("str")
LABEL_SELECTOR = {
    "matchLabels": _STR_MAP,
    "matchExpressions": [{"key": "str", "operator": "str", "values": ["str"]}],
}
OWNER_REF = {"apiVersion": "str", "kind": "str", "name": "str", "uid": "str", "controller": "bool",
             "blockOwnerDeletion": "bool"}
OBJECT_META = {
    "name": "str", "generateName": "str", "namespace": "str", "selfLink": "str", "uid": "str",
    "resourceVersion": "str", "generation": "int64", "creationTimestamp": "any", "deletionTimestamp": "any",
    "deletionGracePeriodSeconds": "int64", "labels": _STR_MAP, "annotations": _STR_MAP,
    "ownerReferences": [OWNER_REF], "finalizers": ["str"], "managedFields": "any",
}
CONTAINER_PORT = {"name": "str", "containerPort": "int", "hostPort": "int", "protocol": "str", "hostIP": "str"}
CONTAINER = {
    "name": "str", "image": "str", "command": ["str"], "args": ["str"], "workingDir": "str",
    "ports": [CONTAINER_PORT], "envFrom": "any", "env": "any", "resources": "any", "resizePolicy": "any",
    "restartPolicy": "str", "restartPolicyRules": "any", "volumeMounts": "any", "volumeDevices": "any",
    "livenessProbe": "any", "readinessProbe": "any", "startupProbe": "any", "lifecycle": "any",
    "terminationMessagePath": "str", "terminationMessagePolicy": "str", "imagePullPolicy": "str",
    "securityContext": "any", "stdin": "bool", "stdinOnce": "bool", "tty": "bool",
}
POD_SPEC = {
    "volumes": "any", "initContainers": [CONTAINER], "containers": [CONTAINER], "ephemeralContainers": "any",
    "restartPolicy": "str", "terminationGracePeriodSeconds": "int64", "activeDeadlineSeconds": "int64",
    "dnsPolicy": "str", "nodeSelector": _STR_MAP, "serviceAccountName": "str", "serviceAccount": "str",
    "automountServiceAccountToken": "bool", "nodeName": "str", "hostNetwork": "bool", "hostPID": "bool",
    "hostIPC": "bool", "shareProcessNamespace": "bool", "securityContext": "any", "imagePullSecrets": "any",
    "hostname": "str", "subdomain": "str", "affinity": "any", "schedulerName": "str", "tolerations": "any",
    "hostAliases": "any", "priorityClassName": "str", "priority": "int", "dnsConfig": "any",
    "readinessGates": "any", "runtimeClassName": "str", "enableServiceLinks": "bool",
    "preemptionPolicy": "str", "overhead": "any", "topologySpreadConstraints": "any",
    "setHostnameAsFQDN": "bool", "os": "any", "hostUsers": "bool", "schedulingGates": "any",
    "resourceClaims": "any", "resources": "any", "hostnameOverride": "str",
}
POD_TEMPLATE = {"metadata": OBJECT_META, "spec": POD_SPEC}
JOB_SPEC = {
    "parallelism": "int", "completions": "int", "activeDeadlineSeconds": "int64", "podFailurePolicy": "any",
    "successPolicy": "any", "backoffLimit": "int", "backoffLimitPerIndex": "int", "maxFailedIndexes": "int",
    "selector": LABEL_SELECTOR, "manualSelector": "bool", "template": POD_TEMPLATE, "ttlSecondsAfterFinished": "int",
    "completionMode": "str", "suspend": "bool", "podReplacementPolicy": "str", "managedBy": "str",
}
_WORKLOAD_COMMON = {"selector": LABEL_SELECTOR, "template": POD_TEMPLATE, "minReadySeconds": "int",
                    "revisionHistoryLimit": "int"}
SPECS: dict[str, dict[str, Any]] = {
    "Namespace": {"spec": {"finalizers": ["str"]}},
    "Pod": {"spec": POD_SPEC},
    "Deployment": {"spec": {**_WORKLOAD_COMMON, "replicas": "int", "strategy": "any", "paused": "bool",
                            "progressDeadlineSeconds": "int"}},
    "ReplicaSet": {"spec": {**_WORKLOAD_COMMON, "replicas": "int"}},
    "ReplicationController": {"spec": {"replicas": "int", "minReadySeconds": "int", "selector": _STR_MAP,
                                       "template": POD_TEMPLATE}},
    "StatefulSet": {"spec": {**_WORKLOAD_COMMON, "replicas": "int", "serviceName": "str",
                             "volumeClaimTemplates": "any", "podManagementPolicy": "str", "updateStrategy": "any",
                             "persistentVolumeClaimRetentionPolicy": "any", "ordinals": "any"}},
    "DaemonSet": {"spec": {**_WORKLOAD_COMMON, "updateStrategy": "any"}},
    "Job": {"spec": JOB_SPEC},
    "CronJob": {"spec": {"schedule": "str", "timeZone": "str", "startingDeadlineSeconds": "int64",
                         "concurrencyPolicy": "str", "suspend": "bool",
                         "jobTemplate": {"metadata": OBJECT_META, "spec": JOB_SPEC},
                         "successfulJobsHistoryLimit": "int", "failedJobsHistoryLimit": "int"}},
    "Service": {"spec": {
        "ports": [{"name": "str", "protocol": "str", "appProtocol": "str", "port": "int", "targetPort": "intstr",
                   "nodePort": "int"}],
        "selector": _STR_MAP, "clusterIP": "str", "clusterIPs": ["str"], "type": "str", "externalIPs": ["str"],
        "sessionAffinity": "str", "loadBalancerIP": "str", "loadBalancerSourceRanges": ["str"],
        "externalName": "str", "externalTrafficPolicy": "str", "healthCheckNodePort": "int",
        "publishNotReadyAddresses": "bool", "sessionAffinityConfig": "any", "ipFamilies": ["str"],
        "ipFamilyPolicy": "str", "allocateLoadBalancerNodePorts": "bool", "loadBalancerClass": "str",
        "internalTrafficPolicy": "str", "trafficDistribution": "str"}},
    "NetworkPolicy": {"spec": {
        "podSelector": LABEL_SELECTOR, "policyTypes": ["str"],
        "ingress": [{"from": [{"podSelector": LABEL_SELECTOR, "namespaceSelector": LABEL_SELECTOR,
                               "ipBlock": {"cidr": "str", "except": ["str"]}}],
                     "ports": [{"protocol": "str", "port": "intstr", "endPort": "int"}]}],
        "egress": [{"to": [{"podSelector": LABEL_SELECTOR, "namespaceSelector": LABEL_SELECTOR,
                            "ipBlock": {"cidr": "str", "except": ["str"]}}],
                    "ports": [{"protocol": "str", "port": "intstr", "endPort": "int"}]}]}},
    "ConfigMap": {"data": _STR_MAP, "binaryData": _STR_MAP, "immutable": "bool"},
    "ServiceAccount": {"secrets": "any", "imagePullSecrets": "any", "automountServiceAccountToken": "bool"},
}
"""Fields beside apiVersion, kind, metadata and status, per built-in kind (the core API groups)."""

_BUILTIN_GROUPS = ("v1", "apps/v1", "batch/v1", "networking.k8s.io/v1", "extensions/v1beta1",
                   "apps/v1beta1", "apps/v1beta2", "batch/v1beta1")
_TOP = ("apiVersion", "kind", "metadata", "status")


def validate(doc: Document) -> list[Problem]:
    """What the API server would reject in ``doc``: wrong types, unknown fields (built-in kinds),
    and a malformed ``metadata`` (every kind)."""
    obj = doc.obj
    problems: list[Problem] = []
    problems.extend(_check(obj.get("metadata"), OBJECT_META, ("metadata",))
                    if "metadata" in obj else ())
    spec = SPECS.get(doc.kind) if doc.api_version in _BUILTIN_GROUPS else None
    if spec is not None:
        for key, value in obj.items():
            if key in _TOP:
                continue
            if key not in spec:
                problems.append(Problem((key,), f'unknown field "{key}"'))
                continue
            problems.extend(_check(value, spec[key], (key,)))
    return problems


_TYPE_NAMES = {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list",
               dict: "a map", type(None): "null"}


def _got(value: object) -> str:
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def _check(value: object, spec: Any, path: PathT) -> Iterator[Problem]:
    """Iterative walk (no recursion: a 10k-deep document must not exhaust the stack)."""
    stack: list[tuple[object, Any, PathT]] = [(value, spec, path)]
    while stack:
        value, spec, path = stack.pop()
        if value is None or spec == "any":
            continue  # null means "not set" to the API server
        if isinstance(spec, str):
            message = _scalar(value, spec)
            if message:
                yield Problem(path, message)
        elif isinstance(spec, Map):
            if not isinstance(value, dict):
                yield Problem(path, f"expected a map, got {_got(value)}")
                continue
            entries: list[tuple[object, Any, PathT]] = []
            for k, v in value.items():
                if not isinstance(k, str):
                    yield Problem(path, f"map keys are strings, got {_got(k)} {k!r}")
                    continue
                entries.append((v, spec.values, (*path, k)))
            stack.extend(reversed(entries))
        elif isinstance(spec, list):
            if not isinstance(value, list):
                yield Problem(path, f"expected a list, got {_got(value)}")
                continue
            for i in range(len(value) - 1, -1, -1):  # reversed: problems come out in document order
                stack.append((value[i], spec[0], (*path, i)))
        elif isinstance(spec, dict):
            if not isinstance(value, dict):
                yield Problem(path, f"expected an object, got {_got(value)}")
                continue
            by_case = {name.lower(): name for name in spec}
            renames: list[tuple[str, str]] = []
            pending: list[tuple[object, Any, PathT]] = []
            for k, v in value.items():
                if k not in spec:
                    known = by_case.get(str(k).lower())
                    if known is not None and known not in value:
                        yield Problem((*path, str(k)), f'field "{k}" is spelled "{known}"; kubectl apply (strict '
                                      f'validation) rejects it, non-strict clients read it as {known}', False)
                        renames.append((k, known))
                        pending.append((v, spec[known], (*path, k)))
                        continue
                    yield Problem((*path, str(k)), f'unknown field "{dotted((*path, str(k)))}"')
                    continue
                pending.append((v, spec[k], (*path, k)))
            stack.extend(reversed(pending))
            for old, new in renames:  # read as the known field, as Go's case-insensitive decoding does
                value[new] = value.pop(old)


def _scalar(value: object, kind: str) -> str:
    if kind == "str":
        return "" if isinstance(value, str) else f"expected a string, got {_got(value)}"
    if kind == "bool":
        return "" if isinstance(value, bool) else f"expected a boolean, got {_got(value)}"
    if kind in ("int", "int64", "intstr"):
        if kind == "intstr" and isinstance(value, str):
            return ""
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                want = "an integer or a string" if kind == "intstr" else "an integer"
                return f"expected {want}, got {_got(value)}"
        lo, hi = INT64 if kind == "int64" else INT32
        if not lo <= value <= hi:
            return f"{value} does not fit in a {'64' if kind == 'int64' else '32'}-bit integer"
        return ""
    if kind == "num":
        return "" if isinstance(value, int | float) and not isinstance(value, bool) else \
            f"expected a number, got {_got(value)}"
    return ""
