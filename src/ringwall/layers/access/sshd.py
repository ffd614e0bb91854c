"""Read ``sshd_config`` the way sshd does: Include order, first value wins, Match blocks.

sshd's reading rules surprise people who know other formats (mesh-edge-access §6.1,
sshd_config(5), servconf.c): the *first* value of a keyword is used, ``Include`` is expanded
where it appears (globs in lexical order, relative paths under ``/etc/ssh``), a ``Match`` block
runs to the next ``Match`` or to the end of the file it started in, and only some keywords may
appear inside ``Match``. The reader reproduces those rules so that findings name the line that is
really in force, and it validates values with the same strictness as ``sshd -t`` so that
Ringwall and sshd agree about which configurations would start (tests compare both).

Relative ``Include`` paths are resolved under ``ssh_dir``; it defaults to the directory of the
main file so that a copy of ``/etc/ssh`` in a repository reads as it would on the host.
"""

from __future__ import annotations

import glob
import ipaddress
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from ringwall.model.diagnostics import DiagnosticSink
from ringwall.model.location import Location
from ringwall.sources.reading import MAX_LINE_CHARS, read_input

Version = tuple[int, int]
DEFAULT_VERSION: Version = (10, 0)
MAX_INCLUDE_DEPTH = 16
MAX_INCLUDED_FILES = 256
"""Files read through Includes at most: a glob in a big folder must not read it all, endlessly."""

# Keywords that accept more than one value across lines (each instance appends).
ACCUMULATING = frozenset({
    "allowusers", "allowgroups", "denyusers", "denygroups", "port", "listenaddress", "hostkey",
    "hostcertificate", "acceptenv", "setenv", "subsystem", "include", "match",
})

_FLAG = ("yes", "no")
_ENUMS: dict[str, tuple[str, ...]] = {
    "permitrootlogin": ("yes", "no", "prohibit-password", "without-password", "forced-commands-only"),
    "allowtcpforwarding": ("yes", "no", "all", "local", "remote"),
    "allowstreamlocalforwarding": ("yes", "no", "all", "local", "remote"),
    "gatewayports": ("yes", "no", "clientspecified"),
    "permittunnel": ("yes", "no", "point-to-point", "ethernet"),
    "compression": ("yes", "no", "delayed"),
    "addressfamily": ("any", "inet", "inet6"),
    "fingerprinthash": ("md5", "sha256"),
    "loglevel": ("quiet", "fatal", "error", "info", "verbose", "debug", "debug1", "debug2", "debug3"),
    "syslogfacility": ("daemon", "user", "auth", "authpriv", "local0", "local1", "local2", "local3", "local4",
                       "local5", "local6", "local7"),
    "ignoreuserknownhosts": _FLAG,
    "kerberosorlocalpasswd": _FLAG,
    "persourcepenalties": ("yes", "no"),  # also accepts key:value settings, see _check_value
}
_FLAGS = frozenset({
    "passwordauthentication", "kbdinteractiveauthentication", "pubkeyauthentication", "permitemptypasswords",
    "hostbasedauthentication", "hostbasedusesnamefrompacketonly", "ignorerhosts", "gssapiauthentication",
    "gssapicleanupcredentials", "gssapistrictacceptorcheck", "gssapikeyexchange", "gssapistorecredentialsonrekey",
    "kerberosauthentication", "kerberosticketcleanup", "kerberosgetafstoken", "x11forwarding", "x11uselocalhost",
    "allowagentforwarding", "disableforwarding", "permittty", "permituserrc", "printmotd", "printlastlog",
    "strictmodes", "tcpkeepalive", "usedns", "usepam", "exposeauthinfo", "streamlocalbindunlink",
    "debianbanner",
})
_INTS = frozenset({"maxauthtries", "maxsessions", "clientalivecountmax", "x11displayoffset", "requiredrsasize"})
_TIMES = frozenset({"clientaliveinterval", "logingracetime", "unusedconnectiontimeout"})
_REST_OF_LINE = frozenset({"forcecommand", "authorizedkeyscommand", "authorizedprincipalscommand",
                           "versionaddendum"})
_MULTI_ARG = frozenset({
    "allowusers", "allowgroups", "denyusers", "denygroups", "acceptenv", "setenv", "authorizedkeysfile",
    "subsystem", "permitopen", "permitlisten", "listenaddress", "channeltimeout", "ipqos", "rekeylimit",
    "authenticationmethods", "include", "logverbose", "persourcepenalties", "persourcepenaltyexemptlist",
    "persourcemaxstartups",
}) | _REST_OF_LINE
_OTHER = frozenset({
    "authorizedkeyscommanduser", "authorizedprincipalscommanduser", "authorizedprincipalsfile", "banner",
    "casignaturealgorithms", "chrootdirectory", "ciphers", "hostbasedacceptedalgorithms", "hostkey",
    "hostkeyagent", "hostkeyalgorithms", "hostcertificate", "kexalgorithms", "macs", "maxstartups", "modulifile",
    "pidfile", "port", "pubkeyacceptedalgorithms", "pubkeyauthoptions", "revokedkeys", "securitykeyprovider",
    "streamlocalbindmask", "trustedusercakeys", "xauthlocation", "gssapikexalgorithms", "rdomain",
    "persourcenetblocksize", "permituserenvironment", "match",
})
_ALIASES = {
    "challengeresponseauthentication": "kbdinteractiveauthentication",
    "skeyauthentication": "kbdinteractiveauthentication",
    "pubkeyacceptedkeytypes": "pubkeyacceptedalgorithms",
    "hostbasedacceptedkeytypes": "hostbasedacceptedalgorithms",
    "dsaauthentication": "pubkeyauthentication",
}
# Accepted with a "deprecated" or "unsupported" message and otherwise ignored (sshd -t exits 0).
_IGNORED = frozenset({
    "protocol", "useprivilegeseparation", "rsaauthentication", "rhostsrsaauthentication", "serverkeybits",
    "keyregenerationinterval", "uselogin", "verifyreversemapping", "reversemappingcheck", "authorizedkeysfile2",
    "pamauthenticationviakbdint", "useroaming", "rhostsauthentication", "kerberostgtpassing", "afstokenpassing",
    "kerberosgetafstoken",
})
_SINCE: dict[str, Version] = {
    "persourcepenalties": (9, 8), "persourcepenaltyexemptlist": (9, 8), "sshdsessionpath": (9, 8),
    "refuseconnection": (10, 0), "sshdauthpath": (10, 0),
}
_MATCH_ALLOWED = frozenset({
    "acceptenv", "allowagentforwarding", "allowgroups", "allowstreamlocalforwarding", "allowtcpforwarding",
    "allowusers", "authenticationmethods", "authorizedkeyscommand", "authorizedkeyscommanduser",
    "authorizedkeysfile", "authorizedprincipalscommand", "authorizedprincipalscommanduser",
    "authorizedprincipalsfile", "banner", "casignaturealgorithms", "channeltimeout", "chrootdirectory",
    "clientalivecountmax", "clientaliveinterval", "denygroups", "denyusers", "disableforwarding", "exposeauthinfo",
    "forcecommand", "gatewayports", "gssapiauthentication", "hostbasedacceptedalgorithms",
    "hostbasedauthentication", "hostbasedusesnamefrompacketonly", "ignorerhosts", "include", "ipqos",
    "kbdinteractiveauthentication", "kerberosauthentication", "loglevel", "logverbose", "maxauthtries",
    "maxsessions", "passwordauthentication", "permitemptypasswords", "permitlisten", "permitopen",
    "permitrootlogin", "permittty", "permittunnel", "permituserrc", "pubkeyacceptedalgorithms",
    "pubkeyauthentication", "pubkeyauthoptions", "rekeylimit", "revokedkeys", "rdomain", "setenv",
    "streamlocalbindmask", "streamlocalbindunlink", "trustedusercakeys", "unusedconnectiontimeout",
    "x11displayoffset", "x11forwarding", "x11uselocalhost", "refuseconnection", "match",
})
_MATCH_CRITERIA: dict[str, Version] = {
    "user": (0, 0), "group": (0, 0), "host": (0, 0), "localaddress": (0, 0), "localport": (0, 0),
    "rdomain": (0, 0), "address": (0, 0), "invalid-user": (9, 4), "version": (9, 9),
}
AUTH_METHODS = ("publickey", "password", "keyboard-interactive", "hostbased", "gssapi-with-mic")

CIPHERS = frozenset({
    "3des-cbc", "aes128-cbc", "aes192-cbc", "aes256-cbc", "aes128-ctr", "aes192-ctr", "aes256-ctr",
    "aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com",
})
MACS = frozenset({
    "hmac-sha1", "hmac-sha1-96", "hmac-sha2-256", "hmac-sha2-512", "hmac-md5", "hmac-md5-96", "umac-64@openssh.com",
    "umac-128@openssh.com", "hmac-sha1-etm@openssh.com", "hmac-sha1-96-etm@openssh.com",
    "hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com", "hmac-md5-etm@openssh.com",
    "hmac-md5-96-etm@openssh.com", "umac-64-etm@openssh.com", "umac-128-etm@openssh.com",
})
KEX = frozenset({
    "diffie-hellman-group1-sha1", "diffie-hellman-group14-sha1", "diffie-hellman-group14-sha256",
    "diffie-hellman-group16-sha512", "diffie-hellman-group18-sha512", "diffie-hellman-group-exchange-sha1",
    "diffie-hellman-group-exchange-sha256", "ecdh-sha2-nistp256", "ecdh-sha2-nistp384", "ecdh-sha2-nistp521",
    "curve25519-sha256", "curve25519-sha256@libssh.org", "sntrup761x25519-sha512",
    "sntrup761x25519-sha512@openssh.com", "mlkem768x25519-sha256",
})
KEY_TYPES = frozenset({
    "ssh-ed25519", "ssh-ed25519-cert-v01@openssh.com", "sk-ssh-ed25519@openssh.com",
    "sk-ssh-ed25519-cert-v01@openssh.com", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256-cert-v01@openssh.com",
    "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp384-cert-v01@openssh.com", "ecdsa-sha2-nistp521",
    "ecdsa-sha2-nistp521-cert-v01@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
    "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com", "webauthn-sk-ecdsa-sha2-nistp256@openssh.com", "ssh-dss",
    "ssh-dss-cert-v01@openssh.com", "ssh-rsa", "ssh-rsa-cert-v01@openssh.com", "rsa-sha2-256",
    "rsa-sha2-256-cert-v01@openssh.com", "rsa-sha2-512", "rsa-sha2-512-cert-v01@openssh.com",
})
_ALGO_KEYWORDS = {"ciphers": CIPHERS, "macs": MACS, "kexalgorithms": KEX, "hostkeyalgorithms": KEY_TYPES,
                  "pubkeyacceptedalgorithms": KEY_TYPES, "hostbasedacceptedalgorithms": KEY_TYPES,
                  "casignaturealgorithms": KEY_TYPES}
_TIME_RE = re.compile(r"^(?:\d+[smhdwSMHDW]?)+$")
_PORT_RE = re.compile(r"^\d+$")


@dataclass(frozen=True)
class MatchBlock:
    criteria: tuple[tuple[str, str], ...]
    location: Location

    @property
    def text(self) -> str:
        return " ".join(f"{k} {v}".strip() for k, v in self.criteria)


@dataclass(frozen=True)
class Directive:
    keyword: str  # canonical lower-case name (aliases resolved)
    written: str
    args: tuple[str, ...]
    location: Location
    match: MatchBlock | None = None

    @property
    def value(self) -> str:
        return " ".join(self.args)


@dataclass
class SshdConfig:
    path: str
    directives: list[Directive] = field(default_factory=list)
    matches: list[MatchBlock] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    errors: int = 0
    """Lines ``sshd -t`` would reject; a config with errors does not start."""

    @property
    def valid(self) -> bool:
        return self.errors == 0

    def global_directives(self, keyword: str) -> list[Directive]:
        return [d for d in self.directives if d.keyword == keyword and d.match is None]

    def first(self, keyword: str, match: MatchBlock | None = None) -> Directive | None:
        """The directive in force: inside ``match`` if that block sets it, else the first global one."""
        if match is not None:
            for d in self.directives:
                if d.keyword == keyword and d.match == match:
                    return d
        for d in self.directives:
            if d.keyword == keyword and d.match is None:
                return d
        return None

    def value(self, keyword: str, default: str, match: MatchBlock | None = None) -> str:
        d = self.first(keyword, match)
        return d.value if d is not None else default

    def all_values(self, keyword: str) -> list[Directive]:
        return [d for d in self.directives if d.keyword == keyword]


def tokenize(line: str) -> list[str] | None:
    """Split a line like sshd's ``argv_split``: quotes group, ``#`` at a word start ends the line.

    Returns None on an unterminated quote (sshd rejects the line).
    """
    out: list[str] = []
    i, n = 0, len(line)
    while i < n:
        while i < n and line[i] in " \t\r\n":
            i += 1
        if i >= n or line[i] == "#":
            break
        buf: list[str] = []
        while i < n and line[i] not in " \t\r\n":
            c = line[i]
            if c in "\"'":
                end = line.find(c, i + 1)
                if end < 0:
                    return None
                buf.append(line[i + 1:end])
                i = end + 1
                continue
            if c == "\\" and i + 1 < n:
                buf.append(line[i + 1])
                i += 2
                continue
            buf.append(c)
            i += 1
        out.append("".join(buf))
    return out


def _split_keyword(tokens: list[str]) -> tuple[str, list[str]]:
    """``Keyword=value``, ``Keyword = value`` and ``Keyword value`` are all the same to sshd."""
    first = tokens[0]
    rest = tokens[1:]
    if "=" in first:
        kw, _, val = first.partition("=")
        rest = ([val] if val else []) + rest
        first = kw
    if rest and rest[0].startswith("="):
        head = rest[0][1:]
        rest = ([head] if head else []) + rest[1:]
    return first, rest


def read_sshd_config(path: Path | str, sink: DiagnosticSink, *, ssh_dir: Path | None = None,
                     version: Version = DEFAULT_VERSION, text: str | None = None) -> SshdConfig:
    """Read ``path`` and its Includes; one diagnostic per bad line, as ``sshd -t`` would report it."""
    path = Path(path)
    cfg = SshdConfig(str(path))
    base = ssh_dir if ssh_dir is not None else path.parent
    _read_file(cfg, path, sink, base, version, None, 0, text, frozenset({os.path.realpath(path)}))
    return cfg


def _read_file(cfg: SshdConfig, path: Path, sink: DiagnosticSink, base: Path, version: Version,
               match: MatchBlock | None, depth: int, text: str | None = None,
               chain: frozenset[str] = frozenset()) -> None:
    if text is None:
        text = read_input(path, sink, line_limit=MAX_LINE_CHARS)
        if text is None:
            cfg.errors += 1
            return
    cfg.files.append(str(path))
    current = match  # a Match started here ends with this file; an outer one is restored
    for lineno, raw in enumerate(text.splitlines(), 1):
        loc = Location(str(path), lineno)
        tokens = tokenize(raw)
        if tokens is None:
            _bad(cfg, sink, "sshd.syntax", "unterminated quoted string", loc)
            continue
        if not tokens:
            continue
        written, args = _split_keyword(tokens)
        kw = written.lower()
        kw = _ALIASES.get(kw, kw)
        if kw in _SINCE and version < _SINCE[kw]:
            _bad(cfg, sink, "sshd.unknown-keyword",
                 f"Bad configuration option: {written} (needs OpenSSH {'.'.join(map(str, _SINCE[kw]))})", loc)
            continue
        if kw in _IGNORED:
            sink.info("sshd.deprecated", f"{written} is deprecated or unsupported and ignored by sshd", loc)
            continue
        if kw not in _FLAGS and kw not in _ENUMS and kw not in _INTS and kw not in _TIMES \
                and kw not in _MULTI_ARG and kw not in _OTHER and kw not in _SINCE:
            _bad(cfg, sink, "sshd.unknown-keyword", f"Bad configuration option: {written}", loc)
            continue
        if current is not None and kw not in _MATCH_ALLOWED:
            _bad(cfg, sink, "sshd.not-in-match", f"Directive '{written}' is not allowed within a Match block", loc)
            continue
        if not args:
            _bad(cfg, sink, "sshd.missing-argument", f'no argument after keyword "{written}"', loc)
            continue
        if kw == "match":
            block = _parse_match(args, loc, cfg, sink, version)
            if block is None:
                continue
            cfg.matches.append(block)
            current = block
            continue
        if kw == "include":
            if depth >= MAX_INCLUDE_DEPTH:
                _bad(cfg, sink, "sshd.include-depth", "Include nested too deeply", loc)
                continue
            for pattern in args:
                full = pattern if os.path.isabs(pattern) else str(base / pattern)
                for inc in sorted(glob.glob(full)):
                    if os.path.realpath(inc) in chain:
                        _bad(cfg, sink, "sshd.include-loop", f"Include of {inc} loops back to a file that "
                             "includes it", loc)
                        continue
                    if len(cfg.files) >= MAX_INCLUDED_FILES:
                        _bad(cfg, sink, "sshd.include-count", f"more than {MAX_INCLUDED_FILES} files "
                             "included; the rest is not read", loc)
                        break
                    _read_file(cfg, Path(inc), sink, base, version, current, depth + 1,
                               chain=chain | {os.path.realpath(inc)})
            continue
        problem = _check_value(kw, written, args)
        if kw == "authenticationmethods" and "any" in [a.lower() for a in args] and (
                len(args) > 1 or any(d.keyword == kw and d.match is None for d in cfg.directives)):
            # servconf.c: "any" after methods already set (even if that line would win) is fatal.
            problem = '"any" must appear alone in AuthenticationMethods'
        if kw == "subsystem" and not problem and any(
                d.keyword == kw and d.args[0] == args[0] for d in cfg.directives):
            problem = f"Subsystem '{args[0]}' already defined."
        if problem:
            _bad(cfg, sink, "sshd.bad-value", problem, loc)
            continue
        cfg.directives.append(Directive(kw, written, tuple(args), loc, current))


def _bad(cfg: SshdConfig, sink: DiagnosticSink, code: str, message: str, loc: Location) -> None:
    cfg.errors += 1
    sink.error(code, message, loc)


def _parse_match(args: list[str], loc: Location, cfg: SshdConfig, sink: DiagnosticSink,
                 version: Version) -> MatchBlock | None:
    criteria: list[tuple[str, str]] = []
    i = 0
    while i < len(args):
        name = args[i].lower()
        if name == "all":
            if len(args) != 1:
                _bad(cfg, sink, "sshd.bad-match", "'all' cannot be combined with other Match attributes", loc)
                return None
            criteria.append(("all", ""))
            i += 1
            continue
        if name not in _MATCH_CRITERIA or version < _MATCH_CRITERIA[name]:
            _bad(cfg, sink, "sshd.bad-match", f"Unsupported Match attribute {args[i]}", loc)
            return None
        if name == "invalid-user":
            criteria.append((name, ""))
            i += 1
            continue
        if i + 1 >= len(args):
            _bad(cfg, sink, "sshd.bad-match", f"Missing Match criteria for {args[i]}", loc)
            return None
        value = args[i + 1]
        if name in ("address", "localaddress") and not _valid_match_addresses(value):
            _bad(cfg, sink, "sshd.bad-match", f"Invalid Match {name} argument '{value}'", loc)
            return None
        if name == "localport" and not all(p.isdigit() for p in value.split(",")):
            _bad(cfg, sink, "sshd.bad-match", f"Invalid LocalPort '{value}' on Match line", loc)
            return None
        criteria.append((name, value))
        i += 2
    return MatchBlock(tuple(criteria), loc)


def _valid_match_addresses(value: str) -> bool:
    """addrmatch.c: CIDR entries must parse with no host bits set; other patterns are wildcards."""
    for item in value.split(","):
        item = item.lstrip("!")
        if "/" in item:
            try:
                ipaddress.ip_network(item, strict=True)
            except ValueError:
                return False
    return True


def _check_value(kw: str, written: str, args: list[str]) -> str | None:
    """The reason ``sshd -t`` would reject these arguments, or None."""
    if kw not in _MULTI_ARG and len(args) > 1 and kw not in ("listenaddress", "ipqos"):
        return f"keyword {written} extra arguments at end of line"
    val = args[0]
    low = val.lower()
    if kw in _FLAGS:
        return None if low in _FLAG else f'unsupported option "{val}".'
    if kw == "persourcepenalties":
        return None if low in _FLAG or all(":" in a for a in args) else f'unsupported option "{val}".'
    if kw in _ENUMS:
        if kw == "loglevel":
            return None if low in _ENUMS[kw] else f"unsupported log level '{val}'"
        return None if low in _ENUMS[kw] else f'unsupported option "{val}".'
    if kw in _INTS:
        if not re.fullmatch(r"-?\d+", val):
            return f"{written} integer value invalid."
        return f"{written} integer value too small." if int(val) < 0 else None
    if kw in _TIMES:
        return None if _TIME_RE.match(val) else f"{written} invalid time value."
    if kw == "maxstartups":
        # servconf.c: sscanf("%d:%d:%d") must read 3 fields (start <= full, 1 <= rate <= 100) or exactly 1.
        m = re.match(r"(\d+)(?::(\d+)(?::(\d+))?)?", val)
        if m is None or (m.group(2) is not None and m.group(3) is None):
            return "Invalid MaxStartups spec."
        if m.group(3) is not None:
            a, b, c = int(m.group(1)), int(m.group(2)), int(m.group(3))
            if a > c or not 1 <= b <= 100:
                return "Invalid MaxStartups spec."
        return None
    if kw == "subsystem" and len(args) < 2:
        return "Missing subsystem command."
    if kw == "permitopen":
        if len(args) == 1 and low in ("any", "none"):
            return None
        for a in args:
            host, sep, port = a.rpartition(":")
            if not sep or not host or not (port == "*" or (port.isdigit() and 0 < int(port) < 65536)):
                return "PermitOpen bad port number"
        return None
    if kw == "port":
        return None if _PORT_RE.match(val) and 0 < int(val) < 65536 else "Badly formatted port number."
    if kw in _ALGO_KEYWORDS:
        spec = val[1:] if val[:1] in "+-^" else val
        if val[:1] != "-" and "*" not in spec and "?" not in spec:
            known = _ALGO_KEYWORDS[kw]
            if any(a not in known for a in spec.split(",")):
                if known is KEY_TYPES:
                    return f"Bad key types '{val}'."
                what = {"ciphers": "cipher", "macs": "MAC", "kexalgorithms": "kex"}[kw]
                return f"Bad SSH2 {what} spec '{val}'."
        return None
    if kw == "authenticationmethods":
        if len(args) == 1 and low == "any":
            return None
        for lst in args:
            for method in lst.split(","):
                name = method.split(":", 1)[0]
                if name not in AUTH_METHODS:
                    return f'Unknown authentication method "{method}" in list'
        return None
    return None


def parse_auth_methods(value: str) -> list[list[str]]:
    """``AuthenticationMethods`` as lists of methods; each list must be completed in full."""
    if value.strip().lower() == "any":
        return []
    return [[m.split(":", 1)[0] for m in lst.split(",")] for lst in value.split()]


def looks_like_sshd_config(path: Path, head: str) -> bool:
    """True for files whose name says sshd or whose lines are sshd server keywords."""
    name = path.name.lower()
    if name.startswith("sshd_config") or (path.parent.name == "sshd_config.d" and name.endswith(".conf")):
        return True
    hits = 0
    for line in head.splitlines()[:200]:
        tokens = tokenize(line)
        if not tokens:
            continue
        kw = _split_keyword(tokens)[0].lower()
        if kw in ("[interface]", "[peer]", "host"):
            return False  # a wg-quick file, or an ssh *client* configuration (Host blocks)
        if kw in {"permitrootlogin", "passwordauthentication", "authenticationmethods", "trustedusercakeys",
                  "allowtcpforwarding", "kbdinteractiveauthentication", "challengeresponseauthentication",
                  "usepam", "subsystem", "hostkey", "authorizedkeysfile"}:
            hits += 1
    return hits >= 2
