"""--log-format json end to end: the CLI-started gateway under uvicorn writes only JSON lines, and
a request's access line and audit line carry its X-Request-ID and its API key's name."""

from __future__ import annotations

import json

import pytest
import requests

from tests.keyed import API_KEYS, bearer

from .helpers import wait_until
from .processes import GatewayProcess

pytestmark = pytest.mark.e2e


def _lines(gateway: GatewayProcess) -> list[dict]:
    return [json.loads(line) for line in gateway.output().splitlines() if line.strip()]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_json_logs_carry_the_request_id_and_key(redis_url, tmp_path, workers):
    keys = ";".join(key.line() for key in API_KEYS)
    gateway = GatewayProcess(
        redis_url,
        tmp_path / "gateway.log",
        *("--log-format", "json", "--log-level", "info", "--api-keys", keys, "--workers", workers),
    ).start()
    try:
        headers = {**bearer("operator"), "X-Request-ID": "trace-42"}
        answer = requests.post(
            gateway.base + "/api/v1/jobs/failed/no-such-job/retry", headers=headers, timeout=10
        )
        assert answer.status_code == 404 and answer.headers["X-Request-ID"] == "trace-42"
        wait_until(
            lambda: [
                line
                for line in _lines(gateway)
                if line.get("logger") == "uvicorn.access" and line["request_id"] == "trace-42"
            ],
            10,
            "the access line",
        )
    finally:
        gateway.stop()
    lines = _lines(gateway)  # every line parses as JSON, start-up and shutdown lines included
    ours = [line for line in lines if line["request_id"] == "trace-42"]
    access = [line for line in ours if line["logger"] == "uvicorn.access"]
    audit = [line for line in ours if line["logger"] == "rq_gateway.audit"]
    assert len(access) == 1 and len(audit) == 1, ours
    assert access[0]["key"] == "operator" and access[0]["status"] == 404 and access[0]["method"] == "POST"
    assert audit[0]["key"] == "operator" and json.loads(audit[0]["message"])["action"] == "retry"
    assert any(line["logger"] == "uvicorn.error" for line in lines)  # uvicorn's own lines too
