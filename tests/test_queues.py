"""Queues (services/reads/queues.py) on fakeredis: what each queue reports, in a constant number of
round trips, without writes."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from rq import Queue, Worker

from gateway.demo import jobs
from gateway.errors import InvalidParameter, QueueNotFound


def test_queues_are_rq_queues_set_sorted_with_the_stats_counts(conn, service, factory):
    factory.failed(2, queue="reports")
    factory.finished(queue="default")
    Queue("zeta", connection=conn).enqueue(jobs.add, 1, 1)
    queue = Queue("alpha", connection=conn)
    queue.enqueue_in(timedelta(hours=1), jobs.add, 1, 2)
    conn.zadd("rq:failed:orphan-registry", {"x": -1})  # not in RQ's queues set: not listed

    queues = service.queues()

    assert [q.name for q in queues] == ["alpha", "default", "reports", "zeta"]
    for info in queues:
        assert info.stats == service.stats(info.name)
    by_name = {q.name: q for q in queues}
    assert by_name["reports"].stats.failed_count == 2
    assert by_name["alpha"].stats.scheduled_count == 1
    assert by_name["zeta"].stats.queued_count == 1


def test_latency_is_the_age_of_the_head_job(conn, service):
    queue = Queue("default", connection=conn)
    head, second = queue.enqueue(jobs.add, 1, 1), queue.enqueue(jobs.add, 2, 2)
    enqueued = datetime.now(timezone.utc) - timedelta(seconds=90)
    conn.hset(head.key, "enqueued_at", enqueued.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    conn.hset(second.key, "enqueued_at", "2000-01-01T00:00:00.000000Z")  # not the head: ignored

    latency = service.queue("default").latency_seconds

    assert 90 <= latency < 100
    conn.delete(queue.key)
    assert service.queue("default").latency_seconds is None


def test_latency_is_null_when_the_head_job_cannot_be_read(conn, service):
    queue = Queue("default", connection=conn)
    head = queue.enqueue(jobs.add, 1, 1)
    conn.hset(head.key, "enqueued_at", "garbage")
    assert service.queue("default").latency_seconds is None
    conn.delete(head.key)
    assert service.queue("default").latency_seconds is None


def test_worker_count_counts_live_listening_workers_only(conn, service):
    default, reports = Queue("default", connection=conn), Queue("reports", connection=conn)
    for name, queues in (("w1", [default]), ("w2", [default, reports]), ("w3", [reports])):
        Worker(queues, name=name, connection=conn).register_birth()
    conn.delete("rq:worker:w1")  # died without unregistering: its key stays in the sets
    default.enqueue(jobs.add, 1, 1)
    reports.enqueue(jobs.add, 1, 1)
    counts = {q.name: q.worker_count for q in service.queues()}
    assert counts == {"default": 1, "reports": 2}
    assert conn.sismember("rq:workers:default", "rq:worker:w1"), "reads never clean up"


def test_unknown_queue_is_not_found_but_any_trace_of_it_is_a_queue(conn, service):
    with pytest.raises(QueueNotFound, match="Queue 'nope' not found"):
        service.queue("nope")
    conn.zadd("rq:finished:leftover", {"gone": time.time() - 100})  # only an expired entry
    assert service.queue("leftover").stats.finished_count == 0
    Worker([Queue("listened", connection=conn)], name="w", connection=conn).register_birth()
    assert service.queue("listened").worker_count == 1
    conn.sadd("rq:queues", "rq:queue:empty")
    assert service.queue("empty").stats.queued_count == 0
    with pytest.raises(InvalidParameter):
        service.queue("bad\nname")


def test_queues_take_three_round_trips_whatever_their_number(conn, service, round_trips):
    def populate(names):
        for name in names:
            queue = Queue(name, connection=conn)
            queue.enqueue(jobs.add, 1, 1)
            Worker([queue], name=f"worker-{name}", connection=conn).register_birth()

    populate(["q0"])
    round_trips.reset()
    assert len(service.queues()) == 1
    one = round_trips.count
    populate([f"q{i}" for i in range(1, 200)])
    round_trips.reset()
    queues = service.queues()
    assert len(queues) == 200 and all(q.worker_count == 1 and q.latency_seconds is not None for q in queues)
    assert round_trips.count == one == 3
    writes = {"ZREMRANGEBYSCORE", "SREM", "DEL", "ZREM", "HSET", "LPOP"}
    assert not writes & set(round_trips.commands)
