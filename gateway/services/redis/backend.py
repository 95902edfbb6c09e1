"""Redis failures as domain errors, with a short fail-fast window.

When Redis is down or frozen, each call would wait out its socket timeout, and requests queued
behind those calls in the threadpool would wait longer still. After a failure we answer 503 at
once for FAIL_FAST_SECONDS, so no request waits much more than one timeout."""

from __future__ import annotations

import functools
import logging
import ssl
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import redis
from prometheus_client import Counter
from redis.exceptions import BusyLoadingError
from redis.sentinel import MasterNotFoundError

from gateway.errors import BackendUnavailable, DataDamaged, GatewayError
from gateway.services.redis import damaged
from gateway.services.redis.keys import QUEUES_SET, WORKERS_SET
from gateway.services.redis.resend import OutcomeUnknown
from gateway.services.redis.sentinel_discovery import (
    MasterNotMonitored,
    MasterWithoutReplica,
    SentinelsUnreachable,
)

log = logging.getLogger(__name__)

FAIL_FAST_SECONDS = 1.0
UNAVAILABLE = BackendUnavailable().message

# Error replies that mean "this Redis cannot serve us now", not "this request is wrong".
_UNAVAILABLE_REPLIES = (
    "LOADING",
    "MASTERDOWN",
    "BUSY",
    "READONLY",
    "OOM",
    "MISCONF",
    # The master's min-replicas-to-write is not met: it refuses writes rather than risk losing
    # them in a failover (README "Deployment", Sentinel).
    "NOREPLICAS",
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

    def __init__(self, instance: str | None = None) -> None:
        self._down_until = 0.0
        self._why = UNAVAILABLE
        # Set when the gateway serves several Redis instances: every 503 then names its instance,
        # so a client can tell which one is down while the others keep answering.
        self.instance = instance

    def unavailable(self, why: str) -> BackendUnavailable:
        return BackendUnavailable(why, instance=self.instance)

    def check(self) -> None:
        if time.monotonic() < self._down_until:
            raise self.unavailable(self._why)

    def failed(self, why: str = UNAVAILABLE) -> None:
        """`why` is repeated by the calls that fail fast, so they say what the first one said
        (a TLS failure stays a TLS failure)."""
        self._why = why
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


def call_on(health: BackendHealth, name: str, call: Callable[[], T]) -> T:
    """`call` under `health`, as backend_call runs a method under its service's: for a call on
    another instance's Redis (the audit trail lives in the default instance), so its failures
    open that instance's fail-fast window and its 503 names that instance."""
    health.check()
    try:
        return call()
    except redis.RedisError as error:
        unavailable = _unavailable(health, name, error)
        if unavailable is None:
            raise
        raise unavailable from None


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


def _unavailable(health: BackendHealth, name: str, error: redis.RedisError) -> GatewayError | None:
    """The 503 for a Redis failure that means "this Redis cannot serve us now"; the 409 for a key
    of the wrong type (damaged data); else None (a bug: the 500 path)."""
    REDIS_ERRORS.inc()
    if damaged.is_wrong_type(error):
        log.warning("Redis data of the wrong type met during %s: %s", name, error)
        return DataDamaged()
    message = explain(error)
    if message is None:
        return None
    if isinstance(error, OutcomeUnknown):
        # One command's reply lost, not Redis known down: the next call finds out for itself.
        log.warning("Redis connection lost during %s, outcome unknown: %s", name, error.__cause__)
    elif isinstance(error, (redis.ConnectionError, redis.TimeoutError)):
        log.warning("Redis unavailable during %s: %s", name, error)
        health.failed(message)
    else:
        log.warning("Redis refused %s: %s", name, error)
    return health.unavailable(message)


def explain(error: redis.RedisError) -> str | None:
    """What a Redis failure means, in words for clients and operators, saying which kind it is
    (TLS, credentials, ACL, Sentinel, plain outage); None when it is not an outage but a bug.
    Never Redis' own text, which can name keys: only its error code or TLS reason."""
    if isinstance(error, MasterNotFoundError):
        tls = _tls_reason(error)  # chained by sentinel_discovery.ExplainedSentinel
        if tls is not None:
            return f"The TLS connection to the sentinels failed ({tls}); check the Redis TLS settings"
        if isinstance(error.__cause__, redis.AuthenticationError):  # chained by ExplainedSentinel
            return (
                "The sentinels refused the gateway's password; check --redis-sentinel-password "
                "(RQ_GATEWAY_REDIS_SENTINEL_PASSWORD)"
            )
        if isinstance(error, MasterNotMonitored):
            return f"{error}; check --redis-master-name (or the master name in the redis+sentinel:// URL)"
        if isinstance(error, SentinelsUnreachable):
            return f"{error}; check the sentinels' addresses and that they run, then try again"
        if isinstance(error, MasterWithoutReplica):
            return f"{error}; the gateway answers again once it is back"
        return "No Redis master is known to Sentinel now (a failover may be under way); try again shortly"
    if isinstance(error, redis.AuthenticationError):
        return "Redis refused the gateway's credentials (user or password); check the Redis URL"
    if isinstance(error, BusyLoadingError):  # a ConnectionError to redis-py
        return "Redis cannot serve this request now (LOADING); try again shortly"
    if isinstance(error, OutcomeUnknown):
        return str(error)
    if isinstance(error, (redis.ConnectionError, redis.TimeoutError)):
        tls = _tls_reason(error)
        if tls is not None:
            return f"The TLS connection to Redis failed ({tls}); check the Redis TLS settings"
        return UNAVAILABLE
    if isinstance(error, redis.ResponseError):
        code = reply_code(error)
        if code == "NOPERM":
            return (
                "Redis denied the gateway's user a command or key it needs (ACL NOPERM); "
                "grant it RQ's keys and the gateway's own (see the README, Deployment)"
            )
        if code in _UNAVAILABLE_REPLIES:
            return f"Redis cannot serve this request now ({code}); try again shortly"
    return None


# redis-py turns these error codes into classes and drops the code from the message.
_CODE_OF_CLASS = {
    "ReadOnlyError": "READONLY",
    "BusyLoadingError": "LOADING",
    "NoPermissionError": "NOPERM",
    "OutOfMemoryError": "OOM",
    "MasterDownError": "MASTERDOWN",
    "TryAgainError": "TRYAGAIN",
    "ClusterDownError": "CLUSTERDOWN",
}


def reply_code(error: redis.ResponseError) -> str:
    """The error code Redis replied with (NOPERM, READONLY, ...), whether redis-py kept it in
    the message or made a class of it, also from inside a pipeline's annotated message."""
    for cls in type(error).__mro__:
        if cls.__name__ in _CODE_OF_CLASS:
            return _CODE_OF_CLASS[cls.__name__]
    text = str(error).split(" of pipeline caused error: ", 1)[-1]
    return text.split(" ", 1)[0]


def _tls_reason(error: BaseException) -> str | None:
    """OpenSSL's reason, if a TLS failure lies behind this connection error (redis-py keeps it
    as the exception's context), in a few words saying what to check."""
    cause = error.__cause__ or error.__context__
    while cause is not None and not isinstance(cause, ssl.SSLError):
        cause = cause.__cause__ or cause.__context__
    if cause is None:
        return None
    if isinstance(cause, ssl.SSLCertVerificationError):
        return f"certificate verify failed: {cause.verify_message}"
    if isinstance(cause, ssl.SSLEOFError):
        return "Redis closed the TLS connection; it may require a client certificate"
    return str(cause.reason or "TLS error").lower().replace("_", " ")


def probe(client: redis.Redis) -> None:
    """Can the gateway work with this Redis? Beyond PING (which any ACL user may run) it reads
    RQ's queue and worker sets, so an ACL user without RQ's keys is not ready either. Raises the
    Redis error; backend_call turns it into the 503 that says which failure it is."""
    client.ping()  # pyright: ignore[reportUnknownMemberType]  -- redis-py leaves **kwargs unannotated
    with client.pipeline(transaction=False) as pipe:  # pyright: ignore[reportUnknownMemberType]  -- redis-py leaves shard_hint unannotated
        pipe.scard(QUEUES_SET)
        pipe.scard(WORKERS_SET)
        damaged.execute(pipe)  # a damaged set reads as absent, as every listing reads it


def startup_problem(client: redis.Redis) -> str | None:
    """Why the gateway cannot work with this Redis, checked once at start-up, or None: a TLS
    failure, wrong credentials or an ACL user without RQ's keys show up in the start-up log, not
    at the first request."""
    try:
        probe(client)
    except redis.RedisError as error:
        explained = explain(error)
        # A plain outage is best told by redis-py's own words ("Connection refused"): this is
        # the operator's log, not a client's answer.
        return str(error) if explained in (None, UNAVAILABLE) else explained
    return None
