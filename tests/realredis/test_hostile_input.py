"""Hostile ids and parameters (very long, unicode, '..', ':', '%2F', null bytes, '*', spaces,
newlines, forged cursors) through REST paths and queries and GraphQL arguments: each gets a clear
4xx (422 / 404 with a `detail`, or BAD_REQUEST), and Redis's MONITOR shows that not one command
reached the server for it, so no hostile value can address a different key."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from urllib.parse import quote

import pytest
import redis
from rq import Queue

from gateway.demo import jobs
from gateway.services.audit import AUDIT_STREAM

from .helpers import API, RedisServer, wait_until

# Sent by the client library itself, never carrying a key; and the audit record of a refused
# mutation, which holds the hostile value as JSON text in the audit stream, never as a key.
_HOUSEKEEPING = ("PING", "CLIENT", "HELLO", "SELECT", "ECHO", f"XADD {AUDIT_STREAM} ")


class CommandLog:
    """Every command the server executes, read from MONITOR on a thread of its own."""

    def __init__(self, server: RedisServer):
        self._client = server.client(socket_timeout=None)
        self._control = server.client()
        self._monitor = self._client.monitor()
        self._monitor.__enter__()
        self.lines: list[str] = []
        self._marks = 0
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            while True:
                self.lines.append(self._monitor.next_command()["command"])
        except (redis.ConnectionError, OSError, AttributeError, ValueError):
            return  # closed at teardown

    def mark(self) -> int:
        """A fence: returns the log position after which everything happened later."""
        self._marks += 1
        token = f"fence-{self._marks}"
        self._control.echo(token)
        position = wait_until(
            lambda: next((i + 1 for i, line in enumerate(self.lines) if line == f"ECHO {token}"), 0),
            10,
            f"MONITOR to report {token}",
            interval=0.005,
        )
        return position

    def during(self, call, *args, **kwargs) -> tuple[object, list[str]]:
        """Run `call(*args, **kwargs)`; return its result and the commands it sent (housekeeping
        left out)."""
        start = self.mark()
        result = call(*args, **kwargs)
        stop = self.mark() - 1
        sent = [line for line in self.lines[start:stop] if not line.startswith(_HOUSEKEEPING)]
        return result, sent

    def close(self) -> None:
        self._client.connection_pool.disconnect()
        self._client.close()
        self._control.close()
        self._thread.join(timeout=5)


@pytest.fixture
def commands(redis_server: RedisServer, client) -> Iterator[CommandLog]:
    client.get(f"{API}/stats")  # opens the gateway's connection before recording starts
    log = CommandLog(redis_server)
    try:
        yield log
    finally:
        log.close()


HOSTILE_IDS = [
    "x" * 513,
    "x" * 20_000,
    "jöb",
    "\uff41\uff42\uff43",  # fullwidth "abc"
    "٣٤",  # Arabic-Indic digits: \d would take them, RQ ids do not
    "..",
    "../rq:queue:default",
    "a:b",
    "rq:job:abc",
    "*",
    "a b",
    "a\nb",
    "a\x00b",
    "\x00",
    "abc\r\nFLUSHALL",
    "%2F",
]
# Queue names RQ accepts but the gateway refuses: empty, too long, or with a control character.
HOSTILE_QUEUES = ["", "q\x00", "q\nq", "x" * 513, "\x7f", "a\x85b", "\x1b[31mred", "a\rb"]
# Valid names (RQ accepts them, and so does the gateway) that would be patterns if any name ever
# reached SCAN, KEYS or fnmatch as one; each with a queue the pattern would match.
GLOB_NAMES = {"*": "default", "a*": "abc", "q?x": "qqx", "[a-z]": "b", "a\\*": "a\\b"}


def _path(value: str) -> str:
    return quote(value, safe="")


def _assert_clear_422(response) -> None:
    assert response.status_code == 422, (response.status_code, response.text)
    detail = response.json()["detail"]
    assert isinstance(detail, str) and detail
    assert "Traceback" not in detail


@pytest.mark.parametrize(
    ("method", "template", "message"),
    [
        ("GET", "/status/{}", "Invalid job id"),
        ("POST", "/failed/{}/retry", "Invalid job id"),
        ("DELETE", "/failed/{}", "Invalid job id"),
        ("POST", "/{}/cancel", "Invalid job id"),
        ("POST", "/{}/requeue", "Invalid job id"),
        ("POST", "/failed/groups/{}/retry", "Invalid group id"),
        ("DELETE", "/failed/groups/{}", "Invalid group id"),
    ],
)
def test_hostile_id_in_rest_path_never_reaches_redis(client, commands, method, template, message):
    for job_id in HOSTILE_IDS:
        url = API + template.format(_path(job_id))
        response, sent = commands.during(client.request, method, url, follow_redirects=False)
        assert sent == [], job_id
        if "/" in job_id or "%2F" in job_id or job_id == "..":
            # A slash (decoded from %2F before routing, even from %252F by this Starlette) or a
            # dot segment (resolved by the client) changes the path itself: no route matches, only
            # another method's, another route (a 422 for its missing body), or Starlette redirects
            # a trailing slash away (307, not followed here).
            assert response.status_code in (307, 404, 405, 422), (job_id, response.text)
        else:
            _assert_clear_422(response)
            assert response.json()["detail"].startswith(message), job_id


@pytest.mark.parametrize("path", ["/failed/retry", "/failed/delete"])
def test_hostile_ids_in_a_selected_ids_body_never_reach_redis(client, commands, path):
    for job_id in HOSTILE_IDS:
        response, sent = commands.during(client.post, API + path, json={"job_ids": ["abc", job_id]})
        assert sent == [], job_id
        _assert_clear_422(response)


def test_encoded_slash_in_a_path_is_a_plain_404(client, commands):
    # Starlette decodes %2F before routing: the id splits the path and no route matches.
    response, sent = commands.during(lambda: client.get(f"{API}/status/a%2Fb"))
    assert sent == []
    assert (response.status_code, response.json()) == (404, {"detail": "Not Found"})


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/failed"),
        ("GET", "/stats"),
        ("POST", "/failed/retry-all"),
        ("DELETE", "/failed/clear"),
        ("POST", "/failed/abc/retry"),
        ("DELETE", "/failed/abc"),
        ("GET", "/status/abc"),
    ],
)
def test_hostile_queue_in_rest_query_never_reaches_redis(client, commands, method, path):
    for queue in HOSTILE_QUEUES:
        response, sent = commands.during(client.request, method, API + path, params={"queue": queue})
        assert sent == [], queue
        _assert_clear_422(response)


@pytest.mark.parametrize(
    ("method", "template"),
    [("GET", "/api/v1/queues/{}"), ("GET", "/api/v1/queues/{}/jobs"), ("POST", "/api/v1/queues/{}/cleanup")],
)
def test_hostile_queue_in_rest_path_never_reaches_redis(client, commands, method, template):
    for queue in [q for q in HOSTILE_QUEUES if q and "/" not in q] + ["a\x00b"]:
        response, sent = commands.during(client.request, method, template.format(_path(queue)))
        assert sent == [], queue
        _assert_clear_422(response)


@pytest.mark.parametrize("value", ["%2F", "a%2Fb", "a/b", "../x"])
def test_encoded_queue_names_address_that_queue_alone(client, commands, value):
    # Routes of queue paths match the path as sent: `%252F` is the queue named "%2F", and `a%2Fb`
    # the queue "a/b"; never another route, and never a key of another queue.
    for template in ("/api/v1/queues/{}", "/api/v1/queues/{}/jobs", "/api/v1/queues/{}/cleanup"):
        method = "POST" if template.endswith("cleanup") else "GET"
        response, sent = commands.during(client.request, method, template.format(_path(value)))
        assert (response.status_code, response.json()) == (404, {"detail": f"Queue {value!r} not found"})
        # Besides its own keys, only RQ's global sets: the queues, and (cleanup) the rate limits.
        foreign = [line for line in sent if "rq:" in line and value not in line and "rq:rl-keys" not in line]
        assert sent and not foreign, foreign


def test_a_dot_segment_is_resolved_by_the_client_not_the_gateway(client, commands):
    response, _ = commands.during(client.get, "/api/v1/queues/../jobs/stats")
    assert (response.status_code, response.json()["queue_name"]) == (200, "default")


@pytest.mark.parametrize(("name", "lookalike"), GLOB_NAMES.items())
def test_a_queue_name_is_never_a_pattern(client, commands, r, name, lookalike):
    Queue(lookalike, connection=r).enqueue(jobs.add, 1, 1)
    Queue(name, connection=r).enqueue(jobs.add, 1, 1)
    calls = [
        ("GET", f"{API}/stats", {"queue": name}),
        ("GET", f"{API}/failed", {"queue": name}),
        ("POST", f"{API}/failed/retry-all", {"queue": name}),
        ("DELETE", f"{API}/failed/clear", {"queue": name}),
        ("GET", f"{API}/failed/groups", {"queue": name}),
        ("GET", f"/api/v1/queues/{_path(name)}/jobs", {}),
        ("POST", f"/api/v1/queues/{_path(name)}/cleanup", {}),
    ]
    for method, path, params in calls:
        response, sent = commands.during(client.request, method, path, params=params)
        assert response.status_code == 200, (path, response.text)
        assert not [line for line in sent if line.split()[0] in ("SCAN", "KEYS")], sent
        # A key of the lookalike queue ends in ":<lookalike>" (rq:queue:b); a random job id may
        # merely start with it (rq:job:b19d...), which this once mistook for one.
        touched = [
            line
            for line in sent
            if any(token.endswith(f":{lookalike}") for token in line.replace(f":{name}", "").split())
        ]
        assert not touched, sent
    assert Queue(lookalike, connection=r).count == 1


@pytest.mark.parametrize(
    "query", ["limit=-1", "offset=-5", "limit=abc", "offset=1e3", "limit=%00", "limit=1&offset=%0A"]
)
def test_hostile_paging_parameters_never_reach_redis(client, commands, query):
    response, sent = commands.during(lambda: client.get(f"{API}/failed?{query}"))
    assert sent == []
    _assert_clear_422(response)


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


GRAPHQL_CASES = [
    ("query($v: ID!) { job(id: $v) { id } }", HOSTILE_IDS),
    ("mutation($v: ID!) { retryFailedJob(id: $v) { success } }", HOSTILE_IDS),
    ("mutation($v: ID!) { deleteFailedJob(id: $v) { success } }", HOSTILE_IDS),
    ("query($v: String) { failedJobs(queue: $v) { totalCount } }", HOSTILE_QUEUES),
    ("query($v: String) { queueStats(queue: $v) { failedCount } }", HOSTILE_QUEUES),
    ("mutation($v: String) { retryAllFailedJobs(queue: $v) { requeuedCount } }", HOSTILE_QUEUES),
    ("mutation($v: String) { clearFailedJobs(queue: $v) { deletedCount } }", HOSTILE_QUEUES),
    ("query($v: String!) { queue(name: $v) { name } }", HOSTILE_QUEUES),
    ("mutation($v: String!) { cleanupQueue(name: $v) { __typename } }", HOSTILE_QUEUES),
    (
        "query($v: String) { failedJobs(after: $v) { totalCount } }",
        [
            "garbage",
            # "1|a:b" is a valid cursor now: started-registry members are "id:execution_id". It
            # reaches Redis only as a value compared with members, never as a key.
            _cursor("1|../x"),
            _cursor("inf|*"),
            _cursor("1 OR 1|abc"),
            _cursor("1|abc\x00"),
            "x" * 10_000,
        ],
    ),
]


@pytest.mark.parametrize(
    ("query", "values"), GRAPHQL_CASES, ids=[q.split("{")[1].split("(")[0].strip() for q, _ in GRAPHQL_CASES]
)
def test_hostile_graphql_arguments_never_reach_redis(client, commands, query, values):
    for value in values:
        response, sent = commands.during(
            client.post, "/graphql", json={"query": query, "variables": {"v": value}}
        )
        assert sent == [], value
        (error,) = response.json()["errors"]
        assert error["extensions"]["code"] == "BAD_REQUEST", (value, error)
        assert error["message"] and "Traceback" not in error["message"]


def test_a_lone_surrogate_queue_name_never_reaches_redis(client, commands):
    # JSON may carry one as an escape (`"\\ud800"`); it is not UTF-8, so no key could hold it.
    query = "query($v: String) { queueStats(queue: $v) { failedCount } }"
    body = json.dumps({"query": query, "variables": {"v": "\ud800"}})
    response, sent = commands.during(
        client.post, "/graphql", content=body, headers={"content-type": "application/json"}
    )
    assert sent == []
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert "U+D800" in error["message"] and "lone surrogate" in error["message"]


@pytest.mark.parametrize("size", [-1, 1001, 2**40])
def test_hostile_page_size_in_graphql_never_reaches_redis(client, commands, size):
    query = "query($n: Int) { failedJobs(first: $n) { totalCount } }"
    response, sent = commands.during(
        lambda: client.post("/graphql", json={"query": query, "variables": {"n": size}})
    )
    assert sent == []
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST", error


def test_the_monitor_does_see_a_valid_request(client, commands, fail_jobs):
    """Control: the recording is live, so the empty lists above mean something."""
    (job_id,) = fail_jobs(1)
    response, sent = commands.during(lambda: client.get(f"{API}/status/{job_id}"))
    assert response.status_code == 200
    assert any(f"rq:job:{job_id}" in line for line in sent), sent
    _, sent = commands.during(lambda: client.get(f"{API}/stats", params={"queue": "tenant:42"}))
    assert any("rq:failed:tenant:42" in line for line in sent), sent
