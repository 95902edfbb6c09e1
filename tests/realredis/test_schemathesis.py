"""schemathesis against the gateway's own /openapi.json, on a real Redis holding failed jobs made
by a real worker: no generated request gets a 5xx, and every response (status code, headers,
body) is one the schema documents. New endpoints are picked up from the schema automatically.

SCHEMATHESIS_EXAMPLES (default 15 per operation) sets how hard it looks."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from rq import Queue
from schemathesis.specs.openapi.checks import positive_data_acceptance

from gateway.app import create_app
from gateway.config import Settings
from gateway.demo import jobs

from .helpers import RedisServer, restore, run_worker, snapshot

OPAQUE_CURSORS = {"cursor", "after"}
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
def seeded_app(app, r, seeded):
    restore(r, seeded)
    _current.app = app
    return app


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_every_documented_operation_conforms(case):
    # An opaque cursor ("pass it back unchanged") is any string to the schema, yet most strings are
    # not cursors: a 422 for a forged one is the documented answer, not a rejected valid request.
    forged_cursor = bool(set(case.query or {}) & OPAQUE_CURSORS)
    case.call_and_validate(excluded_checks=[positive_data_acceptance] if forged_cursor else [])
