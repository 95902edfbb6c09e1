"""Managed-Redis style: a real redis-server that speaks only TLS, demands a client certificate
(mutual TLS), and serves the gateway through an ACL user limited to RQ's keys and channels plus
the gateway's own `rq-gateway:*` keys. The certificates are made for the test (tests/tls_files.py).

Each failure says which it is, at start-up and in every 503: an untrusted server certificate, a
missing client certificate, refused credentials, an ACL user without RQ's keys. Never a 500."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import requests
from fastapi.testclient import TestClient
from rq import Queue

from gateway.app import create_app
from gateway.config import Settings
from gateway.demo import jobs
from tests.tls_files import TlsFiles, make_tls_files

from .helpers import API, RedisServer, free_port, run_worker
from .processes import GatewayProcess

# The rules README "Deployment" recommends for the gateway's user (and RQ's workers): RQ's keys
# and pub/sub channels, the gateway's audit stream, every command but the dangerous ones, and
# INFO, which RQ reads the server version with.
GATEWAY_USER = (
    "gw",
    "gw-pass",
    ["~rq:*", "~rq-gateway:*", "&rq:*", "&rq-gateway:*", "+@all", "-@dangerous", "+info"],
)
# A user of another application on the same Redis: none of RQ's keys.
OUTSIDER = ("outsider", "out-pass", ["~billing:*", "+@all", "-@dangerous"])
STATS_QUERY = "{ queueStats { queueName failedCount } }"


class TlsRedisServer(RedisServer):
    """A redis-server with only a TLS port, which requires a client certificate signed by the CA."""

    def __init__(self, binary: str, directory: Path, tls: TlsFiles):
        super().__init__(binary, directory)
        self.tls = tls

    def client(self, **kwargs) -> redis.Redis:
        """The default (admin) user, over mutual TLS."""
        kwargs.setdefault("socket_timeout", 10)
        return redis.Redis(
            host="127.0.0.1",
            port=self.port,
            ssl=True,
            ssl_ca_certs=str(self.tls.ca),
            ssl_certfile=str(self.tls.client_cert),
            ssl_keyfile=str(self.tls.client_key),
            **kwargs,
        )

    def arguments(self) -> list[str]:
        tls = self.tls
        return [
            *("--port", "0", "--tls-port", str(self.port), "--bind", "127.0.0.1"),
            *("--tls-cert-file", str(tls.server_cert), "--tls-key-file", str(tls.server_key)),
            *("--tls-ca-cert-file", str(tls.ca), "--tls-auth-clients", "yes"),
            *("--save", "", "--appendonly", "no", "--dir", str(self.directory)),
        ]

    def user_url(self, user: tuple, password: str | None = None) -> str:
        name, secret, _ = user
        return f"rediss://{name}:{password or secret}@127.0.0.1:{self.port}/0"

    def tls_options(self, ca: Path | None = None, client_cert: bool = True) -> list[str]:
        options = ["--redis-ca-file", str(ca or self.tls.ca)]
        if client_cert:
            options += [
                "--redis-cert-file",
                str(self.tls.client_cert),
                "--redis-key-file",
                str(self.tls.client_key),
            ]
        return options


@pytest.fixture(scope="module")
def tls(tmp_path_factory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def tls_redis(redis_server_binary: str, tls: TlsFiles, tmp_path_factory) -> Iterator[TlsRedisServer]:
    server = TlsRedisServer(redis_server_binary, tmp_path_factory.mktemp("tls-redis"), tls)
    server.start()
    admin = server.client()
    for name, password, rules in (GATEWAY_USER, OUTSIDER):
        admin.execute_command("ACL", "SETUSER", name, "reset", "on", f">{password}", *rules)
    admin.close()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def admin(tls_redis: TlsRedisServer) -> Iterator[redis.Redis]:
    client = tls_redis.client()
    client.flushall()
    client.acl_log_reset()
    try:
        yield client
    finally:
        client.close()


def worker_url(server: TlsRedisServer) -> str:
    """RQ's own worker takes the TLS files as URL parameters, which redis-py passes on."""
    tls = server.tls
    return (
        server.user_url(GATEWAY_USER)
        + f"?ssl_ca_certs={tls.ca}&ssl_certfile={tls.client_cert}&ssl_keyfile={tls.client_key}"
    )


def in_process(server: TlsRedisServer, user=GATEWAY_USER, password=None, **tls_files) -> TestClient:
    files = {
        "redis_ca_file": str(server.tls.ca),
        "redis_cert_file": str(server.tls.client_cert),
        "redis_key_file": str(server.tls.client_key),
        **tls_files,
    }
    settings = Settings(redis_url=server.user_url(user, password), **{k: v for k, v in files.items() if v})
    return TestClient(create_app(settings), raise_server_exceptions=False)


def assert_says(client: TestClient, words: str) -> None:
    """Every Redis-backed answer, REST and GraphQL, reads as a 503 with these words, twice (the
    second call falls in the fail-fast window and must say the same)."""
    for _ in range(2):
        for method, path in (
            ("GET", "/readyz"),
            ("GET", f"{API}/stats"),
            ("POST", f"{API}/failed/retry-all"),
        ):
            response = client.request(method, path)
            assert response.status_code == 503, (path, response.text)
            assert words in response.json()["detail"], (path, response.text)
        (error,) = client.post("/graphql", json={"query": STATS_QUERY}).json()["errors"]
        assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
        assert words in error["message"]


def test_mutual_tls_and_a_limited_acl_user_serve_the_whole_api(tls_redis, admin, tmp_path):
    url = worker_url(tls_redis)
    queue = Queue("default", connection=redis.Redis.from_url(url))
    ids = [queue.enqueue(jobs.parse_report, f"bad-{i}").id for i in range(4)]
    run_worker(url)
    gateway = GatewayProcess(tls_redis.user_url(GATEWAY_USER), tmp_path / "gw.log", *tls_redis.tls_options())
    gateway.start()
    try:
        http = requests.Session()
        base = gateway.base
        assert http.get(f"{base}/readyz", timeout=10).json() == {"status": "ready"}
        assert http.get(f"{base}{API}/stats", timeout=10).json()["failed_count"] == 4
        assert sorted(job["job_id"] for job in http.get(f"{base}{API}/failed", timeout=10).json()) == sorted(
            ids
        )
        assert http.post(f"{base}{API}/failed/{ids[0]}/retry", timeout=10).status_code == 200
        assert http.delete(f"{base}{API}/failed/{ids[1]}", timeout=10).status_code == 200
        retried = http.post(f"{base}{API}/failed/retry-all", timeout=10).json()
        assert sorted(retried["requeued_jobs"]) == sorted(ids[2:])
        for path in ("/api/v1/queues", "/api/v1/workers", "/api/v1/queues/default/jobs?state=queued"):
            assert http.get(f"{base}{path}", timeout=10).status_code == 200, path
        graphql = http.post(f"{base}/graphql", json={"query": STATS_QUERY}, timeout=10).json()
        assert graphql == {"data": {"queueStats": {"queueName": "default", "failedCount": 0}}}
        audit = http.get(f"{base}/api/v1/audit", timeout=10).json()["entries"]
        assert [entry["action"] for entry in audit] == ["retry_all", "delete", "retry"]
    finally:
        gateway.stop()
    # Everything went through the limited user, and it was never refused anything.
    assert admin.acl_log() == []
    assert sorted(admin.lrange("rq:queue:default", 0, -1)) == sorted(i.encode() for i in (ids[0], *ids[2:]))
    assert admin.xlen("rq-gateway:audit") == 3
    output = gateway.output()
    assert "gw-pass" not in output and "Cannot reach Redis" not in output and "Traceback" not in output


def test_an_untrusted_server_certificate_is_named_at_start_up_and_in_every_503(tls_redis, admin, tmp_path):
    options = tls_redis.tls_options(ca=tls_redis.tls.other_ca)
    gateway = GatewayProcess(tls_redis.user_url(GATEWAY_USER), tmp_path / "gw.log", *options).start(
        wait_ready=False
    )
    try:
        ready = requests.get(f"{gateway.base}/readyz", timeout=10)
    finally:
        gateway.stop()
    expected = "The TLS connection to Redis failed (certificate verify failed"
    assert ready.status_code == 503 and expected in ready.json()["detail"]
    (warning,) = [line for line in gateway.output().splitlines() if "Cannot reach Redis" in line]
    assert warning.startswith("WARNING:") and expected in warning
    assert "Traceback" not in gateway.output()
    assert_says(in_process(tls_redis, redis_ca_file=str(tls_redis.tls.other_ca)), expected)


def test_a_missing_client_certificate_is_named(tls_redis, admin):
    client = in_process(tls_redis, redis_cert_file=None, redis_key_file=None)
    assert_says(client, "The TLS connection to Redis failed (")
    assert "certificate" in client.get("/readyz").json()["detail"]


def test_refused_credentials_are_named(tls_redis, admin):
    assert_says(in_process(tls_redis, password="wrong"), "Redis refused the gateway's credentials")


def test_an_acl_user_without_rqs_keys_is_named_at_start_up_and_is_never_a_500(tls_redis, admin, tmp_path):
    expected = "Redis denied the gateway's user a command or key it needs (ACL NOPERM)"
    assert_says(in_process(tls_redis, user=OUTSIDER), expected)
    gateway = GatewayProcess(tls_redis.user_url(OUTSIDER), tmp_path / "gw.log", *tls_redis.tls_options())
    gateway.start(wait_ready=False)
    try:
        stats = requests.get(f"{gateway.base}{API}/stats", timeout=10)
        # PING is allowed to anyone, so /readyz cannot see the ACL; the start-up check reads.
        assert stats.status_code == 503 and expected in stats.json()["detail"]
    finally:
        gateway.stop()
    (warning,) = [line for line in gateway.output().splitlines() if "Cannot reach Redis" in line]
    assert expected in warning
    assert "Traceback" not in gateway.output() and "rq:" not in stats.text
    assert [entry["username"] for entry in admin.acl_log()] != []


def test_a_plain_connection_to_a_tls_only_redis_is_unavailable_not_a_500(tls_redis, admin):
    client = TestClient(
        create_app(Settings(redis_url=f"redis://127.0.0.1:{tls_redis.port}/0")), raise_server_exceptions=False
    )
    response = client.get(f"{API}/stats")
    assert response.status_code == 503


def test_nothing_listens_means_a_plain_outage_not_a_tls_message(tls, tmp_path):
    port = free_port()
    settings = Settings(redis_url=f"rediss://127.0.0.1:{port}/0", redis_ca_file=str(tls.ca))
    response = TestClient(create_app(settings), raise_server_exceptions=False).get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"detail": "Redis is unavailable; try again shortly"}


def test_a_user_without_the_gateways_keys_acts_where_no_gateway_key_is_touched(tls_redis, admin, caplog):
    """README "Deployment": without `~rq-gateway:*` the worker controls, cancel and replay act,
    each audit record in the log only; retries and deletes, which keep the queue history's
    record of the failed registry in the same script, are a 503 that names the ACL."""
    no_own_keys = ("rq-only", "rq-only-pass", ["~rq:*", "&rq:*", "+@all", "-@dangerous", "+info"])
    name, password, rules = no_own_keys
    admin.execute_command("ACL", "SETUSER", name, "reset", "on", f">{password}", *rules)
    url = worker_url(tls_redis)
    queue = Queue("default", connection=redis.Redis.from_url(url))
    failed = queue.enqueue(jobs.parse_report, "bad-0").id
    run_worker(url)
    queued = queue.enqueue(jobs.add, 1, 2).id
    with in_process(tls_redis, no_own_keys) as client:
        assert client.post("/api/v1/workers/suspend?duration=60").status_code == 200
        assert client.post("/api/v1/workers/resume").status_code == 200
        assert client.post(f"/api/v1/jobs/{queued}/cancel").status_code == 200
        assert client.post(f"/api/v1/jobs/{failed}/replay").status_code == 200
        refused = client.post(f"{API}/failed/{failed}/retry")
        assert refused.status_code == 503 and "ACL NOPERM" in refused.json()["detail"]
    assert not admin.exists("rq-gateway:audit")
    assert caplog.text.count("it is in the log only") == 5
