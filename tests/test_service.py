"""The service layer on fakeredis: what RQ does that we hide, and what we promise instead."""

from __future__ import annotations

import time

import pytest
from rq import Queue
from rq.group import Group
from rq.job import Job
from rq.registry import FailedJobRegistry

from gateway.demo import jobs
from gateway.errors import (
    FailedJobNotFound,
    InvalidJobId,
    InvalidParameter,
    JobDataGone,
    JobNotFound,
    JobUnreadable,
)
from gateway.services import JobService
from gateway.services.redis import keys
from gateway.services.writes import failed_actions as actions_module
from tests.conftest import run_worker


def registry(conn, queue="default"):
    return FailedJobRegistry(queue, connection=conn)


def test_list_is_in_registry_order_with_ties_by_id(conn, service, factory):
    ids = factory.failed(3)
    key = registry(conn).key
    # Same score for all: Redis orders ties by member, and so must we.
    conn.zadd(key, {job_id: 9_999_999_999 for job_id in ids})
    assert [j.job_id for j in service.list_failed()] == sorted(ids)
    conn.zadd(key, {ids[2]: -1})  # failure_ttl=-1 entries sort first and never expire
    assert service.list_failed()[0].job_id == ids[2]


def test_reads_hide_expired_entries_without_deleting_them(conn, service, factory):
    ids = factory.failed(2)
    key = registry(conn).key
    conn.zadd(key, {ids[0]: int(time.time()) - 100})
    assert [j.job_id for j in service.list_failed()] == [ids[1]]
    assert service.stats().failed_count == 1
    assert service.failed_page().total == 1
    assert conn.zscore(key, ids[0]) is not None, "a read must not clean up the registry"


def test_limit_and_offset(service, factory):
    ids = factory.failed(5)
    order = [j.job_id for j in service.list_failed()]
    assert sorted(order) == sorted(ids)
    assert [j.job_id for j in service.list_failed(offset=1, limit=2)] == order[1:3]
    assert service.list_failed(offset=10) == []
    with pytest.raises(InvalidParameter):
        service.list_failed(offset=-1)


def test_exc_info_comes_from_the_results_stream_only_while_failed(conn, service, factory):
    (job_id,) = factory.failed()
    job = service.get_job(job_id)
    assert job.status == "failed"
    assert "ValueError: malformed report header" in job.exc_info
    assert Job.fetch(job_id, connection=conn).to_dict().get("exc_info") is None
    service.retry(job_id)
    assert service.get_job(job_id).exc_info is None


def test_self_referencing_values_do_not_break_a_list(conn, service, factory):
    loop = [1]
    loop.append(loop)
    q = Queue("default", connection=conn)
    job_id = q.enqueue(jobs.parse_report, loop).id
    run_worker(conn)
    (job,) = service.list_failed()
    assert job.job_id == job_id and job.func_name.endswith("parse_report")
    assert job.args[0][0] == 1 and "[...]" in str(job.args)


def test_finished_job_result_and_flags(service, factory):
    job = service.get_job(factory.finished())
    assert (job.status, job.result, job.is_finished, job.is_failed) == ("finished", 5, True, False)
    assert job.created_at.endswith("Z") and job.ended_at.endswith("Z")


def test_retry_leaves_the_job_as_rq_requeue_does(conn, service, factory):
    ours, theirs = factory.failed(2)
    service.retry(ours)
    FailedJobRegistry("default", connection=conn).requeue(theirs)

    def state(job_id):
        fields = conn.hgetall(Job.key_for(job_id))
        for varying in (b"data", b"description", b"enqueued_at", b"created_at", b"last_heartbeat"):
            fields.pop(varying, None)
        fields.pop(b"worker_name", None)
        return fields

    assert state(ours) == state(theirs)
    assert abs(conn.ttl(Job.key_for(ours)) - conn.ttl(Job.key_for(theirs))) <= 1
    job = Job.fetch(ours, connection=conn)
    assert job.get_status() == "queued"
    assert job.started_at is None and job.ended_at is None
    assert Queue("default", connection=conn).job_ids == [ours, theirs]
    assert registry(conn).get_job_ids(cleanup=False) == []


def test_retry_twice_enqueues_once(conn, service, factory):
    (job_id,) = factory.failed()
    service.retry(job_id)
    with pytest.raises(FailedJobNotFound):
        service.retry(job_id)
    assert conn.lrange("rq:queue:default", 0, -1) == [job_id.encode()]


def test_orphans_are_listed_refused_for_retry_and_deletable(conn, service, factory):
    orphan, healthy = factory.failed(2)
    conn.delete(Job.key_for(orphan))
    listed = {j.job_id: j for j in service.list_failed()}
    assert listed[orphan].status == "failed" and listed[orphan].func_name is None
    assert len(listed) == service.stats().failed_count == 2
    with pytest.raises(JobDataGone):
        service.retry(orphan)
    outcome = service.retry_all()
    assert outcome.done_jobs == [healthy]
    assert [e.job_id for e in outcome.errors] == [orphan]
    assert "data is gone" in outcome.errors[0].error
    assert not outcome.success
    assert service.delete(orphan).job_id == orphan
    assert registry(conn).get_job_count(cleanup=False) == 0


def test_delete_removes_everything_rq_keeps(conn, service, factory):
    (job_id,) = factory.failed()
    job = Job.fetch(job_id, connection=conn)
    conn.sadd(job.dependents_key, "x")
    conn.sadd(job.dependencies_key, "y")
    conn.sadd(f"rq:executions:{job_id}", "z")
    conn.hset(job.key, "group_id", "batch-1")
    conn.sadd("rq:group:batch-1", job_id, "other-job")
    conn.sadd("rq:groups", "batch-1")  # as RQ's Group names every group it creates
    assert conn.exists(f"rq:results:{job_id}")
    service.delete(job_id)
    for key in (job.key, f"rq:results:{job_id}", job.dependents_key, job.dependencies_key):
        assert not conn.exists(key), key
    assert not conn.exists(f"rq:executions:{job_id}")
    assert conn.smembers("rq:group:batch-1") == {b"other-job"}
    with pytest.raises(FailedJobNotFound):
        service.delete(job_id)


def test_a_job_of_an_rq_group_leaves_its_group_when_deleted_and_others_stay(conn, service):
    group = Group.create(conn, "batch-2")
    queue = Queue("default", connection=conn)
    jobs = group.enqueue_many(queue, [Queue.prepare_data(print, ("x",)) for _ in range(2)])
    registry(conn).add(jobs[0], exc_string="Traceback\nValueError: x")
    service.delete(jobs[0].id)
    assert conn.smembers("rq:group:batch-2") == {jobs[1].id.encode()}


def test_clear_handles_a_job_called_clear(conn, service, factory):
    factory.failed(2)
    factory.failed(1, job_id="clear")
    outcome = service.clear()
    assert outcome.total_failed == 3 and outcome.done_count == 3 and outcome.success
    assert "clear" in outcome.done_jobs
    assert registry(conn).get_job_count(cleanup=False) == 0


def test_bulk_walks_in_chunks_and_ignores_jobs_that_fail_again(conn, service, factory, monkeypatch):
    monkeypatch.setattr(actions_module, "BULK_CHUNK", 2)
    ids = factory.failed(5)
    calls = []
    original = actions_module.FailedJobActions.requeued

    def spy(self, job_ids, codes):
        calls.append(list(job_ids))
        # A worker failing a requeued job again mid-walk: it lands after the walk's bound.
        conn.zadd(registry(conn).key, {job_ids[0]: int(time.time()) + 10**8})
        return original(self, job_ids, codes)

    monkeypatch.setattr(actions_module.FailedJobActions, "requeued", spy)
    outcome = service.retry_all()
    assert [len(c) for c in calls] == [2, 2, 1]
    assert sorted(outcome.done_jobs) == sorted(ids)


def test_a_job_failing_again_ahead_of_the_walk_is_not_requeued_twice(conn, service, factory, monkeypatch):
    monkeypatch.setattr(actions_module, "BULK_CHUNK", 2)
    ids = factory.failed(5)
    key = registry(conn).key
    conn.zadd(key, {ids[-1]: "+inf"})  # e.g. a job kept forever: the walk's bound is +inf
    original = actions_module.FailedJobActions.requeued
    failed_again = []

    def requeued_then_fail_again(self, job_ids, codes):
        # A worker fails the first requeued job again: it re-enters with a fresh score.
        conn.lrem("rq:queue:default", 0, job_ids[0])
        conn.hset(Job.key_for(job_ids[0]), "status", "failed")
        conn.zadd(key, {job_ids[0]: int(time.time()) + 31_536_000 + 100})  # now + failure_ttl
        failed_again.append(job_ids[0])
        return original(self, job_ids, codes)

    monkeypatch.setattr(actions_module.FailedJobActions, "requeued", requeued_then_fail_again)
    outcome = service.retry_all()
    assert len(failed_again) == 3  # one per chunk of 2: the walk did meet them again
    assert sorted(outcome.done_jobs) == sorted(ids)
    assert len(outcome.done_jobs) == len(set(outcome.done_jobs))


def test_cursor_pages_do_not_skip_or_repeat_when_earlier_jobs_leave(service, factory):
    ids = factory.failed(6)
    first = service.failed_page(first=2)
    seen = [j.job_id for j in first.jobs]
    service.delete(seen[0])  # an earlier job leaves the registry between pages
    rest = []
    cursor = first.end_cursor
    while True:
        page = service.failed_page(first=2, after=cursor)
        rest += [j.job_id for j in page.jobs]
        if not page.has_next_page:
            break
        cursor = page.end_cursor
    assert sorted(seen + rest) == sorted(ids)
    assert len(set(seen + rest)) == 6


@pytest.mark.parametrize("bad", ["bad:x", "a b", "", "x" * 513, "../etc", "é", "a\x00b", "a%2Fb"])
def test_invalid_ids_never_reach_redis(conn, bad, round_trips):
    service = JobService(conn)
    for call in (service.get_job, service.retry, service.delete):
        with pytest.raises(InvalidJobId):
            call(bad)
    assert round_trips.count == 0


def test_a_page_costs_constant_round_trips(service, factory, round_trips):
    factory.failed(30)
    service.failed_page(first=1), service.list_failed(limit=1)  # load the Lua scripts once
    for size in (1, 10, 30):
        round_trips.count = 0
        assert len(service.failed_page(first=size).jobs) == size
        small = round_trips.count
        round_trips.count = 0
        assert len(service.list_failed(limit=size)) == size
        assert small == round_trips.count == 2, "one script call for ids, one pipeline for the jobs"


def test_stats_is_one_round_trip(service, factory, round_trips):
    factory.failed(3)
    round_trips.count = 0
    assert service.stats().failed_count == 3
    assert round_trips.count == 1


def test_missing_job(service):
    with pytest.raises(JobNotFound, match="Job nope not found"):
        service.get_job("nope")
    with pytest.raises(FailedJobNotFound, match="Job nope not found in failed jobs registry"):
        service.retry("nope")


# Names RQ accepts but the gateway refuses; "a b", "q/../r", "*" and "é" are valid queue names.
@pytest.mark.parametrize("queue", ["", "x" * 513, "a\nb", "q\x00", "\x7f", "\ud800"])
def test_invalid_queue_names(service, queue):
    with pytest.raises(InvalidParameter):
        service.stats(queue)


def test_invalid_cursor(service):
    with pytest.raises(InvalidParameter):
        service.failed_page(after="not-a-cursor")
    with pytest.raises(InvalidParameter):
        service.failed_page(first=1001)


def test_long_ids_page_with_their_own_cursors(service, factory):
    factory.failed(1, job_id="L" * 300)
    factory.failed(1)
    first = service.failed_page(first=1)
    second = service.failed_page(first=1, after=first.end_cursor)
    assert {first.jobs[0].job_id, second.jobs[0].job_id} >= {"L" * 300}
    assert service.retry("L" * 300).job_id == "L" * 300


@pytest.mark.parametrize("score", ["nan", "1_0", "-nan", "\u0661", "inf0", ""])
def test_cursors_with_scores_redis_would_reject_are_bad_input(service, score):
    from gateway.services.redis.registry import encode_cursor

    with pytest.raises(InvalidParameter):
        service.failed_page(after=encode_cursor(score, "x"))


def test_queue_names_may_hold_colons(service, factory):
    factory.failed(2, queue="tenant:42")
    assert service.stats("tenant:42").failed_count == 2


def test_rate_limited_jobs_go_through_rqs_requeue_and_report_unreadable_ones(conn, service):
    rate_limit = pytest.importorskip("rq.rate_limit", reason="RQ 3 rate limits").RateLimit
    q = Queue("rl", connection=conn)
    ok = q.enqueue(jobs.parse_report, "x", rate_limit=rate_limit("k", 1)).id
    corrupt = q.enqueue(jobs.parse_report, "y", rate_limit=rate_limit("k", 1)).id
    run_worker(conn, "rl")
    conn.hset(Job.key_for(corrupt), "created_at", "garbage")
    with pytest.raises(JobUnreadable):
        service.retry(corrupt, "rl")
    outcome = service.retry_all("rl")
    assert outcome.done_jobs == [ok]
    assert [e.job_id for e in outcome.errors] == [corrupt] and not outcome.success
    assert service.get_job(ok).status != "failed"
    assert [j.job_id for j in service.list_failed("rl")] == [corrupt]


def test_a_rate_limited_job_requeued_through_rq_is_forgotten_by_the_history_too(conn, service):
    """RQ's own requeue (rate-limited jobs) leaves the history's seen set alone; the gateway
    forgets the id after it, as requeue.lua does for the jobs it takes, so failing again it
    counts again."""
    rate_limit = pytest.importorskip("rq.rate_limit", reason="RQ 3 rate limits").RateLimit
    q = Queue("rl", connection=conn)
    limited = q.enqueue(jobs.parse_report, "x", rate_limit=rate_limit("k", 1)).id
    other = q.enqueue(jobs.parse_report, "y").id
    run_worker(conn, "rl")
    seen = keys.history_seen_key("failed", "rl")
    conn.zadd(seen, {limited: 0, other: 0, "counted-earlier": 0})
    assert sorted(service.retry_all("rl").done_jobs) == sorted([limited, other])
    assert conn.zrange(seen, 0, -1) == [b"counted-earlier"]


def test_jobs_of_a_json_serializer_deployment_decode_with_that_serializer(conn):
    from rq.serializers import JSONSerializer

    q = Queue("json", connection=conn, serializer=JSONSerializer)
    job_id = q.enqueue("gateway.demo.jobs.add", 2, 3).id
    service = JobService(conn, serializer="rq.serializers.JSONSerializer")
    job = service.get_job(job_id)
    assert (job.func_name, job.args, job.kwargs) == ("gateway.demo.jobs.add", [2, 3], {})
    assert JobService(conn).get_job(job_id).args is None, "pickle cannot read JSON payloads"
