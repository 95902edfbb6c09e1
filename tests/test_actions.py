"""Retry and delete on one failed registry (services/writes/failed_actions.py): the codes per id, the dry run
that writes nothing, RQ's own requeue for rate-limited jobs, and run_bulk over a walk."""

from __future__ import annotations

import pytest
from rq import Queue
from rq.job import Job
from rq.registry import FailedJobRegistry

from gateway.demo import jobs
from gateway.services.domain.models import JobError
from gateway.services.domain.outcome import RETRY_ERRORS, Outcome
from gateway.services.redis import keys
from gateway.services.redis.registry import Entry
from gateway.services.writes.failed_actions import FailedJobActions, requeue_args, rq_requeue, run_bulk
from tests.conftest import run_worker


def _actions(conn, dry_run=False, queue="default") -> FailedJobActions:
    return FailedJobActions(conn, queue, None, dry_run)


def _dump(conn) -> dict:
    return {key: conn.dump(key) for key in sorted(conn.keys("*"))}


def test_requeue_answers_one_outcome_per_id_in_order(conn, factory):
    a, b = factory.failed(2)
    conn.zadd(keys.registry_key("failed", "default"), {"orphan": 9_999_999_999})
    codes = _actions(conn).requeue([b, "missing", "orphan", a])
    assert codes == [Outcome.REQUEUED, Outcome.NOT_IN_REGISTRY, Outcome.ORPHAN, Outcome.REQUEUED]
    assert all(isinstance(code, Outcome) for code in codes)
    assert conn.lrange("rq:queue:default", 0, -1) == [b.encode(), a.encode()]


def test_delete_removes_the_job_and_answers_deleted_once(conn, factory):
    (job_id,) = factory.failed(1)
    assert _actions(conn).delete([job_id, job_id]) == [Outcome.DELETED, Outcome.NOT_IN_REGISTRY]
    assert not conn.exists(keys.job_key(job_id))


@pytest.mark.parametrize("act", ["requeue", "delete"])
def test_a_dry_run_classifies_alike_and_writes_nothing(conn, factory, act):
    ids = factory.failed(2)
    before = _dump(conn)
    assert getattr(_actions(conn, dry_run=True), act)([*ids, "missing"]) == [
        Outcome.DONE,
        Outcome.DONE,
        Outcome.NOT_IN_REGISTRY,
    ]
    assert _dump(conn) == before


def test_requeue_args_follow_the_scripts_argv_layout():
    args = requeue_args(-1, "emails", ["a", b"b"])
    assert args[0] == -1 and len(args[1]) == len("2024-01-31T22:00:05.123456Z")
    assert args[2:6] == [keys.JOB_PREFIX, keys.QUEUE_PREFIX, keys.QUEUES_SET, "emails"]
    assert args[7:9] == list(keys.DEPENDENCIES_KEY_PARTS) and args[9:] == ["", "a", b"b"]
    assert requeue_args(-1, "emails", ["a"], only_origin="emails")[9:] == ["emails", "a"]


def _rate_limited_failed(conn) -> str:
    rate_limit = pytest.importorskip("rq.rate_limit", reason="RQ 3 rate limits").RateLimit
    job_id = Queue("rl", connection=conn).enqueue(jobs.parse_report, "x", rate_limit=rate_limit("k", 1)).id
    run_worker(conn, "rl")
    return job_id


def test_rate_limited_jobs_are_handed_to_rqs_own_requeue(conn):
    job_id = _rate_limited_failed(conn)
    registry = FailedJobRegistry("rl", connection=conn)
    assert _actions(conn, queue="rl").requeue([job_id]) == [Outcome.REQUEUED]
    assert job_id not in registry.get_job_ids()
    assert Job.fetch(job_id, connection=conn).get_status() != "failed"
    # Already requeued: RQ's own claim (ZREM) finds nothing and says so.
    assert rq_requeue(registry, job_id) == Outcome.NOT_IN_REGISTRY


def test_rqs_requeue_reports_orphans_and_unreadable_jobs_and_a_dry_run_writes_nothing(conn):
    job_id = _rate_limited_failed(conn)
    registry = FailedJobRegistry("rl", connection=conn)
    before = _dump(conn)
    assert rq_requeue(registry, job_id, dry_run=True) == Outcome.REQUEUED
    assert _dump(conn) == before
    conn.hset(keys.job_key(job_id), "created_at", "garbage")
    assert rq_requeue(registry, job_id) == Outcome.UNREADABLE
    conn.delete(keys.job_key(job_id))
    assert rq_requeue(registry, job_id) == Outcome.ORPHAN


class _Chunks:
    def __init__(self, chunks):
        self._chunks = chunks

    def chunks(self):
        yield from self._chunks


def test_run_bulk_tallies_every_chunk_and_reports_the_total_at_the_start():
    def entry(job_id):
        return Entry(job_id, "1", job_id)

    source = _Chunks([(3, [entry("a"), entry("b")]), (3, [entry("c")])])
    codes = {"a": Outcome.REQUEUED, "b": Outcome.ORPHAN, "c": Outcome.NOT_IN_REGISTRY}
    acted: list[list] = []

    def act(members):
        acted.append(members)
        return [codes[m] for m in members]

    outcome = run_bulk(source, act, RETRY_ERRORS, Outcome.REQUEUED)
    assert acted == [["a", "b"], ["c"]]
    assert outcome.total_failed == 3 and outcome.done_jobs == ["a"]
    assert outcome.errors == [JobError("b", RETRY_ERRORS[Outcome.ORPHAN])]


def test_the_walk_of_a_registry_comes_in_bulk_chunks(conn, monkeypatch, factory):
    monkeypatch.setattr("gateway.services.writes.failed_actions.BULK_CHUNK", 2)
    ids = factory.failed(5)
    chunks = list(_actions(conn).chunks())
    assert [len(entries) for _, entries in chunks] == [2, 2, 1]
    assert {total for total, _ in chunks} == {5}
    assert sorted(e.job_id for _, entries in chunks for e in entries) == sorted(ids)
