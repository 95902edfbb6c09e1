"""The documented REST contract, endpoint by endpoint, on fakeredis."""

from __future__ import annotations

from tests.contract import CONTRACT_JOB_KEYS, CONTRACT_STATUS_KEYS


def test_list_failed_has_the_documented_keys(client, factory):
    (job_id,) = factory.failed()
    (job,) = client.get("/api/v1/jobs/failed").json()
    assert job.keys() >= CONTRACT_JOB_KEYS
    assert job["job_id"] == job_id
    assert job["func_name"] == "gateway.demo.jobs.parse_report"
    assert job["args"] == ["bad-0"] and job["kwargs"] == {}
    assert "ValueError" in job["exc_info"] and job["result"] is None
    assert job["created_at"].endswith("Z") and job["ended_at"].endswith("Z")


def test_limit_offset_and_queue_params(client, factory):
    factory.failed(3)
    factory.failed(2, queue="reports")
    assert len(client.get("/api/v1/jobs/failed").json()) == 3
    assert len(client.get("/api/v1/jobs/failed?queue=reports").json()) == 2
    assert len(client.get("/api/v1/jobs/failed?limit=2&offset=2").json()) == 1
    invalid = client.get("/api/v1/jobs/failed?limit=-1")
    assert invalid.status_code == 422
    assert invalid.json() == {"detail": "Invalid request: limit: Input should be greater than or equal to 0"}
    assert client.get("/api/v1/jobs/stats?queue=reports").json()["failed_count"] == 2


def test_status_has_the_documented_keys(client, factory):
    body = client.get(f"/api/v1/jobs/status/{factory.finished()}").json()
    assert body.keys() >= CONTRACT_STATUS_KEYS
    assert (body["status"], body["result"], body["is_finished"], body["exc_info"]) == (
        "finished",
        5,
        True,
        None,
    )
    assert body["started_at"].endswith("Z")


def test_stats_shape(client, factory):
    factory.failed(2)
    factory.finished()
    factory.queued()
    body = client.get("/api/v1/jobs/stats").json()
    assert body["queue_name"] == "default"
    counts = (body["queued_count"], body["failed_count"], body["finished_count"], body["started_count"])
    assert counts == (1, 2, 1, 0)


def test_not_found_messages(client):
    assert client.get("/api/v1/jobs/status/abc-123").json() == {"detail": "Job abc-123 not found"}
    for method, path in (("post", "/failed/abc-123/retry"), ("delete", "/failed/abc-123")):
        response = getattr(client, method)(f"/api/v1/jobs{path}")
        assert response.status_code == 404
        assert response.json() == {"detail": "Job abc-123 not found in failed jobs registry"}


def test_orphan_retry_is_404_saying_the_data_is_gone(client, factory, conn):
    (job_id,) = factory.failed()
    conn.delete(f"rq:job:{job_id}")
    response = client.post(f"/api/v1/jobs/failed/{job_id}/retry")
    assert response.status_code == 404
    assert "data is gone" in response.json()["detail"]


def test_invalid_ids_are_422(client):
    for method, path in (
        ("get", "/status/bad:x"),
        ("post", "/failed/bad:x/retry"),
        ("delete", "/failed/bad:x"),
        ("get", "/status/a%20b"),
    ):
        response = getattr(client, method)(f"/api/v1/jobs{path}")
        assert response.status_code == 422, path
        assert "Invalid job id" in response.json()["detail"]
    assert client.get("/api/v1/jobs/stats?queue=a%0Ab").status_code == 422


def test_clear_route_wins_over_a_job_called_clear(client, factory):
    factory.failed(1, job_id="clear")
    factory.failed(2)
    body = client.delete("/api/v1/jobs/failed/clear").json()
    assert body["deleted_count"] == 3 and "clear" in body["deleted_jobs"]
    assert set(body) == {"success", "total_failed", "deleted_count", "error_count", "deleted_jobs", "errors"}


def test_redis_down_is_503_with_retry_after(client, conn):
    conn.connection_pool.connection_kwargs["server"].connected = False
    response = client.get("/api/v1/jobs/stats")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "Redis is unavailable" in response.json()["detail"]
    assert client.get("/readyz").status_code == 503
    assert client.get("/healthz").status_code == 200
    conn.connection_pool.connection_kwargs["server"].connected = True
    assert client.get("/readyz").json() == {"status": "ready"}


def test_unexpected_errors_do_not_leak(client, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("secret internals at rq:job:xyz")

    monkeypatch.setattr(client.app.state.service, "stats", explode)
    response = client.get("/api/v1/jobs/stats", headers={"X-Request-ID": "trace-42"})
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error", "request_id": "trace-42"}
    assert response.headers["X-Request-ID"] == "trace-42"


def test_graphiql_and_openapi(client):
    page = client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()
    paths = client.get("/openapi.json").json()["paths"]
    assert "/graphql" not in paths
    operations = {(m, p) for p, item in paths.items() if p.startswith("/api/v1/jobs") for m in item}
    # The seven documented operations, plus those added since (issue 4); never fewer.
    assert {
        ("get", "/api/v1/jobs/failed"),
        ("post", "/api/v1/jobs/failed/retry-all"),
        ("delete", "/api/v1/jobs/failed/clear"),
        ("post", "/api/v1/jobs/failed/{job_id}/retry"),
        ("delete", "/api/v1/jobs/failed/{job_id}"),
        ("get", "/api/v1/jobs/status/{job_id}"),
        ("get", "/api/v1/jobs/stats"),
        ("post", "/api/v1/jobs/failed/retry"),
        ("post", "/api/v1/jobs/failed/delete"),
        ("post", "/api/v1/jobs/{job_id}/cancel"),
        ("post", "/api/v1/jobs/{job_id}/requeue"),
    } <= operations


def test_lists_are_fetched_and_rendered_off_the_event_loop(client, factory, monkeypatch):
    import threading

    from gateway.rest import jobs as jobs_module

    factory.failed(2)
    threads = {}
    real_dumps = jobs_module._dumps
    rendered = []

    def recording_dumps(value):
        threads["render"] = threading.current_thread()
        rendered.append(value["job_id"])
        return real_dumps(value)

    monkeypatch.setattr(jobs_module, "_dumps", recording_dumps)

    @client.app.get("/_loop_thread")
    async def loop_thread():
        threads["loop"] = threading.current_thread()
        return {}

    client.get("/_loop_thread")
    assert len(client.get("/api/v1/jobs/failed").json()) == 2
    assert threads["render"] is not threads["loop"]
    assert len(rendered) == 2, "each job is encoded by its own call, so the GIL is released between them"
