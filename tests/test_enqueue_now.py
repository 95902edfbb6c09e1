"""Enqueue-now on fakeredis (gateway/services/writes/enqueue_now.py, redis/lua/enqueue_now.lua):
a scheduled job reaches its queue exactly once, whichever way RQ's own scheduler interleaves
with the call; a deferred job only when forced, and then never a second time. The same race on
a real redis-server with a real worker: tests/realredis/test_enqueue_now_real.py."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rq import Queue
from rq.job import Job
from rq.registry import DeferredJobRegistry, ScheduledJobRegistry
from rq.scheduler import RQScheduler

from gateway.demo import jobs
from gateway.errors import BackendUnavailable, Conflict, JobNotFound
from gateway.services import JobService
from gateway.services.redis.resend import OutcomeUnknown
from tests.conftest import run_worker


def _scheduled(conn, in_seconds: int, queue: str = "default") -> str:
    when = datetime.now(timezone.utc) + timedelta(seconds=in_seconds)
    return Queue(queue, connection=conn).enqueue_at(when, jobs.add, 2, 3).id


def _scheduler(conn, queue: str = "default") -> RQScheduler:
    """RQ's own scheduler on this connection, holding the queue's lock as a running one does."""
    scheduler = RQScheduler([queue], connection=conn)
    scheduler._connection = conn  # it would otherwise open its own client from the pool's kwargs
    assert scheduler.acquire_locks() == {queue}
    scheduler.prepare_registries()
    return scheduler


def test_a_scheduled_job_is_enqueued_now_without_a_scheduler(service, conn):
    job_id = _scheduled(conn, 3600)
    outcome = service.enqueue_now(job_id)
    assert (outcome.enqueued_by, outcome.queue) == ("gateway", "default")
    assert Queue("default", connection=conn).job_ids == [job_id]
    assert ScheduledJobRegistry("default", connection=conn).get_job_ids() == []
    assert Job.fetch(job_id, connection=conn).get_status() == "queued"
    run_worker(conn)
    assert Job.fetch(job_id, connection=conn).return_value() == 5


def test_with_a_scheduler_holding_the_queue_the_job_is_handed_to_it(service, conn):
    job_id = _scheduled(conn, 3600)
    scheduler = _scheduler(conn)
    outcome = service.enqueue_now(job_id)
    assert outcome.enqueued_by == "scheduler"
    assert Queue("default", connection=conn).job_ids == []  # not pushed by the gateway
    scheduler.enqueue_scheduled_jobs()  # the scheduler's next tick
    assert Queue("default", connection=conn).job_ids == [job_id]


def test_two_calls_before_the_schedulers_tick_both_hand_the_job_to_it_and_it_runs_once(service, conn):
    """README "Scheduling": the job stays in the scheduled registry, due now, until the
    scheduler's tick, so a second call answers as the first; after the tick, a 409."""
    job_id = _scheduled(conn, 3600)
    scheduler = _scheduler(conn)
    assert [service.enqueue_now(job_id).enqueued_by for _ in range(2)] == ["scheduler", "scheduler"]
    scheduler.enqueue_scheduled_jobs()
    assert Queue("default", connection=conn).job_ids == [job_id]
    with pytest.raises(Conflict, match="is queued; only scheduled or deferred jobs can be enqueued now"):
        service.enqueue_now(job_id)


def test_rqs_scheduler_mid_move_still_gives_one_enqueue(service, conn, monkeypatch):
    """The race the Lua script exists for: RQ's scheduler has read the due id and not yet pushed
    it (its read and its push are two steps) when enqueue-now runs."""
    job_id = _scheduled(conn, -1)  # due: the scheduler takes it on this tick
    scheduler = _scheduler(conn)
    read = ScheduledJobRegistry.get_jobs_to_schedule
    answers = []

    def read_then_enqueue_now(registry, *args, **kwargs):
        ids = read(registry, *args, **kwargs)
        answers.append(service.enqueue_now(job_id))  # between the scheduler's read and its push
        return ids

    monkeypatch.setattr(ScheduledJobRegistry, "get_jobs_to_schedule", read_then_enqueue_now)
    scheduler.enqueue_scheduled_jobs()
    assert [a.enqueued_by for a in answers] == ["scheduler"]
    assert Queue("default", connection=conn).job_ids == [job_id]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    due=st.booleans(),
    scheduler_runs=st.booleans(),
    when=st.sampled_from(["before", "between", "after"]),
    calls=st.integers(1, 3),
)
def test_any_interleaving_with_rqs_scheduler_enqueues_once(
    conn, monkeypatch, due, scheduler_runs, when, calls
):
    """The whole class: due or not, with or without a scheduler, enqueue-now called once or more
    before, during or after the scheduler's tick; one more tick later. The job is enqueued once."""
    conn.flushall()
    service = JobService(conn)
    job_id = _scheduled(conn, -1 if due else 3600)
    scheduler = _scheduler(conn) if scheduler_runs else None

    def enqueue_now() -> None:
        for _ in range(calls):
            try:
                service.enqueue_now(job_id)
            except Conflict as error:  # already on its queue: says so
                assert "is queued" in error.message

    if when == "before":
        enqueue_now()
    read = ScheduledJobRegistry.get_jobs_to_schedule

    def read_hook(registry, *args, **kwargs):
        ids = read(registry, *args, **kwargs)
        if when == "between":
            enqueue_now()
        return ids

    with monkeypatch.context() as patch:
        patch.setattr(ScheduledJobRegistry, "get_jobs_to_schedule", read_hook)
        if scheduler is not None:
            scheduler.enqueue_scheduled_jobs()
        elif when == "between":
            enqueue_now()
    if when == "after":
        enqueue_now()
    if scheduler is not None:
        scheduler.enqueue_scheduled_jobs()  # its next tick
    assert Queue("default", connection=conn).job_ids == [job_id]
    assert ScheduledJobRegistry("default", connection=conn).get_job_ids() == []


def test_a_deferred_job_needs_force_and_then_leaves_its_dependencies(service, conn):
    q = Queue("default", connection=conn)
    parent = q.enqueue(jobs.add, 1, 2)
    child = q.enqueue(jobs.add, 3, 4, depends_on=parent)
    with pytest.raises(Conflict, match=r"is deferred: it waits for its dependencies\. force=true"):
        service.enqueue_now(child.id)
    assert DeferredJobRegistry("default", connection=conn).get_job_ids() == [child.id]

    assert service.enqueue_now(child.id, force=True).enqueued_by == "gateway"
    assert q.job_ids == [parent.id, child.id]
    assert conn.smembers(f"rq:job:{parent.id}:dependents") == set()
    run_worker(conn)  # the parent finishes: RQ must not enqueue the child a second time
    assert q.job_ids == []
    assert len(Job.fetch(child.id, connection=conn).results()) == 1


@pytest.mark.parametrize("state", ["queued", "finished", "failed"])
def test_a_job_neither_scheduled_nor_deferred_is_a_conflict_naming_its_status(service, factory, state):
    job_id = {"queued": factory.queued, "finished": factory.finished}.get(
        state, lambda: factory.failed()[0]
    )()
    with pytest.raises(Conflict, match=f"is {state}; only scheduled or deferred jobs"):
        service.enqueue_now(job_id)


def test_a_missing_job_is_not_found(service):
    with pytest.raises(JobNotFound):
        service.enqueue_now("missing")


def test_a_rate_limited_job_rq_cannot_load_stays_scheduled_and_is_a_conflict(service, conn, client):
    """A rate-limited job is claimed by the gateway and enqueued by RQ (Job.fetch, enqueue_job).
    When RQ cannot load it (here a rate-limit key that is not UTF-8: UnicodeDecodeError), the
    claim was put back but the error left as a 500; it is a 409 saying the job stays where it was."""
    job_id = _scheduled(conn, 3600)
    conn.hset(f"rq:job:{job_id}", "rate_limit_key", b"limit-\xff")
    response = client.post(f"/api/v1/jobs/{job_id}/enqueue-now")
    assert response.status_code == 409, response.text
    assert "left where it was" in response.json()["detail"]
    assert ScheduledJobRegistry("default", connection=conn).get_job_ids() == [job_id]
    assert Queue("default", connection=conn).job_ids == []
    with pytest.raises(Conflict):
        service.enqueue_now(job_id)


def _dropping_zadds(conn, monkeypatch, drops: int) -> list[tuple]:
    """The first `drops` ZADDs fail as a dropped connection does; the calls made, in order."""
    real, calls = conn.zadd, []

    def zadd(name, mapping, *args, **kwargs):
        calls.append((name, dict(mapping)))
        if len(calls) <= drops:
            raise redis.ConnectionError("Connection closed by server.")
        return real(name, mapping, *args, **kwargs)

    monkeypatch.setattr(conn, "zadd", zadd)
    return calls


def test_a_put_back_meeting_a_dropped_connection_is_sent_again_and_the_first_error_stands(
    service, conn, monkeypatch
):
    """RQ cannot load the claimed job (409); the put-back's first ZADD meets a dropped connection.
    The put-back (a ZADD of the score it had: the same however often sent) is sent again and the
    job waits where it was; the answer is the first error, not the dropped connection's 503."""
    job_id = _scheduled(conn, 3600)
    score = conn.zscore("rq:scheduled:default", job_id)
    conn.hset(f"rq:job:{job_id}", "rate_limit_key", b"limit-\xff")
    calls = _dropping_zadds(conn, monkeypatch, drops=1)
    with pytest.raises(Conflict, match="left where it was"):
        service.enqueue_now(job_id)
    assert len(calls) == 2
    assert ScheduledJobRegistry("default", connection=conn).get_job_ids() == [job_id]
    assert conn.zscore("rq:scheduled:default", job_id) == score


def test_a_put_back_that_cannot_be_done_reports_the_first_error_chained_to_it(
    service, conn, monkeypatch, caplog
):
    job_id = _scheduled(conn, 3600)
    conn.hset(f"rq:job:{job_id}", "rate_limit_key", b"limit-\xff")
    _dropping_zadds(conn, monkeypatch, drops=10)
    with pytest.raises(Conflict, match="could not be put back") as raised:
        service.enqueue_now(job_id)
    assert isinstance(raised.value.__cause__, redis.ConnectionError)
    # Nothing is lost in silence: the log says where the job was, to put it back by hand.
    assert any(job_id in r.getMessage() and "rq:scheduled:default" in r.getMessage() for r in caplog.records)


def test_an_enqueue_whose_reply_was_lost_is_not_put_back_when_rq_did_push_it(service, conn, monkeypatch):
    """RQ's enqueue ran but its reply was lost (OutcomeUnknown): the job is in its queue, so it is
    not also put back in its registry (it would run twice); the 503 says the outcome is unknown."""
    job_id = _scheduled(conn, 3600)
    conn.hset(f"rq:job:{job_id}", "rate_limit_key", "limit")
    real = Queue.enqueue_job

    def enqueue_then_lose_the_reply(queue, job, *args, **kwargs):
        real(queue, job, *args, **kwargs)
        raise OutcomeUnknown("EXEC")

    monkeypatch.setattr(Queue, "enqueue_job", enqueue_then_lose_the_reply)
    with pytest.raises(BackendUnavailable, match="may or may not have taken effect"):
        service.enqueue_now(job_id)
    assert Queue("default", connection=conn).job_ids == [job_id]
    assert ScheduledJobRegistry("default", connection=conn).get_job_ids() == []
