"""Istio membership: which pods get a sidecar or are enrolled in ambient, and why.

Follows the injection webhook's selector pairs and ``injectRequired`` (refs mesh §1.1): a
namespace's ``istio-injection`` beats ``istio.io/rev``; ``istio-injection=disabled`` beats any
pod opt-in; in an unlabelled namespace only the pod *label* ``sidecar.istio.io/inject=true``
(or ``istio.io/rev``) injects; host-network pods and system namespaces are never injected.
Ambient enrolment follows the istio-cni enablement selectors.
"""

from __future__ import annotations

from dataclasses import dataclass

from ringwall.model.cluster import Cluster, Namespace, Workload
from ringwall.model.location import Location

from .common import SYSTEM_NAMESPACES, containers, pod_annotations

INJECT = "sidecar.istio.io/inject"
NS_INJECTION = "istio-injection"
REV = "istio.io/rev"
DATAPLANE = "istio.io/dataplane-mode"
USE_WAYPOINT = "istio.io/use-waypoint"
STATUS = "sidecar.istio.io/status"


@dataclass(frozen=True, slots=True)
class Membership:
    """How one workload takes part in a mesh."""

    mode: str
    """``sidecar``, ``ambient``, ``linkerd`` or ``none``."""
    reason: str
    location: Location | None = None
    waypoint: str | None = None

    @property
    def meshed(self) -> bool:
        return self.mode != "none"


def _ns_location(ns: Namespace) -> Location | None:
    return ns.location


def istio_membership(w: Workload, ns: Namespace) -> Membership:
    """Whether ``w`` has an Istio sidecar or is ambient, with the label that decides it."""
    labels = w.labels
    annotations = pod_annotations(w)
    nsl = ns.labels
    if w.host_network:
        return Membership("none", "hostNetwork pods are never injected nor enrolled in ambient", w.location)
    # Evidence first: a pod that does run istio-proxy is meshed wherever it lives (manual injection
    # with istioctl kube-inject works in kube-system too); the injector's rules decide the others.
    live_sidecar = STATUS in annotations or any(c.get("name") == "istio-proxy" for c in containers(w))
    if live_sidecar:
        return Membership("sidecar", "the pod carries an istio-proxy sidecar", w.location)
    if ns.name in SYSTEM_NAMESPACES:
        return Membership("none", f"namespace {ns.name} is never injected", w.location)
    pod_value = labels.get(INJECT)
    value_src = "label"
    if pod_value is None and INJECT in annotations:
        pod_value, value_src = annotations[INJECT], "annotation"
    sidecar: Membership | None = None
    if NS_INJECTION in nsl:
        if nsl[NS_INJECTION] == "enabled":
            if pod_value == "false":
                return Membership("none", f"pod {value_src} {INJECT}=false opts out of istio-injection=enabled",
                                  w.location)
            sidecar = Membership("sidecar", f"namespace {ns.name} has istio-injection=enabled", _ns_location(ns))
        else:
            reason = f"namespace {ns.name} has istio-injection={nsl[NS_INJECTION]}, which no pod label overrides"
            return Membership("none", reason, _ns_location(ns))
    elif REV in nsl:
        if pod_value == "false":
            return Membership("none", f"pod {value_src} {INJECT}=false opts out of istio.io/rev", w.location)
        sidecar = Membership("sidecar", f"namespace {ns.name} has istio.io/rev={nsl[REV]}", _ns_location(ns))
    else:
        if labels.get(INJECT) == "true":
            sidecar = Membership("sidecar", f"pod label {INJECT}=true", w.location)
        elif REV in labels and labels.get(INJECT) != "false":
            sidecar = Membership("sidecar", f"pod label istio.io/rev={labels[REV]}", w.location)
    if sidecar is not None:
        return sidecar
    # Ambient: pod label, or namespace label unless the pod says none.
    pod_dp = labels.get(DATAPLANE)
    ambient: Membership | None = None
    if pod_dp == "ambient":
        ambient = Membership("ambient", f"pod label {DATAPLANE}=ambient", w.location)
    elif nsl.get(DATAPLANE) == "ambient" and pod_dp != "none":
        ambient = Membership("ambient", f"namespace {ns.name} has {DATAPLANE}=ambient", _ns_location(ns))
    if ambient is not None:
        wp = labels.get(USE_WAYPOINT) or nsl.get(USE_WAYPOINT)
        if wp == "none" or labels.get(USE_WAYPOINT) == "none":
            wp = None
        return Membership("ambient", ambient.reason, ambient.location, wp)
    if nsl.get(DATAPLANE) == "ambient" and pod_dp == "none":
        return Membership("none", f"pod label {DATAPLANE}=none opts out of ambient", w.location)
    if INJECT in annotations and labels.get(INJECT) is None and annotations[INJECT] == "true":
        return Membership("none", f"the annotation {INJECT}=true does nothing in a namespace without "
                          "istio-injection or istio.io/rev (the webhook's objectSelector reads labels)", w.location)
    return Membership("none", f"namespace {ns.name} has no istio-injection, istio.io/rev or ambient label",
                      _ns_location(ns))


def namespace_meshed(ns: Namespace) -> bool:
    """Does the namespace opt its pods into Istio (sidecar or ambient)?"""
    nsl = ns.labels
    if NS_INJECTION in nsl:
        return nsl[NS_INJECTION] == "enabled"
    return REV in nsl or nsl.get(DATAPLANE) == "ambient"


def cluster_uses_istio_labels(cluster: Cluster) -> bool:
    for ns in cluster.namespaces.values():
        if NS_INJECTION in ns.labels or REV in ns.labels or DATAPLANE in ns.labels:
            return True
    return any(INJECT in w.labels or REV in w.labels or DATAPLANE in w.labels or STATUS in pod_annotations(w)
               or any(c.get("name") == "istio-proxy" for c in containers(w)) for w in cluster.workloads)
