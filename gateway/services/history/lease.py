"""The writer's lease: one key that at most one gateway process holds at a time.

Every process tries to take or renew it on each tick (lua/lease.lua: `SET NX PX`, else renew
if its own token holds it). The holder renews it every tick and with every commit, ticks come at
least three times per lease period (writer.tick_period), and during a longer pause after a long
tick (runner.py) it renews it every third of a period, so a live writer keeps it. When the writer dies its
lease expires within one period and another process takes it on its next tick, within a third
of a period more: takeover within two lease periods. A stopping writer releases it at once.

Holding the lease is not trusted alone: the writer's counts are committed by a script that checks
the lease and the watermark again (lua/commit.lua), so a writer that stalled past its lease
writes nothing.
"""

from __future__ import annotations

import os
import secrets
import socket

from redis import Redis
from redis.client import Pipeline

from gateway.services.history import scripts
from gateway.services.history.layout import LEASE_KEY


class Lease:
    def __init__(self, connection: Redis, seconds: float, token: str | None = None):
        self.connection = connection
        self.milliseconds = max(1, round(seconds * 1000))
        # Host and pid first: an operator (or a test) can tell which process writes.
        self.token = token or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(8)}"
        self._hold = connection.register_script(scripts.LEASE)
        self._release = connection.register_script(scripts.RELEASE)

    def hold_command(self, pipe: Pipeline) -> None:
        """Add the take-or-renew to a pipeline; its reply is 1 when this process holds the lease."""
        self._hold(keys=[LEASE_KEY], args=[self.token, self.milliseconds], client=pipe)

    def hold(self) -> bool:
        return self._hold(keys=[LEASE_KEY], args=[self.token, self.milliseconds]) == 1

    def release(self) -> None:
        self._release(keys=[LEASE_KEY], args=[self.token])
