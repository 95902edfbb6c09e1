"""The sends and reads of script calls on the connections a client's pool hands out, for tests of
queued calls (gateway/services/redis/queued.py): which calls were sent before which replies were
read, and a reply turned into an error reply."""

from __future__ import annotations

from typing import Any


class Recorded:
    """A pool connection whose sends and reads, once it sent an EVALSHA of `sha` (any script when
    None), are logged in `events` as "send" and "read"; `fail_read` turns that read's reply
    (numbered from 1, the reply itself consumed) into `error`."""

    def __init__(self, connection: Any, events: list[str], sha: str | None, fail_read: int, error: Any):
        self._connection = connection
        self._events = events
        self._sha = sha
        self._fail_read = fail_read
        self._error = error
        self._reads = 0
        self._recording = False

    def send_command(self, *args: Any, **kwargs: Any) -> Any:
        if args[0] == "EVALSHA" and self._sha in (None, args[1]):
            self._recording = True
        if self._recording:
            self._events.append("send")
        return self._connection.send_command(*args, **kwargs)

    def read_response(self, *args: Any, **kwargs: Any) -> Any:
        if not self._recording:
            return self._connection.read_response(*args, **kwargs)
        self._events.append("read")
        self._reads += 1
        reply = self._connection.read_response(*args, **kwargs)
        if self._reads == self._fail_read:
            raise self._error
        return reply

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)


def record_script_calls(
    client: Any, monkeypatch: Any, sha: str | None = None, fail_read: int = 0, error: Any = None
) -> list[str]:
    """Record the script calls of every connection `client`'s pool hands out from now on."""
    events: list[str] = []
    pool = client.connection_pool
    real_get, real_release = pool.get_connection, pool.release

    def get_connection(*args: Any, **kwargs: Any) -> Recorded:
        return Recorded(real_get(*args, **kwargs), events, sha, fail_read, error)

    monkeypatch.setattr(pool, "get_connection", get_connection)
    monkeypatch.setattr(pool, "release", lambda c: real_release(getattr(c, "_connection", c)))
    return events


def queued_when_read(events: list[str]) -> list[int]:
    """For each read, how many calls were sent and not yet read just before it."""
    queued, out = 0, []
    for event in events:
        if event == "read":
            out.append(queued)
            queued -= 1
        else:
            queued += 1
    return out
