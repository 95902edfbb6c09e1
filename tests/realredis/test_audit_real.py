"""The audit trail on a real Redis, through the CLI-started gateway: anonymous requests cannot
evict it, and queue-limited admins read only their queues' records."""

from __future__ import annotations

import requests

from gateway.services.audit import AUDIT_STREAM
from tests.keyed import API_KEYS, bearer

from .processes import GatewayProcess

KEYS_OPTION = ";".join(f"{key.name}:{key.role.label}:{key.digest}:{','.join(key.queues)}" for key in API_KEYS)


def test_400_anonymous_requests_leave_every_real_record_in_place(redis_server, r, tmp_path):
    gateway = GatewayProcess(
        redis_server.url, tmp_path / "gateway.log", "--api-keys", KEYS_OPTION, "--audit-maxlen", "50"
    ).start()
    try:
        with requests.Session() as http:
            real = [
                http.post(
                    f"{gateway.base}/api/v1/jobs/failed/job-{n}/retry", headers=bearer("admin"), timeout=10
                )
                for n in range(30)
            ]
            assert {response.status_code for response in real} == {404}
            for number in range(400):
                headers = {"Authorization": "Bearer rqg_wrong"} if number % 2 else {}
                if number % 4 < 2:
                    response = http.delete(
                        f"{gateway.base}/api/v1/jobs/failed/clear", headers=headers, timeout=10
                    )
                else:
                    query = {"query": f'mutation {{ retryFailedJob(id: "x{number}") {{ success }} }}'}
                    response = http.post(f"{gateway.base}/graphql", json=query, headers=headers, timeout=10)
                assert response.status_code in (401, 200), response.text
            trail = http.get(
                f"{gateway.base}/api/v1/audit?limit=100", headers=bearer("admin"), timeout=10
            ).json()
    finally:
        gateway.stop()
    assert r.xlen(AUDIT_STREAM) == 30
    assert [entry["request_id"] for entry in trail["entries"]] == [
        response.headers["X-Request-ID"] for response in reversed(real)
    ]
