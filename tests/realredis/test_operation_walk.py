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
from gateway.services.redis.registry import RegistryReader, encode_cursor
from tests.recorded_calls import queued_when_read, record_script_calls

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
    assert int(state.get("done", 0)) == len(live)
    # A resume drops the runner before it unread, as a crash would: its calls still queued (depth
    # above 1) ran all the same, and their entries count in `done`, not in the replies read here.
    assert examined <= len(live)
    if depth == 1 or not resumes:
        assert examined == len(live)

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


def test_a_chunk_of_named_ids_takes_its_time_from_the_round_trip_on_the_gateways_clock(r):
    """The chunk sizer's input (steps.Step says why not Redis's TIME)."""
    _two_failed_jobs(r)
    selector = Selector("job_ids", ["a", "b"])
    operation_id, _ = OperationStore(r).create("retry", "default", selector, "k", 2, "", "t1", None)
    act = ChunkAction(r, "default", "retry", selector, operation_id, "t1", clock=Clock(10.0, 10.25))
    step = WalkSteps(IdsWalk(["a", "b"]), act, "").step(10)
    assert step is not None and step.jobs == 2
    assert step.seconds == 0.25
    assert r.lrange("rq:queue:default", 0, -1) == [b"a", b"b"]


def test_a_registry_step_takes_its_time_from_when_redis_could_start_its_call(r):
    """From its sending, or from the reply before it when it was queued behind that call: the time
    Redis spent on it (and on other clients between), on the gateway's clock."""
    _, operation_id, last = _two_failed_jobs(r)
    # Clock reads: call 1 sent, call 2 sent, reply 1, call 3 sent, reply 2.
    clock = Clock(10.0, 10.1, 10.25, 10.3, 10.4)
    steps = RegistrySteps(r, "default", "retry", last.cursor, operation_id, "t1", depth=2, clock=clock)
    first, second = steps.step(1), steps.step(1)
    assert first is not None and second is not None
    assert (first.jobs, first.seconds) == (1, 0.25)
    assert (second.jobs, second.ended) == (1, True)
    assert second.seconds == pytest.approx(0.15)  # from reply 1, not from its sending at 10.1
    assert r.lrange("rq:queue:default", 0, -1) == [b"a", b"b"]


def _two_failed_jobs(r):
    r.zadd(REGISTRY, {"a": -1, "b": -1})
    for member in "ab":
        r.hset(f"rq:job:{member}", mapping={"status": "failed", "origin": "default"})
    _, last = RegistryReader(r).last(REGISTRY)
    store = OperationStore(r)
    operation_id, _ = store.create("retry", "default", Selector("all", True), "k", 2, last.cursor, "t1", None)
    return store, operation_id, last


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


def _three_failed_jobs_b_rate_limited(r) -> tuple[OperationStore, str, RegistrySteps]:
    r.zadd(REGISTRY, {"a": -1, "b": -1, "c": -1})
    for member in "abc":
        r.hset(f"rq:job:{member}", mapping={"status": "failed", "origin": "default"})
    r.hset("rq:job:b", "rate_limit_key", "limit")
    _, last = RegistryReader(r).last(REGISTRY)
    store = OperationStore(r)
    operation_id, _ = store.create("retry", "default", Selector("all", True), "k", 3, last.cursor, "t1", None)
    steps = RegistrySteps(r, "default", "retry", last.cursor, operation_id, "t1", depth=2)
    return store, operation_id, steps


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_the_walk_sends_each_call_before_it_reads_the_reply_of_the_one_before(r, monkeypatch, depth):
    """What keeps Redis busy between chunks: `depth` calls queued whenever a reply is read, so
    Redis never waits for the gateway to read a reply and send the next call."""
    r.zadd(REGISTRY, {f"j{i}": -1 for i in range(6)})
    _, last = RegistryReader(r).last(REGISTRY)
    operation_id, _ = OperationStore(r).create(
        "delete", "default", Selector("all", True), "k", 6, last.cursor, "t", None
    )
    steps = RegistrySteps(r, "default", "delete", last.cursor, operation_id, "t", depth=depth)
    events = record_script_calls(r, monkeypatch)  # the walk's own connection from here on
    examined = 0
    while (step := steps.step(1)) is not None and not step.ended:
        examined += step.examined
    assert step is not None and examined + step.examined == 6 and r.zcard(REGISTRY) == 0
    assert events.count("read") == events.count("send") >= 6  # one call per job, each read
    queued = queued_when_read(events)
    assert queued[:6] == [depth] * 6  # every job's reply read with `depth` calls queued
    assert max(queued) == depth


def test_a_cancel_stops_the_walk_within_the_calls_already_queued(r):
    """A cancel refuses every call Redis has not started: the walk stops after at most the one
    queued behind the running call (cancel within one chunk), whose work, already done and
    counted, is still reported (its rate-limited job goes to RQ's requeue)."""
    store, operation_id, steps = _three_failed_jobs_b_rate_limited(r)
    first = steps.step(1)
    assert first is not None and first.examined == 1
    store.cancel(operation_id)
    after = []
    while (step := steps.step(1)) is not None:
        after.append(step)
        assert len(after) <= 1
    state = store.state(operation_id)
    assert int(state["done"]) == 1 + sum(s.examined for s in after)
    assert [job for s in after for job in s.rate_limited] == ([b"b"] if after else [])
    assert r.zrange(REGISTRY, 0, -1) == [b"b", b"c"]  # b: rate limited, left to RQ's requeue
    assert r.lrange("rq:queue:default", 0, -1) == [b"a"]
    assert r.ping()  # the walk's connection went back to the pool with nothing left unread


def test_an_error_reply_after_a_call_did_its_work_loses_nothing(r, monkeypatch):
    """Redis refusing a later call (out of memory, a failover) raises, and what the calls before
    did stays counted in Redis: a runner resuming the operation finishes exactly the rest, and
    the rate-limited job the failed reply would have named is still listed for RQ's requeue."""
    store, operation_id, steps = _three_failed_jobs_b_rate_limited(r)
    refused = redis.ResponseError("OOM command not allowed when used memory > 'maxmemory'")
    record_script_calls(r, monkeypatch, fail_read=2, error=refused)
    first = steps.step(1)
    assert first is not None and first.examined == 1
    with pytest.raises(redis.ResponseError):
        steps.step(1)  # call 2 ran (it took b), its reply is lost
    assert store.limited(operation_id) == [b"b"]
    monkeypatch.undo()
    resumed = RegistrySteps(r, "default", "retry", store.state(operation_id)["bound"], operation_id, "t1")
    while (step := resumed.step(5)) is not None and not step.ended:
        pass
    assert int(store.state(operation_id)["done"]) == 3
    assert r.lrange("rq:queue:default", 0, -1) == [b"a", b"c"]
    assert r.ping()


@pytest.mark.parametrize(
    "interrupt",
    [
        # SCRIPT FLUSH (or a restart, a failover): the queued calls answer NOSCRIPT and did
        # nothing; the walk loads its script again.
        pytest.param(lambda r: r.script_flush(), id="scripts-forgotten"),
        # The walk's own connection killed (a proxy's idle timeout, a network blip): it
        # reconnects once, as the client's own retry does.
        pytest.param(lambda r: r.client_kill_filter(_type="normal", skipme=True), id="connection-dropped"),
    ],
)
def test_a_walk_interrupted_between_calls_goes_on_and_acts_on_every_job_once(r, interrupt):
    store, operation_id, steps = _three_failed_jobs_b_rate_limited(r)
    r.hdel("rq:job:b", "rate_limit_key")
    assert steps.step(1) is not None
    interrupt(r)
    examined = 1
    while (step := steps.step(1)) is not None:
        examined += step.examined
        if step.ended:
            break
    assert examined == int(store.state(operation_id)["done"]) == 3
    assert r.lrange("rq:queue:default", 0, -1) == [b"a", b"b", b"c"]


def test_health_checks_never_interleave_with_queued_calls(redis_url):
    """The gateway's client checks a connection's health (a PING) before a command once it has
    been idle: a PING sent behind a queued call would read that call's reply as its own."""
    client = redis.Redis.from_url(redis_url, health_check_interval=1e-9)
    try:
        store, operation_id, steps = _three_failed_jobs_b_rate_limited(client)
        client.hdel("rq:job:b", "rate_limit_key")
        while (step := steps.step(1)) is not None and not step.ended:
            pass
        assert int(store.state(operation_id)["done"]) == 3
    finally:
        client.close()
