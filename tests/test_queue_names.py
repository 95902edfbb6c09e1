"""Queue names: every name RQ accepts (at most 512 characters, no control characters) is accepted
in REST paths (percent-encoded, '/' included), REST query parameters and GraphQL arguments; the
others get a 422 / BAD_REQUEST that says why. Fast checks on fakeredis; the real-Redis property
test is tests/realredis/test_queue_names_real.py."""

from __future__ import annotations

import string
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rq import Queue

from gateway.errors import InvalidParameter
from gateway.services.domain.validation import MAX_NAME_LENGTH, validate_queue_name

API = "/api/v1/jobs"
# Characters a queue name may not hold: C0 and C1 controls, DEL, and lone surrogates.
CONTROLS = [chr(c) for c in (*range(0x20), *range(0x7F, 0xA0))]
# What RQ accepts and the gateway must too: any text it can encode, without control characters.
names = st.text(
    st.characters(blacklist_categories=("Cc", "Cs")) | st.sampled_from("/%:*?[]{} .\\#&+=\"'"),
    min_size=1,
    max_size=40,
)


@given(names)
def test_every_name_rq_accepts_is_valid(name):
    assert validate_queue_name(name) == name


@given(names, st.sampled_from([*CONTROLS, "\ud800", "\udfff"]), st.data())
def test_a_control_character_or_surrogate_is_refused_with_its_code_point(name, bad, data):
    at = data.draw(st.integers(0, len(name)))
    with pytest.raises(InvalidParameter) as caught:
        validate_queue_name(name[:at] + bad + name[at:])
    message = caught.value.message
    assert f"U+{ord(bad):04X}" in message and "may not contain" in message
    message.encode()  # the message itself is valid UTF-8 text: the name is shown escaped


def test_length_and_emptiness_are_explained():
    assert validate_queue_name("q" * MAX_NAME_LENGTH)
    with pytest.raises(InvalidParameter, match="at most 512 characters \\(this one has 513\\)"):
        validate_queue_name("q" * 513)
    with pytest.raises(InvalidParameter, match="cannot be empty"):
        validate_queue_name("")


def _path(name: str) -> str:
    # A path segment that is "." or ".." is a dot segment clients resolve away (README "Queue
    # names"): such a name is sent as %2E / %2E%2E.
    if name in (".", ".."):
        return name.replace(".", "%2E")
    return quote(name, safe="")


@pytest.mark.parametrize(
    "name",
    [
        "emails/high",
        "x/jobs",
        "x/cleanup",
        "a/",
        "/a",
        "//",
        "50%off",
        "%2F",
        "ünï",
        "a b*?[",
        "jobs",
        ".",
        "..",
    ],
)
def test_a_name_with_slashes_or_percents_is_one_path_parameter(conn, client, factory, name):
    # "x/jobs" must be the queue "x/jobs", never the jobs page of queue "x": routes match the path
    # as sent, so an encoded '/' stays inside the parameter.
    factory.failed(1, queue=name)
    factory.failed(1, queue="x")
    info = client.get(f"/api/v1/queues/{_path(name)}")
    assert (info.status_code, info.json()["queue_name"], info.json()["failed_count"]) == (200, name, 1)
    page = client.get(f"/api/v1/queues/{_path(name)}/jobs", params={"state": "failed"})
    assert page.status_code == 200, page.text
    assert [job["origin"] for job in page.json()["jobs"]] == [name]
    cleanup = client.post(f"/api/v1/queues/{_path(name)}/cleanup")
    assert (cleanup.status_code, cleanup.json()["queue_name"]) == (200, name)


def test_a_control_character_in_a_path_is_a_clear_422(client):
    response = client.get("/api/v1/queues/bad%0Aname/jobs")
    assert response.status_code == 422
    assert response.json()["detail"] == (
        "Invalid queue name 'bad\\nname': character 4 is a control character, U+000A, which queue "
        "names may not contain"
    )


@pytest.mark.parametrize("name", ["emails/high", "ünï", "a b", "tenant:42*", "50%"])
def test_the_same_names_in_query_parameters_and_graphql(conn, client, factory, name):
    (job_id,) = factory.failed(1, queue=name)
    stats = client.get(f"{API}/stats", params={"queue": name}).json()
    assert (stats["queue_name"], stats["failed_count"]) == (name, 1)
    query = "query($q: String) { failedJobs(queue: $q) { nodes { id origin } } }"
    body = client.post("/graphql", json={"query": query, "variables": {"q": name}}).json()
    assert body["data"]["failedJobs"]["nodes"] == [{"id": job_id, "origin": name}]
    retried = client.post(f"{API}/failed/retry-all", params={"queue": name}).json()
    assert retried["requeued_jobs"] == [job_id]
    assert Queue(name, connection=conn).job_ids == [job_id]


def _graphql_page(client, query: str) -> dict:
    body = client.post("/graphql", json={"query": query}).json()
    assert "errors" not in body, body
    return body["data"]


@pytest.mark.parametrize("state", ["failed", "queued"])
def test_limit_0_and_first_0_both_answer_the_total_alone(conn, client, factory, state):
    factory.failed(3)
    for _ in range(2):
        factory.queued()
    total = 3 if state == "failed" else 2
    rest = client.get("/api/v1/queues/default/jobs", params={"state": state, "limit": 0}).json()
    assert rest == {"jobs": [], "total": total, "next_cursor": None}
    page = "totalCount nodes { id } pageInfo { hasNextPage endCursor }"
    data = _graphql_page(
        client, f'{{ queue(name: "default") {{ jobs(state: {state.upper()}, first: 0) {{ {page} }} }} }}'
    )
    graphql = data["queue"]["jobs"]
    assert graphql == {
        "totalCount": total,
        "nodes": [],
        "pageInfo": {"hasNextPage": False, "endCursor": None},
    }


def test_failed_list_limit_0_is_empty_in_both_transports(client, factory):
    factory.failed(3)
    assert client.get(f"{API}/failed", params={"limit": 0}).json() == []
    page = "totalCount nodes { id } pageInfo { hasNextPage endCursor }"
    for args in ("first: 0", 'first: 0, filter: { excType: "ValueError" }'):
        data = _graphql_page(client, f"{{ failedJobs({args}) {{ {page} }} }}")
        assert data["failedJobs"] == {
            "totalCount": 3,
            "nodes": [],
            "pageInfo": {"hasNextPage": False, "endCursor": None},
        }
    assert client.get(f"{API}/failed", params={"limit": 0, "exc_type": "ValueError"}).json() == []


def test_printable_ascii_names_survive_the_path(client, conn):
    # Every printable ASCII character in one name, through the encoded path and back.
    name = string.punctuation + " az09"
    conn.sadd("rq:queues", f"rq:queue:{name}")
    response = client.get(f"/api/v1/queues/{_path(name)}")
    assert (response.status_code, response.json()["queue_name"]) == (200, name)


@pytest.fixture
def client(conn):
    """One app for every example (each name is new, so nothing read before can answer for it)."""
    from fastapi.testclient import TestClient

    from gateway.app import create_app
    from gateway.config import Settings

    return TestClient(create_app(Settings(redis_url="redis://unused"), connection=conn))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=names)
@example(name=".")  # a dot segment: hypothesis found it once
@example(name="..")
def test_any_name_round_trips_through_the_encoded_path(conn, client, name):
    conn.flushall()
    conn.sadd("rq:queues", f"rq:queue:{name}")
    conn.rpush(f"rq:queue:{name}", "abc")
    info = client.get(f"/api/v1/queues/{_path(name)}")
    assert (info.status_code, info.json()["queue_name"], info.json()["queued_count"]) == (200, name, 1)
    page = client.get(f"/api/v1/queues/{_path(name)}/jobs").json()
    assert page["total"] == 1


def test_a_key_can_be_limited_to_any_queue_names(conn, factory):
    from fastapi.testclient import TestClient

    from gateway.apikeys import hash_key, load_keys
    from gateway.app import create_app
    from gateway.config import Settings

    factory.failed(1, queue="emails/high")
    factory.failed(1, queue="emails-high")
    line = f"mailer:operator:{hash_key('rqg_mailer-secret-0123456789')}:emails/*,ünï"
    app = create_app(Settings(redis_url="redis://unused", api_keys=load_keys(None, line)), connection=conn)
    client = TestClient(app, headers={"Authorization": "Bearer rqg_mailer-secret-0123456789"})
    assert client.get(f"{API}/stats", params={"queue": "emails/high"}).json()["failed_count"] == 1
    assert client.get(f"/api/v1/queues/{_path('emails/high')}").status_code == 200
    assert client.get(f"{API}/stats", params={"queue": "emails-high"}).status_code == 403
    assert [q["queue_name"] for q in client.get("/api/v1/queues").json()] == ["emails/high"]
