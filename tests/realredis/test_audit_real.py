"""The audit trail on a real Redis, through the CLI-started gateway: anonymous requests cannot
evict it, and queue-limited admins read only their queues' records."""

from __future__ import annotations

import requests

from gateway.services.audit import AUDIT_STREAM
from tests.keyed import API_KEYS, bearer
from tests.test_audit_scope import ADMINS, SECRETS, as_key, graphql_trail, rest_trail

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


class _Http:
    """requests with the gateway's base URL, shaped like the TestClient the trail helpers take."""

    def __init__(self, session: requests.Session, base: str):
        self.session, self.base = session, base

    def get(self, path: str, **kwargs):
        return self.session.get(self.base + path, timeout=10, **kwargs)

    def post(self, path: str, **kwargs):
        return self.session.post(self.base + path, timeout=10, **kwargs)


def test_keys_of_several_patterns_read_only_their_queues_records(redis_server, r, tmp_path):
    keys = ";".join(f"{k.name}:{k.role.label}:{k.digest}:{','.join(k.queues)}" for k in ADMINS)
    gateway = GatewayProcess(redis_server.url, tmp_path / "gateway.log", "--api-keys", keys).start()
    written = []
    try:
        with requests.Session() as session:
            http = _Http(session, gateway.base)
            for queue in ("billing-eu", "default", "reports", "other", "billing-us", None):
                path = (
                    f"/api/v1/jobs/failed/missing/retry?queue={queue}" if queue else "/api/v1/jobs/x/cancel"
                )
                written.append((queue, http.post(path, headers=bearer("admin")).headers["X-Request-ID"]))
            written.reverse()
            views = {
                key: (rest_trail(http, as_key(key)), graphql_trail(http, as_key(key))) for key in SECRETS
            }
            views["admin"] = (rest_trail(http, bearer("admin")), graphql_trail(http, bearer("admin")))
    finally:
        gateway.stop()
    assert r.xlen(AUDIT_STREAM) == 6
    expected = {
        "admin": written,
        "billing-admin": [w for w in written if w[0] in ("billing-eu", "billing-us")],
        "two-admin": [w for w in written if w[0] in ("default", "other")],
    }
    for key, records in expected.items():
        assert views[key] == ((records, len(records)), (records, len(records))), key
