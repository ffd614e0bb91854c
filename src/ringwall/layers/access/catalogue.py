"""The access layer's checks (RW-WG, RW-SSH, RW-K8S): IDs, names, severities, remediations.

IDs and conditions come from ``checks-catalogue.md`` §7-9; the code that raises each one is in
``wireguard_checks.py``, ``sshd_checks.py`` and ``kube_exposure.py``.
"""

from __future__ import annotations

from ringwall.model.findings import Check, Severity, register

_WG = "https://man7.org/linux/man-pages/man8/wg.8.html"
_SSH = "https://man.openbsd.org/sshd_config"
_K8S = "https://kubernetes.io/docs/reference/command-line-tools-reference/kubelet/"
C, H, M, L, INFO = Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO


def _c(cid: str, name: str, sev: Severity, summary: str, remediation: str, uri: str, tag: str) -> Check:
    return register(Check(cid, name, sev, "access", summary, remediation, uri, ("access", tag)))


# WireGuard (wg(8), wg-quick(8), allowedips.c)
WG_PRIVATE_KEY_EXPOSED = _c("RW-WG-001", "PrivateKeyExposed", C,
    "A WireGuard private key is readable by other users or shared between hosts.",
    "chmod 0600 the file (or load the key with PostUp wg set ... private-key from a root-only file) and give "
    "each host its own key.", _WG, "wireguard")
WG_SERVER_PEER_ANY = _c("RW-WG-002", "ServerPeerAllowsAnySource", H,
    "A server-side peer has AllowedIPs 0.0.0.0/0 or ::/0: it may send packets with any source address.",
    "Give each peer on a server only its own tunnel address (/32 or /128) or the networks behind it.", _WG,
    "wireguard")
WG_DUPLICATE_PREFIX = _c("RW-WG-003", "DuplicateAllowedIpsPrefix", H,
    "Two peers list the identical AllowedIPs prefix: the last one wins and the earlier peer silently loses it.",
    "List each prefix on exactly one peer.", _WG, "wireguard")
WG_OVERLAP = _c("RW-WG-004", "OverlappingAllowedIps", M,
    "Peers' AllowedIPs overlap with different prefix lengths: the more specific prefix takes that part.",
    "Make the peers' AllowedIPs disjoint, or document why one peer carves a range out of another.", _WG,
    "wireguard")
WG_BROAD_HUB_PEER = _c("RW-WG-005", "BroadPeerRangeOnHub", M,
    "A road-warrior peer on a hub has AllowedIPs wider than one address.",
    "Restrict road-warrior peers to their /32 (/128) tunnel address.", _WG, "wireguard")
WG_FULL_TUNNEL_LEAK = _c("RW-WG-006", "FullTunnelLeaks", M,
    "A client full tunnel routes 0.0.0.0/0 but not ::/0 (IPv6 leaks) or sets no DNS (DNS leaks).",
    "Add ::/0 to AllowedIPs and a DNS = line for the tunnel's resolver.", _WG, "wireguard")
WG_NO_PSK = _c("RW-WG-007", "NoPresharedKey", L,
    "A peer has no PresharedKey, so the tunnel lacks the post-quantum symmetric layer.",
    "Add a per-peer PresharedKey (wg genpsk) on both sides.", _WG, "wireguard")
WG_KEEPALIVE = _c("RW-WG-008", "KeepaliveMisconfigured", L,
    "PersistentKeepalive is below 10 seconds, which only adds traffic.",
    "Use PersistentKeepalive = 25 on peers behind NAT and leave it off elsewhere.", _WG, "wireguard")
WG_HOOKS = _c("RW-WG-009", "HookScriptsOrNoForwardFilter", M,
    "PreUp/PostUp/PreDown/PostDown run shell commands as root; they need review like any root script.",
    "Keep hooks minimal and reviewed, and restrict forwarding on the WireGuard interface in the host firewall.",
    _WG, "wireguard")
WG_SAVE_CONFIG = _c("RW-WG-010", "SaveConfigEnabled", M,
    "SaveConfig = true writes the running state over the reviewed file on wg-quick down.",
    "Remove SaveConfig (or set it to false) and change the file through review.", _WG, "wireguard")
WG_KEY_INVALID = _c("RW-WG-011", "KeyMaterialInvalid", L,
    "A key is not 44-character base64 of 32 bytes, or a public key is duplicated or equals the own key.",
    "Regenerate keys with wg genkey / wg pubkey and give every peer a distinct key.", _WG, "wireguard")
WG_LISTEN_OPEN = _c("RW-WG-012", "ListenPortUnrestricted", M,
    "The WireGuard ListenPort is open to any source in the host firewall although the peers have fixed addresses.",
    "Accept the ListenPort only from the peers' endpoint addresses.", _WG, "wireguard")

# sshd (sshd_config(5), CIS Ubuntu 24.04 §5.1)
SSH_PASSWORD = _c("RW-SSH-001", "PasswordLoginEnabled", C,
    "Password (or keyboard-interactive) login is enabled without a second factor.",
    "Set PasswordAuthentication no and KbdInteractiveAuthentication no, or require publickey first in "
    "AuthenticationMethods.", _SSH, "sshd")
SSH_ROOT = _c("RW-SSH-002", "RootLoginPermitted", H,
    "PermitRootLogin is not no (the default prohibit-password still admits root with a key).",
    "Set PermitRootLogin no and use sudo from named accounts.", _SSH, "sshd")
SSH_NO_CERT = _c("RW-SSH-003", "NoCertificateAuthOnBastion", M,
    "A bastion accepts raw authorized_keys or has no TrustedUserCAKeys: keys never expire and cannot be audited "
    "centrally.",
    "Set TrustedUserCAKeys and AuthorizedPrincipalsFile, and AuthorizedKeysFile none.", _SSH, "sshd")
SSH_AUTH_ANY = _c("RW-SSH-004", "AuthenticationMethodsUnrestricted", M,
    "AuthenticationMethods any lets a single method of any kind log in.",
    "Set AuthenticationMethods publickey (or publickey,keyboard-interactive for a second factor).", _SSH, "sshd")
SSH_LOGLEVEL = _c("RW-SSH-005", "LogLevelInsufficient", M,
    "LogLevel is below INFO (or below VERBOSE on a bastion, where key fingerprints must be logged), or DEBUG.",
    "Set LogLevel VERBOSE.", _SSH, "sshd")
SSH_IDLE = _c("RW-SSH-006", "IdleTimeoutMissing", M,
    "Idle sessions are never disconnected (ClientAliveInterval 0 or above 900, or ClientAliveCountMax 0).",
    "Set ClientAliveInterval 300 and ClientAliveCountMax 3.", _SSH, "sshd")
SSH_BASTION_FWD = _c("RW-SSH-007", "BastionForwardingUnrestricted", M,
    "A bastion allows forwarding beyond ProxyJump to listed targets (TCP forwarding without PermitOpen, agent, "
    "X11, gateway ports or tunnels).",
    "Use AllowTcpForwarding local with PermitOpen host:port lists, and set AllowAgentForwarding, X11Forwarding, "
    "GatewayPorts and PermitTunnel to no.", _SSH, "sshd")
SSH_FWD_NON_BASTION = _c("RW-SSH-008", "ForwardingOnNonBastion", INFO,
    "A host that is not a bastion allows forwarding (DisableForwarding is not yes).",
    "Set DisableForwarding yes.", _SSH, "sshd")
SSH_BRUTE = _c("RW-SSH-009", "BruteForceLimitsLax", M,
    "Brute-force limits are laxer than CIS (MaxAuthTries > 4, LoginGraceTime > 60, MaxStartups laxer than "
    "10:30:60, MaxSessions > 10).",
    "Set MaxAuthTries 4, LoginGraceTime 60, MaxStartups 10:30:60 and MaxSessions 10.", _SSH, "sshd")
SSH_NO_ALLOW = _c("RW-SSH-010", "NoUserAllowList", M,
    "No AllowUsers, AllowGroups, DenyUsers or DenyGroups: every account with a credential may log in.",
    "Add AllowGroups (or AllowUsers) naming who may log in.", _SSH, "sshd")
SSH_WEAK_ALGO = _c("RW-SSH-011", "WeakAlgorithmsOffered", H,
    "A configured key exchange, host key, cipher or MAC is one ssh-audit marks as a failure.",
    "Remove the algorithm; start from ssh-audit's hardening guide for your OpenSSH version.", _SSH, "sshd")
SSH_PERMS = _c("RW-SSH-012", "ConfigOrKeyPermissions", H,
    "sshd_config is not 0600 (readable or writable by others).",
    "chown root:root and chmod 0600 the file.", _SSH, "sshd")
SSH_SHADOWED = _c("RW-SSH-013", "ShadowedDirective", M,
    "A directive is overridden by an earlier value (sshd uses the first value it reads).",
    "Delete the later line, or move the intended value before the earlier one (drop-ins are read first).",
    _SSH, "sshd")
SSH_IN_CONTAINER = _c("RW-SSH-014", "SshServerInContainer", H,
    "A container exposes port 22: an SSH server inside a pod bypasses the cluster's access path.",
    "Remove sshd from the image and use kubectl exec through the API server (audited) instead.", _SSH, "sshd")
SSH_EMPTY_PW = _c("RW-SSH-015", "EmptyPasswordsPermitted", C,
    "PermitEmptyPasswords yes lets accounts without a password log in.",
    "Set PermitEmptyPasswords no.", _SSH, "sshd")
SSH_LEGACY_TRUST = _c("RW-SSH-016", "LegacyHostTrust", M,
    "Host-based trust is enabled (HostbasedAuthentication yes, IgnoreRhosts no or GSSAPIAuthentication yes).",
    "Set HostbasedAuthentication no, IgnoreRhosts yes and GSSAPIAuthentication no.", _SSH, "sshd")
SSH_USER_ENV = _c("RW-SSH-017", "UserEnvironmentPermitted", M,
    "PermitUserEnvironment lets users set variables such as LD_PRELOAD for their session.",
    "Set PermitUserEnvironment no.", _SSH, "sshd")
SSH_NO_BANNER = _c("RW-SSH-018", "NoBanner", L,
    "No Banner is shown before authentication.",
    "Set Banner /etc/issue.net with the site's warning text.", _SSH, "sshd")
SSH_NO_PAM = _c("RW-SSH-019", "PamDisabled", INFO,
    "UsePAM no: account and session policies of PAM (lockout, limits, session logging) are skipped.",
    "Set UsePAM yes.", _SSH, "sshd")
SSH_PENALTIES_OFF = _c("RW-SSH-021", "PerSourcePenaltiesDisabled", L,
    "PerSourcePenalties no turns off sshd's automatic blocking of abusive sources.",
    "Remove PerSourcePenalties no.", _SSH, "sshd")
SSH_FORCECOMMAND = _c("RW-SSH-022", "ForceCommandAssumedToBlockForwarding", M,
    "A Match block relies on ForceCommand, which does not stop port forwarding.",
    "Add AllowTcpForwarding local with PermitOpen, or DisableForwarding yes, to the same Match block.", _SSH, "sshd")

# Kubernetes control plane and nodes (§7)
K8S_API_PUBLIC = _c("RW-K8S-001", "ApiServerPubliclyReachable", H,
    "The API server (6443) is reachable from outside admin networks.",
    "Put the API server on a private endpoint and reach it through the VPN or bastion only.", _K8S, "kubernetes")
K8S_API_ANON = _c("RW-K8S-002", "ApiServerAnonymousAuth", H,
    "kube-apiserver --anonymous-auth is not false.", "Set --anonymous-auth=false.", _K8S, "kubernetes")
K8S_API_INSECURE = _c("RW-K8S-003", "ApiServerInsecurePort", C,
    "kube-apiserver serves an insecure port or binds it insecurely.",
    "Remove --insecure-port/--insecure-bind-address.", _K8S, "kubernetes")
K8S_API_AUTHZ = _c("RW-K8S-004", "ApiServerAuthorizationWeak", C,
    "kube-apiserver --authorization-mode includes AlwaysAllow or lacks Node and RBAC.",
    "Set --authorization-mode=Node,RBAC.", _K8S, "kubernetes")
K8S_API_TOKEN_FILE = _c("RW-K8S-005", "ApiServerTokenAuthFile", M,
    "kube-apiserver --token-auth-file holds static, never-expiring bearer tokens.",
    "Remove --token-auth-file and use OIDC or client certificates.", _K8S, "kubernetes")
K8S_KUBELET_ANON = _c("RW-K8S-007", "KubeletAnonymousAuth", H,
    "Kubelet anonymous authentication is enabled.",
    "Set authentication.anonymous.enabled: false (or --anonymous-auth=false).", _K8S, "kubernetes")
K8S_KUBELET_AUTHZ = _c("RW-K8S-008", "KubeletAuthorizationAlwaysAllow", H,
    "Kubelet authorization is AlwaysAllow: any authenticated (or anonymous) caller may run commands in pods.",
    "Set authorization.mode: Webhook.", _K8S, "kubernetes")
K8S_KUBELET_NO_CA = _c("RW-K8S-009", "KubeletNoClientCa", M,
    "The kubelet has no client CA, so it cannot authenticate the API server's client certificate.",
    "Set authentication.x509.clientCAFile.", _K8S, "kubernetes")
K8S_KUBELET_RO = _c("RW-K8S-010", "KubeletReadOnlyPort", H,
    "The kubelet read-only port (10255) serves pod and node data without authentication.",
    "Set readOnlyPort: 0.", _K8S, "kubernetes")
K8S_KUBELET_EXPOSED = _c("RW-K8S-011", "KubeletPortExposed", H,
    "The kubelet API (10250) is reachable from outside the cluster networks.",
    "Accept 10250 only from the control plane and monitoring in the host firewall.", _K8S, "kubernetes")
K8S_ETCD_EXPOSED = _c("RW-K8S-012", "EtcdExposed", C,
    "etcd (2379-2380) is reachable from more than the control-plane nodes.",
    "Accept 2379-2380 only from control-plane node addresses.", _K8S, "kubernetes")
