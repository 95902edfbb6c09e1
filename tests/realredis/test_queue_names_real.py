"""Any queue name RQ accepts, on a real Redis: jobs failed by a real RQ worker on that queue are
named, read, retried and cleared by every endpoint, REST and GraphQL, and a sibling queue whose
name shares a prefix is never touched (MONITOR shows none of its keys; its data is unchanged).
Paths are also checked against the CLI-started gateway under uvicorn, which decodes `%2F` before
routing in its own way."""

from __future__ import annotations

import re
import threading
from urllib.parse import quote

import pytest
import redis
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rq import Queue, SimpleWorker

from gateway.demo import jobs
from gateway.demo.seed import run_worker_quietly

from .helpers import RedisServer, keyspace, wait_until
from .processes import GatewayProcess

API = "/api/v1/jobs"
REGISTRIES = ("wip", "failed", "finished", "deferred", "scheduled", "canceled")
names = st.text(
    st.characters(blacklist_categories=("Cc", "Cs")) | st.sampled_from("/%:*?[]{} .\\#&+=\"'"),
    min_size=1,
    max_size=30,
)

_TOKEN = re.compile(rb'"((?:[^"\\]|\\.)*)"', re.S)
_ESCAPE = re.compile(rb"\\(x[0-9a-fA-F]{2}|.)", re.S)
_SIMPLE = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"a": b"\a", b"b": b"\b"}


def _unescape(match: re.Match) -> bytes:
    code = match[1]
    if code[:1] == b"x" and len(code) == 3:
        return bytes([int(code[1:], 16)])
    return _SIMPLE.get(code, code)


def monitor_args(line: bytes) -> list[bytes]:
    """The arguments of one MONITOR line, exactly: Redis quotes each and escapes it as
    sdscatrepr does (\\xHH for every byte outside printable ASCII)."""
    command = line.split(b"] ", 1)[1]
    return [_ESCAPE.sub(_unescape, token) for token in _TOKEN.findall(command)]


class RawMonitor:
    """Every command the server runs (scripts' own commands included), arguments as bytes."""

    def __init__(self, server: RedisServer):
        self._client = server.client(socket_timeout=None)
        self._control = server.client()
        self._connection = self._client.connection_pool.get_connection()
        self._connection.send_command("MONITOR")
        assert self._connection.read_response() in (b"OK", "OK")
        self.commands: list[list[bytes]] = []
        self._fences = 0
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            while True:
                self.commands.append(monitor_args(self._connection.read_response()))
        except (redis.ConnectionError, OSError, ValueError, AttributeError):
            return

    def fence(self) -> int:
        """A position in `commands`: everything after it happened later."""
        self._fences += 1
        token = f"fence-{self._fences}"
        self._control.echo(token)
        return wait_until(
            lambda: next((i + 1 for i, c in enumerate(self.commands) if c == [b"ECHO", token.encode()]), 0),
            10,
            f"MONITOR to report {token}",
            interval=0.005,
        )

    def close(self) -> None:
        self._connection.disconnect()
        self._client.close()
        self._control.close()
        self._thread.join(timeout=5)


@pytest.fixture
def monitor(redis_server: RedisServer):
    log = RawMonitor(redis_server)
    try:
        yield log
    finally:
        log.close()


def queue_keys(name: str) -> set[bytes]:
    own = {f"rq:queue:{name}", f"rq:workers:{name}", *(f"rq:{r}:{name}" for r in REGISTRIES)}
    return {key.encode() for key in own}


def fail_jobs(r: redis.Redis, names_and_counts: dict[str, int]) -> dict[str, list[str]]:
    """Jobs that fail in a real RQ worker (in-process SimpleWorker), per queue."""
    ids = {
        name: [Queue(name, connection=r).enqueue(jobs.parse_report, f"bad-{i}").id for i in range(count)]
        for name, count in names_and_counts.items()
    }
    run_worker_quietly(SimpleWorker([Queue(name, connection=r) for name in ids], connection=r))
    return ids


def _path(name: str) -> str:
    return quote(name, safe="")


def _graphql(client, query: str, **variables) -> dict:
    body = client.post("/graphql", json={"query": query, "variables": variables}).json()
    assert "errors" not in body, body
    return body["data"]


def _ok(response) -> dict:
    assert response.status_code == 200, (response.request.url, response.status_code, response.text)
    return response.json()


def exercise(client, name: str, ids: list[str]) -> None:
    """Every endpoint that names a queue, on `name`; `ids` are its three failed jobs."""
    q = {"queue": name}
    assert _ok(client.get(f"/api/v1/queues/{_path(name)}"))["failed_count"] == 3
    page = _ok(client.get(f"/api/v1/queues/{_path(name)}/jobs", params={"state": "failed"}))
    assert sorted(job["job_id"] for job in page["jobs"]) == sorted(ids)
    assert _ok(client.get(f"{API}/stats", params=q))["failed_count"] == 3
    assert {job["origin"] for job in _ok(client.get(f"{API}/failed", params=q))} == {name}
    assert _ok(client.get(f"{API}/failed", params={**q, "exc_type": "ValueError"})) != []
    assert _ok(client.get(f"{API}/failed/groups", params=q))["total_failed"] == 3
    data = _graphql(
        client,
        "query($q: String!) { queue(name: $q) { failedCount jobs(state: FAILED) { totalCount } }"
        " failedJobs(queue: $q) { totalCount } queueStats(queue: $q) { queueName }"
        " failureGroups(queue: $q) { totalFailed } }",
        q=name,
    )
    assert data["queue"] == {"failedCount": 3, "jobs": {"totalCount": 3}}
    assert (data["failedJobs"]["totalCount"], data["queueStats"]["queueName"]) == (3, name)
    first, second, third = ids
    assert _ok(client.post(f"{API}/failed/{first}/retry", params=q))["success"]
    retried = _graphql(
        client,
        "mutation($q: String, $id: ID!) { retryFailedJobs(ids: [$id], queue: $q) { requeuedCount } }",
        q=name,
        id=second,
    )
    assert retried["retryFailedJobs"]["requeuedCount"] == 1
    assert _ok(client.delete(f"{API}/failed/clear", params=q))["deleted_jobs"] == [third]
    assert _ok(client.post(f"{API}/failed/retry-all", params=q))["total_failed"] == 0
    cleared = _graphql(client, "mutation($q: String) { clearFailedJobs(queue: $q) { totalFailed } }", q=name)
    assert cleared["clearFailedJobs"]["totalFailed"] == 0
    assert _ok(client.post(f"/api/v1/queues/{_path(name)}/cleanup"))["queue_name"] == name


@settings(
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(name=names)
def test_any_name_round_trips_and_its_siblings_are_never_touched(r, client, monitor, name):
    r.flushall()
    siblings = [name + "x", name[:-1] or "x" + name]
    ids = fail_jobs(r, {name: 3, **dict.fromkeys(siblings, 1)})
    before = {key: value for key, value in keyspace(r).items() if _belongs_to(key, siblings, ids)}
    start = monitor.fence()
    exercise(client, name, ids[name])
    sent = monitor.commands[start : monitor.fence() - 1]

    assert sorted(Queue(name, connection=r).job_ids) == sorted(ids[name][:2])
    forbidden = set().union(*(queue_keys(s) for s in siblings))
    forbidden |= {f"rq:job:{job_id}".encode() for s in siblings for job_id in ids[s]}
    touched = [args for args in sent if forbidden & set(args)]
    assert not touched, touched[:3]
    assert queue_keys(name) & {arg for args in sent for arg in args}, "control: the monitor saw the queue"
    after = {key: value for key, value in keyspace(r).items() if _belongs_to(key, siblings, ids)}
    assert after == before


def _belongs_to(key: bytes, siblings: list[str], ids: dict[str, list[str]]) -> bool:
    return any(key in queue_keys(s) or any(job_id.encode() in key for job_id in ids[s]) for s in siblings)


@pytest.fixture(scope="module")
def served(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory):
    process = GatewayProcess(redis_server.url, tmp_path_factory.mktemp("uvicorn") / "gateway.log").start()
    try:
        yield process
    finally:
        process.stop()


@pytest.mark.parametrize("name", ["emails/high", "x/jobs", "a/", "50%off", "%2F", "ünï", "a b*?["])
def test_encoded_names_in_paths_under_uvicorn(r, served, name):
    ids = fail_jobs(r, {name: 1, "x": 1})
    base = f"{served.base}/api/v1/queues/{_path(name)}"
    info = requests.get(base, timeout=10)
    assert (info.status_code, info.json()["queue_name"], info.json()["failed_count"]) == (200, name, 1)
    page = requests.get(f"{base}/jobs", params={"state": "failed"}, timeout=10).json()
    assert [job["job_id"] for job in page["jobs"]] == ids[name]
    stats = requests.get(f"{served.base}{API}/stats", params={"queue": name}, timeout=10).json()
    assert (stats["queue_name"], stats["failed_count"]) == (name, 1)
    unknown = requests.get(f"{served.base}/api/v1/queues/{_path(name + '-nope')}/jobs", timeout=10)
    assert (unknown.status_code, unknown.json()) == (404, {"detail": f"Queue {name + '-nope'!r} not found"})
