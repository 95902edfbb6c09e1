"""The queue history against a real redis-server and a real `rq worker`: jobs that fail or
finish in a minute are counted in that minute, once, with their real run times; one writer among
several CLI-started gateways, and another within two lease periods when it is killed."""

from __future__ import annotations

import math
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
import redis
import requests
from fastapi.testclient import TestClient
from rq import Queue

from gateway.app import create_app
from gateway.config import Settings
from gateway.services import JobService
from gateway.services.history.layout import LEASE_KEY, WATERMARK_KEY, minute_key, minute_of, mirror_key
from gateway.services.history.window import SETTLE_SECONDS
from gateway.services.history.writer import HistoryWriter

from .helpers import run_worker, start_redis_server, wait_until
from .processes import GatewayProcess

RQ_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"
HISTORY = "/api/v1/queues/{}/history"


def _seconds(text: bytes) -> float:
    return datetime.strptime(text.decode(), RQ_TIME).replace(tzinfo=timezone.utc).timestamp()


def ended_minutes(r: redis.Redis, ids: list[str]) -> Counter[int]:
    """How many of the jobs ended in each minute, by the ended_at RQ stored."""
    return Counter(minute_of(_seconds(r.hget(f"rq:job:{job_id}", "ended_at"))) for job_id in ids)


def run_times(r: redis.Redis, ids: list[str]) -> list[float]:
    fields = [r.hmget(f"rq:job:{job_id}", "started_at", "ended_at") for job_id in ids]
    return sorted(_seconds(ended) - _seconds(started) for started, ended in fields)


def counted(r: redis.Redis, minutes: Counter[int], field: str, queue: str = "default") -> Counter[int]:
    """The history's count of `field` in each of those minutes (missing field: not counted)."""
    found: Counter[int] = Counter()
    for minute in minutes:
        value = r.hget(minute_key(minute, queue), field)
        if value is not None:
            found[minute] = int(value)
    return found


def total_counted(r: redis.Redis, field: str, queue: str = "default") -> int:
    prefix = b"rq-gateway:history:"
    total = 0
    for key in r.scan_iter(match=prefix + b"[0-9]*:" + queue.encode()):  # minute hashes only
        value = r.hget(key, field)
        total += int(value or 0)
    return total


def settled_since(r: redis.Redis, ids: list[str]) -> bool:
    """Every job ended more than SETTLE_SECONDS ago by Redis's clock: a tick counts them now."""
    now = r.time()[0]
    return all(_seconds(r.hget(f"rq:job:{i}", "ended_at")) < now - SETTLE_SECONDS - 0.5 for i in ids)


def test_jobs_a_real_worker_fails_and_finishes_count_once_in_their_minute(r, client, worker):
    q = Queue("default", connection=r)
    writer = HistoryWriter(r, retention=3600, lease_seconds=5, interval=1)
    failed = [q.enqueue("history_jobs.fail_after", 0.05 * (i + 1)).id for i in range(4)]
    finished = [q.enqueue("history_jobs.run_for", 0.1 * (i + 1)).id for i in range(3)]
    assert writer.tick()  # the first tick: counting starts at this minute's start; 7 queued
    worker("default", timeout=60)

    wait_until(lambda: settled_since(r, failed + finished), 10, "the jobs' ended_at to settle")
    assert writer.tick()
    assert counted(r, ended_minutes(r, failed), "failed") == ended_minutes(r, failed)
    assert counted(r, ended_minutes(r, finished), "finished") == ended_minutes(r, finished)
    # More ticks count nothing again.
    assert writer.tick() and writer.tick()
    assert total_counted(r, "failed") == len(failed)
    assert total_counted(r, "finished") == len(finished)

    # One bucket of 10 minutes from the first job's minute holds them all.
    since = datetime.fromtimestamp(min(ended_minutes(r, failed + finished)) * 60, timezone.utc)
    window = {"since": since.isoformat(), "until": (since + timedelta(minutes=10)).isoformat(), "step": 10}
    body = client.get(HISTORY.format("default"), params=window).json()
    (bucket,) = body["buckets"]
    assert (bucket["failed"], bucket["finished"]) == (len(failed), len(finished))
    assert bucket["queued"] == len(failed) + len(finished)  # sampled before the worker ran
    real = run_times(r, failed + finished)
    assert bucket["run_seconds_max"] == pytest.approx(real[-1], abs=1e-5)
    # Nearest rank (at least q of the runs took no longer), within 1%.
    assert bucket["run_seconds_p50"] == pytest.approx(real[math.ceil(0.5 * len(real)) - 1], rel=0.011)
    assert bucket["run_seconds_p95"] == pytest.approx(real[math.ceil(0.95 * len(real)) - 1], rel=0.011)
    assert real[0] >= 0.05  # the jobs' sleeps are what was timed

    query = """query ($since: String, $until: String) { queue(name: "default") {
        history(since: $since, until: $until, step: 10) { start failed finished runSecondsMax } } }"""
    variables = {"since": window["since"], "until": window["until"]}
    answer = client.post("/graphql", json={"query": query, "variables": variables}).json()
    assert answer["data"]["queue"]["history"] == [
        {"start": bucket["start"], "failed": 4, "finished": 3, "runSecondsMax": bucket["run_seconds_max"]}
    ]


def test_a_second_writer_writes_nothing_while_the_lease_is_held(r, worker):
    first = HistoryWriter(r, retention=3600, lease_seconds=30, interval=1)
    second = HistoryWriter(r, retention=3600, lease_seconds=30, interval=1)
    assert first.tick()
    ids = [Queue("default", connection=r).enqueue("history_jobs.fail_after", 0).id for _ in range(3)]
    worker("default")
    wait_until(lambda: settled_since(r, ids), 10, "the jobs' ended_at to settle")
    assert not second.tick()
    assert total_counted(r, "failed") == 0
    assert first.tick() and not second.tick()
    assert total_counted(r, "failed") == 3


@pytest.mark.parametrize("how", ["retry-all", "operation delete, enqueued again under its id"])
def test_a_job_the_gateway_takes_out_that_fails_again_before_the_next_tick_counts_again(r, worker, how):
    """The gateway's retries and deletes forget their ids from the history's seen set in the same
    script. Before, the ids stayed seen until the writer's next walk found them gone: a job
    retried (or re-enqueued under a fixed id, a common RQ pattern) that failed again within a
    tick was in the registry again by then, looked seen, and its second failure never counted."""
    writer = HistoryWriter(r, retention=3600, lease_seconds=30, interval=1)
    q = Queue("default", connection=r)
    assert writer.tick()
    ids = [q.enqueue("history_jobs.fail_after", 0, job_id=f"nightly-{i}").id for i in range(3)]
    worker("default")
    wait_until(lambda: settled_since(r, ids), 10, "the jobs' ended_at to settle")
    assert writer.tick() and total_counted(r, "failed") == 3
    service = JobService(r)
    if how == "retry-all":
        assert sorted(service.retry_all().done_jobs) == ids
    else:
        service.use_operations()
        operation, _ = service.start_operation("delete", {"all": True}, "default")
        wait_until(lambda: service.operation(operation.id).status == "succeeded", 30, "the delete")
        for job_id in ids:
            q.enqueue("history_jobs.fail_after", 0, job_id=job_id)
    assert not r.zcard(mirror_key("failed", "default"))  # forgotten with the retry or delete
    worker("default")  # they fail again before the writer's next tick
    wait_until(lambda: settled_since(r, ids), 10, "the second failures to settle")
    assert writer.tick()
    assert total_counted(r, "failed") == 6


def _gateways(redis_url: str, tmp_path, count: int, lease: float) -> list[GatewayProcess]:
    options = ("--history-interval", "0.2", "--history-lease", str(lease))
    return [GatewayProcess(redis_url, tmp_path / f"gateway-{i}.log", *options).start() for i in range(count)]


def _writer_pid(r: redis.Redis) -> int | None:
    token = r.get(LEASE_KEY)
    return int(token.split(b":")[1]) if token else None


def _history_total(gateway: GatewayProcess, field: str) -> int:
    body = requests.get(gateway.base + HISTORY.format("default"), params={"step": 60}, timeout=10).json()
    return sum(bucket[field] or 0 for bucket in body["buckets"])


def test_three_gateways_count_each_job_once_and_a_killed_writer_is_replaced(r, redis_url, tmp_path, worker):
    lease = 1.0
    gateways = _gateways(redis_url, tmp_path, 3, lease)
    try:
        wait_until(lambda: _writer_pid(r), 10, "one gateway to take the lease")
        q = Queue("default", connection=r)
        before = [q.enqueue("history_jobs.fail_after", 0).id for _ in range(5)]
        worker("default")
        wait_until(lambda: _history_total(gateways[0], "failed") == 5, 15, "5 failures in the history")

        # Kill -9 the writer: another takes the lease within two lease periods.
        writer_pid = _writer_pid(r)
        (writer,) = [g for g in gateways if g.pid == writer_pid]
        survivors = [g for g in gateways if g is not writer]
        mark = r.get(WATERMARK_KEY)
        writer.kill9()
        killed_at = time.monotonic()
        wait_until(lambda: _writer_pid(r) not in (None, writer_pid), 2 * lease + 1, "a new writer")
        assert time.monotonic() - killed_at <= 2 * lease + 0.2  # polled every 20 ms
        assert _writer_pid(r) in {g.pid for g in survivors}
        wait_until(lambda: r.get(WATERMARK_KEY) != mark, 5, "the new writer to commit")

        after = [q.enqueue("history_jobs.fail_after", 0).id for _ in range(4)]
        worker("default")
        wait_until(lambda: _history_total(survivors[0], "failed") == 9, 15, "9 failures in the history")
        # More ticks of the new writer change nothing: each job was counted once.
        seen = {r.get(WATERMARK_KEY)}
        wait_until(lambda: seen.add(r.get(WATERMARK_KEY)) or len(seen) > 3, 10, "three more ticks")
        assert total_counted(r, "failed") == 9
        assert counted(r, ended_minutes(r, before + after), "failed") == ended_minutes(r, before + after)
    finally:
        for gateway in gateways:
            gateway.stop()


def test_every_instance_has_its_own_writer_and_history(r, redis_url, redis_server_binary, tmp_path):
    """Two real redis-servers behind one app: the lifespan samples both, each under a lease in its
    own Redis, so `?instance=b` and GraphQL `instance(name: "b")` answer with b's failures."""
    second = start_redis_server(redis_server_binary, tmp_path / "b")
    b = redis.Redis.from_url(second.url)
    settings = Settings(
        redis_url=redis_url, redis_instances=(f"b={second.url}",), history_interval=0.2, history_lease=1
    )
    app = create_app(settings)
    try:
        ids = [Queue("billing", connection=b).enqueue("history_jobs.fail_after", 0).id for _ in range(3)]
        run_worker(second.url, ("billing",))
        with TestClient(app) as client:
            wait_until(lambda: r.get(LEASE_KEY) and b.get(LEASE_KEY), 10, "a writer on each instance")

            def history_of_b() -> int:
                params = {"step": 60, "instance": "b"}
                body = client.get(HISTORY.format("billing"), params=params).json()
                return sum(bucket["failed"] or 0 for bucket in body["buckets"])

            wait_until(lambda: history_of_b() == len(ids), 15, "b's failures in b's history")
            query = """{ instance(name: "b") { queue(name: "billing") { history(step: 60) { failed } } } }"""
            answer = client.post("/graphql", json={"query": query}).json()
            assert sum(
                bucket["failed"] or 0 for bucket in answer["data"]["instance"]["queue"]["history"]
            ) == len(ids)
            assert total_counted(b, "failed", "billing") == len(ids)
            assert total_counted(r, "failed", "billing") == 0  # nothing leaked into the default
    finally:
        for name in app.state.instances.names:
            app.state.instances.service(name).connection.close()
        b.close()
        second.stop()
