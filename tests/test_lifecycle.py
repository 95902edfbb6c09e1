"""Cancel and requeue (fakeredis): RQ's own data layout, 409 on the wrong state, and the job's
location and dependencies in the status lookup at a constant number of round trips."""

from __future__ import annotations

import pytest
from rq import Queue
from rq.job import Job
from rq.registry import CanceledJobRegistry, DeferredJobRegistry

from gateway.demo import jobs
from gateway.errors import Conflict, JobNotFound
from tests.conftest import run_worker


def test_cancel_a_queued_job_as_rq_leaves_it(service, conn):
    q = Queue("default", connection=conn)
    job_id = q.enqueue(jobs.add, 1, 2).id
    service.cancel(job_id)
    job = Job.fetch(job_id, connection=conn)
    assert job.get_status() == "canceled"
    assert q.job_ids == []
    assert job_id in CanceledJobRegistry(queue=q).get_job_ids(cleanup=False)
    assert service.get_job(job_id).location.registry == "canceled"


def test_cancel_a_deferred_job_and_requeue_it(service, conn):
    q = Queue("default", connection=conn)
    parent = q.enqueue(jobs.add, 1, 2)
    child = q.enqueue(jobs.add, 3, 4, depends_on=parent)
    assert service.get_job(child.id).location.registry == "deferred"
    service.cancel(child.id)
    assert child.id not in DeferredJobRegistry(queue=q).get_job_ids(cleanup=False)
    service.requeue(child.id)
    assert q.job_ids == [parent.id, child.id]
    run_worker(conn)
    assert Job.fetch(child.id, connection=conn).return_value() == 7


@pytest.mark.parametrize("state", ["finished", "failed", "canceled"])
def test_cancel_in_another_state_is_a_conflict(service, conn, factory, state):
    job_id = factory.finished() if state == "finished" else factory.failed()[0]
    if state == "canceled":
        job_id = factory.queued()
        service.cancel(job_id)
    with pytest.raises(
        Conflict, match=f"is {state}; only queued, deferred or scheduled jobs can be canceled"
    ):
        service.cancel(job_id)


def test_cancel_loses_to_a_worker_that_dequeued_first(service, conn):
    q = Queue("default", connection=conn)
    job_id = q.enqueue(jobs.add, 1, 2).id
    conn.lpop("rq:queue:default")  # what a worker's dequeue does before it marks the job started
    with pytest.raises(Conflict, match="no longer queued"):
        service.cancel(job_id)
    assert Job.fetch(job_id, connection=conn).get_status() == "queued"
    assert conn.zcard("rq:canceled:default") == 0


def test_requeue_needs_a_canceled_or_stopped_job(service, factory):
    with pytest.raises(Conflict, match="is queued; only canceled or stopped jobs can be requeued"):
        service.requeue(factory.queued())
    with pytest.raises(JobNotFound):
        service.requeue("missing")


def test_requeue_a_stopped_job_from_the_failed_registry(service, conn, factory):
    (job_id,) = factory.failed()
    conn.hset(f"rq:job:{job_id}", "status", "stopped")  # what a worker writes for a stopped job
    service.requeue(job_id)
    assert service.get_job(job_id).location.registry == "queued"
    assert service.stats().failed_count == 0


def test_location_and_dependencies(service, conn, factory):
    q = Queue("default", connection=conn)
    parent = q.enqueue(jobs.add, 1, 2)
    child = q.enqueue(jobs.add, 3, 4, depends_on=parent)
    found = service.get_job(parent.id)
    assert (found.location.queue, found.location.registry) == ("default", "queued")
    assert (found.dependency_ids, found.dependent_ids) == ([], [child.id])
    assert service.get_job(child.id).dependency_ids == [parent.id]
    run_worker(conn)
    assert service.get_job(parent.id).location.registry == "finished"
    assert service.get_job(factory.failed(queue="reports")[0]).location.queue == "reports"
    conn.lrem("rq:queue:default", 0, lost := q.enqueue(jobs.add, 0, 0).id)
    assert service.get_job(lost).location.registry is None  # the hash exists, in no queue or registry


def test_status_round_trips_do_not_grow_with_dependents(service, conn, round_trips):
    q = Queue("default", connection=conn)
    parent = q.enqueue(jobs.add, 1, 2)
    counts = []
    for _ in range(3):
        for _ in range(5):
            q.enqueue(jobs.add, 3, 4, depends_on=parent)
        round_trips.reset()
        service.get_job(parent.id)
        counts.append(round_trips.count)
    assert counts == [1, 1, 1]
