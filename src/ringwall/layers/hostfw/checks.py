"""RW-HOSTFW checks on one host's ruleset: structure, semantics, and Kubernetes-node pitfalls.

Each check asks the semantics (concrete traces or BDD sets), never the syntax, whether its
condition holds, and cites the rules that decide it. The checks live in ``checks_policy``,
``checks_structure`` and ``checks_exposure``, each with its metadata next to its logic. Checks
that need other host files (``ss -tuln``, ``sysctl -a``, an interface assignment) are not raised.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from ringwall.model.findings import Finding

from .checks_exposure import check_dnat, check_kubernetes, check_management_ports
from .checks_policy import check_default_deny, check_loopback_established
from .checks_structure import check_backends, check_hooks, check_misc, check_shadowing, check_structure
from .model import Ruleset

CHECKS: list[Callable[[Ruleset], Iterator[Finding]]] = [
    check_default_deny, check_loopback_established, check_backends, check_structure, check_shadowing,
    check_management_ports, check_dnat, check_hooks, check_misc, check_kubernetes,
]


def run_checks(rs: Ruleset) -> list[Finding]:
    out: list[Finding] = []
    for check in CHECKS:
        out.extend(check(rs))
    return out
