"""N gateway replicas: three CLI-started gateway processes on one Redis, and clients that spread
their requests round robin, as a load balancer would. The gateway keeps no state of its own, so:

- two concurrent retry-alls and a clear, each through a different replica, act on each job
  exactly once;
- the audit stream holds every mutation exactly once, whichever replica served it;
- a kill -9 of one replica in the middle of a retry-all loses nothing: the others keep serving,
  and the retry-all sent again through another replica finishes the work.
"""

from __future__ import annotations

import itertools
import json
import os
import threading
from collections import Counter
from collections.abc import Iterator

import pytest
import redis
import requests

from bench.seed import seed_failed

from .helpers import API, RedisServer, queued_ids, wait_until
from .processes import GatewayProcess, assert_retry_consistent, places

pytestmark = pytest.mark.e2e

# RQ_GATEWAY_TOPOLOGY_JOBS=100000 runs the opt-in size (README "Deployment").
N = int(os.environ.get("RQ_GATEWAY_TOPOLOGY_JOBS", "10000"))
REPLICAS = 3


def start_replicas(redis_url: str, directory) -> list[GatewayProcess]:
    """Three gateway processes, started side by side (each takes seconds to import and bind)."""
    processes = [GatewayProcess(redis_url, directory / f"replica-{i}.log") for i in range(REPLICAS)]
    errors: list[BaseException] = []

    def start(process: GatewayProcess) -> None:
        try:
            process.start()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=start, args=(process,)) for process in processes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if errors:
        for process in processes:
            process.stop()
        raise errors[0]
    return processes


@pytest.fixture(scope="module")
def shared_replicas(redis_server: RedisServer, tmp_path_factory) -> Iterator[list[GatewayProcess]]:
    """For the tests that leave every replica running; each test still starts on an empty Redis."""
    processes = start_replicas(redis_server.url, tmp_path_factory.mktemp("replicas"))
    try:
        yield processes
    finally:
        for process in processes:
            process.stop()


@pytest.fixture
def victim(redis_server: RedisServer, tmp_path) -> Iterator[GatewayProcess]:
    """A replica of the test that kills it; the shared ones play the survivors."""
    process = GatewayProcess(redis_server.url, tmp_path / "victim.log").start()
    try:
        yield process
    finally:
        process.stop()


class RoundRobin:
    """A client that sends each request to the next replica, skipping ones that do not answer
    (as a load balancer's health check would)."""

    def __init__(self, replicas: list[GatewayProcess]):
        self._next = itertools.cycle(replicas)
        self._lock = threading.Lock()
        self.served_by: Counter[int] = Counter()

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        for _ in range(REPLICAS):
            with self._lock:
                replica = next(self._next)
            if replica.process is None:
                continue
            try:
                response = requests.request(method, f"{replica.base}{path}", timeout=300, **kwargs)
            except requests.ConnectionError:
                continue
            with self._lock:
                self.served_by[replica.port] += 1
            return response
        raise AssertionError(f"no replica answered {method} {path}")


def audit_records(r: redis.Redis) -> list[dict]:
    return [json.loads(fields[b"record"]) for _, fields in r.xrange("rq-gateway:audit")]


def together(*calls) -> list[requests.Response]:
    """Run the calls from one thread each, released together by a barrier."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait(timeout=10)
        results[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads), "a request did not finish in 300 s"
    return results


def test_reads_through_any_replica_are_the_same(shared_replicas, redis_server, r):
    ids = seed_failed(r, redis_server.url, 50, with_worker=5)
    client = RoundRobin(shared_replicas)
    answers = [client.request("GET", f"{API}/failed").json() for _ in range(REPLICAS * 2)]
    assert all(answer == answers[0] for answer in answers)
    assert sorted(job["job_id"] for job in answers[0]) == sorted(ids)
    assert len(client.served_by) == REPLICAS, "the reads did not reach every replica"


def test_two_retry_alls_and_a_clear_through_different_replicas_act_on_each_job_once(
    shared_replicas, redis_server, r
):
    ids = seed_failed(r, redis_server.url, N, with_worker=20)
    first, second, third = (replica.base for replica in shared_replicas)

    retried_1, retried_2, cleared = together(
        lambda: requests.post(f"{first}{API}/failed/retry-all", timeout=300),
        lambda: requests.post(f"{second}{API}/failed/retry-all", timeout=300),
        lambda: requests.delete(f"{third}{API}/failed/clear", timeout=300),
    )

    for response in (retried_1, retried_2, cleared):
        assert response.status_code == 200, response.text
        assert response.json()["error_count"] == 0
    requeued = [set(retried_1.json()["requeued_jobs"]), set(retried_2.json()["requeued_jobs"])]
    deleted = set(cleared.json()["deleted_jobs"])
    assert not requeued[0] & requeued[1], "a job was requeued by both replicas"
    assert not (requeued[0] | requeued[1]) & deleted, "a job was both requeued and deleted"
    assert requeued[0] | requeued[1] | deleted == set(ids), "a job was neither requeued nor deleted"
    in_queue = Counter(queued_ids(r))
    assert set(in_queue) == requeued[0] | requeued[1] and max(in_queue.values(), default=1) == 1
    where = places(r, ids)
    assert all(where[job_id] == [] for job_id in deleted) and r.zcard("rq:failed:default") == 0

    # One audit record per mutation, whichever replica served it, with that call's count.
    records = audit_records(r)
    by_request = {record["request_id"]: record for record in records}
    assert len(records) == len(by_request) == 3
    for response, action, count in (
        (retried_1, "retry_all", "requeued_count"),
        (retried_2, "retry_all", "requeued_count"),
        (cleared, "clear", "deleted_count"),
    ):
        record = by_request[response.headers["X-Request-ID"]]
        assert (record["action"], record["outcome"]) == (action, "ok")
        assert record["job_count"] == response.json()[count]


def test_single_retries_raced_round_robin_act_once_and_are_audited_once(shared_replicas, redis_server, r):
    ids = seed_failed(r, redis_server.url, 30, with_worker=5)
    client = RoundRobin(shared_replicas)

    results = together(
        *[lambda job_id=job_id: client.request("POST", f"{API}/failed/{job_id}/retry") for job_id in ids * 2]
    )

    by_job: dict[str, list[int]] = {job_id: [] for job_id in ids}
    for job_id, response in zip(ids * 2, results, strict=True):
        by_job[job_id].append(response.status_code)
    assert all(sorted(codes) == [200, 404] for codes in by_job.values()), by_job
    assert Counter(queued_ids(r)) == Counter(ids)
    assert len(client.served_by) == REPLICAS
    records = audit_records(r)
    assert len(records) == len({record["request_id"] for record in records}) == len(results)
    assert {response.headers["X-Request-ID"] for response in results} == {
        rec["request_id"] for rec in records
    }
    assert Counter(record["outcome"] for record in records) == {"ok": len(ids), "error": len(ids)}


def test_kill9_of_one_replica_mid_retry_all_loses_nothing(shared_replicas, victim, redis_server, r):
    n = 2 * N
    ids = seed_failed(r, redis_server.url, n, with_worker=20)
    survivors = shared_replicas[1:]
    outcome: list = []

    def send() -> None:
        try:
            outcome.append(requests.post(f"{victim.base}{API}/failed/retry-all", timeout=300))
        except requests.ConnectionError as error:
            outcome.append(error)

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    wait_until(lambda: r.llen("rq:queue:default") > 0, 60, "retry-all to requeue its first chunk", 0.001)
    victim.kill9()
    thread.join(timeout=30)
    assert isinstance(outcome[0], requests.ConnectionError), outcome

    interrupted = assert_retry_consistent(r, ids)
    assert 0 < interrupted["queue"] < n, f"not killed mid-operation: {interrupted}"
    client = RoundRobin([victim, *survivors])
    # The survivors serve reads at once, and agree on what is left.
    stats = [client.request("GET", f"{API}/stats").json() for _ in range(4)]
    assert all(s["failed_count"] == interrupted["failed"] for s in stats), stats
    assert set(client.served_by) == {replica.port for replica in survivors}

    body = client.request("POST", f"{API}/failed/retry-all").json()

    assert (body["success"], body["error_count"]) == (True, 0)
    assert body["requeued_count"] == interrupted["failed"]
    assert assert_retry_consistent(r, ids) == {"queue": n, "failed": 0}
    assert r.llen("rq:queue:default") == n, "a job was requeued twice"
    # The killed call never finished, so it wrote no audit record; the one that finished did.
    assert [record["action"] for record in audit_records(r)] == ["retry_all"]
