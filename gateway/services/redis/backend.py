"""Redis failures as domain errors, with a short fail-fast window.

When Redis is down or frozen, each call would wait out its socket timeout, and requests queued
behind those calls in the threadpool would wait longer still. After a failure we answer 503 at
once for FAIL_FAST_SECONDS, so no request waits much more than one timeout."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import redis
from prometheus_client import Counter

from gateway.errors import BackendUnavailable

log = logging.getLogger(__name__)

FAIL_FAST_SECONDS = 1.0

# Error replies that mean "this Redis cannot serve us now", not "this request is wrong".
_UNAVAILABLE_REPLIES = (
    "LOADING",
    "MASTERDOWN",
    "BUSY",
    "READONLY",
    "OOM",
    "MISCONF",
    "NOPERM",
    "NOAUTH",
    "CLUSTERDOWN",
    "TRYAGAIN",
)

T = TypeVar("T")

# Every Redis error a service call met, counted where they are all translated (issue 12).
REDIS_ERRORS = Counter(
    "rq_gateway_redis_errors",
    "Redis errors met by the gateway's calls: connection failures, timeouts and error replies.",
)


class BackendHealth:
    """Remembers a recent Redis failure, so calls made meanwhile fail fast."""

    def __init__(self) -> None:
        self._down_until = 0.0

    def check(self) -> None:
        if time.monotonic() < self._down_until:
            raise BackendUnavailable()

    def failed(self) -> None:
        self._down_until = time.monotonic() + FAIL_FAST_SECONDS

    def recovered(self) -> None:
        self._down_until = 0.0


def backend_call(probe: bool = False) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Decorate a service method (whose instance has `health`); a probe always asks Redis."""

    def decorate(method: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(method)
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> T:
            if not probe:
                self.health.check()
            try:
                result = method(self, *args, **kwargs)
            except redis.RedisError as error:
                unavailable = _unavailable(self.health, method.__name__, error)
                if unavailable is None:
                    raise
                raise unavailable from None
            if probe:
                self.health.recovered()
            return result

        return wrapper

    return decorate


def backend_steps(health: BackendHealth, steps: Iterator[T], name: str) -> Iterator[T]:
    """`steps` (a generator reading Redis as it is consumed), each step under backend_call's
    translation: a Redis failure between two steps is BackendUnavailable too."""
    while True:
        try:
            step = next(steps)
        except StopIteration:
            return
        except redis.RedisError as error:
            unavailable = _unavailable(health, name, error)
            if unavailable is None:
                raise
            raise unavailable from None
        yield step


def _unavailable(health: BackendHealth, name: str, error: redis.RedisError) -> BackendUnavailable | None:
    """The 503 for a Redis failure that means "this Redis cannot serve us now", else None."""
    REDIS_ERRORS.inc()
    if isinstance(error, (redis.ConnectionError, redis.TimeoutError)):
        log.warning("Redis unavailable during %s: %s", name, error)
        health.failed()
        return BackendUnavailable()
    if isinstance(error, redis.ResponseError):
        code = str(error).split(" ", 1)[0]
        if code in _UNAVAILABLE_REPLIES:
            log.warning("Redis refused %s: %s", name, code)
            return BackendUnavailable(f"Redis cannot serve this request now ({code}); try again shortly")
    return None
