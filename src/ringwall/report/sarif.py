"""SARIF 2.1.0 output for findings (GitHub code scanning and other SARIF consumers).

The conventions are those of ``checks-catalogue.md`` §12:

* every check passed in ``checks`` becomes a ``reportingDescriptor`` so that consumers show
  its metadata even for rules that produced no result in this run; ``ruleIndex`` points into
  that list;
* Ringwall severities map to SARIF levels and to GitHub's ``security-severity`` scores;
  ``info`` checks carry no score, which makes them non-security ("recommendation") rules;
* Ringwall never writes ``primaryLocationLineHash`` (the upload action computes it from the
  file); it writes its own line-independent key under ``ringwall/findingKey/v1``;
* artifact URIs are repository-relative when a ``base_dir`` is given, because GitHub matches
  alerts across runs by path and absolute paths differ between checkouts;
* the Kubernetes identity of the object goes to ``logicalLocations`` so that the report still
  says *what* when it cannot say *where*.

The writer only reads ``Finding`` and ``Check`` objects; it computes nothing about the estate.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePath, PureWindowsPath
from typing import Any
from urllib.parse import quote

import orjson

from ringwall.model.findings import Check, Finding, Severity, sort_findings
from ringwall.model.location import Location

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
TOOL_NAME = "ringwall"
FINGERPRINT_KEY = "ringwall/findingKey/v1"
"""Versioned: changing what goes into the key means a new suffix, never a silent change."""

STDIN_URI = "stdin"

LEVELS: dict[Severity, str] = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}

SECURITY_SEVERITY: dict[Severity, str] = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "2.0",
}
"""GitHub reads these strings as CVSS-like scores; ``info`` is deliberately absent."""

_MAX_SHORT_DESCRIPTION = 1024  # GitHub truncates or rejects longer texts
_MAX_TAGS = 20  # GitHub's limit per rule
_SEMVER = re.compile(r"^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")
# Characters that may stay unescaped in a URI reference path (RFC 3986 pchar plus "/").
_URI_SAFE = "/:@!$&'()*+,;=~"


def to_sarif(
    findings: Sequence[Finding],
    *,
    checks: Sequence[Check],
    tool_version: str,
    base_dir: Path | None = None,
    automation_id: str = "ringwall/",
) -> dict[str, Any]:
    """Build a SARIF log (one run) for ``findings``.

    ``checks`` is the catalogue to describe; checks that raised a finding but are missing from
    it are added, so ``ruleIndex`` always resolves. ``base_dir`` is the directory artifact
    URIs are made relative to (normally the repository root). ``automation_id`` is GitHub's
    ``category/run-id``: a trailing slash means "category only".
    """
    rules, index = _rules(checks, (f.check for f in findings))
    driver: dict[str, Any] = {"name": TOOL_NAME, "version": tool_version, "rules": rules}
    if _SEMVER.match(tool_version):
        driver["semanticVersion"] = tool_version
    run: dict[str, Any] = {
        "tool": {"driver": driver},
        # Ringwall counts columns in characters, not in UTF-16 code units (the SARIF default).
        "columnKind": "unicodeCodePoints",
        "results": [_result(f, index, base_dir) for f in sort_findings(findings)],
    }
    if automation_id:
        run["automationDetails"] = {"id": automation_id}
    return {"$schema": SARIF_SCHEMA_URI, "version": SARIF_VERSION, "runs": [run]}


def dumps_sarif(log: dict[str, Any]) -> str:
    """Serialise deterministically: sorted keys, 2-space indent, UTF-8 text, trailing newline.

    Sorted keys make two runs over the same input byte-identical, so the file diffs cleanly
    and can serve as a golden output.
    """
    data = orjson.dumps(
        log, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=_jsonable
    )
    return data.decode() + "\n"


def finding_key(finding: Finding, uri: str) -> str:
    """The ``ringwall/findingKey/v1`` value: SHA-256 of ``ruleId|uri|object|detail``.

    It is computed over the SARIF artifact URI rather than the path as typed, so the key does
    not change when the same repository is scanned from another directory. For a relative
    POSIX path (the usual case) it equals ``Finding.fingerprint``.
    """
    key = f"{finding.check.id}|{uri}|{finding.subject}|{finding.detail}"
    return hashlib.sha256(key.encode()).hexdigest()


def artifact_uri(path: str, base_dir: Path | None = None) -> str:
    """The URI for a location path: relative to ``base_dir`` when under it, POSIX separators.

    ``-`` (stdin) becomes ``stdin``; synthetic paths with a scheme (``cluster:prod``) stay as
    given. An absolute path outside ``base_dir`` becomes a ``file://`` URI, the form GitHub can
    still rebase onto the checkout.
    """
    if path == "-":
        return STDIN_URI
    if _has_scheme(path):
        return path
    native = Path(path)
    if base_dir is not None:
        rel = _relative_to(native, base_dir)
        if rel is not None:
            return _quote(rel.as_posix())
    if native.is_absolute():
        return native.as_uri()
    return _quote(_posix(path))


def _rules(checks: Iterable[Check], used: Iterable[Check]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    by_id: dict[str, Check] = {}
    for check in checks:
        by_id.setdefault(check.id, check)
    for check in used:  # a check that fired must be describable even if not in the catalogue
        by_id.setdefault(check.id, check)
    ordered = sorted(by_id.values(), key=lambda c: c.id)
    return [_rule(c) for c in ordered], {c.id: i for i, c in enumerate(ordered)}


def _rule(check: Check) -> dict[str, Any]:
    summary = check.summary.strip() or check.name or check.id  # GitHub rejects empty strings
    remediation = check.remediation.strip() or summary
    tags = list(dict.fromkeys(t for t in ("security", check.layer, *check.tags) if t))[:_MAX_TAGS]
    properties: dict[str, Any] = {"tags": tags}
    security = SECURITY_SEVERITY.get(check.severity)
    if security is not None:
        properties["security-severity"] = security
    else:
        properties["problem.severity"] = "recommendation"
    markdown = f"{summary}\n\n**Remediation:** {remediation}"
    if check.help_uri:
        markdown += f"\n\n[Reference]({check.help_uri})"
    rule: dict[str, Any] = {
        "id": check.id,
        "shortDescription": {"text": _truncate(summary, _MAX_SHORT_DESCRIPTION)},
        "fullDescription": {"text": summary},
        "help": {"text": f"{summary}\n\nRemediation: {remediation}", "markdown": markdown},
        "defaultConfiguration": {"level": LEVELS[check.severity]},
        "properties": properties,
    }
    if check.name:
        rule["name"] = check.name
    if check.help_uri:
        rule["helpUri"] = check.help_uri
    return rule


def _result(finding: Finding, index: dict[str, int], base_dir: Path | None) -> dict[str, Any]:
    check = finding.check
    severity = finding.effective_severity
    uri = artifact_uri(finding.locations[0].path, base_dir) if finding.locations else ""
    if finding.locations:
        primary = _location(finding.locations[0], base_dir, fallback_obj=finding.subject)
        related = [
            {"id": i, **_location(loc, base_dir)} for i, loc in enumerate(finding.locations[1:], start=1)
        ]
    else:  # nothing to point at: still say which object it is about
        primary = {"logicalLocations": [_logical(finding.subject)]} if finding.subject else {}
        related = []
    result: dict[str, Any] = {
        "ruleId": check.id,
        "ruleIndex": index[check.id],
        "level": LEVELS[severity],
        "message": {"text": finding.message.strip() or check.summary or check.name or check.id},
        "locations": [primary] if primary else [],
        "partialFingerprints": {FINGERPRINT_KEY: finding_key(finding, uri)},
        "properties": {"layer": check.layer, "severity": severity.label, **finding.properties},
    }
    if related:
        result["relatedLocations"] = related
    return result


def _location(loc: Location, base_dir: Path | None, fallback_obj: str = "") -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": artifact_uri(loc.path, base_dir)}}
    if loc.line is not None and loc.line >= 1:  # SARIF regions need a line (or an offset)
        region: dict[str, Any] = {"startLine": loc.line}
        if loc.column is not None and loc.column >= 1:
            region["startColumn"] = loc.column
        if loc.end_line is not None and loc.end_line >= loc.line:
            region["endLine"] = loc.end_line
        physical["region"] = region
    out: dict[str, Any] = {"physicalLocation": physical}
    obj = loc.obj or fallback_obj
    if obj:
        out["logicalLocations"] = [_logical(obj)]
    return out


def _logical(obj: str) -> dict[str, str]:
    return {"fullyQualifiedName": obj, "kind": "object"}


def _relative_to(path: Path, base_dir: Path) -> PurePath | None:
    """``path`` relative to ``base_dir`` if it lies under it, else None.

    Relative paths are read from the current directory, as the user typed them. Lexical
    normalisation is tried first (keeps symlinked checkouts readable); resolving both sides
    catches the remaining spellings of the same place.
    """
    absolute = path if path.is_absolute() else Path.cwd() / path
    base = base_dir if base_dir.is_absolute() else Path.cwd() / base_dir
    candidates = [(Path(os.path.normpath(absolute)), Path(os.path.normpath(base)))]
    with contextlib.suppress(OSError):  # unreadable components: the lexical answer is all we have
        candidates.append((absolute.resolve(), base.resolve()))
    for p, b in candidates:
        if p.is_relative_to(b) and p != b:
            return p.relative_to(b)
    return None


def _has_scheme(path: str) -> bool:
    """``cluster:prod`` or ``file:///x`` but not a Windows drive (``C:\\x``)."""
    head, sep, _ = path.partition(":")
    return bool(sep) and len(head) > 1 and re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", head) is not None


def _posix(path: str) -> str:
    return PureWindowsPath(path).as_posix() if "\\" in path else path


def _quote(path: str) -> str:
    return quote(path, safe=_URI_SAFE)


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _jsonable(value: object) -> object:
    """Finding properties are free-form; give the odd types a stable JSON shape."""
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if isinstance(value, PurePath):
        return value.as_posix()
    return str(value)
