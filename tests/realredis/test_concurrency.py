"""Concurrent retries against a real Redis: no failed job is ever enqueued twice."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable

import pytest
import redis
from fastapi.testclient import TestClient
from rq import Queue

from gateway.app import create_app
from gateway.config import Settings

from .helpers import API, failed_ids, queued_ids

TOTAL_FAILED = 2000


def clone_failed_job(r, source_id: str, count: int, queue: str = "default") -> list[str]:
    """Copy a job a real worker failed (hash, results stream, registry score, TTLs) to `count` new ids.

    A single burst worker fails about 25 jobs a second here (forking a work horse per job), so
    failing all 2,000 for real would take over a minute: one job is failed by the real worker and
    the rest are byte-for-byte clones of it."""
    job_key, results_key = f"rq:job:{source_id}", f"rq:results:{source_id}"
    fields = r.hgetall(job_key)
    entries = r.xrange(results_key)
    score = r.zscore(f"rq:failed:{queue}", source_id)
    job_ttl, results_ttl = r.pttl(job_key), r.pttl(results_key)
    assert fields and entries and score is not None
    ids = [str(uuid.uuid4()) for _ in range(count)]
    with r.pipeline(transaction=False) as pipe:
        for job_id in ids:
            pipe.hset(f"rq:job:{job_id}", mapping=fields)
            if job_ttl > 0:
                pipe.pexpire(f"rq:job:{job_id}", job_ttl)
            for _, entry in entries:
                pipe.xadd(f"rq:results:{job_id}", entry)
            if results_ttl > 0:
                pipe.pexpire(f"rq:results:{job_id}", results_ttl)
        pipe.zadd(f"rq:failed:{queue}", dict.fromkeys(ids, score))
        pipe.execute()
    return ids


def race(app, requests: list[tuple[str, str]]) -> list[tuple[object, float, float]]:
    """Send the requests from one thread each, released together by a barrier.
    Returns (response, start, end) per request, in the given order."""
    barrier = threading.Barrier(len(requests))
    results: list = [None] * len(requests)

    def send(index: int, method: str, path: str) -> None:
        http = TestClient(app, raise_server_exceptions=False)
        barrier.wait(timeout=10)
        start = time.monotonic()
        try:
            response = http.request(method, path)
        except Exception as error:  # reported by the assertion below
            response = error
        results[index] = (response, start, time.monotonic())

    threads = [
        threading.Thread(target=send, args=(i, method, path)) for i, (method, path) in enumerate(requests)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a request did not finish within 60 s"
    for response, _, _ in results:
        assert not isinstance(response, Exception), response
    return results


@pytest.mark.parametrize("total", [TOTAL_FAILED, 10_000], ids=["2k", "10k"])
def test_two_concurrent_retry_all_requeue_each_job_exactly_once(app, r, fail_jobs, total):
    (source,) = fail_jobs(1)
    all_ids = {source, *clone_failed_job(r, source, total - 1)}
    assert r.zcard("rq:failed:default") == total
    assert TestClient(app).get(f"{API}/stats").json()["failed_count"] == total

    (first, s1, e1), (second, s2, e2) = race(
        app, [("POST", f"{API}/failed/retry-all"), ("POST", f"{API}/failed/retry-all")]
    )

    assert s1 < e2 and s2 < e1, "the two requests were not in flight at the same time"
    bodies = []
    for response in (first, second):
        assert response.status_code == 200, response.text
        bodies.append(response.json())
    for body in bodies:
        assert body["success"] is True
        assert body["errors"] == [] and body["error_count"] == 0
        assert body["requeued_count"] == len(body["requeued_jobs"])
        assert len(set(body["requeued_jobs"])) == len(body["requeued_jobs"])
    requeued = [set(body["requeued_jobs"]) for body in bodies]
    assert not requeued[0] & requeued[1], "a job was requeued by both calls"
    assert set().union(*requeued) == all_ids
    assert sum(body["requeued_count"] for body in bodies) == total
    in_queue = Counter(queued_ids(r))
    assert set(in_queue) == all_ids
    assert max(in_queue.values()) == 1, [job for job, n in in_queue.items() if n > 1][:5]
    assert r.llen("rq:queue:default") == total
    assert r.zcard("rq:failed:default") == 0
    assert len(Queue("default", connection=r)) == total


def test_retry_all_racing_clear_over_10k_jobs_loses_and_duplicates_nothing(app, r, fail_jobs):
    (source,) = fail_jobs(1)
    all_ids = {source, *clone_failed_job(r, source, 10_000 - 1)}

    (retried, _, _), (cleared, _, _) = race(
        app, [("POST", f"{API}/failed/retry-all"), ("DELETE", f"{API}/failed/clear")]
    )

    assert retried.status_code == 200 and cleared.status_code == 200
    requeued, deleted = set(retried.json()["requeued_jobs"]), set(cleared.json()["deleted_jobs"])
    assert not requeued & deleted, "a job was both requeued and deleted"
    assert requeued | deleted == all_ids, "a job was neither requeued nor deleted"
    in_queue = Counter(queued_ids(r))
    assert set(in_queue) == requeued and max(in_queue.values(), default=1) == 1
    assert r.zcard("rq:failed:default") == 0
    for job_id in list(deleted)[:200]:
        assert not r.exists(f"rq:job:{job_id}")


class InterleavingRedis(redis.Redis):
    """A real Redis client that runs `after_first_script` right after its first Lua script call
    returns: a deterministic stand-in for another caller getting in between two round trips."""

    after_first_script: Callable[[], None] | None = None

    def evalsha(self, sha, numkeys, *keys_and_args):
        reply = super().evalsha(sha, numkeys, *keys_and_args)
        hook, self.after_first_script = self.after_first_script, None
        if hook is not None:
            hook()
        return reply


def test_retry_all_overtaken_by_another_retry_all_still_answers_200(r, redis_url, fail_jobs):
    ids = fail_jobs(3)
    connection = InterleavingRedis.from_url(redis_url, socket_timeout=5)
    app = create_app(Settings(redis_url=redis_url), connection=connection)
    other_replica = TestClient(create_app(Settings(redis_url=redis_url)))
    overtaking: list = []
    connection.after_first_script = lambda: overtaking.append(other_replica.post(f"{API}/failed/retry-all"))

    response = TestClient(app, raise_server_exceptions=False).post(f"{API}/failed/retry-all")

    assert len(overtaking) == 1, "the other replica's call did not run in between"
    assert overtaking[0].status_code == 200
    assert sorted(overtaking[0].json()["requeued_jobs"]) == sorted(ids)
    assert sorted(queued_ids(r)) == sorted(ids)
    assert response.status_code == 200, response.text
    assert response.json()["requeued_jobs"] == []
    assert response.json()["success"] is True


def test_two_concurrent_retries_of_one_job_enqueue_it_once(app, r, fail_jobs):
    job_id, other = fail_jobs(2)

    results = race(app, [("POST", f"{API}/failed/{job_id}/retry")] * 2)

    by_status = sorted((response.status_code, response.json()) for response, _, _ in results)
    assert [code for code, _ in by_status] == [200, 404]
    assert by_status[0][1]["job_id"] == job_id
    assert by_status[1][1] == {"detail": f"Job {job_id} not found in failed jobs registry"}
    assert queued_ids(r) == [job_id]
    assert failed_ids(r) == [other]
    assert r.hget(f"rq:job:{job_id}", "status") == b"queued"
    assert Queue("default", connection=r).job_ids == [job_id]
