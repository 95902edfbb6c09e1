"""The connection to a Sentinel-managed master: one that drops its socket when a reply does not
come, as a plain redis-py connection does; and a pool that notices a failover the old master
lived through.

redis-py's SentinelManagedConnection reads replies with `disconnect_on_error=False`, so a command
that times out leaves its socket open and the connection goes back to the pool still attached to
the master it was opened to. Only a new connection asks the sentinels where the master is. When
the master hangs (SIGSTOP, a stalled VM, a network that drops packets) rather than dies, Sentinel
promotes a replica, but every pooled connection stays on the frozen master, and each request
waits out `--redis-timeout` on it and answers 503 for as long as the hang lasts. Dropping the
socket on a timeout (or any failed read) makes the next use of the connection reconnect, which
asks the sentinels, and finds the new master; redis-py then closes the pool's other idle
connections to the old one (SentinelConnectionPool.get_master_address).

A master that lives through the failover (`SENTINEL FAILOVER`, or one back from a hang) stays a
master, answering, until Sentinel reconfigures it as a replica, about ten seconds later; redis-py
would keep every pooled connection on it meanwhile, and whatever the gateway wrote there (a
retry, an operation's last chunks and its end) is lost when it resyncs. So the pool asks the
sentinels again, at most once every MASTER_CHECK_SECONDS, as it hands out a connection: a moved
master closes the idle connections to the old one, and those in use are closed as they come back.
It asks from a thread of its own, so no request waits on the sentinels (hung ones would hold it
for a timeout each).
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any, cast

import redis
from redis.connection import SSLConnection
from redis.sentinel import SentinelConnectionPool, SentinelManagedConnection
from redis.utils import SENTINEL

MASTER_CHECK_SECONDS = 1.0


class GatewaySentinelConnection(SentinelManagedConnection):
    """A Sentinel-managed connection whose failed read (a timeout, a lost connection) drops the
    socket. An error reply (READONLY included, which redis-py handles) keeps it: the connection is
    fine, the command was refused."""

    def read_response(
        self,
        disable_decoding: bool = False,
        *,
        timeout: float | object = SENTINEL,
        disconnect_on_error: bool | None = True,
        push_request: bool | None = False,
    ) -> Any:
        return super().read_response(  # pyright: ignore[reportUnknownVariableType]  -- unannotated in redis-py
            disable_decoding=disable_decoding,
            timeout=timeout,
            disconnect_on_error=disconnect_on_error,
            push_request=push_request,
        )


class GatewaySentinelSSLConnection(GatewaySentinelConnection, SSLConnection):
    """The same over TLS (the TLS files given with Sentinel)."""


def sentinel_connection_class(tls: bool) -> type[SentinelManagedConnection]:
    return GatewaySentinelSSLConnection if tls else GatewaySentinelConnection


class GatewaySentinelPool(SentinelConnectionPool):
    """A Sentinel master's pool that asks the sentinels where the master is at most once every
    MASTER_CHECK_SECONDS while it is used (an idle gateway asks nothing), not only when it opens
    a connection."""

    def __init__(self, service_name: str, sentinel_manager: Any, **kwargs: Any):
        super().__init__(service_name, sentinel_manager, **kwargs)  # pyright: ignore[reportUnknownMemberType]  -- unannotated in redis-py
        self._checked_at = time.monotonic()
        self._checking = threading.Lock()

    def get_connection(self, *args: Any, **kwargs: Any) -> Any:
        self._check_master()
        return super().get_connection(*args, **kwargs)  # pyright: ignore[reportUnknownMemberType]  -- unannotated in redis-py

    def _check_master(self) -> None:
        now = time.monotonic()
        known = cast("object", self.master_address)  # pyright: ignore[reportUnknownMemberType]  -- unannotated in redis-py
        if known is None or now - self._checked_at < MASTER_CHECK_SECONDS:
            return  # none known yet: the connection asks as it connects
        if not self._checking.acquire(blocking=False):
            return  # a check is under way
        self._checked_at = now
        threading.Thread(target=self._ask_sentinels, name="sentinel-master-check", daemon=True).start()

    def _ask_sentinels(self) -> None:
        try:
            # Advisory: sentinels that cannot say (down, or a failover under way) leave the
            # connections as they are, and the command itself tells whether the master answers.
            with contextlib.suppress(redis.RedisError):
                self.get_master_address()
        finally:
            self._checking.release()
