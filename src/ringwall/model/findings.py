"""Checks and findings.

A ``Check`` is the stable description (ID, name, default severity, remediation) that lives
next to the code that raises it; registering it makes it appear in ``ringwall checks --list``
and in SARIF rule metadata. A ``Finding`` is one occurrence with its evidence.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from ringwall.model.location import Location


class Severity(enum.IntEnum):
    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(
                f"unknown severity {text!r} (expected one of: {', '.join(s.label for s in cls)})"
            ) from None

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Check:
    id: str
    name: str
    severity: Severity
    layer: str
    summary: str
    remediation: str
    help_uri: str = ""
    tags: tuple[str, ...] = ()


_REGISTRY: dict[str, Check] = {}


def register(check: Check) -> Check:
    """Add a check to the catalogue; IDs are unique forever."""
    existing = _REGISTRY.get(check.id)
    if existing is not None and existing != check:
        raise ValueError(f"check ID {check.id} registered twice with different metadata")
    _REGISTRY[check.id] = check
    return check


def catalogue() -> list[Check]:
    """Every registered check, by ID."""
    return sorted(_REGISTRY.values(), key=lambda c: c.id)


def lookup(check_id: str) -> Check:
    return _REGISTRY[check_id]


@dataclass(frozen=True, slots=True)
class Finding:
    check: Check
    message: str
    locations: tuple[Location, ...]
    subject: str
    """The logical object the finding is about (``Deployment/shop/web``): stable across edits."""
    detail: str = ""
    """What distinguishes this finding from others of the same check on the same subject."""
    severity: Severity | None = None
    properties: dict[str, object] = field(default_factory=dict, hash=False, compare=False)

    @property
    def effective_severity(self) -> Severity:
        return self.check.severity if self.severity is None else self.severity

    @property
    def fingerprint(self) -> str:
        """SHA-256 of check, file, object and detail: survives line shifts."""
        uri = self.locations[0].path if self.locations else ""
        key = f"{self.check.id}|{uri}|{self.subject}|{self.detail}"
        return hashlib.sha256(key.encode()).hexdigest()

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.check.id,
            "name": self.check.name,
            "severity": self.effective_severity.label,
            "layer": self.check.layer,
            "message": self.message,
            "subject": self.subject,
            "locations": [loc.to_json() for loc in self.locations],
            "remediation": self.check.remediation,
            "fingerprint": self.fingerprint,
            **({"properties": self.properties} if self.properties else {}),
        }


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Most severe first, then by ID, file, line and subject: a stable order for every report."""
    return sorted(
        findings,
        key=lambda f: (
            -f.effective_severity,
            f.check.id,
            f.locations[0].path if f.locations else "",
            (f.locations[0].line or 0) if f.locations else 0,
            f.subject,
            f.detail,
        ),
    )
