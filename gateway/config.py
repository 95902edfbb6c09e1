"""Settings and the Redis connection. Built by the CLI (or tests), never at import time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

if TYPE_CHECKING:
    from gateway.apikeys import ApiKey

DEFAULT_QUEUE = "default"
DEFAULT_AUDIT_MAXLEN = 10_000


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
    # Security (see README "Security"). No keys = anonymous; the CLI allows that only on loopback,
    # in demo mode or with --allow-anonymous.
    api_keys: tuple[ApiKey, ...] = ()
    hide_payloads: bool = False
    cors_origins: tuple[str, ...] = ()
    audit_maxlen: int = DEFAULT_AUDIT_MAXLEN
    max_body_size: int = 1_048_576
    graphql_max_depth: int = 10
    graphql_max_aliases: int = 30
    graphql_max_tokens: int = 2000
    # See gateway/graphql/cost.py: one page of 1000 jobs with every field is about 36,000.
    graphql_max_cost: int = 40_000
    graphiql: bool = True
    introspection: bool = True

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
