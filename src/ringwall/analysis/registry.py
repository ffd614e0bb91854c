"""Named registries: how layers join ``scan``, the flow model and ``explain`` without changes there.

Each registry keeps, per layer name, the first function registered, and lists them outside-in
(``LAYER_ORDER``), unknown names last in registration order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

LAYER_ORDER = ("netpol", "hostfw", "mesh", "gateway", "dns", "access")
"""Outside-in is how people read an estate; reports list layers in this order."""

F = TypeVar("F")


class Registry(Generic[F]):
    def __init__(self) -> None:
        self._items: list[tuple[str, F]] = []

    def register(self, name: str) -> Callable[[F], F]:
        def deco(fn: F) -> F:
            if all(n != name for n, _ in self._items):
                self._items.append((name, fn))
            return fn
        return deco

    def items(self) -> list[tuple[str, F]]:
        order = {name: i for i, name in enumerate(LAYER_ORDER)}
        return sorted(self._items, key=lambda item: order.get(item[0], len(order)))
