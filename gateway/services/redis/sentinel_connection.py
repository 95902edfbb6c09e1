"""The connection to a Sentinel-managed master: one that drops its socket when a reply does not
come, as a plain redis-py connection does.

redis-py's SentinelManagedConnection reads replies with `disconnect_on_error=False`, so a command
that times out leaves its socket open and the connection goes back to the pool still attached to
the master it was opened to. Only a new connection asks the sentinels where the master is. When
the master hangs (SIGSTOP, a stalled VM, a network that drops packets) rather than dies, Sentinel
promotes a replica, but every pooled connection stays on the frozen master, and each request
waits out `--redis-timeout` on it and answers 503 for as long as the hang lasts. Dropping the
socket on a timeout (or any failed read) makes the next use of the connection reconnect, which
asks the sentinels, and finds the new master; redis-py then closes the pool's other idle
connections to the old one (SentinelConnectionPool.get_master_address).
"""

from __future__ import annotations

from typing import Any

from redis.connection import SSLConnection
from redis.sentinel import SentinelManagedConnection
from redis.utils import SENTINEL


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
