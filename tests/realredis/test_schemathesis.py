"""schemathesis against the gateway's own /openapi.json, on a real Redis holding failed jobs made
by a real worker: no generated request gets a 5xx, and every response (status code, headers,
body) is one the schema documents. New endpoints are picked up from the schema automatically.

SCHEMATHESIS_EXAMPLES (default 15 per operation) sets how hard it looks."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from gateway.app import create_app
from gateway.config import Settings

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


@pytest.fixture(autouse=True)
def seeded_app(app, fail_jobs):
    fail_jobs(3)
    fail_jobs(2, queue="reports")
    _current.app = app
    return app


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_every_documented_operation_conforms(case):
    # An opaque cursor ("pass it back unchanged") is any string to the schema, yet most strings are
    # not cursors: a 422 for a forged one is the documented answer, not a rejected valid request.
    forged_cursor = bool(set(case.query or {}) & OPAQUE_CURSORS)
    case.call_and_validate(excluded_checks=[positive_data_acceptance] if forged_cursor else [])
