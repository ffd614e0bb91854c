"""Readers for ``iptables-save``/``ip6tables-save`` output and iptables command scripts.

Both feed the same command executor (``-A``, ``-I``, ``-D``, ``-N``, ``-P``, ``-F``, ``-X``,
``-E``), which is what ``iptables-restore`` does with a dump. Reading is lenient: CRLF, missing
``[0:0]``, no final newline, ``-s ! X``, dotted netmasks and several concatenated dumps are all
accepted, and a bad line becomes one diagnostic while the rest is still read.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable

from ringwall.model.diagnostics import DiagnosticSink
from ringwall.model.location import Location

from . import values as V
from .ipt_rule import IpsetResolver, RuleError, RuleSpec, parse_rule_spec
from .model import Action, Backend, Chain, Kind, MarkSet, Rule, Table

BUILTIN: dict[str, dict[str, str]] = {
    "filter": {"INPUT": "input", "FORWARD": "forward", "OUTPUT": "output"},
    "nat": {"PREROUTING": "prerouting", "INPUT": "input", "OUTPUT": "output", "POSTROUTING": "postrouting"},
    "mangle": {"PREROUTING": "prerouting", "INPUT": "input", "FORWARD": "forward", "OUTPUT": "output",
               "POSTROUTING": "postrouting"},
    "raw": {"PREROUTING": "prerouting", "OUTPUT": "output"},
    "security": {"INPUT": "input", "FORWARD": "forward", "OUTPUT": "output"},
}
TABLE_PRIORITY = {"raw": -300, "mangle": -150, "filter": 0, "security": 50}
NAT_PRIORITY = {"prerouting": -100, "output": -100, "input": 100, "postrouting": 100}
NAT_TARGETS = {"DNAT", "SNAT", "MASQUERADE", "REDIRECT", "NETMAP"}
LOG_TARGETS = {"LOG", "NFLOG", "ULOG"}
PASSIVE_TARGETS = {"TRACE", "NOTRACK", "CT", "CHECKSUM", "TCPMSS", "TOS", "DSCP", "CLASSIFY", "SET", "AUDIT",
                   "TEE", "SECMARK", "CONNSECMARK", "IDLETIMER", "LED", "HMARK", "TTL", "HL", "ECN", "RATEEST",
                   "CONNMARK", "MARK"}
UNMODELLED_TARGETS = {"TPROXY", "CLUSTERIP", "DNPT", "SNPT", "NPTV6", "MIRROR", "SAME", "ROUTE", "IPV4OPTSSTRIP",
                      "TARPIT", "DELUDE", "CHAOS", "XOR", "NETFLOW", "IPMARK", "ACCOUNT"}
TOOL_PATTERNS = [
    (re.compile(r"^(ufw6?-|ufw-)"), "ufw"),
    (re.compile(r"^(IN|OUT|FWD)_|^FWDI_|^FWDO_|_direct$|^INPUT_ZONES"), "firewalld"),
    (re.compile(r"^DOCKER"), "docker"), (re.compile(r"^KUBE-"), "kube-proxy"),
    (re.compile(r"^(cali-|felix-)"), "calico"), (re.compile(r"^CILIUM_"), "cilium"),
    (re.compile(r"^f2b-|^fail2ban"), "fail2ban"), (re.compile(r"^FLANNEL"), "flannel"),
    (re.compile(r"^WEAVE"), "weave"),
]


def tools_of_chain(name: str) -> set[str]:
    return {tool for pat, tool in TOOL_PATTERNS if pat.search(name)}


class IptBuilder:
    """Applies iptables commands to tables; targets are resolved once every chain is known."""

    def __init__(self, sink: DiagnosticSink, ipsets: IpsetResolver | None, backend: Backend) -> None:
        self.sink = sink
        self.ipsets = ipsets
        self.backend = backend
        self.tables: dict[tuple[str, str], Table] = {}
        self.specs: dict[int, RuleSpec] = {}

    def table(self, family: int, name: str, loc: Location) -> Table:
        fam = "ip" if family == 4 else "ip6"
        key = (fam, name)
        if key not in self.tables:
            t = Table(fam, name, loc, self.backend, reader="iptables")
            for chain, hook in BUILTIN.get(name, {}).items():
                prio = NAT_PRIORITY[hook] if name == "nat" else TABLE_PRIORITY.get(name, 0)
                t.chains[chain] = Chain(fam, name, chain, loc, hook=hook, priority=prio, policy="accept",
                                        type="nat" if name == "nat" else "filter")
            self.tables[key] = t
        return self.tables[key]

    def reset_table(self, family: int, name: str, loc: Location) -> Table:
        """``*table`` in a restore file replaces the table (iptables-restore without ``-n``)."""
        key = ("ip" if family == 4 else "ip6", name)
        if key in self.tables and any(c.rules for c in self.tables[key].chains.values()):
            self.sink.warning("RWD-HOSTFW-010", f"table {name} appears again: the later block replaces it", loc)
        self.tables.pop(key, None)
        return self.table(family, name, loc)

    def declare(self, table: Table, name: str, policy: str, loc: Location) -> None:
        chain = table.chains.get(name)
        if chain is None:
            table.chains[name] = Chain(table.family, table.name, name, loc,
                                       type="nat" if table.name == "nat" else "filter")
            if policy not in ("-", ""):
                self.sink.warning("RWD-HOSTFW-011", f"user chain {name} cannot have a policy ({policy})", loc)
            return
        chain.location = loc
        if chain.is_base:
            pol = policy.lower()
            if pol not in ("accept", "drop"):
                self.sink.error("RWD-HOSTFW-012", f"bad policy {policy!r} for chain {name}", loc)
            else:
                chain.policy = pol

    def command(self, family: int, table_name: str, words: list[str], loc: Location, text: str) -> None:
        """One iptables command (without the program name and ``-t``)."""
        if not words:
            return
        if table_name not in BUILTIN:
            self.sink.warning("RWD-HOSTFW-013", f"unknown table {table_name!r}: rule kept, table has no hooks", loc)
        table = self.table(family, table_name, loc)
        op, rest = words[0], words[1:]
        try:
            self._command(family, table, op, rest, loc, text)
        except (RuleError, ValueError, IndexError) as exc:
            self.sink.error("RWD-HOSTFW-014", f"rule not read: {exc}", loc)

    def _command(self, family: int, table: Table, op: str, rest: list[str], loc: Location, text: str) -> None:
        if op in ("-N", "--new-chain"):
            self.declare(table, rest[0], "-", loc)
        elif op in ("-P", "--policy"):
            if rest[0] not in table.chains or not table.chains[rest[0]].is_base:
                raise RuleError(f"-P needs a built-in chain, not {rest[0]!r}")
            self.declare(table, rest[0], rest[1], loc)
        elif op in ("-F", "--flush"):
            for c in table.chains.values():
                if not rest or c.name == rest[0]:
                    c.rules.clear()
        elif op in ("-X", "--delete-chain"):
            for name in [n for n, c in table.chains.items() if not c.is_base and (not rest or n == rest[0])]:
                del table.chains[name]
        elif op in ("-E", "--rename-chain"):
            chain = table.chains.pop(rest[0])
            chain.name = rest[1]
            table.chains[rest[1]] = chain
        elif op in ("-Z", "--zero", "-L", "--list", "-S", "--list-rules"):
            return
        elif op in ("-A", "--append", "-I", "--insert", "-D", "--delete", "-R", "--replace"):
            self._rule_command(family, table, op, rest, loc, text)
        else:
            raise RuleError(f"unknown command {op!r}")

    def _rule_command(self, family: int, table: Table, op: str, rest: list[str], loc: Location, text: str) -> None:
        name = rest[0]
        chain = table.chains.get(name)
        if chain is None:
            raise RuleError(f"chain {name!r} does not exist in table {table.name}")
        args = rest[1:]
        pos: int | None = None
        if op in ("-I", "--insert", "-D", "--delete", "-R", "--replace") and args and args[0].isdigit():
            pos = int(args[0]) - 1
            args = args[1:]
        if op in ("-D", "--delete") and pos is not None and not args:
            del chain.rules[pos]
            return
        spec = parse_rule_spec(args, family, str(loc), self.ipsets)
        for w in spec.warnings:
            self.sink.warning("RWD-HOSTFW-015", w, loc)
        if spec.family_only is not None and spec.family_only != family:
            return
        body = " ".join(shlex.quote(a) if (" " in a or not a) else a for a in args)
        rule = Rule(loc, f"-A {name} {body}".strip(), spec.match, Action(Kind.CONTINUE),
                    comment=spec.comment, counters=spec.counters)
        self.specs[id(rule)] = spec
        if op in ("-D", "--delete"):
            for k, r in enumerate(chain.rules):
                if r.text == rule.text:
                    del chain.rules[k]
                    return
            raise RuleError("-D: no such rule")
        if op in ("-I", "--insert"):
            chain.rules.insert(pos or 0, rule)
        elif op in ("-R", "--replace"):
            chain.rules[pos or 0] = rule
        else:
            chain.rules.append(rule)

    def finish(self) -> list[Table]:
        for table in self.tables.values():
            for chain in table.chains.values():
                for rule in chain.rules:
                    spec = self.specs.get(id(rule))
                    if spec is not None:
                        self._resolve(table, rule, spec)
        return list(self.tables.values())

    def _resolve(self, table: Table, rule: Rule, spec: RuleSpec) -> None:
        t, opts = spec.target, spec.target_opts
        if t is None:
            return
        if t in table.chains:
            rule.action = Action(Kind.GOTO if spec.goto else Kind.JUMP, t)
        elif t in ("ACCEPT", "DROP", "RETURN"):
            rule.action = Action(Kind(t.lower()))
        elif t == "REJECT":
            rule.action = Action(Kind.REJECT, detail=f"with {opts.get('--reject-with', 'icmp-port-unreachable')}")
        elif t in ("QUEUE", "NFQUEUE", "SYNPROXY"):
            rule.action = Action(Kind.QUEUE, detail=" ".join(f"{k} {v}".strip() for k, v in opts.items()))
        elif t in NAT_TARGETS:
            rule.action = _nat_action(t, opts)
        elif t in LOG_TARGETS:
            rule.logs = True
        elif t == "MARK":
            rule.mark_set = _mark_set(opts)
        elif t == "CONNMARK" and "--restore-mark" in opts:
            rule.mark_set = MarkSet(-1, 0)
        elif t in PASSIVE_TARGETS:
            return
        elif t in UNMODELLED_TARGETS:
            self.sink.warning("RWD-HOSTFW-016", f"target {t} is not modelled: verdict unknown", rule.location)
            rule.action = Action(Kind.QUEUE, detail=f"target {t}")
        else:
            # a jump to a chain that does not exist: the kernel refuses such a ruleset
            self.sink.error("RWD-HOSTFW-017", f"jump to undefined chain {t!r}", rule.location)
            rule.action = Action(Kind.GOTO if spec.goto else Kind.JUMP, t)


def _nat_action(t: str, opts: dict[str, str]) -> Action:
    to = opts.get("--to-destination") or opts.get("--to-source") or opts.get("--to-ports") or opts.get("--to", "")
    addr = port = None
    if t == "DNAT" and to:
        host, _, port_t = to.rpartition(":") if (to.count(":") == 1 or to.startswith("[")) else (to, "", "")
        try:
            addr = V.parse_ip(host.split("-")[0])[0]
            port = int(port_t.split("-")[0]) if port_t else None
        except ValueError:
            addr = None
    elif t == "REDIRECT" and to:
        port = int(to.split("-")[0]) if to.split("-")[0].isdigit() else None
    return Action(Kind.NAT, t.lower(), f"to {to}".strip() if to else "", nat_addr=addr, nat_port=port)


def _mark_set(opts: dict[str, str]) -> MarkSet:
    def vm(text: str) -> tuple[int, int]:
        v, _, m = text.partition("/")
        return int(v, 0), int(m, 0) if m else 0xFFFF_FFFF

    if "--set-xmark" in opts:
        v, m = vm(opts["--set-xmark"])
        return MarkSet(v, m)
    if "--set-mark" in opts:
        v, m = vm(opts["--set-mark"])
        return MarkSet(v, m | v)
    if "--or-mark" in opts:
        v = int(opts["--or-mark"], 0)
        return MarkSet(v, v)
    if "--and-mark" in opts:
        return MarkSet(0, ~int(opts["--and-mark"], 0) & 0xFFFF_FFFF)
    if "--xor-mark" in opts:
        return MarkSet(int(opts["--xor-mark"], 0), 0)
    return MarkSet(-1, 0)


def _split(line: str) -> list[str]:
    return shlex.split(line, comments=False, posix=True)


def _block_family(lines: list[str]) -> int:
    """Guess the family of a dump without a ``# Generated by`` header from its addresses."""
    text = "\n".join(lines)
    addr = r"(?:-s|-d|--source|--destination|--src-range|--dst-range|--to-destination|--to-source)\s+(?:!\s*)?"
    if re.search(addr + r"\d+\.\d+\.\d+\.\d+", text):
        return 4
    if re.search(addr + r"[0-9a-fA-F]*:[0-9a-fA-F:.]*", text) or "--icmpv6-type" in text:
        return 6
    return 4


def read_iptables_save(text: str, path: str, sink: DiagnosticSink, ipsets: IpsetResolver | None = None,
                       family: int | None = None, backend: Backend = Backend.IPTABLES) -> list[Table]:
    """Parse ``iptables-save`` / ``ip6tables-save`` output (several dumps may be concatenated)."""
    lines = text.splitlines()
    builder = IptBuilder(sink, ipsets, backend)
    fam_hint: int | None = family
    table: str | None = None
    fam = 4
    for n, raw in enumerate(lines, 1):
        line = raw.strip()
        loc = Location(path, n)
        if not line:
            continue
        if line.startswith("#"):
            if "Generated by" in line:
                if family is None:
                    fam_hint = 6 if "ip6tables" in line else 4
                builder.backend = (Backend.IPTABLES_NFT if "(nf_tables)" in line else Backend.IPTABLES)
            continue
        if line.startswith("*"):
            table = line[1:].strip()
            block = []
            for later in lines[n:]:
                if later.strip() == "COMMIT":
                    break
                block.append(later)
            fam = fam_hint if fam_hint is not None else _block_family(block)
            builder.reset_table(fam, table, loc)
            continue
        if line == "COMMIT":
            table = None
            continue
        if table is None:
            sink.error("RWD-HOSTFW-018", f"line outside a '*table' block: {line[:60]!r}", loc)
            continue
        if line.startswith(":"):
            parts = line[1:].split()
            if not parts:
                sink.error("RWD-HOSTFW-019", "empty chain declaration", loc)
                continue
            builder.declare(builder.table(fam, table, loc), parts[0], parts[1] if len(parts) > 1 else "-", loc)
            continue
        counters = None
        m = re.match(r"^\[(\d+):(\d+)\]\s*", line)
        if m:
            counters = (int(m.group(1)), int(m.group(2)))
            line = line[m.end():]
        try:
            words = _split(line)
        except ValueError as exc:
            sink.error("RWD-HOSTFW-020", f"bad quoting: {exc}", loc)
            continue
        if not words or not words[0].startswith("-"):
            sink.error("RWD-HOSTFW-021", f"unrecognised line: {line[:60]!r}", loc)
            continue
        before = sum(len(c.rules) for c in builder.table(fam, table, loc).chains.values())
        builder.command(fam, table, words, loc, line)
        if counters is not None:
            t = builder.table(fam, table, loc)
            if sum(len(c.rules) for c in t.chains.values()) > before:
                chain = t.chains.get(words[1]) if len(words) > 1 else None
                if chain is not None and chain.rules:
                    chain.rules[-1].counters = counters
    return builder.finish()


SCRIPT_CMD = re.compile(r"^(?:sudo\s+)?(?:\S*/)?(ip6?tables)(?:-legacy|-nft)?\s")
ASSIGN = re.compile(r"^(?:export\s+|readonly\s+)?([A-Za-z_][A-Za-z0-9_]*)=(\S*)\s*$")


def _logical_lines(text: str) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    buf, start = "", 0
    for n, raw in enumerate(text.splitlines(), 1):
        if not buf:
            start = n
        if raw.rstrip().endswith("\\"):
            buf += raw.rstrip()[:-1] + " "
            continue
        out.append((start, buf + raw))
        buf = ""
    if buf:
        out.append((start, buf))
    return out


def read_iptables_script(text: str, path: str, sink: DiagnosticSink,
                         ipsets: IpsetResolver | None = None) -> list[Table]:
    """Parse a shell script of ``iptables``/``ip6tables`` commands (simple ``VAR=value`` expanded)."""
    builder = IptBuilder(sink, ipsets, Backend.IPTABLES)
    variables: dict[str, str] = {}
    subst: Callable[[re.Match[str]], str] = lambda m: variables.get(m.group(1) or m.group(2), m.group(0))  # noqa: E731
    for n, raw in _logical_lines(text):
        line = raw.strip()
        loc = Location(path, n)
        if not line or line.startswith("#"):
            continue
        am = ASSIGN.match(line)
        if am:
            variables[am.group(1)] = am.group(2).strip("'\"")
            continue
        line = re.sub(r"\$\{(\w+)\}|\$(\w+)", subst, line)
        m = SCRIPT_CMD.match(line + " ")
        if not m:
            sink.info("RWD-HOSTFW-022", f"not an iptables command, ignored: {line[:60]!r}", loc)
            continue
        try:
            words = _split(line)[1:]
            if (words and words[0] in ("iptables", "ip6tables")) or (words and words[0].endswith("tables")):
                words = words[1:]
        except ValueError as exc:
            sink.error("RWD-HOSTFW-020", f"bad quoting: {exc}", loc)
            continue
        family = 6 if m.group(1) == "ip6tables" else 4
        table = "filter"
        rest: list[str] = []
        k = 0
        while k < len(words):
            w = words[k]
            if w in ("-t", "--table") and k + 1 < len(words):
                table = words[k + 1]
                k += 2
                continue
            if w in ("-w", "--wait") and k + 1 < len(words) and words[k + 1].isdigit():
                k += 2
                continue
            if w in ("-w", "--wait", "-v", "--verbose", "-n", "--numeric"):
                k += 1
                continue
            rest.append(w)
            k += 1
        builder.command(family, table, rest, loc, line)
    return builder.finish()
