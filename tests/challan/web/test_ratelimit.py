"""Rate limits on public look-ups: in memory per worker, or shared through the real Redis by every
portal instance, and let through (with one warning) when Redis stops answering."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import socket
import threading
import time

import pytest
import redis
from fastapi.testclient import TestClient

from challan.web.app import create_app
from challan.web.ratelimit import MemoryRateLimiter, RedisRateLimiter, build_limiter
from challan.web.settings import PortalSettings
from tests.challan.conftest import _forget

LOOKUP = ("/api/v1/challans", {"plate": "LEH5789"})


@pytest.fixture
def db_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'records.db'}"
    yield url
    _forget(url)


@pytest.fixture
def address(redis_url):
    """A client address of this test's own (and others that start with it), so that runs sharing the
    Redis database never meet; their counters are removed afterwards."""
    host = f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.{secrets.randbelow(25) + 1}"
    yield host
    server = redis.Redis.from_url(redis_url)
    for key in server.scan_iter(match=f"anpr:ratelimit:*:{host}*"):
        server.delete(key)
    server.close()


def lookup(client: TestClient) -> int:
    return client.get(LOOKUP[0], params=LOOKUP[1]).status_code


def test_memory_limiter_refills_over_time():
    limiter = MemoryRateLimiter(per_minute=2)
    assert [limiter.hit("a", now=0.0), limiter.hit("a", now=0.0), limiter.hit("a", now=0.0)] == [
        None,
        None,
        30,
    ]
    assert limiter.hit("b", now=0.0) is None  # per address
    assert limiter.hit("a", now=29.0) == 1 and limiter.hit("a", now=31.0) is None
    assert MemoryRateLimiter(per_minute=0).hit("a") is None


def test_redis_is_used_only_when_configured(settings):
    assert PortalSettings.from_env({}).redis_url is None
    assert (
        PortalSettings.from_env({"ANPR_REDIS_URL": "redis://cache:6379/2"}).redis_url
        == "redis://cache:6379/2"
    )
    memory = build_limiter(settings, name="lookups", per_minute=5)
    shared = build_limiter(
        settings.model_copy(update={"redis_url": "redis://cache:6379/2"}), name="lookups", per_minute=5
    )
    assert isinstance(memory, MemoryRateLimiter) and memory.per_minute == 5
    assert isinstance(shared, RedisRateLimiter) and shared.prefix == "anpr:ratelimit:lookups:"


def test_without_redis_each_instance_counts_on_its_own(settings, seed):
    limited = settings.model_copy(update={"lookups_per_minute": 2})
    client = ("10.0.0.7", 50000)
    with (
        TestClient(create_app(limited), client=client) as first,
        TestClient(create_app(limited), client=client) as second,
    ):
        assert [lookup(first), lookup(first), lookup(first)] == [200, 200, 429]
        assert [lookup(second), lookup(second), lookup(second)] == [200, 200, 429]


def test_two_instances_share_one_limit_through_redis(settings, seed, redis_url, address):
    shared = settings.model_copy(update={"lookups_per_minute": 3, "redis_url": redis_url})
    with (
        TestClient(create_app(shared), client=(address, 50000)) as first,
        TestClient(create_app(shared), client=(address, 50001)) as second,
        TestClient(create_app(shared), client=(f"{address}1", 50002)) as elsewhere,
    ):
        assert [lookup(first), lookup(second), lookup(first)] == [200, 200, 200]
        refused = second.get(LOOKUP[0], params=LOOKUP[1])
        assert refused.status_code == 429
        wait = int(refused.headers["retry-after"])
        assert 55 <= wait <= 60
        assert refused.json() == {"detail": f"Too many requests from your address; try again in {wait} s"}
        assert lookup(first) == 429
        assert [lookup(elsewhere), lookup(elsewhere)] == [200, 200]  # another address, another count
    server = redis.Redis.from_url(redis_url)
    assert server.get(f"anpr:ratelimit:lookups:{address}1") == b"2"
    assert 55_000 <= server.pttl(f"anpr:ratelimit:lookups:{address}") <= 60_000
    server.close()


def test_redis_limit_resets_after_the_window(redis_url, address):
    async def scenario():
        limiter = RedisRateLimiter(redis_url, name="test", per_minute=2, window_s=0.5)
        counted = [await limiter.check(address) for _ in range(3)]
        other = await limiter.check(f"{address}1")
        await asyncio.sleep(0.6)
        after = [await limiter.check(address) for _ in range(3)]
        await limiter.aclose()
        return counted, other, after

    counted, other, after = asyncio.run(scenario())
    assert counted == [None, None, 1]
    assert other is None
    assert after == [None, None, 1]


class Relay:
    """A TCP relay in front of the real Redis that the test can cut and restore, as if the Redis
    server went away mid-run and came back."""

    def __init__(self, redis_url: str):
        target = redis.Redis.from_url(redis_url).connection_pool.connection_kwargs
        self.target = (target.get("host", "127.0.0.1"), target.get("port", 6379))
        self.db = target.get("db", 0)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)
        self.url = f"redis://127.0.0.1:{self.listener.getsockname()[1]}/{self.db}"
        self.up = True
        self.stopped = False
        self.sockets: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while not self.stopped:
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            if not self.up:
                conn.close()
                continue
            upstream = socket.create_connection(self.target)
            self.sockets += [conn, upstream]
            for a, b in ((conn, upstream), (upstream, conn)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass

    def cut(self) -> None:
        self.up = False
        for s in self.sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()
        self.sockets.clear()

    def close(self) -> None:
        self.cut()
        self.stopped = True
        self.thread.join()
        self.listener.close()


@pytest.fixture
def relay(redis_url):
    relay = Relay(redis_url)
    yield relay
    relay.close()


def test_when_redis_goes_away_lookups_are_let_through_with_one_warning(
    settings, seed, relay, address, caplog, monkeypatch
):
    monkeypatch.setattr(RedisRateLimiter, "RETRY_S", 0.3)
    shared = settings.model_copy(update={"lookups_per_minute": 2, "redis_url": relay.url})
    caplog.set_level(logging.WARNING, logger="challan.web.ratelimit")
    with TestClient(create_app(shared), client=(address, 50000)) as client:
        assert [lookup(client), lookup(client), lookup(client)] == [200, 200, 429]
        relay.cut()
        assert [lookup(client) for _ in range(4)] == [200, 200, 200, 200]
        time.sleep(0.35)
        assert lookup(client) == 200  # tried Redis again, still away
        warnings = [r.getMessage() for r in caplog.records if r.name == "challan.web.ratelimit"]
        assert len(warnings) == 1 and warnings[0].startswith("rate limit off: Redis did not answer")
        relay.up = True
        time.sleep(0.35)
        assert lookup(client) == 429  # the count kept in Redis holds again
    warnings = [r.getMessage() for r in caplog.records if r.name == "challan.web.ratelimit"]
    assert warnings[1:] == ["rate limit back on: Redis answers again"]
