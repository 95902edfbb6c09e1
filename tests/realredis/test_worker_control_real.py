"""Worker control (issue 15) on real processes: a real `rq worker` obeys the gateway's stop-job,
suspend, resume and shutdown exactly as it obeys RQ's own CLI, and what the gateway leaves in
Redis is what `rq suspend` leaves."""

from __future__ import annotations

import subprocess

from rq import Queue

from .control_workers import running_worker, wait_exit
from .helpers import API, RQ_BIN, failed_ids, queued_ids, start_worker, wait_until, wait_worker

WORKERS = "/api/v1/workers"
RUNS = "rq-gateway:test:runs"


def _status(client, job_id: str) -> str:
    response = client.get(f"{API}/status/{job_id}")
    assert response.status_code == 200, response.text
    return response.json()["status"]


def _worker(client, name: str) -> dict | None:
    return next((w for w in client.get(WORKERS).json() if w["name"] == name), None)


def test_stop_a_running_job_then_requeue_it(client, r, redis_url, tmp_path):
    release = "rq-gateway:test:release"
    job_id = Queue("default", connection=r).enqueue("lifecycle_jobs.wait_for_release", release).id
    refused = client.post(f"{API}/{job_id}/stop")
    assert refused.status_code == 409
    assert refused.json() == {"detail": f"Job {job_id} is queued; only started (running) jobs can be stopped"}

    process = start_worker(redis_url, log=tmp_path / "worker.log")
    try:
        wait_until(lambda: _status(client, job_id) == "started", 30, "the job to start")
        response = client.post(f"{API}/{job_id}/stop")
    finally:
        wait_worker(process)  # a burst worker exits once the stopped job is handled
    assert response.status_code == 200, response.text
    assert response.json()["command"] == "stop-job"
    assert _status(client, job_id) == "stopped"
    assert failed_ids(r) == [job_id]

    # The existing requeue of stopped jobs applies: it runs again, to the end this time.
    r.set(release, 1)
    assert client.post(f"{API}/{job_id}/requeue").status_code == 200
    wait_worker(start_worker(redis_url, log=tmp_path / "worker2.log"))
    assert _status(client, job_id) == "finished"


def test_a_suspended_worker_takes_no_job_until_resumed(client, r, redis_url, tmp_path):
    log = tmp_path / "worker.log"
    q = Queue("default", connection=r)
    with running_worker(redis_url, "suspend-me", log) as process:
        wait_until(lambda: (_worker(client, "suspend-me") or {}).get("state") == "idle", 30, "an idle worker")
        assert client.post(f"{WORKERS}/suspend").json() == {"suspended": True, "until": None}
        # As with `rq suspend`, a worker checks the flag before each dequeue: one already blocked
        # waiting for work takes the next job that arrives, then stops. The first job wakes it.
        first = q.enqueue("control_jobs.count_run", RUNS).id
        wait_until(lambda: _worker(client, "suspend-me")["state"] == "suspended", 30, "the worker to suspend")
        shown = _worker(client, "suspend-me")
        assert (shown["suspended"], shown["suspended_until"]) == (True, None)

        second = q.enqueue("control_jobs.count_run", RUNS).id
        # The suspended worker heartbeats once per check of the flag (every second): two more
        # heartbeats mean it checked after the job was queued, and did not take it.
        beats: set[bytes | None] = set()
        wait_until(
            lambda: beats.add(r.hget("rq:worker:suspend-me", "last_heartbeat")) or len(beats) >= 3,
            30,
            "two suspended checks",
        )
        assert _status(client, second) == "queued" and second in queued_ids(r)
        assert r.hget(RUNS, second) is None

        assert client.post(f"{WORKERS}/resume").json() == {"suspended": False, "until": None}
        for job_id in (first, second):
            wait_until(
                lambda j=job_id: _status(client, j) == "finished", 30, "the resumed worker to run them"
            )
            assert r.hget(RUNS, job_id) == b"1"
        assert _worker(client, "suspend-me")["suspended"] is False
        assert process.poll() is None  # suspension never stopped the worker


def test_suspend_leaves_redis_as_rq_suspend_does(client, r, redis_url):
    cli = [str(RQ_BIN), "suspend", "--url", redis_url, "--duration", "300"]
    subprocess.run(cli, check=True, capture_output=True, timeout=30)
    by_rq = (r.get("rq:suspended"), r.ttl("rq:suspended"))
    subprocess.run([str(RQ_BIN), "resume", "--url", redis_url], check=True, capture_output=True, timeout=30)
    assert r.exists("rq:suspended") == 0

    answer = client.post(f"{WORKERS}/suspend", params={"duration": 300}).json()
    assert answer["suspended"] is True and answer["until"].endswith("Z")
    by_gateway = (r.get("rq:suspended"), r.ttl("rq:suspended"))
    assert by_gateway[0] == by_rq[0] and abs(by_gateway[1] - by_rq[1]) <= 2
    # And `rq resume` ends the gateway's suspension, as the gateway's resume ends `rq suspend`'s.
    subprocess.run([str(RQ_BIN), "resume", "--url", redis_url], check=True, capture_output=True, timeout=30)
    assert client.get(f"{WORKERS}/suspension").json() == {"suspended": False, "until": None}


def test_a_worker_shut_down_warm_finishes_its_job_and_takes_no_other(client, r, redis_url, tmp_path):
    release = "rq-gateway:test:release-warm"
    log = tmp_path / "worker.log"
    q = Queue("default", connection=r)
    with running_worker(redis_url, "warm", log) as process:
        running = q.enqueue("lifecycle_jobs.wait_for_release", release).id
        wait_until(lambda: _status(client, running) == "started", 30, "the job to start")
        response = client.post(f"{WORKERS}/warm/shutdown")
        assert response.status_code == 200, response.text
        assert response.json()["command"] == "shutdown"
        # RQ records a warm shutdown requested during a job in the worker's hash.
        wait_until(lambda: r.hget("rq:worker:warm", "shutdown_requested_date"), 30, "the shutdown request")
        waiting = q.enqueue("control_jobs.count_run", RUNS).id
        assert process.poll() is None  # still running its job
        r.set(release, 1)
        assert wait_exit(process, 30, log) == 0
    assert _status(client, running) == "finished"
    assert _status(client, waiting) == "queued" and r.hget(RUNS, waiting) is None
    assert _worker(client, "warm") is None  # it unregistered
    assert client.post(f"{WORKERS}/warm/shutdown").status_code == 404


def test_shutdown_with_kill_horse_kills_the_running_job(client, r, redis_url, tmp_path):
    log = tmp_path / "worker.log"
    with running_worker(redis_url, "cold", log) as process:
        job_id = Queue("default", connection=r).enqueue("lifecycle_jobs.wait_for_release", "never-set").id
        wait_until(lambda: _status(client, job_id) == "started", 30, "the job to start")
        response = client.post(f"{WORKERS}/cold/shutdown", params={"kill_horse": "true"})
        assert response.status_code == 200, response.text
        assert response.json()["command"] == "shutdown+kill-horse"
        assert wait_exit(process, 30, log) == 0
    assert _status(client, job_id) == "failed"  # killed, not finished: the release never came
    assert failed_ids(r) == [job_id]
