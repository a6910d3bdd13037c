"""Fixtures the hub's edge tests share (anpr send's outbox, anpr watch --hub)."""

from __future__ import annotations

import pytest
import redis

from anpr.jobs.hub import Outbox


@pytest.fixture
def outboxes(redis_url):
    """Deletes the Redis keys of every outbox a test made."""
    made: list[Outbox] = []
    yield made
    client = redis.Redis.from_url(redis_url)
    for outbox in made:
        for key in client.scan_iter(match=outbox.stream + "*"):
            client.delete(key)
    client.close()
