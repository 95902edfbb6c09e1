"""The cron view (issue 15) against a real `rq cron` process: the cron jobs it registers are
shown with their schedule, and the job it spawns is in the cron job's history, linked to the job
itself, which a real worker then runs."""

from __future__ import annotations

from rq import Queue

from .control_workers import running_cron
from .helpers import API, wait_until

RUNS = "rq-gateway:test:cron-runs"


def _hourly(client) -> dict | None:
    for scheduler in client.get("/api/v1/cron").json()["schedulers"]:
        for job in scheduler["cron_jobs"]:
            if job["name"] == "hourly" and job["history"]:
                return {"scheduler": scheduler, "job": job}
    return None


def test_a_real_cron_scheduler_is_shown_and_its_runs_link_to_their_jobs(
    client, r, redis_url, worker, tmp_path
):
    assert client.get("/api/v1/cron").json() == {"schedulers": []}
    with running_cron(redis_url, tmp_path / "cron.log") as process:
        _check_the_view(client, r, worker, process.pid)
    # Stopped, it unregistered: the view is empty again (its runs stay in RQ's history).
    assert client.get("/api/v1/cron").json() == {"schedulers": []}


def _check_the_view(client, r, worker, pid: int) -> None:
    found = wait_until(lambda: _hourly(client), 30, "the cron scheduler to register and run its interval job")
    scheduler, hourly = found["scheduler"], found["job"]
    assert scheduler["pid"] == pid and scheduler["last_heartbeat"].endswith("Z")
    assert scheduler["config_file"] == "cron_config"
    by_name = {job["name"]: job for job in scheduler["cron_jobs"]}
    assert set(by_name) == {"hourly", "nightly"}
    assert (hourly["func_name"], hourly["queue"], hourly["interval"]) == (
        "control_jobs.count_run",
        "default",
        3600,
    )
    nightly = by_name["nightly"]
    assert (nightly["cron"], nightly["queue"], nightly["history_total"]) == ("0 3 * * *", "reports", 0)
    assert nightly["next_run"].endswith("Z")

    (run,) = hourly["history"]
    assert hourly["history_total"] == 1 and run["status"] == "queued"
    assert Queue("default", connection=r).job_ids == [run["job_id"]]
    # The run links to its job: the status lookup finds it, a real worker runs it, and the view
    # then shows it finished.
    assert client.get(f"{API}/status/{run['job_id']}").json()["func_name"] == "control_jobs.count_run"
    worker()
    assert r.hget(RUNS, run["job_id"]) == b"1"
    graphql = client.post(
        "/graphql", json={"query": "{ cron { schedulers { cronJobs { name history { jobId status } } } } }"}
    )
    jobs = {job["name"]: job for s in graphql.json()["data"]["cron"]["schedulers"] for job in s["cronJobs"]}
    assert jobs["hourly"]["history"] == [{"jobId": run["job_id"], "status": "finished"}]
