"""Values each worker process keeps for a while instead of counting them on every request: the home page's
figures, and the knowledge that a list counts past its cap.

Kept per application (its `extensions`), so that two applications in one process — the tests make one per
database — never see each other's values; a value is counted again once older than its time, and a time of 0
keeps nothing. Each worker keeps its own: a value may lag the database by that time, never more.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import TypeVar

from flask import current_app

T = TypeVar("T")
# More keys than that (a crawler walking every filter of a list) and the oldest half is dropped.
MOST_KEYS = 2_000


def _store() -> dict[Hashable, tuple[float, object]]:
    return current_app.extensions.setdefault("kept_values", {})


def kept(key: Hashable, seconds: float, compute: Callable[[], T], keep_if: Callable[[T], bool] | None = None) -> T:
    """The value under `key` counted less than `seconds` ago by this worker, or `compute()`, kept from now (only
    when `keep_if(value)` holds, if given)."""
    if seconds <= 0:
        return compute()
    store = _store()
    now = time.monotonic()
    known = store.get(key)
    if known is not None and now - known[0] < seconds:
        return known[1]  # type: ignore[return-value]
    value = compute()
    if keep_if is None or keep_if(value):
        if len(store) >= MOST_KEYS:
            for old in sorted(store, key=lambda name: store[name][0])[: MOST_KEYS // 2]:
                del store[old]
        store[key] = (now, value)
    return value
