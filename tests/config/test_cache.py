"""The shared cache keeps working, per process, while Redis is unreachable."""

import shutil

import pytest

from config.cache import RedisCacheWithFallback
from tests.notifications.conftest import PrivateRedis

pytestmark = [pytest.mark.unit]


def unreachable_cache():
    # Nothing listens on port 1: every connection is refused at once.
    return RedisCacheWithFallback(
        "redis://127.0.0.1:1/0", {"OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1}}
    )


def test_with_redis_down_values_are_kept_in_the_process_memory():
    cache = unreachable_cache()

    assert cache.add("lock", True, timeout=5) is True
    assert cache.add("lock", True, timeout=5) is False  # the lock still excludes
    cache.set("attempts", [1, 2, 3])
    assert cache.get("attempts") == [1, 2, 3]
    cache.delete("lock")
    assert cache.get("lock") is None


def test_with_redis_up_values_go_to_redis(redis_url):
    cache = RedisCacheWithFallback(redis_url, {})
    cache.set("shared", "in redis")

    other_process = RedisCacheWithFallback(redis_url, {})
    assert other_process.get("shared") == "in redis"
    assert cache._fallback.get("shared") is None


@pytest.fixture
def redis_url(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = PrivateRedis(folder=tmp_path)
    server.start()
    yield server.url
    server.stop()
