"""The history writer on fakeredis, with time driven by hand: every job is counted exactly once
in the minute it ended, whatever the interleaving of several writers' bounded steps (walk
slices and commits of a few ids each), lease losses, stale commits and registry entries
removed mid-walk (a property test over the whole class); gaps stay gaps."""

from __future__ import annotations

import time
from collections.abc import Iterator

import fakeredis
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.services.domain.rqtime import rq_time_of as rq_time
from gateway.services.history import writer as writer_module
from gateway.services.history.layout import (
    LEASE_KEY,
    WATERMARK_KEY,
    minute_key,
    minute_of,
    mirror_key,
)
from gateway.services.history.walk import walk_round
from gateway.services.history.window import SETTLE_SECONDS
from gateway.services.history.writer import HistoryWriter
from tests.conftest import RoundTrips

# Near the real clock: the minute hashes expire by it (EXPIREAT), whatever the simulated time.
START = float(int(time.time()))
TTLS = (0, 500, 31_536_000, -1)  # result/failure TTLs: expiring at once, RQ's defaults, never


class World:
    """One fake Redis, a hand-driven clock, and the jobs that ended so far."""

    def __init__(self, start: float = START, writers: int = 3, lease: float = 3600, budget: int = 2000):
        self.r = fakeredis.FakeRedis()
        self.r.sadd("rq:queues", "rq:queue:default")
        self.now = start
        # A long lease: the test expires it by hand ("the writer died"). A small budget and
        # batch: a tick is many slices and commits, which other steps can come between.
        self.writers = [
            HistoryWriter(self.r, 86_400, lease, 1, clock=lambda: self.now, budget=budget, batch_ids=budget)
            for _ in range(writers)
        ]
        self.ended: dict[str, list[int]] = {"failed": [], "finished": []}
        self.jobs = 0

    def job(self, failed: bool, age: float, run: float, ttl: int) -> None:
        """A job a worker ended `age` seconds ago and has just added to its registry."""
        ended = self.now - age
        job_id = f"job-{self.jobs}"
        self.jobs += 1
        self.r.hset(
            f"rq:job:{job_id}", mapping={"ended_at": rq_time(ended), "started_at": rq_time(ended - run)}
        )
        registry = "failed" if failed else "finished"
        score = "+inf" if ttl == -1 else int(ended) + ttl
        self.r.zadd(f"rq:{registry}:default", {job_id: score})
        self.ended[registry].append(minute_of(ended))

    def first_job_fails_again(self) -> None:
        """job-0, out of its registry, fails again a second later: the same id, a new failure,
        settled by the next tick."""
        self.now += 1
        self.jobs = 0
        self.job(True, 0, 1, 500)
        self.now += SETTLE_SECONDS + 1

    def retry(self, job_id: str) -> None:
        """A job the writer has counted leaves its registry (a retry); one it has not looked at
        yet stays (leaving unseen, it would be counted by nobody)."""
        for registry in ("failed", "finished"):
            if self.r.zscore(mirror_key(registry, "default"), job_id) is not None:
                self.r.zrem(f"rq:{registry}:default", job_id)

    def counted(self, field: str) -> dict[int, int]:
        """Non-zero counts in the minutes jobs ended in."""
        found = {}
        for minute in set(self.ended["failed"] + self.ended["finished"]):
            value = self.r.hget(minute_key(minute, "default"), field)
            if value and int(value):
                found[minute] = int(value)
        return found

    def expected(self, registry: str) -> dict[int, int]:
        out: dict[int, int] = {}
        for minute in self.ended[registry]:
            out[minute] = out.get(minute, 0) + 1
        return out


steps = st.lists(
    st.one_of(
        st.tuples(st.just("job"), st.booleans(), st.floats(0, 1.5), st.floats(0, 90), st.sampled_from(TTLS)),
        st.tuples(st.just("advance"), st.floats(0, 20)),
        st.tuples(st.just("prepare"), st.integers(0, 2)),
        st.tuples(st.just("commit"), st.integers(0, 2)),
        st.tuples(st.just("prepare"), st.just(0)),  # the first writer, more often
        st.tuples(st.just("commit"), st.just(0)),
        st.tuples(st.just("expire")),
        st.tuples(st.just("retry"), st.integers(0, 30)),  # shifts the ranks a walk goes by
    ),
    max_size=60,
)


class Ticks:
    """Each writer's ticks in progress, stepped one commit at a time: a step reads (walk slices,
    job fields) up to its next commit, and that commit runs at a later step."""

    def __init__(self, world: World):
        self.world = world
        self.pending: dict[int, list[tuple[Iterator[list], list]]] = {0: [], 1: [], 2: []}

    def start(self, index: int) -> None:
        steps = self.world.writers[index].steps()
        first = next(steps, None)
        if first is not None:
            self.pending[index].append((steps, first))

    def commit(self, index: int) -> None:
        if not self.pending[index]:
            return
        steps, args = self.pending[index].pop(0)
        if self.world.writers[index].commit(args):
            following = next(steps, None)
            if following is not None:
                self.pending[index].insert(0, (steps, following))

    def finish(self) -> None:
        for index in self.pending:
            while self.pending[index]:
                self.commit(index)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=steps, offset=st.floats(0, 60), budget=st.sampled_from([1, 2, 3, 2000]))
def test_every_job_is_counted_once_in_its_minute_whatever_the_writers_do(steps, offset, budget):
    world = World(START + offset, budget=budget)
    assert world.writers[0].tick()
    ticks = Ticks(world)
    for step in steps:
        kind = step[0]
        if kind == "job":
            world.job(*step[1:])
        elif kind == "advance":
            world.now += step[1]
        elif kind == "prepare":
            ticks.start(step[1])
        elif kind == "commit":
            ticks.commit(step[1])
        elif kind == "expire":
            world.r.delete(LEASE_KEY)
        elif kind == "retry":
            world.retry(f"job-{step[1]}")
    # Whatever happened, later stale commits write nothing, and a last writer catches up.
    ticks.finish()
    world.now += SETTLE_SECONDS + 1
    world.r.delete(LEASE_KEY)
    assert world.writers[0].tick() and world.writers[0].tick()
    assert world.counted("failed") == world.expected("failed")
    assert world.counted("finished") == world.expected("finished")


def test_a_stale_commit_writes_nothing():
    world = World()
    first, second = world.writers[:2]
    assert first.tick()
    world.job(True, 0, 1, 500)
    world.now += 5
    stale = next(first.steps())
    world.r.delete(LEASE_KEY)  # the first writer stalled past its lease
    assert second.tick()
    assert not first.commit(stale)  # lease lost: nothing written
    assert world.counted("failed") == world.expected("failed")


def test_a_second_commit_of_the_same_window_writes_nothing():
    world = World()
    writer = world.writers[0]
    assert writer.tick()
    world.job(True, 0, 1, 500)
    world.now += 5
    once, twice = next(writer.steps()), next(writer.steps())
    assert writer.commit(once)
    assert not writer.commit(twice)  # the watermark moved: counted once
    assert world.counted("failed") == world.expected("failed") == {minute_of(world.now - 5): 1}


def test_a_gap_while_no_gateway_ran_stays_null_and_the_next_minute_is_counted_whole():
    world = World(start=START - START % 60 + 10, lease=10)  # 10 s into a minute; catch-up 140 s
    writer = world.writers[0]
    assert writer.tick()
    first_minute = minute_of(world.now)
    world.now += 600  # ten minutes without a gateway; a job ended in the gap
    world.job(True, 300, 1, 31_536_000)
    world.job(True, 0, 1, 31_536_000)  # and one now
    world.now += SETTLE_SECONDS + 1
    world.r.delete(LEASE_KEY)
    assert writer.tick()
    now_minute = minute_of(world.now)
    written = {m for m in range(first_minute, now_minute + 1) if world.r.exists(minute_key(m, "default"))}
    assert written == {first_minute, now_minute}
    assert world.counted("failed") == {now_minute: 1}  # the job in the gap is not guessed at


@pytest.mark.parametrize("held_by_other", [False, True])
def test_only_the_lease_holder_writes(held_by_other):
    world = World()
    if held_by_other:
        world.r.set(LEASE_KEY, "elsewhere:1:x")
    assert world.writers[0].tick() is not held_by_other
    assert world.r.exists(WATERMARK_KEY) == (not held_by_other)


def test_release_hands_the_lease_over_at_once():
    world = World()
    first, second = world.writers[:2]
    assert first.tick() and not second.tick()
    first.release()
    assert second.tick()


def test_a_job_retried_and_failed_again_counts_again():
    world = World()
    writer = world.writers[0]
    assert writer.tick()
    world.job(True, 0, 1, 500)
    world.now += SETTLE_SECONDS + 1
    assert writer.tick()
    world.r.zrem("rq:failed:default", "job-0")  # retried: it left the registry
    assert writer.tick()
    world.first_job_fails_again()
    assert writer.tick()
    assert sum(world.counted("failed").values()) == 2


def test_a_job_the_gateway_retries_between_the_walk_and_its_commit_counts_again_when_it_fails_again():
    """The walk finds a failure; before its commit the gateway retries the job (requeue.lua takes
    it out of the registry and forgets it from the seen set, where it is not yet). The commit
    counts it but does not make it seen, so its next failure counts too."""
    world = World()
    writer = world.writers[0]
    assert writer.tick()
    world.job(True, 0, 1, 500)
    world.now += SETTLE_SECONDS + 1
    steps = writer.steps()
    args = next(steps)  # walked: job-0 is new, its count and its seen id wait in this commit
    world.r.zrem("rq:failed:default", "job-0")  # retried by the gateway
    world.r.zrem(mirror_key("failed", "default"), "job-0")
    assert writer.commit(args)
    for args in steps:
        assert writer.commit(args)
    assert world.r.zscore(mirror_key("failed", "default"), "job-0") is None
    world.first_job_fails_again()
    assert writer.tick()
    assert sum(world.counted("failed").values()) == 2


def test_a_tick_reads_only_the_new_jobs(monkeypatch):
    world = World()
    writer = world.writers[0]
    for _ in range(50):
        world.job(True, 0, 1, 31_536_000)
    world.now += SETTLE_SECONDS + 1
    assert writer.tick()
    world.job(True, 0, 1, 31_536_000)
    world.now += SETTLE_SECONDS + 1
    round_trips = RoundTrips(monkeypatch, world.r)
    assert writer.tick()
    assert round_trips.commands.count("HMGET") == 1  # the new job only, not the 50 before it
    assert round_trips.count == 4


def test_an_interrupted_tick_stops_at_its_next_round_and_leaves_the_watermark():
    world = World(budget=1)  # one entry per round: a tick of many rounds
    writer = world.writers[0]
    assert writer.tick()
    for _ in range(5):
        world.job(True, 0, 1, 500)
    world.now += SETTLE_SECONDS + 1
    before = world.r.get(WATERMARK_KEY)
    steps = writer.steps()
    assert writer.commit(next(steps))  # the first job, counted with its seen id
    writer.interrupted.set()
    assert list(steps) == []  # no more rounds, no final commit
    assert world.r.get(WATERMARK_KEY).split()[0] == before.split()[0]  # not moved
    writer.interrupted.clear()
    world.r.delete(LEASE_KEY)
    assert world.writers[1].tick()  # another writer finishes what is left, counting each once
    assert world.counted("failed") == world.expected("failed")


@pytest.mark.parametrize("shift_at_round", [2, 3, 4, 5])
def test_an_entry_rq_adds_before_the_walk_between_rounds_does_not_count_a_job_twice(
    monkeypatch, shift_at_round
):
    """The registry walk goes by rank: three failures with a shorter failure_ttl (lower scores)
    landing between two rounds shift the next slice back over entries found new in the last
    round, not yet committed (so not yet in the mirror). Each job still counts once."""
    world = World(budget=4)  # slices of 4 entries: the walk takes several rounds
    writer = world.writers[0]
    assert writer.tick()
    world.now += 5
    for _ in range(6):
        world.job(True, 3, 1, 500)
    world.now += 5
    rounds = 0

    def shifting(*args, **kwargs):
        nonlocal rounds
        rounds += 1
        if rounds == shift_at_round:
            for i in range(3):
                world.r.zadd("rq:failed:default", {f"early-{i}": 10**9 + i})
        return walk_round(*args, **kwargs)

    monkeypatch.setattr(writer_module, "walk_round", shifting)
    assert writer.tick()
    counted = sum(
        int(world.r.hget(minute_key(m, "default"), "failed") or 0) for m in set(world.ended["failed"])
    )
    assert counted == len(world.ended["failed"])


def test_a_minute_key_of_the_wrong_type_is_replaced_not_a_stop_for_every_queue():
    """The minute hashes are the gateway's own keys: one holding another type (damaged data)
    made every commit fail (HINCRBY: WRONGTYPE), so no queue's history was written again."""
    world = World()
    writer = world.writers[0]
    assert writer.tick()
    world.job(True, 0, 1, 500)
    world.r.set(minute_key(minute_of(world.now), "default"), "not a hash")
    world.now += SETTLE_SECONDS + 1
    assert writer.tick()
    assert world.counted("failed") == world.expected("failed")


@pytest.mark.parametrize("key", [LEASE_KEY, WATERMARK_KEY])
def test_a_lease_or_watermark_of_the_wrong_type_is_replaced(key):
    """As for the minute hashes: the gateway's own key, damaged, must not stop the history for
    good (a lease that is not a string had no process ever write; a watermark, every commit fail)."""
    world = World()
    writer = world.writers[0]
    world.r.hset(key, "damaged", "1")
    assert writer.tick()
    world.job(True, 0, 1, 500)
    world.now += SETTLE_SECONDS + 1
    assert writer.tick()
    assert world.counted("failed") == world.expected("failed")


def test_a_job_stopped_by_a_stop_command_counts_in_the_minute_of_its_last_heartbeat():
    """RQ leaves ended_at empty on a job a stop-job command ended (it lands in the failed
    registry, status stopped): the history never counted it, so the failed registry grew by a
    job no minute showed. It ended at its last heartbeat, the worker's last sign of it."""
    world = World()
    writer = world.writers[0]
    assert writer.tick()
    stopped = world.now - 1
    world.r.hset(
        "rq:job:stopped-1",
        mapping={
            "status": "stopped",
            "started_at": rq_time(stopped - 30),
            "last_heartbeat": rq_time(stopped),
        },
    )
    world.r.zadd("rq:failed:default", {"stopped-1": int(stopped) + 500})
    world.ended["failed"].append(minute_of(stopped))
    world.now += SETTLE_SECONDS + 1
    assert writer.tick()
    assert world.counted("failed") == world.expected("failed") == {minute_of(stopped): 1}
