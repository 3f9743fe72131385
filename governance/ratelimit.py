"""Fixed-window counters per client address, kept in the cache (Redis in production).

Used by the login page (attempts per minute) and the public report page (reports per ten
minutes). The window is part of the key, so counters expire on their own.
"""

import time

from django.core.cache import cache

from .middleware import client_ip


def _key(request, scope: str, window: int) -> str:
    return f"rate:{scope}:{client_ip(request)}:{int(time.time() // window)}"


def count(request, scope: str, window: int) -> int:
    """How many hits this address has made in the current window."""
    return cache.get(_key(request, scope, window)) or 0


def hit(request, scope: str, window: int) -> int:
    """Count one more hit and return the new total (atomic on Redis)."""
    key = _key(request, scope, window)
    cache.add(key, 0, timeout=window * 2)
    try:
        return cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=window * 2)
        return 1
