"""gateway/live: one shared poller per stream key, changes only, stopped with its last
subscriber, slow subscribers dropped, Redis outages published and recovered from. Plain asyncio
with scripted reads: no Redis, no transport (tests/test_graphql_live.py has those)."""

from __future__ import annotations

import asyncio
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.errors import BackendUnavailable, InvalidParameter, LimitExceeded, QueueNotFound
from gateway.live import LiveHub, interval_seconds
from gateway.live.hub import MIN_INTERVAL_MS
from gateway.live.poller import DROPPED

TICK = 0.001  # the poll interval of these tests: the reads are scripted, so nothing waits on Redis


class Script:
    """A read that answers from a list (the last answer repeats), counting its calls; each call
    releases one waiter of `polled`, so a test can wait for "n more polls" instead of sleeping."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = 0
        self.threads: set[threading.Thread] = set()
        self._polled: asyncio.Queue[int] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def bind(self) -> Script:
        self._loop = asyncio.get_running_loop()
        self._polled = asyncio.Queue()
        return self

    def __call__(self):
        self.calls += 1
        self.threads.add(threading.current_thread())
        answer = self.answers[min(self.calls, len(self.answers)) - 1]
        assert self._loop is not None and self._polled is not None
        self._loop.call_soon_threadsafe(self._polled.put_nowait, self.calls)
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def polls(self, count: int) -> None:
        """Return once `count` more reads have run."""
        assert self._polled is not None
        for _ in range(count):
            await asyncio.wait_for(self._polled.get(), 5)


def hub(**kwargs) -> tuple[LiveHub, object]:
    live = LiveHub(
        max_connections=10, max_subscriptions_per_connection=kwargs.pop("per_connection", 2000), **kwargs
    )
    connection = live.open_connection()
    assert connection is not None
    return live, connection


async def take(updates, timeout: float = 5.0):
    return await asyncio.wait_for(updates.__anext__(), timeout)


def test_subscribers_of_one_key_share_one_poller_and_get_only_changes():
    async def scenario():
        read = Script(1, 1, 1, 2, 2, 3).bind()
        live, connection = hub()
        async with live.stream(connection, "k", read, TICK) as first:
            assert (await take(first)).value == 1
            async with live.stream(connection, "k", read, TICK) as second:
                # The latest answer at once, from the shared poller: no read of its own.
                assert (await take(second)).value == 1
                assert len(live.pollers) == 1
                assert [(await take(first)).value, (await take(first)).value] == [2, 3]
                assert [(await take(second)).value, (await take(second)).value] == [2, 3]
        return read

    read = asyncio.run(scenario())
    # Six scripted answers, three changes: each subscriber got three updates, and the reads ran
    # in worker threads, never on the event loop's.
    assert threading.main_thread() not in read.threads


def test_the_poller_stops_when_its_last_subscriber_leaves():
    async def scenario():
        read = Script(1).bind()
        live, connection = hub()
        async with live.stream(connection, "k", read, TICK) as updates:
            await take(updates)
            poller = live.pollers["k"]
            task = poller._task
        assert live.pollers == {}
        await asyncio.sleep(0)  # let the cancellation land
        assert task is not None and task.cancelled()
        calls = read.calls
        await asyncio.sleep(20 * TICK)
        assert read.calls == calls  # nothing reads for a key nobody follows

    asyncio.run(scenario())


def test_a_slow_subscriber_is_dropped_and_the_others_keep_their_stream():
    async def scenario():
        read = Script(*range(100)).bind()
        live, connection = hub(backlog=3)
        async with (
            live.stream(connection, "k", read, TICK) as slow,
            live.stream(connection, "k", read, TICK) as fast,
        ):
            seen = [(await take(fast)).value for _ in range(10)]
            assert seen == sorted(seen) and len(set(seen)) == 10
            # The slow one never read: its backlog was replaced by the update that ends it.
            assert await take(slow) is DROPPED
            assert isinstance(DROPPED.error, LimitExceeded)
            with pytest.raises(StopAsyncIteration):
                await take(slow)
            assert live.pollers["k"].subscriber_count == 1
            await take(fast)

    asyncio.run(scenario())


def test_an_outage_is_published_once_and_the_stream_resumes_after_it():
    down = BackendUnavailable()

    async def scenario():
        read = Script(5, down, down, down, 5, 6).bind()
        live, connection = hub()
        async with live.stream(connection, "k", read, TICK) as updates:
            assert (await take(updates)).value == 5
            failure = await take(updates)
            assert failure.error is down and not failure.final
            # The same value as before the outage is sent again: it says "recovered".
            assert (await take(updates)).value == 5
            assert (await take(updates)).value == 6
        assert read.calls >= 6

    asyncio.run(scenario())


def test_another_error_ends_the_stream_and_forgets_the_poller():
    async def scenario():
        read = Script(QueueNotFound("q")).bind()
        live, connection = hub()
        async with live.stream(connection, "k", read, TICK) as updates:
            update = await take(updates)
            assert isinstance(update.error, QueueNotFound) and update.final
            with pytest.raises(StopAsyncIteration):
                await take(updates)
            assert live.pollers == {}

    asyncio.run(scenario())


def test_a_connection_past_its_subscription_limit_is_refused_until_one_ends():
    async def scenario():
        read = Script(1).bind()
        live, connection = hub(per_connection=2)
        async with live.stream(connection, "a", read, TICK), live.stream(connection, "b", read, TICK):
            with pytest.raises(LimitExceeded, match="2 active subscriptions"):
                async with live.stream(connection, "c", read, TICK):
                    pass
        async with live.stream(connection, "c", read, TICK) as updates:
            assert (await take(updates)).value == 1

    asyncio.run(scenario())


def test_the_process_refuses_connections_past_its_limit():
    live = LiveHub(max_connections=2, max_subscriptions_per_connection=1)
    assert live.open_connection() and live.open_connection()
    assert live.open_connection() is None
    live.close_connection()
    assert live.open_connection() is not None


@given(st.integers(min_value=-(10**6), max_value=10**7))
@settings(max_examples=200)
def test_interval_below_the_minimum_is_refused_and_any_other_is_taken(interval_ms):
    if interval_ms < MIN_INTERVAL_MS:
        with pytest.raises(InvalidParameter, match="at least 500"):
            interval_seconds(interval_ms)
    else:
        assert interval_seconds(interval_ms) == interval_ms / 1000


@given(st.lists(st.integers(0, 3), min_size=1, max_size=30))
@settings(max_examples=50, deadline=None)
def test_any_sequence_of_answers_reaches_a_subscriber_as_its_changes(answers):
    """Whatever the reads answer, a subscriber sees exactly the answers that differ from the
    one before: no repeat, no change missed (the property behind "only changes")."""
    expected = [a for i, a in enumerate(answers) if i == 0 or a != answers[i - 1]]

    async def scenario():
        read = Script(*answers, "end").bind()
        live, connection = hub()
        seen = []
        async with live.stream(connection, "k", read, TICK) as updates:
            while (value := (await take(updates)).value) != "end":
                seen.append(value)
        return seen

    assert asyncio.run(scenario()) == expected
