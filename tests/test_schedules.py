"""The read-only schedule views on fakeredis (gateway/services/reads/cron.py, rq_scheduler.py):
RQ's CronScheduler as it registers itself, rq-scheduler's sorted set as rq-scheduler writes it,
both transports alike, queue patterns honoured, nothing written, and empty lists without them.
A real `rq cron` process: tests/realredis/test_schedules_real.py."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from rq import Queue
from rq.cron import CronScheduler
from rq.job import Job

from gateway.demo import jobs
from tests.keyed import bearer, keyed_client
from tests.realredis.helpers import keyspace
from tests.transports import to_rest_shape

CRON_FIELDS = (
    "schedulers { name hostname pid createdAt lastHeartbeat configFile cronJobs { name funcName queue "
    "cron interval nextRun lastEnqueue historyTotal history { jobId status enqueuedAt } } }"
)
SCHEDULER_FIELDS = "totalCount jobs { jobId funcName queue nextRun interval cron repeatLeft status }"


def _cron(conn) -> CronScheduler:
    scheduler = CronScheduler(connection=conn, name="cron-1")
    scheduler.register(jobs.add, "default", args=(1, 2), interval=60, name="every-minute")
    scheduler.register(jobs.add, "billing-eu", args=(3, 4), cron="0 3 * * *", name="nightly")
    scheduler.register_birth()
    scheduler.enqueue_jobs()  # the interval job runs at once, as on start
    scheduler.save()
    return scheduler


def _rq_scheduler(conn) -> list[str]:
    """What rq_scheduler.Scheduler.schedule/cron write: a job hash with its schedule in meta, and
    the job id in rq:scheduler:scheduled_jobs scored by the next run's unix time."""
    now = datetime.now(timezone.utc)
    ids = []
    for meta, delay, queue in (
        ({"interval": 300, "repeat": 3}, 60, "default"),
        ({"cron_string": "*/5 * * * *"}, 120, "billing-eu"),
        ({}, 30, "default"),
    ):
        job = Job.create(jobs.add, args=(1, 1), connection=conn, meta=meta, origin=queue)
        job.save()
        conn.zadd("rq:scheduler:scheduled_jobs", {job.id: (now + timedelta(seconds=delay)).timestamp()})
        ids.append(job.id)
    return ids


def test_without_either_the_lists_are_empty(service):
    assert service.cron().schedulers == []
    view = service.rq_scheduler()
    assert (view.total, view.jobs) == (0, [])


def test_the_cron_view_shows_schedulers_cron_jobs_and_their_runs(service, conn):
    scheduler = _cron(conn)
    (shown,) = service.cron().schedulers
    assert (shown.name, shown.hostname, shown.pid) == ("cron-1", scheduler.hostname, scheduler.pid)
    assert shown.last_heartbeat is not None and shown.created_at is not None
    every, nightly = shown.cron_jobs
    assert (every.name, every.func_name, every.queue) == ("every-minute", "gateway.demo.jobs.add", "default")
    assert (every.interval, every.cron, nightly.cron, nightly.interval) == (60, None, "0 3 * * *", None)
    (spawned,) = Queue("default", connection=conn).job_ids
    assert every.history_total == 1
    assert [(run.job_id, run.status) for run in every.history] == [(spawned, "queued")]
    assert every.last_enqueue is not None and every.next_run is not None
    assert (nightly.history_total, nightly.history, nightly.last_enqueue) == (0, [], None)
    assert nightly.next_run is not None
    # The run links to the job: its status, and RQ's own job.
    assert service.get_job(spawned).func_name == "gateway.demo.jobs.add"


def test_reading_the_views_writes_nothing(service, conn):
    _cron(conn)
    _rq_scheduler(conn)
    conn.zadd("rq:cron_schedulers", {"cron-1": 1.0})  # a heartbeat long past: RQ's all() deletes it
    conn.zadd("rq:scheduler:scheduled_jobs", {"gone-job": 1.0})  # rq-scheduler's get_jobs deletes it
    before = keyspace(conn)
    assert len(service.cron().schedulers) == 1
    assert "gone-job" in [job.job_id for job in service.rq_scheduler().jobs]
    assert keyspace(conn) == before


def test_the_rq_scheduler_view_reads_rq_schedulers_layout(service, conn):
    interval_id, cron_id, once_id = _rq_scheduler(conn)
    view = service.rq_scheduler()
    assert view.total == 3
    assert [job.job_id for job in view.jobs] == [once_id, interval_id, cron_id]  # by next run
    by_id = {job.job_id: job for job in view.jobs}
    assert (by_id[interval_id].interval, by_id[interval_id].repeat_left, by_id[interval_id].cron) == (
        300,
        3,
        None,
    )
    assert (by_id[cron_id].cron, by_id[cron_id].queue) == ("*/5 * * * *", "billing-eu")
    assert (by_id[once_id].interval, by_id[once_id].repeat_left) == (None, None)
    assert by_id[once_id].func_name == "gateway.demo.jobs.add"
    assert [job.job_id for job in service.rq_scheduler(limit=1).jobs] == [once_id]
    assert service.rq_scheduler(limit=0).jobs == []


@pytest.mark.parametrize("key", ["billing", "viewer"])
def test_queue_patterns_filter_both_views(conn, key):
    _cron(conn)
    _rq_scheduler(conn)
    client = keyed_client(conn, key)
    (scheduler,) = client.get("/api/v1/cron").json()["schedulers"]
    queues = {job["queue"] for job in scheduler["cron_jobs"]}
    jobs_queues = {job["queue"] for job in client.get("/api/v1/scheduler").json()["jobs"]}
    expected = {"billing-eu"} if key == "billing" else {"default", "billing-eu"}
    assert (queues, jobs_queues) == (expected, expected)


def test_both_transports_answer_alike(client, conn):
    _cron(conn)
    _rq_scheduler(conn)
    graphql = client.post(
        "/graphql", json={"query": f"{{ cron {{ {CRON_FIELDS} }} scheduler {{ {SCHEDULER_FIELDS} }} }}"}
    )
    data = to_rest_shape(graphql.json()["data"])
    assert data["cron"] == client.get("/api/v1/cron").json()
    rest = client.get("/api/v1/scheduler").json()
    assert data["scheduler"] == {"total_count": rest["total"], "jobs": rest["jobs"]}
    assert client.get("/api/v1/scheduler", params={"first": 1001}).status_code == 422
    assert client.get("/api/v1/cron", headers=bearer("viewer")).status_code == 200


def test_scores_no_date_can_hold_read_as_no_time_not_an_error(client, conn):
    """A sorted-set score is any double: a next run, a heartbeat or a run time beyond year 9999
    (or infinite) has no date, so it reads as none, and the rest of the view is still shown."""
    _cron(conn)
    interval_id, *_ = _rq_scheduler(conn)
    conn.zadd("rq:scheduler:scheduled_jobs", {interval_id: 1e12, "far": float("inf"), "past": -1e300})
    conn.zadd("rq:cron_schedulers", {"cron-1": 1e300})
    (spawned,) = Queue("default", connection=conn).job_ids
    conn.zadd("rq:cron_job:every-minute:jobs", {spawned: float("inf")})
    for path in ("/api/v1/cron", "/api/v1/scheduler"):
        assert client.get(path).status_code == 200, client.get(path).text
    (scheduler,) = client.get("/api/v1/cron").json()["schedulers"]
    assert scheduler["last_heartbeat"] is None
    every = scheduler["cron_jobs"][0]
    assert [(run["job_id"], run["enqueued_at"]) for run in every["history"]] == [(spawned, None)]
    runs = {job["job_id"]: job["next_run"] for job in client.get("/api/v1/scheduler").json()["jobs"]}
    assert (runs[interval_id], runs["far"], runs["past"]) == (None, None, None)
    graphql = client.post(
        "/graphql", json={"query": f"{{ cron {{ {CRON_FIELDS} }} scheduler {{ {SCHEDULER_FIELDS} }} }}"}
    ).json()
    assert "errors" not in graphql, graphql


@pytest.mark.parametrize("cron_jobs", ["[" * 5000, "[1, null]", '{"a": 1}', "\xff"])
def test_a_scheduler_whose_cron_jobs_do_not_read_is_shown_without_them(client, conn, cron_jobs):
    """`cron_jobs` is JSON RQ wrote; nested deeper than the parser goes it raised RecursionError."""
    _cron(conn)
    conn.hset("rq:cron_scheduler:cron-1", "cron_jobs", cron_jobs)
    response = client.get("/api/v1/cron")
    assert response.status_code == 200, response.text
    assert [s["cron_jobs"] for s in response.json()["schedulers"]] == [[]]


def test_cron_jobs_of_one_function_on_two_queues_show_only_their_own_runs(conn):
    # RQ keys a cron job's history by its name, the function's by default, so the same function
    # on two queues shares one history. Each cron job must show the runs of its own queue only,
    # and a key limited to one queue must not see the other's job ids and statuses.
    scheduler = CronScheduler(connection=conn, name="cron-shared")
    scheduler.register(jobs.add, "default", args=(1, 2), interval=60)
    scheduler.register(jobs.add, "billing-eu", args=(3, 4), interval=60)
    scheduler.register_birth()
    scheduler.enqueue_jobs()
    scheduler.save()
    (in_default,) = Queue("default", connection=conn).job_ids
    (in_billing,) = Queue("billing-eu", connection=conn).job_ids
    Job.fetch(in_default, connection=conn).delete()  # a run whose job is gone: its queue unknown
    for key, expected in (
        ("viewer", {"default": [], "billing-eu": [in_billing]}),
        ("billing", {"billing-eu": [in_billing]}),
    ):
        (shown,) = keyed_client(conn, key).get("/api/v1/cron").json()["schedulers"]
        runs = {job["queue"]: [run["job_id"] for run in job["history"]] for job in shown["cron_jobs"]}
        totals = {job["queue"]: job["history_total"] for job in shown["cron_jobs"]}
        assert runs == expected, key
        assert totals == {queue: len(ids) for queue, ids in expected.items()}, key


def test_a_schedule_no_json_answer_can_hold_reads_as_absent_or_escaped(client, conn):
    """rq-scheduler's meta is a pickle like any other: a cron string holding a lone surrogate, or
    an interval of more digits than Python writes as text, answered /api/v1/scheduler with a 500.
    The cron string is shown with its escape; a count beyond GraphQL's Int reads as none."""
    now = datetime.now(timezone.utc)
    job = Job.create(
        jobs.add,
        args=(1, 1),
        connection=conn,
        origin="default",
        meta={"cron_string": "*/5 \ud800", "interval": 10**5000, "repeat": 2**40},
    )
    job.save()
    conn.zadd("rq:scheduler:scheduled_jobs", {job.id: (now + timedelta(seconds=60)).timestamp()})
    rest = client.get("/api/v1/scheduler")
    assert rest.status_code == 200, rest.text
    (shown,) = rest.json()["jobs"]
    assert (shown["cron"], shown["interval"], shown["repeat_left"]) == ("*/5 \\ud800", None, None)
    graphql = client.post("/graphql", json={"query": f"{{ scheduler {{ {SCHEDULER_FIELDS} }} }}"}).json()
    assert (
        "errors" not in graphql and to_rest_shape(graphql["data"])["scheduler"]["jobs"] == rest.json()["jobs"]
    )


def test_a_limited_key_counts_and_pages_only_its_queues_rq_scheduler_jobs(conn):
    """`total` counted every entry of rq-scheduler's set, and a page was the first `limit` entries
    with other queues' left out: a billing-* key read how many jobs other queues have scheduled,
    and, from the gaps, where they are."""
    _, billing_id, _ = _rq_scheduler(conn)  # by next run: default (30 s), default (60 s), billing-eu
    client = keyed_client(conn, "billing")
    for first in (1, 2, 100):
        view = client.get("/api/v1/scheduler", params={"first": first}).json()
        assert (view["total"], [job["job_id"] for job in view["jobs"]]) == (1, [billing_id]), first
    assert client.get("/api/v1/scheduler", params={"first": 0}).json() == {"total": 1, "jobs": []}
    assert keyed_client(conn, "viewer").get("/api/v1/scheduler").json()["total"] == 3


def test_a_limited_key_sees_no_cron_scheduler_of_other_queues_alone(conn):
    """A CronScheduler whose cron jobs are all of other queues is, to a billing-* key, as a worker
    of other queues is: not listed (its name, host and config file are those queues' business)."""
    _cron(conn)
    other = CronScheduler(connection=conn, name="cron-reports")
    other.register(jobs.add, "reports", args=(1, 2), cron="0 4 * * *", name="reports-nightly")
    other.register_birth()
    other.save()
    names = {
        key: [s["name"] for s in keyed_client(conn, key).get("/api/v1/cron").json()["schedulers"]]
        for key in ("billing", "viewer")
    }
    assert names == {"billing": ["cron-1"], "viewer": sorted(["cron-1", "cron-reports"])}


def test_a_function_shared_with_another_schedulers_hidden_queue_counts_only_its_own_runs(conn):
    """RQ keys a cron job's history by its name, and the queues sharing a name were gathered from
    the schedulers listed to the key only: with the same function on reports in a scheduler a
    billing-* key is not shown, its billing-eu cron job counted the reports runs in
    `history_total` and showed the id of a reports run whose job is gone."""
    for name, queue in (("cron-billing", "billing-eu"), ("cron-reports", "reports")):
        scheduler = CronScheduler(connection=conn, name=name)
        scheduler.register(jobs.add, queue, args=(1, 2), interval=60)
        scheduler.register_birth()
        scheduler.enqueue_jobs()
        scheduler.save()
    (in_billing,) = Queue("billing-eu", connection=conn).job_ids
    (in_reports,) = Queue("reports", connection=conn).job_ids
    Job.fetch(in_reports, connection=conn).delete()  # a run whose job is gone: its queue unknown
    (shown,) = keyed_client(conn, "billing").get("/api/v1/cron").json()["schedulers"]
    (cron_job,) = shown["cron_jobs"]
    assert [run["job_id"] for run in cron_job["history"]] == [in_billing]
    assert cron_job["history_total"] == 1


def test_runs_of_a_queue_no_scheduler_names_now_are_not_counted_for_a_limited_key(conn):
    """A cron job moved from reports to billing-eu keeps its history, reports runs included: a
    billing-* key counts and sees only the billing-eu ones."""
    from gateway.services.redis import keys

    scheduler = CronScheduler(connection=conn, name="cron-moved")
    scheduler.register(jobs.add, "billing-eu", args=(1, 2), interval=60, name="moved")
    scheduler.register_birth()
    scheduler.enqueue_jobs()
    scheduler.save()
    (in_billing,) = Queue("billing-eu", connection=conn).job_ids
    old_run = Queue("reports", connection=conn).enqueue(jobs.add, 1, 2).id
    conn.zadd(keys.cron_history_key("moved"), {old_run: 1})
    (shown,) = keyed_client(conn, "billing").get("/api/v1/cron").json()["schedulers"]
    (cron_job,) = shown["cron_jobs"]
    assert ([run["job_id"] for run in cron_job["history"]], cron_job["history_total"]) == ([in_billing], 1)
    (whole,) = keyed_client(conn, "viewer").get("/api/v1/cron").json()["schedulers"]
    assert whole["cron_jobs"][0]["history_total"] == 2
