"""RW-SSH checks on a read ``SshdConfig``: effective values, not the last line that mentions them.

Every check looks at the global section (what an ordinary connection gets, sshd defaults where
nothing is set) and at each ``Match`` block that sets the keyword itself, so a hardened global
section does not hide a ``Match`` block that loosens it again.
"""

from __future__ import annotations

import re
import stat
from pathlib import Path

from ringwall.model.findings import Check, Finding
from ringwall.model.location import Location

from . import catalogue as K
from .sshd import ACCUMULATING, Directive, MatchBlock, SshdConfig, parse_auth_methods

DEFAULTS = {
    "passwordauthentication": "yes", "kbdinteractiveauthentication": "yes", "permitrootlogin": "prohibit-password",
    "loglevel": "INFO", "clientaliveinterval": "0", "clientalivecountmax": "3", "maxauthtries": "6",
    "logingracetime": "120", "maxstartups": "10:30:100", "maxsessions": "10", "allowtcpforwarding": "yes",
    "allowagentforwarding": "yes", "x11forwarding": "no", "gatewayports": "no", "permittunnel": "no",
    "disableforwarding": "no", "hostbasedauthentication": "no", "ignorerhosts": "yes",
    "gssapiauthentication": "no", "permituserenvironment": "no", "permitemptypasswords": "no",
    "authorizedkeysfile": ".ssh/authorized_keys .ssh/authorized_keys2", "authenticationmethods": "any",
    "pubkeyauthentication": "yes",
}
_NAMES = {"passwordauthentication": "PasswordAuthentication",
          "kbdinteractiveauthentication": "KbdInteractiveAuthentication",
          "hostbasedauthentication": "HostbasedAuthentication", "ignorerhosts": "IgnoreRhosts",
          "gssapiauthentication": "GSSAPIAuthentication"}
_LOG_ORDER = ["quiet", "fatal", "error", "info", "verbose", "debug", "debug1", "debug2", "debug3"]
# ssh-audit "fail" notes (ssh2_kexdb.py) for algorithms sshd can be configured to offer.
WEAK_ALGORITHMS = {
    "diffie-hellman-group1-sha1", "diffie-hellman-group14-sha1", "diffie-hellman-group-exchange-sha1",
    "ecdh-sha2-nistp256", "ecdh-sha2-nistp384", "ecdh-sha2-nistp521", "ssh-rsa", "ssh-dss",
    "ssh-rsa-cert-v01@openssh.com", "ssh-dss-cert-v01@openssh.com", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521", "3des-cbc", "hmac-sha1", "hmac-sha1-96", "hmac-md5", "hmac-md5-96",
    "hmac-sha1-etm@openssh.com", "hmac-sha1-96-etm@openssh.com", "hmac-md5-etm@openssh.com",
    "hmac-md5-96-etm@openssh.com", "umac-64@openssh.com", "umac-64-etm@openssh.com",
}
_ALGO_KEYWORDS = ("kexalgorithms", "ciphers", "macs", "hostkeyalgorithms", "pubkeyacceptedalgorithms")


def seconds(value: str) -> int | None:
    """sshd time format (``90``, ``1m30s``, ``2h``) in seconds."""
    total = 0
    for num, unit in re.findall(r"(\d+)([smhdwSMHDW]?)", value):
        total += int(num) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[unit.lower()]
    return total if re.fullmatch(r"(?:\d+[smhdwSMHDW]?)+", value) else None


def is_bastion(cfg: SshdConfig) -> bool:
    """A jump host: named so, or restricting forwarding targets with PermitOpen (only jump hosts need it)."""
    name = cfg.path.lower()
    return "bastion" in name or "jump" in name or bool(cfg.all_values("permitopen"))


class _Ctx:
    def __init__(self, cfg: SshdConfig, bastion: bool) -> None:
        self.cfg = cfg
        self.bastion = bastion
        self.findings: list[Finding] = []
        self.subject = f"sshd:{cfg.path}"

    def get(self, kw: str, match: MatchBlock | None = None) -> str:
        return self.cfg.value(kw, DEFAULTS.get(kw, ""), match).lower()

    def loc(self, kw: str, match: MatchBlock | None = None) -> Location:
        d = self.cfg.first(kw, match)
        if d is not None:
            return d.location
        if match is not None:
            return match.location
        return Location(self.cfg.path, None, None, self.subject)

    def add(self, check: Check, message: str, locs: list[Location], detail: str) -> None:
        self.findings.append(Finding(check, message, tuple(locs), self.subject, detail))

    def scopes(self, *kws: str) -> list[MatchBlock | None]:
        """The global section, plus every Match block that sets one of ``kws`` itself."""
        out: list[MatchBlock | None] = [None]
        for m in self.cfg.matches:
            if any(d.keyword in kws and d.match == m for d in self.cfg.directives):
                out.append(m)
        return out


def _where(match: MatchBlock | None) -> str:
    return f" in Match {match.text}" if match is not None else ""


def check_sshd(cfg: SshdConfig, *, bastion: bool | None = None, check_permissions: bool | None = None) -> list[Finding]:
    """All RW-SSH findings for one configuration (with its Includes)."""
    c = _Ctx(cfg, is_bastion(cfg) if bastion is None else bastion)
    _password(c)
    _simple(c)
    _forwarding(c)
    _limits(c)
    _algorithms(c)
    _shadowed(c)
    if check_permissions if check_permissions is not None else cfg.path.startswith("/etc/"):
        _permissions(c)
    return c.findings


def _password(c: _Ctx) -> None:
    for m in c.scopes("passwordauthentication", "kbdinteractiveauthentication", "authenticationmethods"):
        lists = parse_auth_methods(c.get("authenticationmethods", m))
        for kw, method in (("passwordauthentication", "password"), ("kbdinteractiveauthentication",
                                                                    "keyboard-interactive")):
            if c.get(kw, m) != "yes":
                continue
            # A method is usable alone only if some list consists of it alone (or AuthenticationMethods any).
            alone = not lists or any(lst == [method] for lst in lists)
            if alone:
                d = c.cfg.first(kw, m)
                name = d.written if d else _NAMES[kw]
                set_where = "set" if c.cfg.first(kw, m) else "the default"
                c.add(K.SSH_PASSWORD, f"{name} yes ({set_where}){_where(m)} allows login without a second factor",
                      [c.loc(kw, m)], f"{kw}|{m.text if m else ''}")
    for m in c.scopes("authenticationmethods"):
        d = c.cfg.first("authenticationmethods", m)
        if d is not None and d.value.lower() == "any":
            c.add(K.SSH_AUTH_ANY, f"AuthenticationMethods any{_where(m)}", [d.location], m.text if m else "")


def _simple(c: _Ctx) -> None:
    for m in c.scopes("permitrootlogin"):
        v = c.get("permitrootlogin", m)
        if v != "no":
            c.add(K.SSH_ROOT, f"PermitRootLogin {v}{_where(m)}", [c.loc("permitrootlogin", m)], m.text if m else "")
    for m in c.scopes("permitemptypasswords"):
        if c.get("permitemptypasswords", m) == "yes":
            c.add(K.SSH_EMPTY_PW, f"PermitEmptyPasswords yes{_where(m)}", [c.loc("permitemptypasswords", m)],
                  m.text if m else "")
    for m in c.scopes("loglevel"):
        v = c.get("loglevel", m)
        rank = _LOG_ORDER.index(v) if v in _LOG_ORDER else 3
        too_low = rank < 3 or (c.bastion and rank < 4)
        if too_low or v.startswith("debug"):
            why = "DEBUG logs private session data" if v.startswith("debug") else (
                "a bastion needs VERBOSE to log key fingerprints" if rank == 3 else "below INFO")
            c.add(K.SSH_LOGLEVEL, f"LogLevel {v.upper()}{_where(m)}: {why}", [c.loc("loglevel", m)],
                  m.text if m else "")
    for m in c.scopes("clientaliveinterval", "clientalivecountmax"):
        iv = seconds(c.get("clientaliveinterval", m)) or 0
        cm = c.get("clientalivecountmax", m)
        if iv == 0 or iv > 900:
            c.add(K.SSH_IDLE, f"ClientAliveInterval {iv}{_where(m)}", [c.loc("clientaliveinterval", m)],
                  f"interval|{m.text if m else ''}")
        elif cm == "0":
            c.add(K.SSH_IDLE, f"ClientAliveCountMax 0{_where(m)}", [c.loc("clientalivecountmax", m)],
                  f"countmax|{m.text if m else ''}")
    if not any(c.cfg.all_values(k) for k in ("allowusers", "allowgroups", "denyusers", "denygroups")):
        c.add(K.SSH_NO_ALLOW, "no AllowUsers, AllowGroups, DenyUsers or DenyGroups", [c.loc("allowgroups")], "")
    for m in c.scopes("hostbasedauthentication", "ignorerhosts", "gssapiauthentication"):
        for kw, bad in (("hostbasedauthentication", "yes"), ("ignorerhosts", "no"), ("gssapiauthentication", "yes")):
            if c.get(kw, m) == bad and (m is None or c.cfg.first(kw, m) is not None):
                d = c.cfg.first(kw, m)
                name = d.written if d else _NAMES[kw]
                c.add(K.SSH_LEGACY_TRUST, f"{name} {bad}{_where(m)}", [c.loc(kw, m)], f"{kw}|{m.text if m else ''}")
    if c.get("permituserenvironment") != "no":
        c.add(K.SSH_USER_ENV, f"PermitUserEnvironment {c.get('permituserenvironment')}",
              [c.loc("permituserenvironment")], "")
    banner = c.cfg.first("banner")
    if banner is None or banner.value.lower() == "none":
        c.add(K.SSH_NO_BANNER, "no Banner", [c.loc("banner")], "")
    if c.get("usepam") == "no":
        c.add(K.SSH_NO_PAM, "UsePAM no", [c.loc("usepam")], "")
    if c.get("persourcepenalties") == "no":
        c.add(K.SSH_PENALTIES_OFF, "PerSourcePenalties no", [c.loc("persourcepenalties")], "")
    if c.bastion:
        ca = c.cfg.first("trustedusercakeys")
        akf = c.get("authorizedkeysfile")
        if ca is None:
            c.add(K.SSH_NO_CERT, "bastion without TrustedUserCAKeys", [c.loc("trustedusercakeys")], "ca")
        elif akf != "none":
            c.add(K.SSH_NO_CERT, f"bastion still accepts raw keys from AuthorizedKeysFile {akf}",
                  [c.loc("authorizedkeysfile")], "authorizedkeysfile")


def _forwarding(c: _Ctx) -> None:
    for m in c.cfg.matches:
        fc = c.cfg.first("forcecommand", m)
        if fc is None or fc.match != m:
            continue
        limited = c.get("disableforwarding", m) == "yes" or c.get("allowtcpforwarding", m) == "no" or (
            c.get("permitopen", m) not in ("", "any"))
        if not limited:
            c.add(K.SSH_FORCECOMMAND, f"Match {m.text} relies on ForceCommand {fc.value} but allows forwarding",
                  [fc.location], m.text)
    if not c.bastion:
        if c.get("disableforwarding") != "yes":
            c.add(K.SSH_FWD_NON_BASTION, "DisableForwarding is not yes on a host that is not a bastion",
                  [c.loc("disableforwarding")], "")
        return
    kws = ("allowtcpforwarding", "permitopen", "allowagentforwarding", "x11forwarding", "gatewayports",
           "permittunnel", "disableforwarding")
    for m in c.scopes(*kws):
        if c.get("disableforwarding", m) == "yes":
            continue
        problems: list[tuple[str, str]] = []
        tcp = c.get("allowtcpforwarding", m)
        permit_open = c.get("permitopen", m)
        if tcp != "no" and permit_open in ("", "any"):
            problems.append(("allowtcpforwarding", f"AllowTcpForwarding {tcp} without PermitOpen"))
        elif tcp in ("yes", "all", "remote"):
            problems.append(("allowtcpforwarding", f"AllowTcpForwarding {tcp} allows remote forwarding"))
        for kw, ok in (("allowagentforwarding", "no"), ("x11forwarding", "no"), ("gatewayports", "no"),
                       ("permittunnel", "no")):
            if c.get(kw, m) != ok:
                problems.append((kw, f"{kw} {c.get(kw, m)}"))
        for kw, text in problems:
            if m is not None and c.cfg.first(kw, m) is None and kw != "allowtcpforwarding":
                continue  # inherited from the global section: reported there
            c.add(K.SSH_BASTION_FWD, f"{text}{_where(m)}", [c.loc(kw, m)], f"{kw}|{m.text if m else ''}")


def _limits(c: _Ctx) -> None:
    for m in c.scopes("maxauthtries", "logingracetime", "maxsessions", "maxstartups"):
        over: list[tuple[str, str]] = []
        if int(c.get("maxauthtries", m) or 6) > 4:
            over.append(("maxauthtries", f"MaxAuthTries {c.get('maxauthtries', m)} > 4"))
        if m is None and (seconds(c.get("logingracetime")) or 0) > 60:
            over.append(("logingracetime", f"LoginGraceTime {c.get('logingracetime')} > 60"))
        if m is None:
            ms = [int(x) for x in c.get("maxstartups").split(":")]
            start, rate, full = [*ms, 30, ms[0]][:3] if len(ms) == 1 else ms
            if start > 10 or rate < 30 or full > 60:
                over.append(("maxstartups", f"MaxStartups {c.get('maxstartups')} laxer than 10:30:60"))
        if int(c.get("maxsessions", m) or 10) > 10:
            over.append(("maxsessions", f"MaxSessions {c.get('maxsessions', m)} > 10"))
        for kw, text in over:
            if m is not None and c.cfg.first(kw, m) is not None and c.cfg.first(kw, m).match != m:
                continue
            c.add(K.SSH_BRUTE, f"{text}{_where(m)}", [c.loc(kw, m)], f"{kw}|{m.text if m else ''}")


def _algorithms(c: _Ctx) -> None:
    for d in c.cfg.directives:
        if d.keyword not in _ALGO_KEYWORDS or d.value.startswith("-"):
            continue
        names = d.value.lstrip("+^").split(",")
        weak = [n for n in names if n in WEAK_ALGORITHMS]
        if weak:
            c.add(K.SSH_WEAK_ALGO, f"{d.written} offers {', '.join(weak)}", [d.location],
                  f"{d.keyword}|{d.location.path}:{d.location.line}")


def _shadowed(c: _Ctx) -> None:
    seen: dict[tuple[str, MatchBlock | None], Directive] = {}
    for d in c.cfg.directives:
        if d.keyword in ACCUMULATING:
            continue
        first = seen.setdefault((d.keyword, d.match), d)
        if first is not d and first.value.lower() != d.value.lower():
            c.add(K.SSH_SHADOWED,
                  f"{d.written} {d.value} at {d.location} is ignored: {first.written} {first.value} "
                  f"at {first.location} is read first and wins",
                  [d.location, first.location], f"{d.keyword}|{d.location}")


def _permissions(c: _Ctx) -> None:
    for f in dict.fromkeys(c.cfg.files):
        try:
            mode = stat.S_IMODE(Path(f).stat().st_mode)
        except OSError:
            continue
        if mode & 0o077:
            c.add(K.SSH_PERMS, f"{f} has mode {mode:04o} (want 0600)", [Location(f)], f)
