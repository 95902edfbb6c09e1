"""Requests without a valid key (401): one log line and one count per request, on both transports,
and never a record in the capped audit stream, where they could push out the real ones."""

from __future__ import annotations

import json
import logging

import pytest
from prometheus_client import REGISTRY

from gateway.services.audit import AUDIT_STREAM
from tests.keyed import bearer, keyed_client

BAD_KEY = {"Authorization": "Bearer rqg_not-a-configured-key"}
THREE_FIELDS = '{ a: job(id: "a") { status } b: job(id: "b") { status } c: job(id: "c") { status } }'


def refusals(reason: str) -> float:
    return REGISTRY.get_sample_value("rq_gateway_auth_refusals_total", {"reason": reason}) or 0.0


def refusal_lines(caplog) -> list[dict]:
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "rq_gateway.audit"]
    return [line for line in lines if line["error"] == "Unauthenticated"]


@pytest.mark.parametrize("transport", ["rest", "graphql"])
def test_each_refused_request_is_logged_and_counted_once_and_never_streamed(conn, caplog, transport):
    caplog.set_level(logging.INFO, logger="rq_gateway.audit")
    client = keyed_client(conn)
    before = {reason: refusals(reason) for reason in ("missing_key", "invalid_key")}
    if transport == "rest":
        assert client.get("/api/v1/jobs/stats").status_code == 401
        assert client.post("/api/v1/jobs/failed/abc/retry", headers=BAD_KEY).status_code == 401
    else:
        body = client.post("/graphql", json={"query": THREE_FIELDS}).json()
        assert {e["extensions"]["code"] for e in body["errors"]} == {"UNAUTHENTICATED"}
        assert len(body["errors"]) == 3
        mutation = 'mutation { retryFailedJob(id: "abc") { success } }'
        client.post("/graphql", json={"query": mutation}, headers=BAD_KEY)
    lines = refusal_lines(caplog)
    assert [(line["key"], line["outcome"], line["reason"]) for line in lines] == [
        ("anonymous", "refused", "missing_key"),
        ("anonymous", "refused", "invalid_key"),
    ], "one line per request, whatever number of fields it asked for"
    assert lines[1]["action"] == "retry" and lines[1]["job_ids"] == ["abc"]
    assert refusals("missing_key") - before["missing_key"] == 1
    assert refusals("invalid_key") - before["invalid_key"] == 1
    assert conn.xlen(AUDIT_STREAM) == 0


def test_an_authenticated_refusal_is_still_a_stream_record(conn):
    keyed_client(conn, "viewer").post("/api/v1/jobs/failed/abc/retry")
    keyed_client(conn).post("/api/v1/jobs/failed/abc/retry")
    ((_, fields),) = conn.xrange(AUDIT_STREAM)
    record = json.loads(fields[b"record"])
    assert (record["key"], record["outcome"], record["error"]) == ("viewer", "refused", "Forbidden")


def test_anonymous_requests_never_evict_real_records(conn):
    admin = keyed_client(conn, "admin", audit_maxlen=50)
    anonymous = keyed_client(conn, audit_maxlen=50)
    real = [admin.post(f"/api/v1/jobs/failed/job-{n}/retry").headers["X-Request-ID"] for n in range(30)]
    for number in range(400):
        anonymous.post(f"/api/v1/jobs/failed/job-{number}/retry", headers=BAD_KEY if number % 2 else None)
    kept = [json.loads(fields[b"record"])["request_id"] for _, fields in conn.xrange(AUDIT_STREAM)]
    assert kept == real
    assert admin.get("/api/v1/audit", headers=bearer("admin")).json()["total"] == 30
