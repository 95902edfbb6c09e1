"""The history writer's bounded calls (walk.py, batch.py) on fakeredis: whatever the sizes of the
registries and their mirrors, no walk slice and no round trip of slices holds more than the
budget, no commit more than a batch of ids, and one tick still leaves every mirror equal to its
registry with every job counted once (a property test over sizes and budgets)."""

from __future__ import annotations

import time

import fakeredis
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.services.domain.rqtime import rq_time_of as rq_time
from gateway.services.history import walk
from gateway.services.history.layout import minute_key, minute_of, mirror_key
from gateway.services.history.writer import HistoryWriter

NOW = float(int(time.time()))


def seeded(failed: int, finished: int, seen: int, gone: int) -> fakeredis.FakeRedis:
    """Two queues; `seen` of the failed jobs already in the mirror, `gone` ids in it no more in
    the registry. Every job ended 10 s ago."""
    r = fakeredis.FakeRedis()
    r.sadd("rq:queues", "rq:queue:default", "rq:queue:other")
    stamp = rq_time(NOW - 10)
    for registry, count in (("failed", failed), ("finished", finished)):
        for i in range(count):
            r.hset(f"rq:job:{registry}-{i}", mapping={"ended_at": stamp, "started_at": stamp})
            r.zadd(f"rq:{registry}:default", {f"{registry}-{i}": NOW + 500})
    for i in range(seen):
        r.zadd(mirror_key("failed", "default"), {f"failed-{i}": 0})
    for i in range(gone):
        r.zadd(mirror_key("failed", "default"), {f"left-{i}": 0})
    return r


@settings(max_examples=40, deadline=None)
@given(
    failed=st.integers(0, 120),
    finished=st.integers(0, 60),
    seen=st.integers(0, 120),
    gone=st.integers(0, 60),
    budget=st.sampled_from([1, 3, 16, 1000]),
)
def test_every_call_is_bounded_and_one_tick_is_exact(failed, finished, seen, gone, budget):
    seen = min(seen, failed)
    r = seeded(failed, finished, seen, gone)
    writer = HistoryWriter(r, 86_400, 3600, 1, clock=lambda: NOW, budget=budget, batch_ids=budget)
    # The first tick counts from this minute's start: a watermark that old makes it count all.
    start = f"{minute_of(NOW - 10) * 60.0!r}"
    r.set("rq-gateway:history:watermark", f"{start} x {start}")
    rounds: list[list[int]] = []  # per round trip, the length of each slice asked for
    unseen = writer._unseen

    def sliced(keys, args, client):
        rounds[-1].append(int(args[2]))
        return unseen(keys=keys, args=args, client=client)

    def counted_round(*args, **kwargs):
        rounds.append([])
        return walk.walk_round(*args, **kwargs)

    writer._unseen = sliced  # type: ignore[assignment]
    commits = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("gateway.services.history.writer.walk_round", counted_round)
        for args in writer.steps():
            commits.append(args)
            assert writer.commit(args)

    assert rounds and all(0 < sum(sizes) <= budget for sizes in rounds)
    assert all(_ids_in(args) <= budget for args in commits)
    for registry in ("failed", "finished"):
        mirror = {m.decode() for m in r.zrange(mirror_key(registry, "default"), 0, -1)}
        assert mirror == {m.decode() for m in r.zrange(f"rq:{registry}:default", 0, -1)}
    counts = r.hgetall(minute_key(minute_of(NOW - 10), "default"))
    assert int(counts.get(b"failed", 0)) == failed - seen  # the seen ones were counted before
    assert int(counts.get(b"finished", 0)) == finished


def _ids_in(args: list) -> int:
    """How many ids one commit adds or forgets (the groups after the minute hashes)."""
    i = 6
    for _ in range(int(args[5])):
        i += 8 + 2 * int(args[i + 7])
    total = 0
    while i < len(args):
        total += int(args[i + 3])
        i += 4 + int(args[i + 3])
    return total


def test_a_registry_of_another_type_is_left_alone():
    r = seeded(0, 0, 0, 0)
    r.set("rq:failed:default", "not a sorted set")  # damaged data
    r.zadd(mirror_key("failed", "default"), {"a": 0})
    writer = HistoryWriter(r, 86_400, 3600, 1, clock=lambda: NOW)
    assert writer.tick() and writer.tick()
    assert r.zrange(mirror_key("failed", "default"), 0, -1) == [b"a"]  # nothing forgotten
