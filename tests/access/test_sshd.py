"""sshd_config reading and RW-SSH checks, table-driven against sshd_config(5) and ``sshd -t``/``-T``.

Every configuration in ``VALIDITY`` and ``FINDINGS`` is also given to the real ``sshd -t -f``
(Debian openssh-server) when it is installed: Ringwall and sshd must agree on which ones sshd
would refuse. ``sshd -t`` needs host keys (temporary ones are generated) and the privilege
separation directory ``/run/sshd``; when it is missing, sshd runs in a private mount namespace
with a tmpfs over ``/run`` so nothing on the host changes. Without sshd the comparison is skipped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from ringwall.layers.access.sshd import read_sshd_config
from ringwall.layers.access.sshd_checks import check_sshd, seconds
from ringwall.model.diagnostics import DiagnosticSink
from tests.conftest import REPO_ROOT

SSHD = Path("/usr/sbin/sshd")
SHOP_SSHD = REPO_ROOT / "examples" / "shop" / "access" / "sshd_config"

# (name, text, valid per sshd -t, rule)
VALIDITY = [
    ("minimal", "PasswordAuthentication no\n", True, "sshd_config(5) yes/no flag"),
    ("unknown keyword", "PasswordAuthentication no\nFooBar yes\n", False, "servconf.c: Bad configuration option"),
    ("bad enum", "PermitRootLogin maybe\n", False, "sshd_config(5) PermitRootLogin values"),
    ("keyword not allowed in Match", "Match User bob\n  Port 2222\n", False,
     "sshd_config(5) Match: only a subset of keywords"),
    ("bad Match attribute", "Match Foo bar\n  X11Forwarding no\n", False, "sshd_config(5) Match criteria"),
    ("Match without criteria", "Match\n  X11Forwarding no\n", False, "servconf.c: no argument after keyword"),
    ("missing argument", "PasswordAuthentication\n", False, "servconf.c: no argument after keyword"),
    ("Include matching nothing", "Include /nonexistent/*.conf\nPasswordAuthentication no\n", True,
     "sshd_config(5) Include: globs may match nothing"),
    ("integer", "MaxAuthTries abc\n", False, "servconf.c: integer value invalid"),
    ("log level", "LogLevel LOUD\n", False, "sshd_config(5) LogLevel values"),
    ("extra argument", "PasswordAuthentication no extra\n", False, "servconf.c: extra arguments at end of line"),
    ("unknown auth method", "AuthenticationMethods publickey,foo\n", False,
     "sshd_config(5) AuthenticationMethods method names"),
    ("unknown cipher", "Ciphers aes128-ctr,nosuchcipher\n", False, "ssh -Q cipher"),
    ("deprecated keyword", "Protocol 2\n", True, "servconf.c: deprecated options are ignored"),
    ("alias", "ChallengeResponseAuthentication no\n", True,
     "sshd_config(5): ChallengeResponseAuthentication is an alias"),
    ("jump host PermitOpen", "AllowTcpForwarding local\nPermitOpen 10.0.0.1:22 bastion:*\n", True,
     "sshd_config(5) PermitOpen"),
    ("bad value inside Match", "Match User alice Address 10.0.0.0/8\n  AllowTcpForwarding maybe\n", False,
     "sshd_config(5) AllowTcpForwarding values"),
    ("equals sign", "passwordauthentication = no\n", True, "sshd_config(5): keyword=value"),
    ("quoted value", 'PasswordAuthentication "no"\n', True, "sshd_config(5): arguments may be quoted"),
    ("time units", "ClientAliveInterval 5m\nLoginGraceTime 1m\n", True, "sshd_config(5) TIME FORMATS"),
    ("MaxStartups two fields", "MaxStartups 10:30\n", False, "sshd_config(5) MaxStartups start:rate:full"),
    ("Match All", "Match All\n  PasswordAuthentication no\nMatch User x\n  Banner none\n", True,
     "sshd_config(5) Match All"),
    ("any after methods are set", "AuthenticationMethods publickey\nMatch User x\n  AuthenticationMethods any\n",
     False, 'servconf.c: "any" must appear alone (also after an earlier AuthenticationMethods)'),
    ("Subsystem without command", "Subsystem sftp\n", False, "servconf.c: Missing subsystem command"),
    ("Subsystem defined twice", "Subsystem sftp internal-sftp\nSubsystem sftp /usr/lib/sftp\n", False,
     "servconf.c: Subsystem already defined"),
    ("PermitOpen without port", "PermitOpen 10.0.0.1\n", False, "sshd_config(5) PermitOpen host:port"),
    ("PermitOpen any mixed", "PermitOpen 10.0.0.1:22 any\n", False, "servconf.c: any/none only alone"),
    ("PermitOpen wildcards", "PermitOpen *:22 host:* [::1]:22\n", True, "sshd_config(5) PermitOpen wildcards"),
    ("negative integer", "MaxAuthTries -1\n", False, "servconf.c: integer value too small"),
    ("unknown host key type", "HostKeyAlgorithms ssh-bogus\n", False, "ssh -Q key-sig"),
    ("CA signature types", "CASignatureAlgorithms ssh-foo\n", False, "ssh -Q key-sig"),
    ("key type patterns", "HostKeyAlgorithms ssh-ed25519*\nPubkeyAcceptedAlgorithms +ssh-rsa\n", True,
     "sshd_config(5): patterns and +/-/^ prefixes"),
    ("Match CIDR out of range", "Match Address 10.0.0.0/33\n  X11Forwarding no\n", False, "addrmatch.c"),
    ("Match CIDR with host bits", "Match LocalAddress 10.0.0.1/8\n  X11Forwarding no\n", False, "addrmatch.c"),
    ("Match address patterns", "Match Address 10.0.0.0/8,!10.1.0.0/16,*.example.com\n  X11Forwarding no\n", True,
     "sshd_config(5) PATTERNS"),
    ("Match LocalPort not a number", "Match LocalPort abc\n  X11Forwarding no\n", False,
     "servconf.c: Invalid LocalPort"),
    ("MaxStartups extra field", "MaxStartups 10:30:60:5\n", True, "servconf.c: sscanf reads three fields"),
    ("MaxStartups start above full", "MaxStartups 70:30:60\n", False, "servconf.c: Invalid MaxStartups spec"),
    ("case-insensitive values", "PermitRootLogin No\nX11Forwarding YES\nLogLevel verbose\n", True,
     "servconf.c: strcasecmp on values"),
    ("Debian and GSSAPI keywords", "DebianBanner no\nGSSAPIKeyExchange yes\nUseDNS no\n", True,
     "Debian openssh-server patches"),
    ("port out of range", "Port 70000\n", False, "servconf.c: Badly formatted port number"),
    ("trailing comment", "X11Forwarding yes # comment\n", True, "sshd_config(5): # comments"),
    ("unterminated quote", 'Banner "/etc/issue\n', False, "misc.c argv_split: unterminated quote"),
]

HARDENED = SHOP_SSHD.read_text().replace("Include sshd_config.d/*.conf\n", "")

# (name, text, bastion, expected [(id, message)], rule). Texts are complete configurations.
FINDINGS = [
    ("hardened bastion (the shop's)", HARDENED, True, [], "mesh-edge-access §6.2 hardened values"),
    ("defaults only", "Subsystem sftp internal-sftp\n", False, [
        ("RW-SSH-001", "PasswordAuthentication yes (the default) allows login without a second factor"),
        ("RW-SSH-001", "KbdInteractiveAuthentication yes (the default) allows login without a second factor"),
        ("RW-SSH-002", "PermitRootLogin prohibit-password"),
        ("RW-SSH-006", "ClientAliveInterval 0"),
        ("RW-SSH-008", "DisableForwarding is not yes on a host that is not a bastion"),
        ("RW-SSH-009", "LoginGraceTime 120 > 60"),
        ("RW-SSH-009", "MaxAuthTries 6 > 4"),
        ("RW-SSH-009", "MaxStartups 10:30:100 laxer than 10:30:60"),
        ("RW-SSH-010", "no AllowUsers, AllowGroups, DenyUsers or DenyGroups"),
        ("RW-SSH-018", "no Banner"),
    ], "sshd_config(5) defaults; CIS Ubuntu 24.04 5.1.4-5.1.20"),
    ("password with a second factor is not RW-SSH-001",
     HARDENED.replace("PasswordAuthentication no", "PasswordAuthentication yes").replace(
         "AuthenticationMethods publickey", "AuthenticationMethods publickey,password"), True, [],
     "sshd_config(5) AuthenticationMethods: every method of a list is required"),
    ("Match block loosens password login",
     HARDENED + "Match Address 10.44.0.0/24\n  PasswordAuthentication yes\n  AuthenticationMethods password\n",
     True, [
         ("RW-SSH-001", "PasswordAuthentication yes (set) in Match address 10.44.0.0/24 allows login without a "
                        "second factor"),
     ], "sshd_config(5) Match overrides the global section"),
    ("first value wins",
     "PermitRootLogin no\nPermitRootLogin yes\n" + HARDENED.replace("PermitRootLogin no\n", ""), True, [
         ("RW-SSH-013", "PermitRootLogin yes at {cfg}:2 is ignored: PermitRootLogin no at {cfg}:1 is read first "
                        "and wins"),
     ], "sshd_config(5): the first obtained value is used"),
    ("explicit AuthenticationMethods any", "AuthenticationMethods any\n" + HARDENED.replace(
        "AuthenticationMethods publickey\n", ""), True, [("RW-SSH-004", "AuthenticationMethods any")],
     "sshd_config(5) AuthenticationMethods"),
    ("bastion with raw keys and open forwarding",
     HARDENED.replace("AuthorizedKeysFile none", "AuthorizedKeysFile .ssh/authorized_keys").replace(
         "AllowTcpForwarding local", "AllowTcpForwarding yes").replace("AllowAgentForwarding no",
                                                                      "AllowAgentForwarding yes").replace(
         "LogLevel VERBOSE", "LogLevel INFO"), True, [
         ("RW-SSH-003", "bastion still accepts raw keys from AuthorizedKeysFile .ssh/authorized_keys"),
         ("RW-SSH-005", "LogLevel INFO: a bastion needs VERBOSE to log key fingerprints"),
         ("RW-SSH-007", "AllowTcpForwarding yes allows remote forwarding"),
         ("RW-SSH-007", "allowagentforwarding yes"),
     ], "mesh-edge-access §6.2 bastion rows"),
    ("ForceCommand does not stop forwarding",
     HARDENED.replace("PermitTTY no\nForceCommand /usr/sbin/nologin\n", "").replace(
         "AllowTcpForwarding local\n", "").replace(
         "PermitOpen 10.20.0.10:22 10.20.0.11:22 10.20.0.12:22 10.20.0.10:6443\n", "") +
     "Match Group jump\n  ForceCommand /usr/sbin/nologin\n", False, [
         ("RW-SSH-022", "Match group jump relies on ForceCommand /usr/sbin/nologin but allows forwarding"),
         ("RW-SSH-008", "DisableForwarding is not yes on a host that is not a bastion"),
     ], "sshd_config(5) ForceCommand; mesh-edge-access §6.2"),
    ("legacy trust, empty passwords, weak algorithms",
     "PermitEmptyPasswords yes\nHostbasedAuthentication yes\nIgnoreRhosts no\nKexAlgorithms "
     "diffie-hellman-group1-sha1,curve25519-sha256\nMACs hmac-sha1\nPermitUserEnvironment yes\nUsePAM no\n"
     + HARDENED, True, [
         ("RW-SSH-011", "KexAlgorithms offers diffie-hellman-group1-sha1"),
         ("RW-SSH-011", "MACs offers hmac-sha1"),
         ("RW-SSH-013", "PermitEmptyPasswords no at {cfg}:20 is ignored: PermitEmptyPasswords yes at {cfg}:1 is read "
                        "first and wins"),
         ("RW-SSH-013", "HostbasedAuthentication no at {cfg}:25 is ignored: HostbasedAuthentication yes at {cfg}:2 "
                        "is read first and wins"),
         ("RW-SSH-013", "IgnoreRhosts yes at {cfg}:26 is ignored: IgnoreRhosts no at {cfg}:3 is read first and wins"),
         ("RW-SSH-013", "PermitUserEnvironment no at {cfg}:28 is ignored: PermitUserEnvironment yes at {cfg}:6 is "
                        "read first and wins"),
         ("RW-SSH-013", "UsePAM yes at {cfg}:29 is ignored: UsePAM no at {cfg}:7 is read first and wins"),
         ("RW-SSH-015", "PermitEmptyPasswords yes"),
         ("RW-SSH-016", "HostbasedAuthentication yes"),
         ("RW-SSH-016", "IgnoreRhosts no"),
         ("RW-SSH-017", "PermitUserEnvironment yes"),
         ("RW-SSH-019", "UsePAM no"),
     ], "CIS Ubuntu 24.04 5.1.9-5.1.22; ssh-audit fail notes"),
]


def _read(path: Path, text: str, **kw: object) -> tuple[object, DiagnosticSink]:
    path.write_text(text)
    sink = DiagnosticSink()
    return read_sshd_config(path, sink, **kw), sink  # type: ignore[arg-type]


def _sshd_cmd() -> list[str] | None:
    """How to run sshd here (directly, or in a private mount namespace for /run/sshd), or None."""
    if not SSHD.exists():
        return None
    if Path("/run/sshd").is_dir():
        return []
    if os.geteuid() == 0 and shutil.which("unshare"):
        probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs tmpfs /run && mkdir /run/sshd"],
                               capture_output=True)
        if probe.returncode == 0:
            return ["unshare", "-m", "sh", "-c", 'mount -t tmpfs tmpfs /run && mkdir /run/sshd && exec "$@"', "sh"]
    return None


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    prefix = _sshd_cmd()
    if prefix is None:
        pytest.skip("/usr/sbin/sshd missing or /run/sshd unavailable")
    keydir = tmp_path_factory.mktemp("hostkeys")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(keydir / "hk")], check=True)
    version_out = subprocess.run([str(SSHD), "-V"], capture_output=True, text=True).stderr
    ver = tuple(int(x) for x in version_out.split("_", 1)[1].split(",")[0].split("p")[0].split(".")[:2])

    def run(cfg: Path, flag: str = "-t") -> subprocess.CompletedProcess[str]:
        return subprocess.run([*prefix, str(SSHD), flag, "-f", str(cfg), "-h", str(keydir / "hk")],
                              capture_output=True, text=True)

    run.version = ver  # type: ignore[attr-defined]
    return run


@pytest.mark.parametrize(("name", "text", "valid", "rule"), VALIDITY, ids=[v[0] for v in VALIDITY])
def test_validity(tmp_path: Path, name: str, text: str, valid: bool, rule: str) -> None:
    cfg, sink = _read(tmp_path / "sshd_config", text, version=(9, 2))
    assert cfg.valid is valid, (rule, [str(d) for d in sink.items])  # type: ignore[attr-defined]
    if not valid:  # one diagnostic per bad line, with file:line
        errors = sink.errors
        assert len(errors) == 1 and errors[0].location.line is not None


@pytest.mark.parametrize(("name", "text", "valid", "rule"), VALIDITY, ids=[v[0] for v in VALIDITY])
def test_sshd_t_agrees_on_validity(sshd, tmp_path: Path, name: str, text: str, valid: bool, rule: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "sshd_config"
    cfg, _ = _read(path, text, version=sshd.version)
    proc = sshd(path)
    assert (proc.returncode == 0) is cfg.valid, (rule, proc.stderr)  # type: ignore[attr-defined]


@pytest.mark.parametrize(("name", "text", "bastion", "expected", "rule"), FINDINGS, ids=[f[0] for f in FINDINGS])
def test_findings(tmp_path: Path, name: str, text: str, bastion: bool, expected: list[tuple[str, str]],
                  rule: str) -> None:
    path = tmp_path / "sshd_config"
    cfg, sink = _read(path, text)
    assert not sink.errors, [str(d) for d in sink.errors]
    got = sorted((f.check.id, f.message) for f in check_sshd(cfg, bastion=bastion))  # type: ignore[arg-type]
    assert got == sorted((i, m.format(cfg=path)) for i, m in expected), rule


@pytest.mark.parametrize(("name", "text", "bastion", "expected", "rule"), FINDINGS, ids=[f[0] for f in FINDINGS])
def test_sshd_t_accepts_finding_configs(sshd, tmp_path: Path, name: str, text: str, bastion: bool,  # type: ignore[no-untyped-def]
                                        expected: list[tuple[str, str]], rule: str) -> None:
    path = tmp_path / "sshd_config"
    cfg, _ = _read(path, text, version=sshd.version)
    proc = sshd(path)
    assert cfg.valid and proc.returncode == 0, proc.stderr  # type: ignore[attr-defined]


def test_include_order_first_value_wins_and_sshd_T_agrees(sshd, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Debian layout: drop-ins included at the top win over the main file (sshd_config(5) Include)."""
    d = tmp_path / "sshd_config.d"
    d.mkdir()
    (d / "20-b.conf").write_text("LogLevel ERROR\nMaxAuthTries 2\n")
    (d / "10-a.conf").write_text("PasswordAuthentication no\nLogLevel VERBOSE\n")
    main = tmp_path / "sshd_config"
    main.write_text(f"Include {d}/*.conf\nPasswordAuthentication yes\nMaxAuthTries 5\nPermitRootLogin no\n")
    sink = DiagnosticSink()
    cfg = read_sshd_config(main, sink, version=sshd.version)
    assert cfg.files == [str(main), str(d / "10-a.conf"), str(d / "20-b.conf")]
    proc = sshd(main, "-T")
    effective = dict(line.split(" ", 1) for line in proc.stdout.splitlines() if " " in line)
    for kw in ("passwordauthentication", "loglevel", "maxauthtries", "permitrootlogin"):
        assert cfg.value(kw, "").lower() == effective[kw].lower(), kw
    shadowed = sorted(f.message for f in check_sshd(cfg) if f.check.id == "RW-SSH-013")
    assert shadowed == [
        f"LogLevel ERROR at {d / '20-b.conf'}:1 is ignored: LogLevel VERBOSE at {d / '10-a.conf'}:2 is read first "
        "and wins",
        f"MaxAuthTries 5 at {main}:3 is ignored: MaxAuthTries 2 at {d / '20-b.conf'}:2 is read first and wins",
        f"PasswordAuthentication yes at {main}:2 is ignored: PasswordAuthentication no at {d / '10-a.conf'}:1 is read "
        "first and wins",
    ]


def test_match_started_in_include_ends_with_the_file(tmp_path: Path) -> None:
    """servconf.c restores the Match state after each Include: a later global line stays global."""
    inc = tmp_path / "m.conf"
    inc.write_text("Match User bob\n  X11Forwarding yes\n")
    main = tmp_path / "sshd_config"
    main.write_text(f"Include {inc}\nPermitRootLogin no\n")
    cfg = read_sshd_config(main, DiagnosticSink())
    root = cfg.first("permitrootlogin")
    assert root is not None and root.match is None
    assert cfg.first("x11forwarding", cfg.matches[0]).match == cfg.matches[0]  # type: ignore[union-attr]


def test_shop_bastion_is_valid_and_clean(sshd, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The example bastion (with its drop-in) starts under sshd -t and has no findings."""
    shutil.copytree(SHOP_SSHD.parent, tmp_path / "ssh")
    main = tmp_path / "ssh" / "sshd_config"
    inc = f"Include {tmp_path}/ssh/sshd_config.d/*.conf"
    main.write_text(main.read_text().replace("Include sshd_config.d/*.conf", inc))
    cfg = read_sshd_config(main, DiagnosticSink(), version=sshd.version)
    assert cfg.valid and sshd(main).returncode == 0
    assert check_sshd(cfg) == []


def test_permissions_rw_ssh_012(tmp_path: Path) -> None:
    """CIS Ubuntu 24.04 5.1.1: sshd_config must be 0600."""
    path = tmp_path / "sshd_config"
    path.write_text(HARDENED)
    path.chmod(0o644)
    cfg = read_sshd_config(path, DiagnosticSink())
    got = [(f.check.id, f.message) for f in check_sshd(cfg, bastion=True, check_permissions=True)]
    assert got == [("RW-SSH-012", f"{path} has mode 0644 (want 0600)")]


@pytest.mark.parametrize(("text", "value"), [("90", 90), ("1m30s", 90), ("2h", 7200), ("5x", None)])
def test_time_format(text: str, value: int | None) -> None:
    """sshd_config(5) TIME FORMATS."""
    assert seconds(text) == value
