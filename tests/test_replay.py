"""Replay on fakeredis (gateway/services/writes/replay.py): the new job is the old one's call
with its timeout, TTLs and meta; the two are linked in meta; other states and undecodable data
are refused with nothing enqueued. A replay on a real worker: tests/realredis/test_replay_real.py."""

from __future__ import annotations

import json

import pytest
from rq import Queue
from rq.job import Job

from gateway.demo import jobs
from gateway.errors import Conflict, JobNotFound
from gateway.services.audit import AUDIT_STREAM
from tests.conftest import run_worker
from tests.keyed import keyed_client


def _finished(conn, queue: str = "default") -> Job:
    job = Queue(queue, connection=conn).enqueue(
        jobs.add, 2, 3, job_timeout=77, result_ttl=500, failure_ttl=600, meta={"team": "billing"}
    )
    run_worker(conn, queue)
    return Job.fetch(job.id, connection=conn)


def test_replay_copies_the_call_and_links_both_jobs(service, conn):
    old = _finished(conn)
    outcome = service.replay(old.id)
    assert (outcome.replay_of, outcome.queue) == (old.id, "default")
    new = Job.fetch(outcome.job_id, connection=conn)
    assert new.id != old.id
    assert (new.func_name, new.args, new.kwargs) == (old.func_name, old.args, old.kwargs)
    assert (new.timeout, new.result_ttl, new.failure_ttl) == (77, 500, 600)
    assert new.meta == {"team": "billing", "replay_of": old.id}
    assert Job.fetch(old.id, connection=conn).meta["replayed_as"] == [new.id]
    assert Queue("default", connection=conn).job_ids == [new.id]
    again = service.replay(old.id)
    assert Job.fetch(old.id, connection=conn).meta["replayed_as"] == [new.id, again.job_id]
    run_worker(conn)
    assert new.return_value(refresh=True) == 5


def test_a_replay_is_linked_to_its_own_original_only(service, conn):
    """The new job's meta is the old one's call context, not its replay links: a second replay
    must not claim the first as its own replay, and a replay of a replay names its own origin."""
    old = _finished(conn)
    first = service.replay(old.id).job_id
    second = service.replay(old.id).job_id
    assert Job.fetch(second, connection=conn).meta == {"team": "billing", "replay_of": old.id}
    run_worker(conn)
    third = service.replay(first).job_id
    assert Job.fetch(third, connection=conn).meta == {"team": "billing", "replay_of": first}
    assert Job.fetch(first, connection=conn).meta["replayed_as"] == [third]
    assert Job.fetch(old.id, connection=conn).meta["replayed_as"] == [first, second]


def test_replay_never_brings_back_a_job_deleted_meanwhile(service, conn, monkeypatch):
    """The old job's link is written only if the job is still there: a job deleted (or expired)
    between the read and the write is not recreated as a hash holding a meta alone."""
    from gateway.services.writes import replay as replay_module

    old = _finished(conn)
    enqueue_call = Queue.enqueue_call

    def delete_then_enqueue(self, *args, **kwargs):
        conn.delete(old.key)
        return enqueue_call(self, *args, **kwargs)

    monkeypatch.setattr(replay_module.Queue, "enqueue_call", delete_then_enqueue)
    service.replay(old.id)
    assert not conn.exists(old.key)


def test_concurrent_replays_each_keep_their_link(service, conn, monkeypatch):
    """Two replays of one job at once: `replayed_as` lists both (no lost update)."""
    from gateway.services.writes import replay as replay_module

    old = _finished(conn)
    enqueue_call = Queue.enqueue_call
    inner: list[str] = []

    def racing_enqueue(self, *args, **kwargs):
        if not inner:  # another replay of the same job lands while this one is between read and write
            inner.append("running")
            inner.append(service.replay(old.id).job_id)
        return enqueue_call(self, *args, **kwargs)

    monkeypatch.setattr(replay_module.Queue, "enqueue_call", racing_enqueue)
    outer = service.replay(old.id).job_id
    assert sorted(Job.fetch(old.id, connection=conn).meta["replayed_as"]) == sorted([inner[1], outer])


def test_replay_on_another_queue(service, conn):
    old = _finished(conn)
    outcome = service.replay(old.id, "other")
    assert outcome.queue == "other"
    assert Queue("other", connection=conn).job_ids == [outcome.job_id]
    assert Queue("default", connection=conn).job_ids == []


def test_replay_of_a_failed_job(service, conn, factory):
    (failed,) = factory.failed()
    assert not conn.hexists(Job.key_for(failed), "meta")  # RQ saves no meta field for empty meta
    outcome = service.replay(failed)
    assert list(Job.fetch(outcome.job_id, connection=conn).args) == ["bad-0"]
    assert Job.fetch(failed, connection=conn).meta == {"replayed_as": [outcome.job_id]}


def test_replay_by_name_never_imports_the_function(service, conn):
    """A job whose function the gateway cannot import replays by its name."""
    job = Queue("default", connection=conn).enqueue("nowhere_to_be_found.run", 1)
    conn.hset(job.key, "status", "failed")
    new = Job.fetch(service.replay(job.id).job_id, connection=conn)
    assert (new.func_name, list(new.args)) == ("nowhere_to_be_found.run", [1])


@pytest.mark.parametrize("status", ["queued", "started", "scheduled", "deferred", "canceled", "stopped"])
def test_replay_refuses_jobs_that_are_not_finished_or_failed(service, conn, factory, status):
    job_id = factory.queued()
    conn.hset(f"rq:job:{job_id}", "status", status)
    with pytest.raises(Conflict, match=f"is {status}; only finished or failed jobs can be replayed"):
        service.replay(job_id)
    assert Queue("default", connection=conn).job_ids == [job_id]


@pytest.mark.parametrize("field", ["data", "meta"])
def test_replay_refuses_data_it_cannot_decode_and_enqueues_nothing(service, conn, field):
    old = _finished(conn)
    conn.hset(old.key, field, b"\x80\x04not a pickle")
    with pytest.raises(Conflict, match="cannot be decoded by the gateway"):
        service.replay(old.id)
    assert conn.llen("rq:queue:default") == 0


def test_replay_of_a_missing_job(service):
    with pytest.raises(JobNotFound):
        service.replay("missing")


def test_a_replay_to_another_queue_is_audited_in_the_queue_it_wrote_to(conn):
    """The record named the source job's queue, so an admin of the queue the new job landed in
    never saw that someone enqueued work there (README 'Worker control')."""
    old = _finished(conn)
    answer = keyed_client(conn, "operator").post(f"/api/v1/jobs/{old.id}/replay", params={"queue": "other"})
    assert answer.status_code == 200, answer.text
    [record] = [json.loads(fields[b"record"]) for _, fields in conn.xrange(AUDIT_STREAM)]
    assert (record["action"], record["queue"]) == ("replay", "other")
    assert record["job_ids"] == [old.id, answer.json()["job_id"]]
