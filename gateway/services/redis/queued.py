"""Script calls queued on a connection of their own: the next call is sent before the reply of
the one before is read, so Redis starts it as soon as the one before ends instead of waiting
while the gateway reads a reply and sends the next call. Bulk walks over a million jobs spent a
quarter of their time in those waits. Redis still serves other clients between two calls: a
command of another client waits at most for the call running and those queued beside it."""

from __future__ import annotations

import contextlib
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from redis import Redis
from redis.exceptions import ResponseError


class QueuedCalls:
    """One Lua script's calls, queued on a connection taken from the client's pool until close()
    (which reads what is still queued, so no unread reply reaches the pool's next user). Any error
    closes it: the calls queued behind are read (their work, if any, is done) and dropped."""

    def __init__(self, connection: Redis, script: str, clock: Callable[[], float] = time.perf_counter):
        self._connection = connection
        self._script = script
        self._sha = connection.register_script(script).sha
        self._clock = clock
        self._link: Any = None  # a redis-py Connection (its stubs are partly untyped)
        self._sent: deque[float] = deque()  # when each queued call was sent, oldest first

    @property
    def queued(self) -> int:
        return len(self._sent)

    def send(self, keys: Sequence[Any], args: Sequence[Any]) -> None:
        link = self._open()
        try:
            # No health-check PING behind a queued call: its reply would be read as the call's.
            link.send_command("EVALSHA", self._sha, len(keys), *keys, *args, check_health=not self._sent)
        except BaseException:
            self.close()
            raise
        self._sent.append(self._clock())

    def read(self) -> tuple[float, Any]:
        """(when the oldest queued call was sent, its reply); its error reply is raised."""
        assert self._link is not None and self._sent, "nothing queued"
        sent = self._sent.popleft()
        try:
            return sent, self._link.read_response()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        link, self._link = self._link, None
        if link is None:
            return
        try:
            while self._sent:
                self._sent.popleft()
                with contextlib.suppress(ResponseError):  # an error reply: nothing left unread
                    link.read_response()
        except Exception:
            link.disconnect()
        finally:
            self._sent.clear()
            pool: Any = self._connection.connection_pool
            pool.release(link)

    def _open(self) -> Any:
        if self._link is None:
            self._connection.script_load(self._script)  # the calls are EVALSHAs, queued unread
            pool: Any = self._connection.connection_pool
            self._link = pool.get_connection()
        return self._link
