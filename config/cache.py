"""The shared cache (Redis in production), falling back to each process's memory.

The cache holds the sign-in rate limits, the second-factor codes already used and the
workers' last runs. With Redis unreachable, django-redis would either raise (every page
that signs someone in becomes a 500) or, with IGNORE_EXCEPTIONS, answer "nothing stored"
to everything, which allauth's rate limiter reads as "locked" (every sign-in a 429).
Instead, while Redis is down this backend uses a local-memory cache: rate limits keep
counting, per process, and nobody is locked out by the outage. After a failure it leaves
Redis alone for a few seconds, so an outage costs one failed connection, not one a call.
"""

import logging
import time

from django.core.cache.backends.locmem import LocMemCache
from django_redis.cache import RedisCache
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNREACHABLE = (ConnectionInterrupted, RedisConnectionError, RedisTimeoutError, OSError)
#: Seconds to use the local fallback only, after Redis failed to answer.
RETRY_AFTER_SECONDS = 5


def _with_fallback(name):
    def method(self, *args, **kwargs):
        if time.monotonic() >= self._redis_down_until:
            try:
                return getattr(super(RedisCacheWithFallback, self), name)(*args, **kwargs)
            except UNREACHABLE as error:
                self._redis_down_until = time.monotonic() + RETRY_AFTER_SECONDS
                logger.error("Redis cache unreachable (%r); using this process's memory", error)
        return getattr(self._fallback, name)(*args, **kwargs)

    method.__name__ = name
    return method


class RedisCacheWithFallback(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._redis_down_until = 0.0
        self._fallback = LocMemCache("nomflow-fallback", {"TIMEOUT": params.get("TIMEOUT", 300)})

    add = _with_fallback("add")
    get = _with_fallback("get")
    set = _with_fallback("set")
    touch = _with_fallback("touch")
    delete = _with_fallback("delete")
    get_many = _with_fallback("get_many")
    set_many = _with_fallback("set_many")
    delete_many = _with_fallback("delete_many")
    has_key = _with_fallback("has_key")
    incr = _with_fallback("incr")
    decr = _with_fallback("decr")
    clear = _with_fallback("clear")
