"""What the sentinels said when they named no master, kept so the 503 can say which case it is:
none could be asked (an address, or TLS, or their password), none monitors that name (a setting),
the master is down with no replica to promote (not a failover), or a failover may be under way."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, cast

import redis
from redis.sentinel import MasterNotFoundError, Sentinel


class SentinelsUnreachable(MasterNotFoundError):
    """No sentinel answered at all: a wrong address, or every sentinel down. Not a failover."""

    def __init__(self, asked: int):
        super().__init__(f"No sentinel could be reached ({asked} asked)")  # pyright: ignore[reportUnknownMemberType]  -- unannotated in redis-py
        self.asked = asked


class MasterNotMonitored(MasterNotFoundError):
    """The sentinels answered, and none monitors a master by that name: a setting, not a failover."""

    def __init__(self, name: str):
        super().__init__(f"The sentinels monitor no master named {name!r}")  # pyright: ignore[reportUnknownMemberType]  -- unannotated in redis-py


class MasterWithoutReplica(MasterNotFoundError):
    """The sentinels answered, see the master down, and none knows a replica: no failover will
    come, so waiting for one is not the advice; the master itself must come back."""

    def __init__(self, name: str):
        super().__init__(  # pyright: ignore[reportUnknownMemberType]  -- unannotated in redis-py
            f"The sentinels see Redis master {name!r} down and know no replica to promote, so no "
            "failover will replace it"
        )


def _state_of(masters: object, name: str) -> dict[str, Any] | None:
    """This master's entry in a sentinel's SENTINEL MASTERS answer (by name), if it names it."""
    if not isinstance(masters, dict):
        return None
    state = cast("dict[str, Any]", masters).get(name)
    return cast("dict[str, Any]", state) if isinstance(state, dict) else None


class ExplainedSentinel(Sentinel):
    """A Sentinel whose "no master found", when a sentinel could not be asked, is chained to the
    last sentinel's connection error: redis-py folds those into its text as bare class names, so
    a TLS failure (an untrusted certificate) would read as a failover under way. When none could
    be asked it is SentinelsUnreachable; when those that answered monitor no master by that
    name, MasterNotMonitored; when they see it down and none knows a replica,
    MasterWithoutReplica. The 503 then says which (backend.py reads the chain)."""

    def __init__(self, sentinels: list[tuple[str, int]], **kwargs: Any):
        super().__init__(sentinels, **kwargs)  # pyright: ignore[reportUnknownMemberType]  -- redis-py leaves **kwargs unannotated
        # What this thread's discovery saw: connections discover the master from several threads
        # at once, and redis-py asks the sentinels in the discovering thread.
        self._seen = threading.local()
        for client in self.sentinels:
            client.sentinel_masters = self._recording(client.sentinel_masters)

    def _recording(self, ask: Callable[[], Any]) -> Callable[[], Any]:
        def asking() -> Any:
            seen = self._seen
            try:
                answer: Any = ask()
            except (redis.ConnectionError, redis.TimeoutError) as error:
                seen.last_failure = error
                raise
            seen.answered = True
            state = _state_of(answer, getattr(seen, "wanted", ""))
            if state is not None:  # monitored, up or not
                seen.monitored = True
                # Any sentinel that knows a replica (or does not say) leaves a failover possible.
                seen.replica_known = getattr(seen, "replica_known", False) or state.get("num-slaves", 1) != 0
            return answer

        return asking

    def discover_master(self, service_name: str) -> Any:
        seen = self._seen
        seen.last_failure, seen.answered, seen.monitored, seen.wanted = None, False, False, service_name
        seen.replica_known = False
        try:
            return super().discover_master(service_name)  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]  -- unannotated in redis-py
        except MasterNotFoundError as error:
            if seen.answered and not seen.monitored:
                raise MasterNotMonitored(service_name) from None
            if seen.monitored and not seen.replica_known:
                raise MasterWithoutReplica(service_name) from seen.last_failure
            if seen.last_failure is None:
                raise
            if not seen.answered:
                raise SentinelsUnreachable(len(self.sentinels)) from seen.last_failure
            raise error from seen.last_failure
