"""A manual failover (`SENTINEL FAILOVER`): the old master is not killed, it stays a master,
reachable, until Sentinel reconfigures it as a replica of the promoted one, about ten seconds
later. The gateway must move to the promoted master within a second or two of the switch, not
when the old one is demoted; and whatever the old master took meanwhile (a tracked operation's
last chunks, its end) is lost when it resyncs, so that operation must still finish on the new
master, every job retried exactly once, without a restart or another operation to wake it."""

from __future__ import annotations

import time

import pytest
import requests

from bench.seed import seed_failed

from .helpers import wait_until
from .processes import GatewayProcess, assert_retry_consistent
from .sentinel import MASTER_NAME, SentinelDeployment

pytestmark = pytest.mark.e2e

N = 300
# Slow enough that the failover lands mid-operation, fast enough that the old master, still a
# master until Sentinel reconfigures it, takes the operation to its end.
RATE = "150"


# Once Sentinel names the new master: the pool's next look (MASTER_CHECK_SECONDS) and a request.
MOVED_WITHIN = 3.0


def test_the_gateway_moves_to_the_promoted_master_before_the_old_one_is_demoted(
    sentinels: SentinelDeployment, tmp_path
):
    old_port = sentinels.master.port
    gateway = GatewayProcess(sentinels.url, tmp_path / "gateway.log").start()
    try:
        assert requests.get(f"{gateway.base}/api/v1/queues", timeout=30).json() == []
        sentinels.sentinels[0].client(socket_timeout=10).sentinel_failover(MASTER_NAME)
        sentinels.wait_promoted(old_port)
        promoted = time.monotonic()
        # Written on the promoted master only: the old one no longer replicates from anyone.
        sentinels.client_of(sentinels.master_port()).sadd("rq:queues", "rq:queue:moved")

        def names() -> list[str]:
            response = requests.get(f"{gateway.base}/api/v1/queues", timeout=30)
            assert response.status_code in (200, 503), response.text
            return [queue["queue_name"] for queue in response.json()] if response.status_code == 200 else []

        wait_until(lambda: names() == ["moved"], 30, "the gateway to read the promoted master", interval=0.1)
        moved_after = time.monotonic() - promoted
        old = sentinels.client_of(old_port)
        still_master = old.info("replication")["role"] == "master"
    finally:
        gateway.stop()
    assert moved_after < MOVED_WITHIN, f"the gateway read the old master {moved_after:.1f}s after the switch"
    assert still_master, "Sentinel demoted the old master first: the test did not exercise the window"


def _operation(base: str, operation_id: str) -> dict | None:
    response = requests.get(f"{base}/api/v1/operations/{operation_id}", timeout=30)
    assert response.status_code in (200, 503), response.text
    return response.json() if response.status_code == 200 else None


def test_an_operation_a_manual_failover_rewound_finishes_on_the_new_master_once_per_job(
    sentinels: SentinelDeployment, tmp_path
):
    old_port = sentinels.master.port
    master = sentinels.client_of(old_port)
    ids = seed_failed(master, f"redis://127.0.0.1:{old_port}/0", N, with_worker=20)
    assert master.wait(1, 10_000) == 1, "the replica did not acknowledge the seeded jobs"
    gateway = GatewayProcess(sentinels.url, tmp_path / "gateway.log", "--bulk-max-rate", RATE).start()
    try:
        started = requests.post(
            f"{gateway.base}/api/v1/operations",
            json={"action": "retry", "queue": "default", "selector": {"all": True}},
            timeout=30,
        )
        assert started.status_code == 202, started.text
        operation_id = started.json()["id"]
        wait_until(lambda: (_operation(gateway.base, operation_id) or {}).get("done"), 30, "a first chunk")
        sentinels.sentinels[0].client(socket_timeout=10).sentinel_failover(MASTER_NAME)
        sentinels.wait_promoted(old_port)
        new_master = sentinels.client_of(sentinels.master_port())

        # The new master's own record ends, and the gateway reports that: not the old master's.
        def finished() -> dict | None:
            stored = new_master.hget(f"rq-gateway:operation:{operation_id}", "status")
            answer = _operation(gateway.base, operation_id)
            ended = stored not in (None, b"running") and answer and answer["status"] != "running"
            return answer if ended else None

        answer = wait_until(finished, 60, "the operation to finish on the new master", interval=0.2)
    finally:
        gateway.stop()

    assert (answer["status"], answer["total"], answer["done"]) == ("succeeded", N, N), answer
    assert answer["error_count"] == 0, answer
    assert assert_retry_consistent(new_master, ids) == {"queue": N, "failed": 0}
    assert new_master.llen("rq:queue:default") == N, "a job was requeued twice"
    gateway_log = gateway.output()
    assert "Traceback" not in gateway_log, gateway_log[-3000:]
