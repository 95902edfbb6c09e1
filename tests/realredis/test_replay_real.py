"""Replay (issue 15) on a real redis-server: the new job runs on a real `rq worker`, with the old
job's call, and both jobs and the audit trail say which replayed which."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from rq import Callback, Queue
from rq.job import Job

from .helpers import API

RUNS = "rq-gateway:test:runs"
CALLBACKS = "rq-gateway:test:callbacks"  # control_jobs.py's callbacks note here


def test_a_replay_runs_on_a_real_worker_and_links_both_jobs(client, r, worker):
    old = Queue("default", connection=r).enqueue(
        "control_jobs.count_run",
        RUNS,
        job_timeout=90,
        result_ttl=800,
        failure_ttl=900,
        meta={"ticket": "INC-7"},
    )
    worker()
    response = client.post(f"{API}/{old.id}/replay", params={"queue": "replays"})
    assert response.status_code == 200, response.text
    answer = response.json()
    new_id = answer["job_id"]
    assert answer == {"job_id": new_id, "replay_of": old.id, "queue": "replays"}
    worker("replays")

    new, old = Job.fetch(new_id, connection=r), Job.fetch(old.id, connection=r)
    assert new.get_status() == "finished" and new.return_value() == 1
    assert {k.decode(): int(v) for k, v in r.hgetall(RUNS).items()} == {old.id: 1, new_id: 1}
    assert (new.func_name, list(new.args), new.kwargs) == (old.func_name, list(old.args), old.kwargs)
    assert (new.timeout, new.result_ttl, new.failure_ttl) == (90, 800, 900)
    assert new.meta == {"ticket": "INC-7", "replay_of": old.id}
    assert old.meta["replayed_as"] == [new_id]
    (entry,) = [e for e in client.get("/api/v1/audit").json()["entries"] if e["action"] == "replay"]
    # In the queue it enqueued on, whose admins must see it.
    assert (entry["job_ids"], entry["queue"], entry["outcome"]) == ([old.id, new_id], "replays", "ok")


def test_a_failed_job_replays_and_fails_again_the_same_way(client, r, fail_jobs, worker):
    (failed,) = fail_jobs(1)
    new_id = client.post(f"{API}/{failed}/replay").json()["job_id"]
    worker()
    status = client.get(f"{API}/status/{new_id}").json()
    assert status["status"] == "failed"
    assert status["args"] == client.get(f"{API}/status/{failed}").json()["args"]


def test_replays_of_one_job_at_once_are_each_enqueued_and_listed_once(client, r, fail_jobs):
    """Eight replays of one job sent together (the client's threads, real Redis): eight new jobs,
    and the old job's replayed_as names each of them once."""
    (failed,) = fail_jobs(1)
    start = threading.Barrier(8)

    def replay() -> str:
        start.wait()
        response = client.post(f"{API}/{failed}/replay")
        assert response.status_code == 200, response.text
        return response.json()["job_id"]

    with ThreadPoolExecutor(8) as pool:
        new_ids = list(pool.map(lambda _: replay(), range(8)))
    assert len(set(new_ids)) == 8
    assert sorted(Job.fetch(failed, connection=r).meta["replayed_as"]) == sorted(new_ids)
    assert sorted(Queue("default", connection=r).job_ids) == sorted(new_ids)


def test_a_replay_keeps_the_jobs_callbacks_and_description(client, r, worker):
    """A replay lost the job's on_success and on_failure callbacks (and a description given at
    enqueue): the new job ran, and whatever the callbacks did (notify, clean up) never happened."""
    queue = Queue("default", connection=r)
    succeeds = queue.enqueue(
        "control_jobs.count_run",
        RUNS,
        on_success=Callback("control_jobs.note_success", timeout=30),
        on_failure=Callback("control_jobs.note_failure"),
        description="nightly billing run",
    )
    fails = queue.enqueue("control_jobs.fail", "boom", on_failure=Callback("control_jobs.note_failure", 45))
    worker()
    replays = {old.id: client.post(f"{API}/{old.id}/replay").json()["job_id"] for old in (succeeds, fails)}
    worker()

    seen = {k.decode(): v.decode() for k, v in r.hgetall(CALLBACKS).items()}
    assert seen == {
        succeeds.id: "success",
        replays[succeeds.id]: "success",
        fails.id: "failure:RuntimeError",
        replays[fails.id]: "failure:RuntimeError",
    }
    new = Job.fetch(replays[succeeds.id], connection=r)
    assert new.description == "nightly billing run"
    old = Job.fetch(succeeds.id, connection=r)
    assert (new.success_callback_timeout, new.failure_callback_timeout) == (30, old.failure_callback_timeout)
    assert Job.fetch(replays[fails.id], connection=r).failure_callback_timeout == 45
