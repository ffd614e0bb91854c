"""A hardened ``sshd_config`` for the bastion: user certificates only, jump forwarding only, logged.

Certificates signed by the users CA replace authorized_keys files (``AuthorizedKeysFile none``),
so revoking a person is revoking a certificate, not editing hosts. The bastion only relays
(``ProxyJump``): forwarding is local-only and limited to the ``allow_forward_to`` targets, there is
no shell-less escape through agents, X11 or tunnels, and ``LogLevel VERBOSE`` records the key
(certificate) id of every login.
"""

from __future__ import annotations

from ringwall.generate.base import Context, GeneratedFile, port_ranges, register

CA_PATH = "/etc/ssh/ringwall_users_ca.pub"


def render(ctx: Context) -> str:
    b = ctx.spec.bastion
    assert b is not None
    wg = ctx.spec.wireguard
    opens = []
    for t in b.allow_forward_to:
        for proto, lo, hi in port_ranges(t.conn):
            if proto != "TCP":
                continue
            if t.cidr.num_addresses > 64 or lo != hi:
                ctx.notes.append(f"access: {t.name} is wider than 64 addresses or a port range: "
                                 "PermitOpen any (the bastion's own connections are not firewalled)")
                opens = ["any"]
                break
            opens += [f"{'[' + str(a) + ']' if t.cidr.version == 6 else a}:{lo}"
                      for a in (t.cidr.hosts() if t.cidr.num_addresses > 2 else t.cidr)]
        if opens == ["any"]:
            break
    lines = [
        f"# {ctx.header()}",
        "# Bastion sshd_config: certificate-only logins, jump forwarding only, every login logged.",
        "# Check with: sshd -t -f sshd_config",
        "",
        f"Port {b.port}",
    ]
    if wg is not None:
        lines.append(f"# Listen on every address: admins come from the management zone and through WireGuard "
                     f"({wg.network})")
    lines += [
        "AddressFamily any",
        "HostKey /etc/ssh/ssh_host_ed25519_key",
        "",
        "# Who: users with a certificate from the users CA; no passwords, no keys on the host",
        f"TrustedUserCAKeys {CA_PATH}",
        "AuthorizedKeysFile none",
        "AuthenticationMethods publickey",
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "HostbasedAuthentication no",
        "PermitEmptyPasswords no",
        "PermitRootLogin no",
        "MaxAuthTries 3",
        "LoginGraceTime 20",
        "MaxStartups 10:30:60",
    ]
    if b.allow_users:
        lines.append("AllowUsers " + " ".join(b.allow_users))
    lines += [
        "",
        "# Algorithms: modern only",
        "KexAlgorithms sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org",
        "Ciphers chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-gcm@openssh.com",
        "MACs hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com",
        "HostKeyAlgorithms ssh-ed25519,ssh-ed25519-cert-v01@openssh.com",
        "PubkeyAcceptedAlgorithms ssh-ed25519-cert-v01@openssh.com,sk-ssh-ed25519-cert-v01@openssh.com",
        "CASignatureAlgorithms ssh-ed25519,sk-ssh-ed25519@openssh.com",
        "",
        "# What: relay only (ssh -J), to the targets of access.bastion.allow_forward_to",
        "AllowTcpForwarding local" if opens else "AllowTcpForwarding no",
        "PermitOpen " + (" ".join(opens) if opens else "none"),
        "AllowAgentForwarding no",
        "AllowStreamLocalForwarding no",
        "X11Forwarding no",
        "PermitTunnel no",
        "GatewayPorts no",
        "PermitUserEnvironment no",
        "PermitUserRC no",
        *([] if opens else ["DisableForwarding yes"]),
        "",
        "# Sessions and logging",
        "ClientAliveInterval 300",
        "ClientAliveCountMax 2",
        "SyslogFacility AUTH",
        "LogLevel VERBOSE",
        "PrintMotd no",
        "Banner none",
        "",
    ]
    return "\n".join(lines)


def ca_file(ctx: Context) -> str | None:
    b = ctx.spec.bastion
    return None if b is None or not b.users_ca else b.users_ca + "\n"


@register("sshd", "access", "hardened bastion sshd_config (access/sshd_config, access/ringwall_users_ca.pub)")
def generate(ctx: Context) -> list[GeneratedFile]:
    if ctx.spec.bastion is None:
        ctx.notes.append("access: no access.bastion in the intent: no sshd_config generated")
        return []
    out = [GeneratedFile("access/sshd_config", render(ctx))]
    ca = ca_file(ctx)
    if ca:
        out.append(GeneratedFile("access/ringwall_users_ca.pub", ca))
    else:
        ctx.notes.append(f"access: access.bastion.users_ca is empty: install the users CA as {CA_PATH}")
    return out
