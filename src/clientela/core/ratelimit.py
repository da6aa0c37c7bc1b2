"""Fixed-window counters in the shared cache (database cache locally, Redis when scaled out)."""

from __future__ import annotations

import hashlib
import time

from django.core.cache import cache


def _key(scope: str, ident: str, window: int) -> str:
    digest = hashlib.sha256(ident.encode()).hexdigest()[:32]
    return f"rl:{scope}:{digest}:{int(time.time()) // window}"


def hits(scope: str, ident: str, window: int) -> int:
    return int(cache.get(_key(scope, ident, window), 0))


def hit(scope: str, ident: str, window: int) -> int:
    """Count one event for ``ident`` in the current window; returns the new count."""
    key = _key(scope, ident, window)
    if cache.add(key, 1, timeout=window + 1):
        return 1
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window + 1)
        return 1


def reset(scope: str, ident: str, window: int) -> None:
    cache.delete(_key(scope, ident, window))
