"""Sentinel with real processes (a master, a replica, three sentinels) and a failover in the
middle of traffic: kill -9 of the master while a retry-all over 10k failed jobs and steady reads
run through the CLI-started gateway.

Clients get 503 SERVICE_UNAVAILABLE only inside the failover window, the gateway follows the new
master without a restart, and every job ends in exactly one place: none lost, none requeued twice.
"""

from __future__ import annotations

import os
import threading
import time

import pytest
import requests
from fastapi.testclient import TestClient

from bench.seed import seed_failed
from gateway.app import create_app
from gateway.config import Settings

from .helpers import API, wait_until
from .processes import GatewayProcess, assert_retry_consistent
from .sentinel import DOWN_AFTER_MS, MASTER_NAME, SETTLE_SECONDS, SentinelProcess, start_sentinel_deployment

pytestmark = pytest.mark.e2e

# RQ_GATEWAY_TOPOLOGY_JOBS=100000 runs the opt-in size (README "Deployment").
N = int(os.environ.get("RQ_GATEWAY_TOPOLOGY_JOBS", "10000"))


class Reads(threading.Thread):
    """Steady reads (GET stats) until stopped: (monotonic time sent, status, body) each."""

    def __init__(self, base: str):
        super().__init__(daemon=True)
        self.base = base
        self.answers: list[tuple[float, int, dict]] = []
        self.done = threading.Event()

    def run(self) -> None:
        http = requests.Session()
        while not self.done.is_set():
            sent = time.monotonic()
            response = http.get(f"{self.base}{API}/stats", timeout=30)
            self.answers.append((sent, response.status_code, response.json()))
            self.done.wait(0.02)  # pacing, not synchronisation: a steady 50 reads a second


class RetryAll(threading.Thread):
    """A client that retries retry-all on 503 until it gets a 200: [(status, body)]."""

    def __init__(self, base: str):
        super().__init__(daemon=True)
        self.base = base
        self.answers: list[tuple[int, dict]] = []

    def run(self) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            response = requests.post(f"{self.base}{API}/failed/retry-all", timeout=120)
            self.answers.append((response.status_code, response.json()))
            if response.status_code != 503:
                return
            time.sleep(int(response.headers["Retry-After"]) / 10)  # the client's back-off


def test_options_and_url_both_reach_the_master_through_the_sentinels(sentinels):
    master = sentinels.client_of(sentinels.master.port)
    master.sadd("rq:queues", "rq:queue:reports")
    for settings in (
        Settings(redis_sentinel=sentinels.addresses, redis_master_name=MASTER_NAME),
        Settings(redis_url=sentinels.url),
    ):
        app = create_app(settings)
        queues = TestClient(app).get("/api/v1/queues").json()
        assert [queue["queue_name"] for queue in queues] == ["reports"]
        assert TestClient(app).get("/readyz").json() == {"status": "ready"}


def test_a_master_name_the_sentinels_do_not_monitor_is_named_not_called_a_failover(sentinels):
    """The sentinels answer, and none monitors that name: a setting to fix, not a failover to
    wait out, in every 503 (REST and GraphQL) and /readyz."""
    client = TestClient(create_app(Settings(redis_sentinel=sentinels.addresses, redis_master_name="nosuch")))
    expected = (
        "The sentinels monitor no master named 'nosuch'; check --redis-master-name "
        "(or the master name in the redis+sentinel:// URL)"
    )
    for path in ("/readyz", "/api/v1/queues"):
        response = client.get(path)
        assert (response.status_code, response.json()["detail"]) == (503, expected)
    (error,) = client.post("/graphql", json={"query": "{ queues { queueName } }"}).json()["errors"]
    assert (error["extensions"]["code"], error["message"]) == ("SERVICE_UNAVAILABLE", expected)


def test_a_master_short_of_replicas_refuses_writes_with_a_503_that_says_so(sentinels):
    """min-replicas-to-write (README "Deployment"): with its replica gone, the master refuses
    writes instead of acknowledging ones a failover could lose; the gateway says why, reads go on."""
    master = sentinels.client_of(sentinels.master.port)
    ids = seed_failed(master, f"redis://127.0.0.1:{sentinels.master.port}/0", 3, with_worker=3)
    master.config_set("min-replicas-to-write", 1)
    master.config_set("min-replicas-max-lag", 10)
    client = TestClient(create_app(Settings(redis_url=sentinels.url)), raise_server_exceptions=False)
    assert sentinels.replica is not None
    sentinels.replica.stop()
    wait_until(lambda: master.info("replication")["connected_slaves"] == 0, 30, "the replica to go")

    refused = client.post(f"{API}/failed/retry-all")

    assert refused.status_code == 503
    assert refused.json() == {"detail": "Redis cannot serve this request now (NOREPLICAS); try again shortly"}
    assert client.get(f"{API}/stats").json()["failed_count"] == len(ids)
    assert client.post(f"{API}/failed/{ids[0]}/retry").status_code == 503


def test_a_master_down_with_no_replica_is_not_called_a_failover(redis_server_binary, tmp_path):
    """No replica to promote: once the sentinels see the master down, the 503 says no failover will
    replace it, where it used to say one may be under way."""
    deployment = start_sentinel_deployment(redis_server_binary, tmp_path / "sentinel", replica=False)
    try:
        client = TestClient(create_app(Settings(redis_url=deployment.url)), raise_server_exceptions=False)
        assert client.get(f"{API}/stats").status_code == 200
        deployment.master.kill()

        def said() -> dict | None:
            answer = client.get(f"{API}/stats")
            assert answer.status_code == 503, answer.text
            return answer.json() if "no replica" in answer.json()["detail"] else None

        body = wait_until(said, 30, "the sentinels to see the master down")
        assert body["detail"] == (
            f"The sentinels see Redis master '{MASTER_NAME}' down and know no replica to promote, so no "
            "failover will replace it; the gateway answers again once it is back"
        )
    finally:
        deployment.stop()


def test_failover_mid_retry_all_and_reads_503s_only_in_the_window_and_loses_nothing(sentinels, tmp_path):
    old_port = sentinels.master.port
    master = sentinels.client_of(old_port)
    ids = seed_failed(master, f"redis://127.0.0.1:{old_port}/0", N, with_worker=20)
    assert master.wait(1, 10_000) == 1, "the replica did not acknowledge the seeded jobs"
    gateway = GatewayProcess(sentinels.url, tmp_path / "gateway.log").start()
    reads, retry_all = Reads(gateway.base), RetryAll(gateway.base)
    try:
        reads.start()
        wait_until(lambda: len(reads.answers) >= 5, 30, "steady reads to start")
        retry_all.start()
        # Kill the master once the retry-all has requeued its first chunk: mid-operation.
        wait_until(lambda: master.llen("rq:queue:default") > 0, 60, "retry-all to start", interval=0.001)
        sentinels.master.kill()
        killed = time.monotonic()
        promoted = sentinels.wait_promoted(old_port)
        retry_all.join(timeout=120)
        assert not retry_all.is_alive(), "retry-all never got a 200 from the new master"
        # Reads keep going a little past the settle time, so "served again" is seen, not assumed.
        wait_until(
            lambda: reads.answers[-1][0] > promoted + SETTLE_SECONDS + 1, 60, "reads past the failover window"
        )
    finally:
        reads.done.set()
        reads.join(timeout=30)
        gateway.stop()

    # Only 200s and 503s, and 503s only between the kill and the end of the window.
    statuses = {status for _, status, _ in reads.answers}
    assert statuses <= {200, 503}, statuses
    unavailable = [(sent, body) for sent, status, body in reads.answers if status == 503]
    assert unavailable, "no read saw the failover: the test did not exercise the window"
    window = (killed - 0.5, promoted + SETTLE_SECONDS)
    assert all(window[0] <= sent <= window[1] for sent, _ in unavailable), (
        f"a 503 outside the failover window {window}: {[sent for sent, _ in unavailable]}"
    )
    assert all(status == 200 for sent, status, _ in reads.answers if sent > window[1])
    for _, body in unavailable:
        assert body["detail"].endswith("try again shortly"), body

    # The retry-all client saw 503s, then one 200 from the new master that finished the job.
    codes = [status for status, _ in retry_all.answers]
    assert codes[-1] == 200 and set(codes[:-1]) <= {503}, codes
    new_master = sentinels.client_of(sentinels.master_port())
    assert new_master.info("replication")["role"] == "master"
    assert assert_retry_consistent(new_master, ids) == {"queue": N, "failed": 0}
    assert new_master.llen("rq:queue:default") == N, "a job was requeued twice"
    gateway_log = gateway.output()
    assert "Traceback" not in gateway_log, gateway_log[-3000:]
    # The figures, for the report: -s shows them.
    print(
        f"failover: Sentinel promoted after {promoted - killed:.2f}s (down-after {DOWN_AFTER_MS} ms); "
        f"503s for {max(s for s, _ in unavailable) - killed:.2f}s after the kill; "
        f"{len(unavailable)} of {len(reads.answers)} reads; retry-all answers {codes}"
    )


class _PasswordSentinel(SentinelProcess):
    """A sentinel with its own `requirepass`, monitoring a master that need not answer."""

    def arguments(self) -> list[str]:
        arguments = super().arguments()
        config = self.directory / "sentinel.conf"
        config.write_text(config.read_text() + "requirepass sentinel-pass\n")
        return arguments

    def client(self, **kwargs):
        return super().client(password="sentinel-pass", **kwargs)


@pytest.mark.parametrize("password", [None, "wrong"])
def test_sentinels_that_refuse_the_password_say_so(redis_server_binary, redis_url, tmp_path, password):
    """A sentinel reached with a wrong (or no) --redis-sentinel-password is a credentials problem,
    not an unreachable sentinel and not a failover."""
    sentinel = _PasswordSentinel(
        redis_server_binary, tmp_path / "sentinel", int(redis_url.rsplit(":", 1)[1][:-2])
    )
    sentinel.start()
    try:
        settings = Settings(
            redis_sentinel=f"127.0.0.1:{sentinel.port}",
            redis_master_name=MASTER_NAME,
            redis_sentinel_password=password,
        )
        response = TestClient(create_app(settings)).get("/api/v1/queues")
        assert response.status_code == 503
        assert response.json()["detail"] == (
            "The sentinels refused the gateway's password; check --redis-sentinel-password "
            "(RQ_GATEWAY_REDIS_SENTINEL_PASSWORD)"
        )
    finally:
        sentinel.stop()
