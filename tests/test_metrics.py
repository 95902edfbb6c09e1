"""GET /metrics (gateway/rest/metrics.py) on fakeredis: rq-exporter's names and labels, the
gateway's own metrics, access, Redis down, and the cost of a scrape. The same against a real
redis-server and a real worker: tests/realredis/test_metrics_real.py."""

from __future__ import annotations

import threading
import time
from urllib.parse import quote

import redis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rq import Queue, Worker

from gateway.app import create_app
from gateway.config import Settings
from gateway.demo import jobs
from gateway.services import JobService
from gateway.services.reads.snapshot import SharedRead
from tests.keyed import bearer, keyed_client
from tests.metrics_scrape import label_names, scrape, series, value

# rq-exporter 3.1's collector (rq_exporter/collector.py), exactly.
RQ_EXPORTER_LABELS = {
    "rq_workers": {"name", "queues", "state"},
    "rq_workers_success": {"name", "queues"},
    "rq_workers_failed": {"name", "queues"},
    "rq_workers_working_time": {"name", "queues"},
    "rq_jobs": {"queue", "status"},
}


def _worker(conn, name: str, *queues: str) -> Worker:
    worker = Worker([Queue(q, connection=conn) for q in queues], connection=conn, name=name)
    worker.register_birth()
    return worker


def test_rq_metrics_carry_rq_exporters_names_and_labels(client, conn, factory):
    factory.failed(2)
    factory.finished()
    factory.queued("reports")
    _worker(conn, "w1", "default", "reports")
    found = scrape(client)
    for name, labels in RQ_EXPORTER_LABELS.items():
        assert found[name].samples, name
        assert label_names(found, name) == {frozenset(labels)}, name
    assert found["rq_workers"].type == "gauge" and found["rq_jobs"].type == "gauge"
    assert found["rq_workers_success"].type == "counter"
    (rq_worker,) = Worker.all(connection=conn)
    state = rq_worker.get_state()
    assert value(found, "rq_workers", name="w1", queues="default,reports", state=state) == 1
    # rq-exporter's scrape timing, which dashboard 12196 charts.
    assert value(found, "rq_request_processing_seconds_count") >= 1


def test_rq_jobs_equal_rqs_own_counts_for_every_status(client, conn, factory):
    factory.failed(3)
    factory.finished()
    factory.queued()
    factory.queued("reports")
    found = scrape(client)
    for name in ("default", "reports"):
        queue = Queue(name, connection=conn)
        expected = {
            "queued": queue.count,
            "failed": queue.failed_job_registry.count,
            "finished": queue.finished_job_registry.count,
            "started": queue.started_job_registry.count,
            "deferred": queue.deferred_job_registry.count,
            "scheduled": queue.scheduled_job_registry.count,
            "canceled": queue.canceled_job_registry.count,
            "ready_to_enqueue": queue.ready_job_registry.count,  # RQ 3's seventh registry
        }
        got = {status: value(found, "rq_jobs", queue=name, status=status) for status in expected}
        assert got == expected
    assert value(found, "rq_jobs", queue="default", status="failed") == 3
    assert {item.labels["status"] for item in found["rq_jobs"].samples} == {*expected}


def test_the_ready_registry_is_counted(client, conn):
    conn.zadd("rq:ready:default", {"job-a": 1, "job-b": 2})
    conn.sadd("rq:queues", "rq:queue:default")
    found = scrape(client)
    assert value(found, "rq_jobs", queue="default", status="ready_to_enqueue") == 2


def test_queue_latency_is_the_head_jobs_age_and_zero_when_empty(client, conn, factory):
    factory.queued("reports")
    factory.failed(1)  # default: nothing waits
    found = scrape(client)
    assert 0 <= value(found, "rq_queue_latency_seconds", queue="reports") < 60
    assert value(found, "rq_queue_latency_seconds", queue="default") == 0


def test_a_scrape_is_three_round_trips_whatever_the_queues_and_workers(conn, round_trips):
    for count in (1, 200):
        conn.flushall()
        for index in range(count):
            Queue(f"q{index}", connection=conn).enqueue(jobs.add, 1, 2)
            _worker(conn, f"w{index}", f"q{index}")
        round_trips.reset()
        snapshot = JobService(conn).rq_snapshot()
        assert round_trips.count <= 3, (count, round_trips.commands)
        assert len(snapshot.queues) == count and len(snapshot.workers) == count
    # Reads only: RQ's Worker.all would SREM dead workers, its registry counts would clean up.
    assert set(round_trips.commands) <= {"SMEMBERS", "LLEN", "ZCARD", "ZCOUNT", "LINDEX", "HGETALL", "HGET"}


def test_scrapes_within_a_second_share_one_read(client, conn, factory, round_trips):
    factory.queued()
    scrape(client)
    round_trips.reset()
    scrape(client)
    assert round_trips.count == 0, round_trips.commands


def test_concurrent_callers_wait_for_the_one_read_in_progress():
    started, release, reads = threading.Event(), threading.Event(), []

    def slow_read() -> int:
        reads.append(1)
        started.set()
        release.wait(10)
        return len(reads)

    shared = SharedRead(slow_read)
    results: list[int] = []
    first = threading.Thread(target=lambda: results.append(shared.get()))
    first.start()
    started.wait(10)
    others = [threading.Thread(target=lambda: results.append(shared.get())) for _ in range(5)]
    for thread in others:
        thread.start()
    release.set()
    for thread in (first, *others):
        thread.join(10)
    assert reads == [1] and results == [1] * 6


def test_a_read_older_than_a_second_is_read_again():
    now = [100.0]
    counter = iter(range(1, 10))
    shared = SharedRead(lambda: next(counter), clock=lambda: now[0])
    assert shared.get() == 1
    now[0] += 0.99
    assert shared.get() == 1
    now[0] += 0.02
    assert shared.get() == 2


ROUTE = "/api/v1/jobs/status/{job_id}"


def test_route_label_is_the_template_so_job_ids_add_no_series(client):
    client.get("/api/v1/jobs/status/first-id")
    before = scrape(client)
    for index in range(1000):
        client.get(f"/api/v1/jobs/status/id-{index}")
    after = scrape(client)
    assert series(after, "rq_gateway_http_requests_total") == series(before, "rq_gateway_http_requests_total")
    assert (
        value(after, "rq_gateway_http_requests_total", route=ROUTE, method="GET", status="404")
        - value(before, "rq_gateway_http_requests_total", route=ROUTE, method="GET", status="404")
        == 1000
    )
    assert value(after, "rq_gateway_http_request_duration_seconds_count", route=ROUTE) >= 1000


def test_graphql_static_files_and_plain_routes_are_labelled_by_their_template(client):
    """The counters are the process's: compared before and after, as Prometheus's rate() does."""
    cases = {
        ("POST", "/graphql", "200"): lambda: client.post("/graphql", json={"query": "{ __typename }"}),
        ("GET", "/static/{path}", "200"): lambda: client.get("/static/graphiql.js"),
        ("GET", "/static/{path}", "404"): lambda: client.get("/static/no/such/file.js"),
        ("GET", "/openapi.json", "200"): lambda: client.get("/openapi.json"),
    }
    before = scrape(client)
    for request in cases.values():
        request()
    after = scrape(client)
    for method, route, status in cases:
        labels = {"method": method, "route": route, "status": status}
        added = value(after, "rq_gateway_http_requests_total", **labels) - value(
            before, "rq_gateway_http_requests_total", 0.0, **labels
        )
        assert added == 1, labels


def test_unmatched_paths_and_odd_methods_have_bounded_labels(client):
    client.get("/no/such/path/123")
    client.request("BREW", "/api/v1/jobs/stats")
    found = scrape(client)
    routes = {item.labels["route"] for item in found["rq_gateway_http_requests"].samples}
    methods = {item.labels["method"] for item in found["rq_gateway_http_requests"].samples}
    assert "/no/such/path/123" not in routes and "unmatched" in routes
    assert "BREW" not in methods and "other" in methods


def test_any_valid_key_reads_metrics_and_none_is_refused(conn):
    for name in ("viewer", "billing", "admin"):
        assert keyed_client(conn, name).get("/metrics").status_code == 200
    refused = keyed_client(conn).get("/metrics")
    assert refused.status_code == 401 and refused.json()["detail"]
    assert keyed_client(conn).get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
    found = scrape(keyed_client(conn, "viewer"))
    assert value(found, "rq_gateway_auth_refusals_total", reason="missing_key") >= 1
    assert value(found, "rq_gateway_auth_refusals_total", reason="invalid_key") >= 1


def test_metrics_public_opens_it_without_opening_the_api(conn):
    client = keyed_client(conn, metrics_public=True)
    assert client.get("/metrics").status_code == 200
    assert client.get("/api/v1/jobs/stats").status_code == 401


def test_a_scrape_is_not_audited(conn):
    keyed_client(conn, "admin").get("/metrics")
    assert conn.exists("rq-gateway:audit") == 0


def test_redis_down_still_answers_200_with_redis_up_zero():
    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, socket_timeout=0.2)
    client = TestClient(create_app(Settings(redis_url="redis://unused"), connection=dead))
    client.get("/api/v1/jobs/stats")
    found = scrape(client)
    assert value(found, "rq_gateway_redis_up") == 0
    assert value(found, "rq_gateway_redis_errors_total") >= 1
    assert value(found, "rq_gateway_http_requests_total", route="/api/v1/jobs/stats", status="503") >= 1
    assert "rq_jobs" not in found


def test_redis_up_is_one_when_the_read_succeeds(client):
    assert value(scrape(client), "rq_gateway_redis_up") == 1


def _acted(client, action: str, outcome: str) -> float:
    return value(scrape(client), "rq_gateway_jobs_acted_total", 0.0, action=action, outcome=outcome)


def test_jobs_acted_counts_each_job_once_whichever_transport(conn, factory):
    client = keyed_client(conn, "admin")
    first, second, *rest = factory.failed(5)
    before = _acted(client, "retry", "ok")
    assert client.post(f"/api/v1/jobs/failed/{first}/retry").status_code == 200
    mutation = "mutation($id: ID!) { retryFailedJob(id: $id) { success } }"
    answer = client.post("/graphql", json={"query": mutation, "variables": {"id": second}}).json()
    assert answer == {"data": {"retryFailedJob": {"success": True}}}
    assert _acted(client, "retry", "ok") - before == 2
    missing = _acted(client, "retry", "error")
    client.post("/api/v1/jobs/failed/no-such-job/retry")
    assert _acted(client, "retry", "error") - missing == 1
    bulk = _acted(client, "retry_all", "ok")
    client.post("/api/v1/jobs/failed/retry-all", params={"dry_run": "true"})
    assert _acted(client, "retry_all", "ok") == bulk  # a dry run acts on nothing
    client.post("/api/v1/jobs/failed/retry-all")
    assert _acted(client, "retry_all", "ok") - bulk == len(rest)


def test_a_replay_counts_the_one_job_it_replayed(conn, factory):
    """Its audit record lists the old job and the new one; it acted on one job, as a replay that
    fails counts one, so the counter does not add the job it created."""
    client = keyed_client(conn, "admin")
    (failed,) = factory.failed()
    ok, error = _acted(client, "replay", "ok"), _acted(client, "replay", "error")
    assert client.post(f"/api/v1/jobs/{failed}/replay").status_code == 200
    assert client.post("/api/v1/jobs/no-such-job/replay").status_code == 404
    assert (_acted(client, "replay", "ok") - ok, _acted(client, "replay", "error") - error) == (1, 1)


def test_a_tracked_operation_counts_the_jobs_it_acted_on_once_when_it_ends(conn, factory):
    client = keyed_client(conn, "admin")
    factory.failed(3)
    before = _acted(client, "operation_retry.finish", "ok")
    body = {"action": "retry", "selector": {"all": True}}
    dry = client.post("/api/v1/operations", json={**body, "dry_run": True})
    assert dry.status_code == 200 and _acted(client, "operation_retry.finish", "ok") == before
    started = client.post("/api/v1/operations", json=body)
    assert started.status_code == 202, started.text
    url = f"/api/v1/operations/{started.json()['id']}"
    deadline = time.monotonic() + 30
    while client.get(url).json()["status"] == "running":  # the runner's thread
        assert time.monotonic() < deadline, "the operation did not end"
        time.sleep(0.01)
    assert client.get(url).json()["acted"] == 3
    assert _acted(client, "operation_retry.finish", "ok") - before == 3


def test_scrapes_of_many_clients_share_the_apps_read(conn, round_trips):
    """Scoped copies of the service (one per request) share one SharedRead."""
    app = create_app(Settings(redis_url="redis://unused"), connection=conn)
    Queue("default", connection=conn).enqueue(jobs.add, 1, 2)
    TestClient(app).get("/metrics", headers=bearer("viewer"))
    round_trips.reset()
    TestClient(app).get("/metrics")
    assert round_trips.count == 0


_SEGMENT = st.text(alphabet=st.characters(codec="ascii", exclude_characters="/?#%"), min_size=1, max_size=12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    prefix=st.sampled_from(
        ["/api/v1/jobs", "/api/v1/jobs/failed", "/api/v1/queues", "/static", "/graphql", ""]
    ),
    segments=st.lists(_SEGMENT, max_size=4),
    method=st.sampled_from(["GET", "POST", "DELETE", "PUT", "BREW"]),
)
# Starlette's mount pattern matches before a final newline and set root_path `/static/`: the
# label was `/static//{path}` (found by this test).
@example(prefix="/static", segments=["a\n"], method="POST")
def test_every_route_label_is_a_template_whatever_the_path(client, prefix, segments, method):
    """The whole class: any path, any method, only the app's own templates (or unmatched/other).
    The counter is the process's, which other tests' apps count into too: only the series this
    request moved are checked."""
    before = _request_counts(scrape(client, only="rq_gateway_http_requests"))
    client.request(method, "/".join([prefix, *(quote(segment, safe="") for segment in segments)]) or "/")
    after = _request_counts(scrape(client, only="rq_gateway_http_requests"))
    allowed = set(client.app.openapi()["paths"]) | {
        *("/graphql", "/openapi.json", "/static/{path}", "/docs", "/", "/metrics", "unmatched", "other")
    }
    moved = {
        labels["route"]
        for key, count in after.items()
        if count > before.get(key, 0)
        for labels in [dict(key)]
    }
    assert moved - {"/metrics"}, "the request was counted"
    assert moved <= allowed, moved - allowed


def _request_counts(found) -> dict[frozenset, float]:
    samples = found["rq_gateway_http_requests"].samples
    return {frozenset(item.labels.items()): item.value for item in samples if item.name.endswith("_total")}


def test_a_dead_workers_key_is_skipped_and_left_in_place(client, conn):
    _worker(conn, "alive", "default")
    conn.sadd("rq:workers", "rq:worker:ghost")  # died without unregistering: its hash expired
    found = scrape(client)
    assert {item.labels["name"] for item in found["rq_workers"].samples} == {"alive"}
    assert conn.sismember("rq:workers", "rq:worker:ghost")  # RQ's Worker.all would SREM it


def test_no_created_series_so_one_process_and_many_expose_the_same_series(client):
    """prometheus-client adds a `_created` gauge beside every counter and histogram child; its
    multiprocess collector (--workers N) writes none. So `--workers 1` served a series per child
    that `--workers 2` did not, and doubled the series of every counter."""
    client.get("/api/v1/jobs/stats")
    client.get("/api/v1/jobs/status/no-such-job")
    text = client.get("/metrics").text
    assert "rq_gateway_http_requests_total" in text
    assert [line for line in text.splitlines() if "_created" in line] == []


def test_a_queue_limited_key_scrapes_only_its_queues_and_their_workers(conn, factory):
    """The metrics honour queue patterns as GET /queues and /workers do: a key limited to
    billing-* learns no other queue's name or counts, and no worker's counters that count
    another queue's jobs."""
    factory.failed(2, queue="billing-eu")
    factory.queued("payroll")
    _worker(conn, "w-billing", "billing-eu")
    _worker(conn, "w-both", "billing-eu", "payroll")
    _worker(conn, "w-payroll", "payroll")

    limited = scrape(keyed_client(conn, "billing"))
    assert {item.labels["queue"] for item in limited["rq_jobs"].samples} == {"billing-eu"}
    assert value(limited, "rq_jobs", queue="billing-eu", status="failed") == 2
    assert {item.labels["queue"] for item in limited["rq_queue_latency_seconds"].samples} == {"billing-eu"}
    workers = {(item.labels["name"], item.labels["queues"]) for item in limited["rq_workers"].samples}
    assert workers == {("w-billing", "billing-eu"), ("w-both", "billing-eu")}
    for family in ("rq_workers_success", "rq_workers_failed", "rq_workers_working_time"):
        assert {item.labels["name"] for item in limited[family].samples} == {"w-billing"}, family
    assert "payroll" not in keyed_client(conn, "billing").get("/metrics").text

    everything = scrape(keyed_client(conn, "viewer"))
    assert {item.labels["queue"] for item in everything["rq_jobs"].samples} >= {"billing-eu", "payroll"}
    assert value(everything, "rq_workers", name="w-both", queues="billing-eu,payroll") == 1
    assert value(everything, "rq_workers_success_total", name="w-both", queues="billing-eu,payroll") == 0
