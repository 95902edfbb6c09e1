"""The in-Redis walk of an operation over every failed job (operation_walk.lua through
RegistrySteps), against a model, on a real redis-server: registries with expired entries (scores
in [0, now]), never-expiring ones (below 0), equal scores (Redis orders those by member bytes),
non-UTF-8 members and orphans; random chunk sizes; the walk resumed by a new runner at random
points (its position lives in Redis only); entries failing meanwhile after the walk's end.
Every live entry up to the end is examined exactly once and the rest is left alone."""

from __future__ import annotations

import time

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.services.operations.chunks import ChunkAction, IdsWalk, WalkSteps, steps_for
from gateway.services.operations.model import Selector
from gateway.services.operations.registry_steps import RegistrySteps
from gateway.services.operations.store import OperationStore, operation_key
from gateway.services.redis import scripts
from gateway.services.redis.registry import RegistryReader, encode_cursor

REGISTRY = "rq:failed:default"
NOW = int(time.time())

_members = st.one_of(
    st.text("abcxyz", min_size=1, max_size=3),
    st.binary(min_size=1, max_size=3).filter(lambda b: b"\xff" in b or b"\xc3" in b),
)
_scores = st.sampled_from([-1, -1, NOW - 100, NOW + 1000, NOW + 1000, NOW + 2000, float("inf")])
_entries = st.dictionaries(_members, st.tuples(_scores, st.booleans()), max_size=40)


def _key(member: str | bytes) -> bytes:
    return member.encode() if isinstance(member, str) else member


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    entries=_entries,
    sizes=st.lists(st.integers(1, 7), min_size=1, max_size=30),
    resumes=st.sets(st.integers(0, 30)),
    action=st.sampled_from(["retry", "delete"]),
    depth=st.integers(1, 3),
)
def test_the_in_redis_walk_examines_every_live_entry_up_to_its_end_once(
    r, entries, sizes, resumes, action, depth
):
    r.flushall()
    for member, (score, has_hash) in entries.items():
        r.zadd(REGISTRY, {member: score})
        if has_hash:
            r.hset(b"rq:job:" + _key(member), mapping={"status": "failed", "origin": "default", "data": "x"})
    total, last = RegistryReader(r).last(REGISTRY)
    live = sorted(
        (m for m, (score, _) in entries.items() if score < 0 or score > time.time()),
        key=lambda m: (entries[m][0], _key(m)),
    )
    assert total == len(live)
    store = OperationStore(r)
    token = "t1"
    operation_id, _ = store.create(
        action, "default", Selector("all", True), "k", total, last.cursor if last else "", token, None
    )
    bound = last.cursor if last else ""
    steps = RegistrySteps(r, "default", action, bound, operation_id, token, depth)
    late = b"\xff" * 4  # after every generated member, so after the walk's end even at score inf
    r.zadd(REGISTRY, {late: float("inf")})  # fails meanwhile, after the walk's end: not taken
    examined = 0
    for i in range(200):
        if i in resumes:
            steps = RegistrySteps(r, "default", action, bound, operation_id, token, depth)
        step = steps.step(sizes[i % len(sizes)])
        assert step is not None
        examined += step.examined
        if step.ended:
            break
    else:
        raise AssertionError("the walk never ended")
    state = store.state(operation_id)
    assert examined == int(state.get("done", 0)) == len(live)

    # Retry leaves orphans and non-UTF-8 ids in place as errors; delete takes them too.
    retried = [m for m in live if entries[m][1] and isinstance(m, str)]
    acted = retried if action == "retry" else live
    left = {_key(m) for m in entries} - {_key(m) for m in acted}
    assert set(r.zrange(REGISTRY, 0, -1)) == left | {late}
    assert int(state["acted"]) == len(acted)
    if action == "retry":
        assert r.lrange("rq:queue:default", 0, -1) == [_key(m) for m in acted]
        errors = len(live) - len(acted)  # orphans and unreadable (non-UTF-8) ids
        assert int(state["error_count"]) == errors
    else:
        assert not any(r.exists(b"rq:job:" + _key(m)) for m in acted)


def test_a_runner_whose_lease_was_taken_over_reads_and_writes_nothing(r):
    r.zadd(REGISTRY, {"a": -1, "b": -1})
    r.hset("rq:job:a", mapping={"status": "failed", "origin": "default"})
    _, last = RegistryReader(r).last(REGISTRY)
    store = OperationStore(r)
    operation_id, _ = store.create("retry", "default", Selector("all", True), "k", 2, last.cursor, "t1", None)
    stale = RegistrySteps(r, "default", "retry", last.cursor, operation_id, "old-token")
    assert stale.step(10) is None
    assert r.zcard(REGISTRY) == 2 and not r.exists("rq:queue:default")


class Clock:
    """Answers `times` in turn, as time.perf_counter would."""

    def __init__(self, *times: float):
        self._times = iter(times)

    def __call__(self) -> float:
        return next(self._times)


@pytest.mark.parametrize("walk", ["registry", "named ids"])
def test_a_step_takes_its_time_from_the_round_trip_on_the_gateways_clock(r, walk):
    """The chunk sizer's input (steps.Step says why not Redis's TIME)."""
    r.zadd(REGISTRY, {"a": -1, "b": -1})
    for member in "ab":
        r.hset(f"rq:job:{member}", mapping={"status": "failed", "origin": "default"})
    _, last = RegistryReader(r).last(REGISTRY)
    store = OperationStore(r)
    selector = Selector("all", True) if walk == "registry" else Selector("job_ids", ["a", "b"])
    operation_id, _ = store.create("retry", "default", selector, "k", 2, last.cursor, "t1", None)
    clock = Clock(10.0, 10.25)
    if walk == "registry":
        step = RegistrySteps(r, "default", "retry", last.cursor, operation_id, "t1", clock=clock).step(10)
    else:
        act = ChunkAction(r, "default", "retry", selector, operation_id, "t1", clock=clock)
        step = WalkSteps(IdsWalk(["a", "b"]), act, "").step(10)
    assert step is not None and step.jobs == 2
    assert step.seconds == 0.25
    assert r.lrange("rq:queue:default", 0, -1) == [b"a", b"b"]


def test_a_position_stored_as_a_cursor_by_an_earlier_gateway_resumes_where_it_stopped(r):
    """Operations started before the walk moved into Lua stored their position as an opaque
    cursor; a new gateway taking one over resumes right after it."""
    r.zadd(REGISTRY, {"a": -1, "b": -1, "c": -1})
    for member in "abc":
        r.hset(f"rq:job:{member}", mapping={"status": "failed", "origin": "default"})
    _, last = RegistryReader(r).last(REGISTRY)
    store = OperationStore(r)
    operation_id, _ = store.create("retry", "default", Selector("all", True), "k", 3, last.cursor, "t1", None)
    r.hset(operation_key(operation_id), "position", encode_cursor("-1", b"a"))  # "a" was done
    r.zrem(REGISTRY, "a")
    steps = steps_for(r, None, store.state(operation_id), Selector("all", True), operation_id, "t1")
    step = steps.step(10)
    assert step is not None and (step.examined, step.ended) == (2, True)
    assert r.lrange("rq:queue:default", 0, -1) == [b"b", b"c"]


class OneCallAtATime:
    """Stands for the pipeline a step sends: runs its calls one by one, with `between()` after the
    first; `second` replaces the second call's reply (an error reply) when given."""

    def __init__(self, r, between, second=None):
        self._r = r
        self._between = between
        self._second = second
        self._pipe = None

    def __call__(self, **kwargs):
        self._pipe = type(self._r).pipeline(self._r, **kwargs)
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._pipe.reset()

    def __getattr__(self, name):
        return getattr(self._pipe, name)

    def execute(self, raise_on_error=True):
        replies = []
        for index, (args, options) in enumerate(self._pipe.command_stack):
            if index == 1 and self._second is not None:
                replies.append(self._second)
            else:
                replies.append(self._r.execute_command(*args, **options))
            if index == 0:
                self._between()
        errors = [reply for reply in replies if isinstance(reply, Exception)]
        if raise_on_error and errors:
            raise errors[0]  # as redis-py's pipeline does
        return replies


def _three_failed_jobs_b_rate_limited(r) -> tuple[OperationStore, str, RegistrySteps]:
    r.zadd(REGISTRY, {"a": -1, "b": -1, "c": -1})
    for member in "abc":
        r.hset(f"rq:job:{member}", mapping={"status": "failed", "origin": "default"})
    r.hset("rq:job:b", "rate_limit_key", "limit")
    _, last = RegistryReader(r).last(REGISTRY)
    store = OperationStore(r)
    operation_id, _ = store.create("retry", "default", Selector("all", True), "k", 3, last.cursor, "t1", None)
    steps = RegistrySteps(r, "default", "retry", last.cursor, operation_id, "t1", depth=2)
    r.script_load(scripts.OPERATION_WALK_REQUEUE)  # the calls below go one by one: EVALSHA only
    return store, operation_id, steps


def test_a_cancel_between_the_calls_of_one_step_keeps_the_first_calls_work_and_stops(r, monkeypatch):
    """The calls of one step are pipelined: a cancel that lands between them refuses the later
    ones. What the first call did is reported (its rate-limited jobs still go to RQ's requeue)
    and the runner is told to stop."""
    store, operation_id, steps = _three_failed_jobs_b_rate_limited(r)
    monkeypatch.setattr(r, "pipeline", OneCallAtATime(r, lambda: store.cancel(operation_id)))
    step = steps.step(2)
    assert step is not None and step.stopped and not step.ended
    assert (step.examined, step.rate_limited) == (2, [b"b"])
    assert r.lrange("rq:queue:default", 0, -1) == [b"a"]  # c: the refused second call
    assert r.zrange(REGISTRY, 0, -1) == [b"b", b"c"]


def test_an_error_reply_to_the_second_call_keeps_the_first_calls_work_and_stops(r, monkeypatch):
    """Redis refusing the second call (out of memory, a failover) must not hide what the first
    did: before, the pipeline raised and the first call's rate-limited jobs were never handed to
    RQ's requeue while the operation's position had moved past them."""
    _, _, steps = _three_failed_jobs_b_rate_limited(r)
    refused = redis.ResponseError("OOM command not allowed when used memory > 'maxmemory'")
    monkeypatch.setattr(r, "pipeline", OneCallAtATime(r, lambda: None, second=refused))
    step = steps.step(2)
    assert step is not None and step.stopped and not step.ended
    assert (step.examined, step.rate_limited) == (2, [b"b"])
