"""The checks of the netpol layer: IDs, names, severities and remediations (see ``checks.py``)."""

from __future__ import annotations

from ringwall.model.findings import Check, Severity, register

_DOC = "https://kubernetes.io/docs/concepts/services-networking/network-policies/"


def _c(cid: str, name: str, sev: Severity, summary: str, remediation: str, *tags: str) -> Check:
    return register(Check(cid, name, sev, "netpol", summary, remediation, _DOC, ("netpol", *tags)))


NAMESPACE_WITHOUT_POLICY = _c(
    "RW-NP-001", "NamespaceWithoutNetworkPolicy", Severity.HIGH,
    "A namespace with workloads where no policy isolates any of them (no NetworkPolicy, no Calico or Cilium "
    "policy, no Admin/Baseline Deny): every pod in it accepts and sends anything.",
    "Add a default-deny NetworkPolicy (podSelector: {}, policyTypes: [Ingress, Egress]) and allow the "
    "flows the namespace needs.",
)
WORKLOAD_NOT_ISOLATED = _c(
    "RW-NP-002", "WorkloadNotIsolated", Severity.HIGH,
    "No policy isolates the workload in either direction (NetworkPolicy, Calico, Cilium default deny or an "
    "Admin/Baseline Deny).",
    "Select the workload with a NetworkPolicy for ingress and egress, for example a namespace default deny.",
)
ONE_DIRECTION_ONLY = _c(
    "RW-NP-003", "WorkloadIsolatedOneDirectionOnly", Severity.MEDIUM,
    "The workload is isolated for ingress or for egress, not both.",
    "Add the missing direction to policyTypes of a policy selecting the workload.",
)
POLICY_SELECTS_NOTHING = _c(
    "RW-NP-004", "PolicySelectsNothing", Severity.MEDIUM,
    "The policy's podSelector matches no workload, so the policy has no effect.",
    "Fix the podSelector labels (often a typo) or delete the policy.",
)
PEER_SELECTS_NOTHING = _c(
    "RW-NP-005", "PeerSelectsNothing", Severity.MEDIUM,
    "A peer selector matches no pod, so the rule admits nothing through it.",
    "Fix the peer's labels (often a typo) or remove the peer.",
)
INGRESS_FROM_ANYWHERE = _c(
    "RW-NP-006", "IngressFromAnywhere", Severity.HIGH,
    "An ingress rule admits every source (no from, or 0.0.0.0/0 or ::/0) on a workload that is not an "
    "external entrypoint.",
    "Name the sources that need access in the rule's from list.",
)
EGRESS_TO_ANYWHERE = _c(
    "RW-NP-007", "EgressToAnywhere", Severity.MEDIUM,
    "An egress rule allows every destination on every port (or 0.0.0.0/0, ::/0): egress isolation is void.",
    "Restrict the rule to the destinations and ports the workload needs.",
)
SPLIT_SELECTOR_TRAP = _c(
    "RW-NP-008", "SplitSelectorTrap", Severity.MEDIUM,
    "Namespace and pod selectors are separate peers (OR) where one peer with both (AND) was probably meant.",
    "Put namespaceSelector and podSelector in the same list item if both must match.",
)
RULES_IGNORED = _c(
    "RW-NP-009", "RulesIgnoredByPolicyTypes", Severity.MEDIUM,
    "Rules are present for a direction that policyTypes does not include, so they are ignored.",
    "Add the direction to policyTypes or delete the ignored rules.",
)
AMBIGUOUS_EGRESS = _c(
    "RW-NP-010", "AmbiguousEgressIntent", Severity.MEDIUM,
    "policyTypes is omitted and egress is empty: the API does not isolate egress, though it may look so.",
    "Write policyTypes explicitly ([Ingress, Egress] to deny all egress).",
)
UNRESOLVABLE_NAMED_PORT = _c(
    "RW-NP-011", "UnresolvableNamedPort", Severity.MEDIUM,
    "A named port resolves on no destination pod (name missing or protocol mismatch): the port entry "
    "matches nothing.",
    "Use a port name (and protocol) that the destination containers declare, or a number.",
)
NAMED_PORT_VARIES = _c(
    "RW-NP-012", "NamedPortVariesAcrossPods", Severity.INFO,
    "A named port resolves to different numbers on different destination pods.",
    "Check that opening each of these numbers is intended.",
)
MUTABLE_NAMESPACE_LABEL = _c(
    "RW-NP-013", "NamespaceSelectedByMutableLabel", Severity.LOW,
    "A namespaceSelector keys on labels other than kubernetes.io/metadata.name: whoever may label "
    "namespaces can join the peer set.",
    "Select namespaces by kubernetes.io/metadata.name, or restrict who may label namespaces.",
)
HOST_NETWORK_SUBJECT = _c(
    "RW-NP-015", "PolicyTargetsHostNetworkPods", Severity.MEDIUM,
    "The policy selects hostNetwork pods, which NetworkPolicy cannot protect on most CNIs.",
    "Protect host-network workloads with the host firewall.",
)
FEATURE_NEEDS_CNI = _c(
    "RW-NP-016", "FeatureNeedsCniSupport", Severity.INFO,
    "The policy uses endPort or SCTP; whether they are enforced depends on the CNI.",
    "Check that the CNI in use supports the feature.",
)
ALLOW_ALL_CANCELS_DENY = _c(
    "RW-NP-017", "AllowAllCancelsDefaultDeny", Severity.MEDIUM,
    "A namespace has a default deny and also a policy allowing everything to all its pods.",
    "Remove the allow-all policy or narrow it to the flows that are needed.",
)
REJECTED = _c(
    "RW-NP-020", "PolicyRejectedByApiServer", Severity.HIGH,
    "The object fails API validation, so it never takes effect.",
    "Fix the field the message names; the API server rejects the object as it is.",
)
DUPLICATE_NAME = _c(
    "RW-NP-028", "DuplicatePolicyName", Severity.LOW,
    "The same namespace/name appears twice in the input; only one can exist in a cluster.",
    "Rename or remove one of the definitions.",
)
POD_LABEL_ONLY = _c(
    "RW-NP-029", "CrossNamespaceAccessByPodLabelOnly", Severity.LOW,
    "namespaceSelector: {} with a podSelector admits any pod in any namespace that carries the label.",
    "Also restrict the namespaces (kubernetes.io/metadata.name) the pods may come from.",
)
ALL_NAMESPACES_PEER = _c(
    "RW-NP-030", "PeerAdmitsAllNamespaces", Severity.MEDIUM,
    "A peer with namespaceSelector: {} and no podSelector admits every pod of every namespace.",
    "Name the namespaces (kubernetes.io/metadata.name) and pods that need access.",
)
ADMIN_PRIORITY_TIE = _c(
    "RW-NP-021", "AdminPriorityTie", Severity.MEDIUM,
    "Two cluster-wide policies of one tier share a priority and select the same pods: which applies first is "
    "undefined.",
    "Give each AdminNetworkPolicy (or ClusterNetworkPolicy of a tier) a distinct priority.", "anp",
)
PASS_TO_DEFAULT_ALLOW = _c(
    "RW-NP-023", "PassFallsToDefaultAllow", Severity.MEDIUM,
    "An Admin Pass rule delegates traffic for pods that no NetworkPolicy selects and no Baseline policy covers: "
    "it ends at the default allow.",
    "Add a NetworkPolicy or a Baseline rule for the passed traffic, or use Deny.", "anp",
)
INVALID_BASELINE = _c(
    "RW-NP-025", "InvalidBaselinePolicy", Severity.HIGH,
    "A BaselineAdminNetworkPolicy not named default, or more than one: the API rejects it.",
    "Keep a single BaselineAdminNetworkPolicy named default.", "anp",
)
DOMAIN_NAMES_OUTSIDE_ALLOW = _c(
    "RW-NP-026", "DomainNamesOutsideAllow", Severity.MEDIUM,
    "domainNames peers in a Deny or Pass rule: the API supports them only in Allow/Accept rules.",
    "Deny by networks (CIDRs) instead, or move the names to an Allow rule.", "anp",
)
ADMIN_API_MIX = _c(
    "RW-NP-027", "AdminApiVersionMismatch", Severity.LOW,
    "AdminNetworkPolicy/BaselineAdminNetworkPolicy (v1alpha1) and ClusterNetworkPolicy objects are mixed: "
    "a cluster serves one of them.",
    "Migrate every cluster-wide policy to the API version the cluster serves.", "anp",
)
GLOBAL_ALLOW_ALL = register(Check(
    "RW-ANP-002", "AdminAllowAll", Severity.HIGH, "netpol",
    "An Admin-tier rule allows all traffic from (or to) every namespace on every port for every namespace: "
    "every NetworkPolicy below it is void.",
    "Narrow the rule's peers or ports, or use Pass to let namespace policies decide.",
    _DOC, ("netpol", "anp"),
))
EGRESS_WITHOUT_DNS = register(Check(
    "RW-DEPTH-002", "EgressRestrictedWithoutDns", Severity.HIGH, "depth",
    "Egress is restricted but no path to cluster DNS (UDP and TCP 53 to the kube-dns pods) is allowed.",
    "Allow egress to the kube-dns pods (namespaceSelector kubernetes.io/metadata.name=kube-system AND "
    "podSelector k8s-app=kube-dns in one peer) on UDP and TCP 53.",
    _DOC, ("depth", "dns", "netpol"),
))
CNI_NOT_ENFORCING = register(Check(
    "RW-DEPTH-003", "CniDoesNotEnforcePolicy", Severity.CRITICAL, "depth",
    "The CNI does not implement NetworkPolicy: every NetworkPolicy is void.",
    "Run a CNI that enforces NetworkPolicy (Calico, Cilium, ...), or add Calico's policy engine to Flannel "
    "(Canal).",
    _DOC, ("depth", "netpol", "cni"),
))
DNS_ALLOWANCE_UDP_ONLY = register(Check(
    "RW-DNS-009", "DnsAllowanceMalformed", Severity.HIGH, "dns",
    "A DNS egress allowance admits only UDP (or only TCP) 53: large answers and retries over TCP fail.",
    "Allow both UDP and TCP port 53 to the kube-dns pods.",
    "https://kubernetes.io/docs/tasks/administer-cluster/dns-debugging-resolution/", ("dns", "netpol"),
))
