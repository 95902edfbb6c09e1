"""Redis failures as domain errors, with a short fail-fast window.

When Redis is down or frozen, each call would wait out its socket timeout, and requests queued
behind those calls in the threadpool would wait longer still. After a failure we answer 503 at
once for FAIL_FAST_SECONDS, so no request waits much more than one timeout."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

import redis

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
            except (redis.ConnectionError, redis.TimeoutError) as error:
                log.warning("Redis unavailable during %s: %s", method.__name__, error)
                self.health.failed()
                raise BackendUnavailable() from None
            except redis.ResponseError as error:
                code = str(error).split(" ", 1)[0]
                if code not in _UNAVAILABLE_REPLIES:
                    raise
                log.warning("Redis refused %s: %s", method.__name__, code)
                raise BackendUnavailable(
                    f"Redis cannot serve this request now ({code}); try again shortly"
                ) from None
            if probe:
                self.health.recovered()
            return result

        return wrapper

    return decorate
