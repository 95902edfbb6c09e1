"""Worker control on fakeredis (gateway/services/writes/worker_control.py): RQ's own command
payloads on RQ's own channels, 409 when nobody listens or the job is not running, and `rq
suspend`/`rq resume`'s flag. Real workers obey them in tests/realredis/test_worker_control_real.py."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rq import Queue, Worker
from rq.command import PUBSUB_CHANNEL_TEMPLATE
from rq.suspension import WORKERS_SUSPENDED, is_suspended

from gateway.demo import jobs
from gateway.errors import Conflict, InvalidParameter, JobNotFound, WorkerNotFound, WorkerNotListening
from gateway.services.reads.suspension import suspension_of
from gateway.services.writes.worker_control import MAX_SUSPEND_SECONDS, validate_worker_name


class Listener:
    """A subscriber on a worker's command channel, as RQ's worker subscribes."""

    def __init__(self, conn, worker_name: str):
        self.pubsub = conn.pubsub()
        self.pubsub.subscribe(PUBSUB_CHANNEL_TEMPLATE % worker_name)
        self.pubsub.get_message(timeout=1)  # the subscribe confirmation

    def commands(self) -> list[dict]:
        found = []
        while (message := self.pubsub.get_message(timeout=0.1)) is not None:
            found.append(json.loads(message["data"]))
        return found


def _started(conn, worker_name: str = "w1") -> str:
    job = Queue("default", connection=conn).enqueue(jobs.add, 1, 2)
    conn.hset(job.key, mapping={"status": "started", "worker_name": worker_name})
    return job.id


def test_stop_sends_rqs_stop_job_command_to_the_running_worker(service, conn):
    job_id = _started(conn)
    listener = Listener(conn, "w1")
    outcome = service.stop_job(job_id)
    assert (outcome.worker_name, outcome.command, outcome.job_id) == ("w1", "stop-job", job_id)
    # Exactly what rq.command.send_stop_job_command publishes.
    assert listener.commands() == [{"command": "stop-job", "job_id": job_id}]


@pytest.mark.parametrize("status", ["queued", "finished", "failed", "scheduled", "stopped"])
def test_stop_a_job_that_is_not_running_is_a_conflict_naming_its_status(service, conn, status):
    job = Queue("default", connection=conn).enqueue(jobs.add, 1, 2)
    conn.hset(job.key, "status", status)
    with pytest.raises(Conflict, match=f"Job {job.id} is {status}; only started"):
        service.stop_job(job.id)


def test_stop_a_missing_job_is_not_found(service):
    with pytest.raises(JobNotFound):
        service.stop_job("missing")


def test_stop_with_no_worker_listening_is_a_conflict_not_a_silent_no_op(service, conn):
    job_id = _started(conn, "gone-worker")
    with pytest.raises(WorkerNotListening, match="'gone-worker' did not receive the command"):
        service.stop_job(job_id)


def test_shutdown_sends_rqs_shutdown_then_kill_horse(service, conn):
    worker = Worker([Queue("default", connection=conn)], name="w1", connection=conn)
    worker.register_birth()
    listener = Listener(conn, "w1")
    assert service.shutdown_worker("w1").command == "shutdown"
    assert listener.commands() == [{"command": "shutdown"}]
    assert service.shutdown_worker("w1", kill_horse=True).command == "shutdown+kill-horse"
    # Shutdown first: a horse killed before it would free the worker to take another job.
    assert listener.commands() == [{"command": "shutdown"}, {"command": "kill-horse"}]


def test_shutdown_of_an_unknown_or_dead_worker(service, conn):
    with pytest.raises(WorkerNotFound, match="Worker 'nobody' not found"):
        service.shutdown_worker("nobody")
    Worker([Queue("default", connection=conn)], name="dead", connection=conn).register_birth()
    with pytest.raises(WorkerNotListening):
        service.shutdown_worker("dead")


@given(st.text(min_size=0, max_size=600))
def test_worker_names_are_refused_only_when_rq_could_not_have_written_them(name):
    """The whole class of names: any text of 1 to 512 characters without control characters
    (C0, DEL, C1), the rule of queue names, which the OpenAPI documents for the path."""
    valid = 1 <= len(name) <= 512 and not any(ord(c) < 32 or 127 <= ord(c) <= 159 for c in name)
    if valid:
        assert validate_worker_name(name) == name
    else:
        with pytest.raises(InvalidParameter):
            validate_worker_name(name)


def test_suspend_and_resume_as_rq_suspend_and_resume(service, conn):
    assert service.worker_suspension().suspended is False
    suspended = service.suspend_workers()
    assert (suspended.suspended, suspended.until) == (True, None)
    assert is_suspended(conn) and conn.ttl(WORKERS_SUSPENDED) == -1
    assert all(w.suspended for w in service.workers())
    resumed = service.resume_workers()
    assert (resumed.suspended, resumed.until) == (False, None)
    assert not is_suspended(conn)


def test_suspend_for_a_duration_says_until_when(service, conn):
    suspended = service.suspend_workers(duration=120)
    assert suspended.suspended and suspended.until is not None
    assert 110 <= conn.ttl(WORKERS_SUSPENDED) <= 120
    Worker([Queue("default", connection=conn)], name="w1", connection=conn).register_birth()
    (worker,) = service.workers()
    assert (worker.suspended, worker.suspended_until) == (True, suspended.until)


@pytest.mark.parametrize("duration", [0, -5, MAX_SUSPEND_SECONDS + 1])
def test_suspend_refuses_a_duration_rq_suspend_refuses(service, conn, duration):
    with pytest.raises(InvalidParameter, match="duration must be"):
        service.suspend_workers(duration=duration)
    assert not is_suspended(conn)


def test_until_is_the_flags_expiry_also_on_a_redis_without_pexpiretime(service, conn):
    """Redis < 7 has no PEXPIRETIME: the time comes from PTTL, within the read's own latency."""
    expiring = service.suspend_workers(duration=60).until
    assert expiring is not None
    from_pttl = suspension_of(conn.pttl(WORKERS_SUSPENDED), Exception("ERR unknown command")).until
    assert from_pttl is not None
    assert abs((_parse(from_pttl) - _parse(expiring)).total_seconds()) < 1


def _parse(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")


def test_stop_a_started_job_that_names_no_worker_says_so(service, conn):
    job = Queue("default", connection=conn).enqueue(jobs.add, 1, 2)
    conn.hset(job.key, "status", "started")
    with pytest.raises(Conflict, match="is started but names no worker"):
        service.stop_job(job.id)


def test_a_suspension_expiring_beyond_any_date_reads_as_until_resumed(service, conn, client):
    """PSETEX takes up to about 292 million years: an expiry no date can hold is no "until"."""
    conn.set(WORKERS_SUSPENDED, 1, px=10**15)
    Worker([Queue("default", connection=conn)], name="w1", connection=conn).register_birth()
    assert (service.worker_suspension().suspended, service.worker_suspension().until) == (True, None)
    assert [(w.suspended, w.suspended_until) for w in service.workers()] == [(True, None)]
    assert suspension_of(10**15, Exception("ERR unknown command")).until is None
    assert client.get("/api/v1/workers/suspension").json() == {"suspended": True, "until": None}
    assert client.get("/api/v1/workers").status_code == 200


def test_stop_of_a_job_its_worker_is_not_running_is_a_conflict_and_sends_nothing(service, conn):
    """A stale `started` (its worker died mid-job, its name now taken by a live worker busy with
    other work): RQ's handler would ignore the stop ("Not working on job"), so the gateway says
    so rather than answering that the job ends as stopped."""
    worker = Worker([Queue("default", connection=conn)], name="w1", connection=conn)
    worker.register_birth()
    listener = Listener(conn, "w1")
    job_id = _started(conn, "w1")
    conn.sadd("rq:worker:w1:executions", "another-job:1")
    with pytest.raises(Conflict, match="status is stale"):
        service.stop_job(job_id)
    assert listener.commands() == []
    conn.sadd("rq:worker:w1:executions", f"{job_id}:2")  # now it runs the job: the stop goes
    assert service.stop_job(job_id).worker_name == "w1"
    assert listener.commands() == [{"command": "stop-job", "job_id": job_id}]
