"""Settings and the Redis connection. Built by the CLI (or tests), never at import time."""

from __future__ import annotations

from dataclasses import dataclass

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

DEFAULT_QUEUE = "default"


@dataclass(frozen=True)
class Settings:
    redis_url: str | None = None
    default_queue: str = DEFAULT_QUEUE
    serializer: str | None = None
    # Seconds one Redis command may take. redis-py retries multiply it: we allow one retry on a
    # dropped connection (so a restarted Redis is picked up silently), giving a bound of about
    # 2 x (connect + socket) timeouts, well inside the 10 s a client should wait for a 503.
    redis_timeout: float = 2.5
    redis_connect_timeout: float = 1.5

    @property
    def demo(self) -> bool:
        return not self.redis_url


def connect(settings: Settings) -> redis.Redis:
    """A Redis client whose every command fails fast instead of hanging on a dead or frozen server."""
    return redis.Redis.from_url(
        settings.redis_url,
        socket_timeout=settings.redis_timeout,
        socket_connect_timeout=settings.redis_connect_timeout,
        retry=Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)),
        retry_on_timeout=False,
        health_check_interval=15,
    )
