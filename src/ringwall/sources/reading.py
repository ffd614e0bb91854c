"""One reading discipline for every input file ringwall reads.

Every reader (manifests, host rulesets, ipset dumps, sshd configs and their ``Include``s,
WireGuard, Corefiles, intent files) gets its text through :func:`read_input`, so that every
input is refused the same way, with one ``FILE:LINE: error:`` diagnostic and never an
exception or a hang:

- only regular files are read (FIFOs, devices and sockets would block or never end);
  symlinks are followed, a symlink loop is an error, not a hang;
- a file larger than :data:`MAX_INPUT_BYTES` is refused before it is read;
- binary content (NUL bytes, ELF, gzip, zip, PNG, UTF-16/32) and invalid UTF-8 are refused,
  with the line of the first offending byte;
- line-oriented formats may ask for :data:`MAX_LINE_CHARS`: no real firewall, sshd, WireGuard
  or Corefile line is near it, and refusing keeps every reader linear.

The text of a file is read once per process (a small cache keyed by the file's identity), so
that content sniffing by several layers does not read a file several times, and the same
refusal is reported once (the sink drops identical diagnostics).
"""

from __future__ import annotations

import os
import stat
import sys
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ringwall.model.diagnostics import DiagnosticSink
from ringwall.model.location import Location

MAX_INPUT_BYTES = 64 * 1024 * 1024
"""Largest input file read (64 MiB): a kube-proxy iptables-save of 10,000 services is ~30 MiB."""
MAX_LINE_CHARS = 1024 * 1024
"""Longest line of a line-oriented format (firewall rules, sshd, WireGuard, Corefile, ipset)."""
MAX_NESTING = 256
"""Deepest nesting accepted in a YAML/JSON document or an nft block (the API server allows less)."""

_MAGIC = (
    (b"\x7fELF", "an ELF executable"),
    (b"\x1f\x8b", "gzip data"),
    (b"PK\x03\x04", "a zip archive"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xfe", "UTF-16 text (convert it to UTF-8)"),
    (b"\xfe\xff", "UTF-16 text (convert it to UTF-8)"),
    (b"\x00\x00\xfe\xff", "UTF-32 text (convert it to UTF-8)"),
    (b"BZh", "bzip2 data"),
    (b"\xfd7zXZ\x00", "xz data"),
    (b"\x28\xb5\x2f\xfd", "zstd data"),
)


@dataclass(frozen=True, slots=True)
class _Read:
    text: str | None
    code: str
    message: str
    line: int | None


_CACHE: OrderedDict[tuple[str, int, int, int, int], _Read] = OrderedDict()
_CACHE_SIZE = 128
_stdin: tuple[object, _Read] | None = None


def _kind_of(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "not a regular file"


def decode_input(data: bytes, *, line_limit: int | None = None) -> _Read:
    """Bytes to text, or the reason they are not text ringwall can read."""
    for magic, what in _MAGIC:
        if data.startswith(magic):
            return _Read(None, "input.binary", f"binary content ({what}); not read", 1)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        return _Read(None, "input.binary", "binary content (NUL byte); not read", line)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        byte = data[exc.start]
        return _Read(None, "input.encoding",
                     f"not UTF-8 text (byte 0x{byte:02x} at column {column}); not read", line)
    if line_limit is not None and len(text) > line_limit:
        return _long_line(text, line_limit)
    return _Read(text, "", "", None)


def _read_stdin(line_limit: int | None) -> _Read:
    """Stdin is read once per stream (several readers may be given ``-``)."""
    global _stdin
    if _stdin is None or _stdin[0] is not sys.stdin:
        buffer = getattr(sys.stdin, "buffer", None)
        data = buffer.read(MAX_INPUT_BYTES + 1) if buffer is not None else \
            sys.stdin.read(MAX_INPUT_BYTES + 1).encode("utf-8", "surrogatepass")
        if len(data) > MAX_INPUT_BYTES:
            result = _Read(None, "input.too-large", f"more than {MAX_INPUT_BYTES // (1024 * 1024)} MiB; not read",
                           None)
        else:
            result = decode_input(data)
        _stdin = (sys.stdin, result)
    result = _stdin[1]
    if result.text is not None and line_limit is not None and len(result.text) > line_limit:
        return decode_input(result.text.encode("utf-8", "surrogatepass"), line_limit=line_limit)
    return result


def _read_file(path: Path, line_limit: int | None) -> _Read:
    try:
        st = os.stat(path)
    except OSError as exc:
        return _Read(None, "input.unreadable", f"cannot read: {exc.strerror or exc}", None)
    if not stat.S_ISREG(st.st_mode):
        return _Read(None, "input.not-file", f"{_kind_of(st.st_mode)}, not a regular file; not read", None)
    if st.st_size > MAX_INPUT_BYTES:
        return _Read(None, "input.too-large", f"{st.st_size} bytes exceeds the limit of "
                     f"{MAX_INPUT_BYTES // (1024 * 1024)} MiB; not read", None)
    key = (str(path), st.st_dev, st.st_ino, st.st_mtime_ns, line_limit or 0)
    cached = _CACHE.get(key)
    if cached is not None:
        _CACHE.move_to_end(key)
        return cached
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_INPUT_BYTES + 1)
    except OSError as exc:
        return _Read(None, "input.unreadable", f"cannot read: {exc.strerror or exc}", None)
    if len(data) > MAX_INPUT_BYTES:  # grew since stat
        result = _Read(None, "input.too-large", f"exceeds the limit of {MAX_INPUT_BYTES // (1024 * 1024)} MiB; "
                       "not read", None)
    else:
        result = decode_input(data, line_limit=line_limit)
    _CACHE[key] = result
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return result


def read_input(path: str | Path, sink: DiagnosticSink | None, *, line_limit: int | None = None,
               code: str | None = None, warn: bool = False) -> str | None:
    """The text of ``path`` (``-`` is stdin), or None after one diagnostic saying why not.

    ``code`` replaces the generic diagnostic code for readers that have their own (the host
    firewall's RWD-HOSTFW-001, for instance); ``sink`` None reads silently (content sniffing);
    ``warn`` makes the refusal a warning (a stray file met while walking a folder).
    """
    name = str(path)
    result = _read_stdin(line_limit) if name == "-" else _read_file(Path(path), line_limit)
    if result.text is None and sink is not None:
        report = sink.warning if warn else sink.error
        report(code or result.code, result.message, Location(name, result.line))
    return result.text


def read_input_or_reason(path: str | Path, *, line_limit: int | None = None) -> tuple[str | None, str]:
    """The text of ``path``, or None and why not as ``FILE[:LINE]: message``: for readers that
    report through their own error type rather than a sink (intent files, saved host dumps)."""
    name = str(path)
    result = _read_stdin(line_limit) if name == "-" else _read_file(Path(path), line_limit)
    if result.text is not None:
        return result.text, ""
    return None, f"{Location(name, result.line)}: {result.message}"


def lines_within_limit(text: str, path: str | Path, sink: DiagnosticSink, *, limit: int = MAX_LINE_CHARS,
                       code: str | None = None) -> bool:
    """Whether every line of ``text`` is at most ``limit`` characters; one diagnostic if not.

    For readers that learn only from the content whether the format is line-oriented."""
    if len(text) <= limit:
        return True
    checked = _long_line(text, limit)
    if checked.text is None:
        sink.error(code or checked.code, checked.message, Location(str(path), checked.line))
        return False
    return True


def _long_line(text: str, limit: int) -> _Read:
    for line, piece in enumerate(text.split("\n"), 1):
        if len(piece) > limit:
            return _Read(None, "input.too-long",
                         f"line of {len(piece)} characters exceeds the limit of {limit}; not read", line)
    return _Read(text, "", "", None)


def input_head(path: str | Path, size: int = 16384) -> str:
    """The first ``size`` characters of a readable input, "" otherwise: for content sniffing."""
    text = read_input(path, None)
    return text[:size] if text else ""


def walk_inputs(path: Path, sink: DiagnosticSink | None = None) -> Iterator[Path]:
    """The files under ``path``, sorted, hidden entries skipped, iteratively and loop-free.

    A directory reached twice through symlinks is walked once (a symlink loop would otherwise
    never end); an entry that is not a regular file is still yielded, so that the reader
    reports it (a FIFO in a folder is refused, not silently skipped).
    """
    seen: set[tuple[int, int]] = set()
    stack: list[Path] = [path]
    while stack:
        current = stack.pop()
        try:
            st = os.stat(current)
        except OSError as exc:
            if sink is not None:
                sink.error("input.unreadable", f"cannot read: {exc.strerror or exc}", Location(str(current)))
            continue
        if not stat.S_ISDIR(st.st_mode):
            yield current
            continue
        ident = (st.st_dev, st.st_ino)
        if ident in seen:
            if sink is not None:
                sink.warning("input.loop", "folder reached again through a symlink; read once",
                             Location(str(current)))
            continue
        seen.add(ident)
        try:
            children = sorted(current.iterdir())
        except OSError as exc:
            if sink is not None:
                sink.error("input.unreadable", f"cannot list folder: {exc.strerror or exc}", Location(str(current)))
            continue
        stack.extend(reversed([c for c in children if not c.name.startswith(".")]))
