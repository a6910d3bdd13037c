"""Per-address rate limits on public look-ups and logins.

With a Redis URL in the settings (ANPR_REDIS_URL) the counters live in Redis, so every worker of
`anpr serve --workers N` and every portal behind the same proxy share one limit: a fixed window per
address, counted by one atomic script (INCR, and PEXPIRE when the window starts). Without one, each
worker keeps a token bucket in memory, and N workers allow N times the limit. If Redis stops
answering, requests are let through (one warning is logged) and Redis is tried again a few seconds
later: a broken counter should not take the look-ups down with it."""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from typing import Protocol

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import RedisError

from challan.web.settings import PortalSettings

log = logging.getLogger("challan.web.ratelimit")

# KEYS[1] the address's counter, ARGV[1] the window in ms; returns {count, ms left in the window}.
# The expiry is set when the count has none, so a key can never outlive its window by accident.
FIXED_WINDOW = """
local count = redis.call('INCR', KEYS[1])
local left = redis.call('PTTL', KEYS[1])
if left < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  left = tonumber(ARGV[1])
end
return {count, left}
"""


class RateLimiter(Protocol):
    per_minute: int

    async def check(self, client: str) -> int | None:
        """None when the request may go ahead; else the whole seconds to wait."""

    async def aclose(self) -> None: ...


def build_limiter(settings: PortalSettings, *, name: str, per_minute: int) -> RateLimiter:
    """Redis-backed when settings.redis_url is set, else in this process's memory."""
    if settings.redis_url:
        return RedisRateLimiter(settings.redis_url, name=name, per_minute=per_minute)
    return MemoryRateLimiter(per_minute)


class MemoryRateLimiter:
    """A token bucket per client address: `per_minute` requests a minute, bursts up to that many."""

    MAX_CLIENTS = 100_000

    def __init__(self, per_minute: int):
        self.per_minute = per_minute
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    async def check(self, client: str) -> int | None:
        return self.hit(client)

    async def aclose(self) -> None:
        pass

    def hit(self, client: str, now: float | None = None) -> int | None:
        """None when allowed; else the whole seconds to wait before the next request is."""
        if self.per_minute <= 0:
            return None
        now = time.monotonic() if now is None else now
        rate = self.per_minute / 60.0
        with self._lock:
            tokens, last = self._buckets.get(client, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - last) * rate)
            if tokens < 1.0:
                self._buckets[client] = (tokens, now)
                return max(1, math.ceil((1.0 - tokens) / rate))
            if len(self._buckets) >= self.MAX_CLIENTS and client not in self._buckets:
                self._forget_full(now, rate)
            self._buckets[client] = (tokens - 1.0, now)
            return None

    def _forget_full(self, now: float, rate: float) -> None:
        """Drop clients whose bucket has refilled (they are indistinguishable from new ones)."""
        full = [c for c, (t, last) in self._buckets.items() if t + (now - last) * rate >= self.per_minute]
        for client in full:
            del self._buckets[client]
        if len(self._buckets) >= self.MAX_CLIENTS:
            self._buckets.clear()


class RedisRateLimiter:
    """`per_minute` requests per window (a minute) per client address, counted in Redis under
    `anpr:ratelimit:{name}:{address}`. A window starts at an address's first request in it."""

    TIMEOUT_S = 0.5  # a Redis that hangs costs a request at most this much, once per RETRY_S
    RETRY_S = 5.0

    def __init__(self, url: str, *, name: str, per_minute: int, window_s: float = 60.0):
        self.url = url
        self.per_minute = per_minute
        self.prefix = f"anpr:ratelimit:{name}:"
        self.window_ms = max(1, round(window_s * 1000))
        self._redis: redis.Redis | None = None
        self._script: AsyncScript | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._retry_at = 0.0
        self._failing = False

    async def check(self, client: str) -> int | None:
        if self.per_minute <= 0 or time.monotonic() < self._retry_at:
            return None
        try:
            count, left_ms = await self._count(self.prefix + client)
        except (RedisError, OSError) as exc:
            self._retry_at = time.monotonic() + self.RETRY_S
            if not self._failing:
                log.warning("rate limit off: Redis did not answer (%s); requests are let through", exc)
            self._failing = True
            return None
        if self._failing:
            log.warning("rate limit back on: Redis answers again")
            self._failing = False
        if count <= self.per_minute:
            return None
        return max(1, math.ceil(left_ms / 1000))

    async def _count(self, key: str) -> tuple[int, int]:
        loop = asyncio.get_running_loop()
        if self._redis is None or self._loop is not loop:
            # A connection belongs to the event loop it was made in (tests run one loop per client).
            self._connect(loop)
        assert self._script is not None  # set by _connect with self._redis
        count, left_ms = await self._script(keys=[key], args=[self.window_ms])
        return int(count), int(left_ms)

    def _connect(self, loop: asyncio.AbstractEventLoop) -> None:
        self._redis = redis.Redis.from_url(
            self.url,
            socket_timeout=self.TIMEOUT_S,
            socket_connect_timeout=self.TIMEOUT_S,
            retry=Retry(NoBackoff(), 0),  # the default retries with back-off for seconds
        )
        self._script = self._redis.register_script(FIXED_WINDOW)
        self._loop = loop

    async def aclose(self) -> None:
        if self._redis is not None and self._loop is asyncio.get_running_loop():
            await self._redis.aclose()
        self._redis = self._script = self._loop = None
