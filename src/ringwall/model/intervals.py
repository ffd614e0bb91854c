"""Sets of integers as sorted, disjoint, non-adjacent closed intervals.

Ports (1-65535) and IP addresses (as integers) are both sets of this kind. Keeping one
canonical form makes equality a tuple comparison and every operation linear in the number of
intervals, never in the number of values.
"""

from __future__ import annotations

from collections.abc import Iterable

Interval = tuple[int, int]
Intervals = tuple[Interval, ...]


def normalize(items: Iterable[Interval]) -> Intervals:
    """Sort and merge overlapping or adjacent intervals into the canonical form."""
    ordered = sorted(i for i in items if i[0] <= i[1])
    if not ordered:
        return ()
    merged: list[list[int]] = [list(ordered[0])]
    for lo, hi in ordered[1:]:
        last = merged[-1]
        if lo <= last[1] + 1:
            if hi > last[1]:
                last[1] = hi
        else:
            merged.append([lo, hi])
    return tuple((a, b) for a, b in merged)


def union(a: Intervals, b: Intervals) -> Intervals:
    """Linear merge of two canonical sets (no sort: both are already ordered)."""
    if not a:
        return b
    if not b or a == b:
        return a
    out: list[list[int]] = []
    i = j = 0
    na, nb = len(a), len(b)
    while i < na or j < nb:
        if j >= nb or (i < na and a[i][0] <= b[j][0]):
            lo, hi = a[i]
            i += 1
        else:
            lo, hi = b[j]
            j += 1
        if out and lo <= out[-1][1] + 1:
            if hi > out[-1][1]:
                out[-1][1] = hi
        else:
            out.append([lo, hi])
    return tuple((x, y) for x, y in out)


def intersect(a: Intervals, b: Intervals) -> Intervals:
    if not a or not b:
        return ()
    if a == b:
        return a
    out: list[Interval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo = max(a[i][0], b[j][0])
        hi = min(a[i][1], b[j][1])
        if lo <= hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return tuple(out)


def subtract(a: Intervals, b: Intervals) -> Intervals:
    if not a or not b:
        return a
    out: list[Interval] = []
    j = 0
    for lo, hi in a:
        cur = lo
        while j < len(b) and b[j][1] < cur:
            j += 1
        k = j
        while k < len(b) and b[k][0] <= hi:
            if b[k][0] > cur:
                out.append((cur, b[k][0] - 1))
            cur = max(cur, b[k][1] + 1)
            if cur > hi:
                break
            k += 1
        if cur <= hi:
            out.append((cur, hi))
    return tuple(out)


def contains(a: Intervals, value: int) -> bool:
    """True when ``value`` lies in ``a`` (binary search)."""
    lo, hi = 0, len(a) - 1
    while lo <= hi:
        mid = (lo + hi) // 2
        if value < a[mid][0]:
            hi = mid - 1
        elif value > a[mid][1]:
            lo = mid + 1
        else:
            return True
    return False


def is_subset(a: Intervals, b: Intervals) -> bool:
    return not subtract(a, b)


def size(a: Intervals) -> int:
    return sum(hi - lo + 1 for lo, hi in a)
