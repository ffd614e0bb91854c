"""Kubernetes label selectors, exactly as the API defines them.

``matchLabels`` and ``matchExpressions`` are ANDed; an empty selector matches everything;
``NotIn`` and ``DoesNotExist`` match objects that do not carry the key at all. A ``None``
selector (absent or null) is handled by the callers, because its meaning depends on the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


@dataclass(frozen=True, slots=True)
class Requirement:
    key: str
    operator: str
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        op = self.operator
        if op == "In":
            return self.key in labels and labels[self.key] in self.values
        if op == "NotIn":
            return self.key not in labels or labels[self.key] not in self.values
        if op == "Exists":
            return self.key in labels
        return self.key not in labels  # DoesNotExist

    def __str__(self) -> str:
        if self.operator == "Exists":
            return self.key
        if self.operator == "DoesNotExist":
            return f"!{self.key}"
        vals = ",".join(sorted(self.values))
        if self.operator == "In" and len(self.values) == 1:
            return f"{self.key}={vals}"
        if self.operator == "NotIn" and len(self.values) == 1:
            return f"{self.key}!={vals}"
        return f"{self.key} {'in' if self.operator == 'In' else 'notin'} ({vals})"


@dataclass(frozen=True, slots=True)
class Selector:
    """A parsed label selector: a conjunction of requirements (matchLabels become ``In``)."""

    requirements: tuple[Requirement, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.requirements

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(r.matches(labels) for r in self.requirements)

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements) if self.requirements else "{}"

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(r.key for r in self.requirements)


EVERYTHING = Selector()


class SelectorError(ValueError):
    """A malformed selector; ``path`` is relative to the selector (``matchExpressions[0].values``)."""

    def __init__(self, message: str, path: tuple[str | int, ...] = ()) -> None:
        super().__init__(message)
        self.path = path


def parse_selector(raw: object) -> Selector:
    """Parse a LabelSelector object; raise ``SelectorError`` with the API's complaint."""
    if raw is None:
        return EVERYTHING
    if not isinstance(raw, dict):
        raise SelectorError("a label selector must be an object")
    reqs: list[Requirement] = []
    match_labels = raw.get("matchLabels") or {}
    if not isinstance(match_labels, dict):
        raise SelectorError("matchLabels must be a map of strings", ("matchLabels",))
    for key, value in match_labels.items():
        reqs.append(Requirement(str(key), "In", frozenset({_label_value(value)})))
    exprs = raw.get("matchExpressions") or []
    if not isinstance(exprs, list):
        raise SelectorError("matchExpressions must be a list", ("matchExpressions",))
    for i, expr in enumerate(exprs):
        if not isinstance(expr, dict):
            raise SelectorError("a requirement must be an object", ("matchExpressions", i))
        key = expr.get("key")
        op = expr.get("operator")
        values = expr.get("values") or []
        if not isinstance(key, str) or not key:
            raise SelectorError("key is required", ("matchExpressions", i, "key"))
        if op not in OPERATORS:
            raise SelectorError(
                f"operator {op!r} is not supported (In, NotIn, Exists, DoesNotExist)",
                ("matchExpressions", i, "operator"),
            )
        if not isinstance(values, list):
            raise SelectorError("values must be a list", ("matchExpressions", i, "values"))
        if op in ("In", "NotIn") and not values:
            raise SelectorError(
                f"values must be non-empty for operator {op}", ("matchExpressions", i, "values")
            )
        if op in ("Exists", "DoesNotExist") and values:
            raise SelectorError(
                f"values must be empty for operator {op}", ("matchExpressions", i, "values")
            )
        reqs.append(Requirement(key, op, frozenset(_label_value(v) for v in values)))
    return Selector(tuple(reqs))


def _label_value(value: object) -> str:
    """Label values are strings; YAML may have turned ``"true"`` or ``1`` into other types."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def normalize_labels(raw: object) -> dict[str, str]:
    if not isinstance(raw, dict):
        return {}
    return {str(k): _label_value(v) for k, v in raw.items()}
