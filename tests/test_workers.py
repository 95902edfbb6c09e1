"""Workers (services/reads/workers.py) on fakeredis: fields as RQ writes them, constant round trips."""

from __future__ import annotations

import re

import pytest
from rq import Queue, Worker
from rq.executions import Execution

from gateway.demo import jobs

ISO_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


# These tests make a worker busy the way RQ 3 does (an execution per worker); RQ 2 had none.
pytestmark = pytest.mark.skipif(
    "worker_name" not in Execution.create.__code__.co_varnames, reason="RQ 3 worker executions"
)


def busy(conn, worker: Worker, queue: Queue) -> str:
    """Give `worker` a running execution of a new job, as RQ's worker does when it starts one."""
    job = queue.enqueue(jobs.add, 1, 2)
    with conn.pipeline() as pipe:
        Execution.create(job, ttl=60, pipeline=pipe, worker_name=worker.name)
        worker.set_state("busy", pipeline=pipe)
        pipe.execute()
    return job.id


def test_fields_of_an_idle_and_a_busy_worker(conn, service, factory):
    factory.failed(1)
    factory.finished()
    queue = Queue("default", connection=conn)
    idle = Worker([queue, Queue("reports", connection=conn)], name="a-idle", connection=conn)
    idle.register_birth()
    idle.set_state("idle")
    worker = Worker([queue], name="b-busy", connection=conn)
    worker.register_birth()
    job_id = busy(conn, worker, queue)
    conn.hset(worker.key, mapping={"successful_job_count": 4, "failed_job_count": 1})
    conn.hset(worker.key, "total_working_time", 2.5)

    first, second = service.workers()

    assert (first.name, first.state, first.queues, first.current_job_id) == (
        "a-idle",
        "idle",
        ["default", "reports"],
        None,
    )
    assert (second.name, second.state, second.current_job_id) == ("b-busy", "busy", job_id)
    assert (second.successful_job_count, second.failed_job_count, second.total_working_time) == (4, 1, 2.5)
    assert ISO_Z.fullmatch(second.birth_date) and ISO_Z.fullmatch(second.last_heartbeat)
    assert second.pid == worker.pid and second.hostname == worker.hostname


def test_dead_workers_and_expired_executions_are_skipped_not_removed(conn, service):
    queue = Queue("default", connection=conn)
    live, dead = Worker([queue], name="live", connection=conn), Worker([queue], name="dead", connection=conn)
    live.register_birth()
    dead.register_birth()
    busy(conn, live, queue)
    conn.delete(dead.key)
    for key in conn.scan_iter("rq:execution:*"):
        conn.delete(key)  # the execution expired: RQ no longer sees it as running

    (info,) = service.workers()

    assert (info.name, info.current_job_id) == ("live", None)
    assert conn.sismember("rq:workers", dead.key)
    assert conn.scard(live.executions_key) == 1


def test_six_hundred_workers_take_three_round_trips(conn, service, round_trips):
    queue = Queue("default", connection=conn)
    workers = [Worker([queue], name=f"w{i:03d}", connection=conn) for i in range(600)]
    for worker in workers:
        worker.register_birth()
    running = {worker.name: busy(conn, worker, queue) for worker in workers[::3]}
    round_trips.reset()

    listed = service.workers()

    assert round_trips.count == 3
    assert [w.name for w in listed] == [w.name for w in workers]
    assert {w.name: w.current_job_id for w in listed if w.current_job_id} == running
    # PTTL, PEXPIRETIME: the suspension flag, read in the workers set's round trip (issue 15).
    assert set(round_trips.commands) == {"SMEMBERS", "PTTL", "PEXPIRETIME", "HGETALL", "EXISTS"}


def test_no_workers(service):
    assert service.workers() == []
