"""Django's Redis cache, failing open: when Redis is unreachable a read is a miss and a write is
dropped (logged), so filing, logging in and every page keep working while Redis is down. The
price is that rate limits and live progress are not enforced or shown until Redis is back."""

from __future__ import annotations

import functools
import logging

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)
UNAVAILABLE = (RedisConnectionError, RedisTimeoutError)


def _fail_open(fallback):
    def decorate(method):
        @functools.wraps(method)
        def wrapped(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except UNAVAILABLE as exc:
                logger.warning("Cache unavailable, %s skipped: %s", method.__name__, exc)
                return fallback(*args, **kwargs)

        return wrapped

    return decorate


def _missing_counter(key, *args, **kwargs):
    raise ValueError(f"Key {key!r} not found (cache unavailable).")


def _computed_default(key, default, *args, **kwargs):
    return default() if callable(default) else default


class ResilientRedisCache(RedisCache):
    get = _fail_open(lambda key, default=None, version=None: default)(RedisCache.get)
    get_many = _fail_open(lambda keys, version=None: {})(RedisCache.get_many)
    has_key = _fail_open(lambda key, version=None: False)(RedisCache.has_key)
    set = _fail_open(lambda *a, **k: None)(RedisCache.set)
    set_many = _fail_open(lambda data, *a, **k: list(data))(RedisCache.set_many)
    add = _fail_open(lambda *a, **k: False)(RedisCache.add)
    touch = _fail_open(lambda *a, **k: False)(RedisCache.touch)
    delete = _fail_open(lambda *a, **k: False)(RedisCache.delete)
    delete_many = _fail_open(lambda *a, **k: None)(RedisCache.delete_many)
    incr = _fail_open(_missing_counter)(RedisCache.incr)
    get_or_set = _fail_open(_computed_default)(RedisCache.get_or_set)
