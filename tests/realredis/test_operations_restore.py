"""Redis going back in time under a running operation: restarted from a snapshot taken
mid-operation (fast enough that the runner's lease, restored with it, still holds), or a
failover to a replica that had not yet received the last chunks. The runner's walk is then
ahead of the operation's recorded position, and the jobs between are failed again; it must
walk again from the recorded position, so that every job is acted on once and `done` adds up,
instead of going on from where it was and reporting success with jobs left behind.

And the other side of a dropped connection: redis-py sends a command once more when the
connection drops (connection.py's Retry), also after the script ran and before its reply was
read. Each operation script's second copy must act and count as the first would have."""

from __future__ import annotations

import dataclasses
import json

import pytest
import redis

from gateway.services import JobService
from gateway.services.audit import AUDIT_STREAM, AuditTrail
from gateway.services.operations import pacing
from gateway.services.operations import store as stored
from gateway.services.operations.chunks import Chunk, ChunkAction
from gateway.services.operations.model import Selector
from gateway.services.operations.registry_steps import RegistrySteps
from gateway.services.operations.steps import Rewound

from .helpers import failed_ids, queued_ids, restore, snapshot, wait_until
from .processes import assert_clear_consistent, assert_retry_consistent

N = 30
SELECTORS = {
    "all": {"all": True},
    "filter": {"filter": {"exc_type": "ValueError"}},
    "query": {"query": "exc:ValueError"},
}


def _restored_mid_walk(r: redis.Redis, monkeypatch: pytest.MonkeyPatch) -> None:
    """After the runner's first chunk, snapshot Redis; after its second, restore that snapshot
    (FLUSHALL + RESTORE on the same server: the runner's connection stays up)."""
    seen: list[int] = []
    taken: dict = {}
    observe = pacing.ChunkSizer.observe

    def observed(sizer: pacing.ChunkSizer, jobs: int, seconds: float) -> None:
        seen.append(jobs)
        if len(seen) == 1:
            taken.update(snapshot(r))
        elif len(seen) == 2:
            restore(r, taken)
        observe(sizer, jobs, seconds)

    monkeypatch.setattr(pacing.ChunkSizer, "observe", observed)


def _restored_before_the_end(r: redis.Redis, monkeypatch: pytest.MonkeyPatch) -> None:
    """Snapshot Redis after the runner's first chunk; restore it as the runner ends the operation,
    after its walk ended: its last chunks and the end met two different Redis states, as after a
    failover between them (a manual one: the old master took the chunks, the new one the end)."""
    taken: dict = {}
    restored: list[bool] = []
    observe, finish = pacing.ChunkSizer.observe, stored.OperationStore.finish

    def observed(sizer: pacing.ChunkSizer, jobs: int, seconds: float) -> None:
        if not taken:
            taken.update(snapshot(r))
        observe(sizer, jobs, seconds)

    def finished(store: stored.OperationStore, *args, **kwargs) -> bool:
        if not restored:
            restore(r, taken)
            restored.append(True)
        return finish(store, *args, **kwargs)

    monkeypatch.setattr(pacing.ChunkSizer, "observe", observed)
    monkeypatch.setattr(stored.OperationStore, "finish", finished)


# How Redis goes back in time under the runner, and what the operation must do about it.
REWINDS = {
    # Restored to a point before its last chunks: it walks again from the recorded position.
    "mid_walk": _restored_mid_walk,
    # Its end written where the walk had not ended: it walks on and ends there.
    "before_the_end": _restored_before_the_end,
}


@pytest.mark.parametrize("rewind", REWINDS)
@pytest.mark.parametrize("action", ["retry", "delete"])
@pytest.mark.parametrize("kind", [*SELECTORS, "job_ids"])
def test_redis_gone_back_in_time_under_an_operation_acts_on_every_job_once_and_counts_it(
    redis_url, r, fail_jobs, monkeypatch, kind, action, rewind
):
    ids = fail_jobs(N)
    service = JobService(redis.Redis.from_url(redis_url))
    service.use_operations(max_rate=100)  # chunks of 10
    runner = service.operations_runner
    monkeypatch.setattr(runner, "run_in_background", lambda *_: None)
    selector = {"job_ids": ids} if kind == "job_ids" else SELECTORS[kind]
    operation, _ = service.start_operation(action, selector)
    token = r.get(stored.lease_key(operation.id)).decode()
    REWINDS[rewind](r, monkeypatch)

    runner.run(operation.id, token)

    final = service.operation(operation.id)
    assert final.status == "succeeded"
    assert (final.total, final.done, final.matched, final.acted, final.error_count) == (N, N, N, N, 0)
    if action == "retry":
        assert assert_retry_consistent(r, ids) == {"queue": N, "failed": 0}
    else:
        assert assert_clear_consistent(r, ids) == {"deleted": N, "failed": 0}


def test_a_chunk_sent_again_after_it_ran_acts_and_counts_once(redis_url, r, fail_jobs, monkeypatch):
    """redis-py sends a command again once when the connection drops (connection.py's Retry): a
    chunk that ran before the drop arrives a second time. It used to run again on its own ids:
    `done` and `matched` counted twice, and each id it had just retried listed as an error."""
    ids = fail_jobs(4)
    service = JobService(redis.Redis.from_url(redis_url))
    monkeypatch.setattr(service.operations_runner, "run_in_background", lambda *_: None)
    operation, _ = service.start_operation("retry", {"job_ids": ids})
    token = r.get(stored.lease_key(operation.id)).decode()
    selector = Selector.parse({"job_ids": ids})
    chunk = Chunk(list(ids[:2]), ids[:2], 2, "2")
    ChunkAction(r, "default", "retry", selector, operation.id, token).run(chunk)

    with pytest.raises(Rewound):  # the same call again, as the retry sends it
        ChunkAction(r, "default", "retry", selector, operation.id, token).run(chunk)

    service.operations_runner.run(operation.id, token)
    final = service.operation(operation.id)
    assert (final.status, final.done, final.matched, final.acted, final.error_count) == (
        "succeeded",
        4,
        4,
        4,
        0,
    )
    assert assert_retry_consistent(r, ids) == {"queue": 4, "failed": 0}


def test_rate_limited_jobs_a_lost_reply_named_are_handed_to_rq_before_the_operation_ends(
    redis_url, r, fail_jobs, monkeypatch
):
    """A walk chunk lists its rate-limited jobs in the operation and in its reply; when the reply
    is lost (the connection dropped and redis-py sent the call again, which ran the next chunk),
    the runner never saw them. It used to end `succeeded` with them still failed, listed for a
    hand-over that never came; it now hands over what the list holds before it ends."""
    rate_limit = pytest.importorskip("rq.rate_limit", reason="RQ 3 rate limits").RateLimit
    fail_jobs(2, rate_limit=rate_limit("k", 1))
    plain = fail_jobs(3)
    service = JobService(redis.Redis.from_url(redis_url))
    runner = service.operations_runner
    monkeypatch.setattr(runner, "run_in_background", lambda *_: None)
    step = RegistrySteps.step

    def reply_lost(steps: RegistrySteps, size: int, reach: int = 0):
        done = step(steps, size, reach)
        return None if done is None else dataclasses.replace(done, rate_limited=[])

    monkeypatch.setattr(RegistrySteps, "step", reply_lost)
    operation, _ = service.start_operation("retry", {"all": True})
    runner.run(operation.id, r.get(stored.lease_key(operation.id)).decode())

    final = service.operation(operation.id)
    assert (final.status, final.done, final.acted, final.error_count) == ("succeeded", 5, 5, 0)
    assert failed_ids(r) == [] and runner.store.limited(operation.id) == []
    assert set(plain) <= set(queued_ids(r))


def _sent_twice(script):
    """The script as redis-py's Retry sends it when the connection drops after it ran: twice,
    the first reply lost."""

    def twice(*args, **kwargs):
        script(*args, **kwargs)
        return script(*args, **kwargs)

    return twice


def test_a_start_sent_again_starts_the_operation_here_and_an_end_sent_again_is_audited(
    redis_url, r, fail_jobs, monkeypatch
):
    """The second copy of the start found the idempotency key the first had set: the start was
    answered as a replay and no runner started (the operation waited for its lease to lapse).
    The second copy of the end found the operation ended: the finish was not audited."""
    ids = fail_jobs(2)
    service = JobService(redis.Redis.from_url(redis_url))
    service.use_operations(audit=AuditTrail(service.connection))
    store = service.operations_runner.store
    monkeypatch.setattr(store, "_create", _sent_twice(store._create))
    monkeypatch.setattr(store, "_end", _sent_twice(store._end))

    operation, new = service.start_operation("retry", {"job_ids": ids}, idempotency_key="once")

    assert new
    wait_until(lambda: service.operation(operation.id).status == "succeeded", 30, "the runner started here")

    def finished() -> list[str]:  # audited just after the end is written
        records = [json.loads(fields[b"record"]) for _, fields in r.xrange(AUDIT_STREAM)]
        return [record["operation_id"] for record in records if record["action"] == "operation_retry.finish"]

    assert wait_until(finished, 10, "the finish to be audited") == [operation.id]


def test_a_hand_over_sent_again_counts_its_job_once(redis_url, r, fail_jobs, monkeypatch):
    """The hand-over of a rate-limited job (off the operation's list, and counted) was a MULTI
    that redis-py sends again too: its job counted twice."""
    rate_limit = pytest.importorskip("rq.rate_limit", reason="RQ 3 rate limits").RateLimit
    fail_jobs(2, rate_limit=rate_limit("k", 1))
    fail_jobs(3)
    service = JobService(redis.Redis.from_url(redis_url))
    runner = service.operations_runner
    monkeypatch.setattr(runner, "run_in_background", lambda *_: None)
    monkeypatch.setattr(runner.store, "_hand_over", _sent_twice(runner.store._hand_over))
    operation, _ = service.start_operation("retry", {"all": True})
    runner.run(operation.id, r.get(stored.lease_key(operation.id)).decode())

    final = service.operation(operation.id)
    assert (final.status, final.done, final.acted) == ("succeeded", 5, 5)
    assert failed_ids(r) == [] and runner.store.limited(operation.id) == []
