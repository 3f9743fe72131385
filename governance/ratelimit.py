"""Fixed-window counters per client address, kept in the cache (Redis in production).

Used by the login page and the API token endpoint (one shared counter, `login_rate_exceeded`,
LOGIN_RATE_PER_MINUTE attempts a minute per address), the public report page (reports per ten
minutes) and the survey page. The window is part of the key, so counters expire on their own.
"""

import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

from .middleware import client_ip

LOGIN_SCOPE = "login"
LOGIN_WINDOW = 60  # seconds: the setting counts attempts per minute


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


def login_rate_exceeded(request) -> bool:
    """Count one login attempt (page or token endpoint) from this address; True once the address
    has tried more than LOGIN_RATE_PER_MINUTE times this minute (password spraying across accounts)."""
    return hit(request, LOGIN_SCOPE, LOGIN_WINDOW) > settings.LOGIN_RATE_PER_MINUTE


class LoginRateThrottle(BaseThrottle):
    """The token endpoint's throttle: the login page's counter and setting (answers 429)."""

    def allow_request(self, request, view) -> bool:
        return not login_rate_exceeded(getattr(request, "_request", request))

    def wait(self) -> float:
        return LOGIN_WINDOW - time.time() % LOGIN_WINDOW
