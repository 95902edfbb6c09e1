"""Abuse limits: GraphQL depth, aliases, tokens and page sizes, the body size limit, request ids,
error masking, and the GraphiQL / introspection / CORS switches."""

from __future__ import annotations

import logging

import pytest
from graphql import get_introspection_query

from gateway.services import MAX_PAGE_SIZE
from tests.keyed import code_of, gql, keyed_client

DEEP = "{ failedJobs { edges { node { id } } } }"  # depth 3: the top-level field is depth 0


def test_graphiql_introspection_passes_the_default_limits(conn):
    client = keyed_client(conn)
    query = get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
    )
    body = gql(client, query)
    assert "errors" not in body and body["data"]["__schema"]["queryType"]["name"] == "Query"


def test_query_depth_is_limited(conn):
    assert code_of(gql(keyed_client(conn, "viewer"), DEEP)) is None
    assert code_of(gql(keyed_client(conn, "viewer", graphql_max_depth=3), DEEP)) is None
    body = gql(keyed_client(conn, "viewer", graphql_max_depth=2), DEEP)
    assert code_of(body) == "BAD_REQUEST"
    assert "exceeds maximum operation depth of 2" in body["errors"][0]["message"]


def test_aliases_are_limited(conn):
    client = keyed_client(conn, "viewer", graphql_max_aliases=3)
    query = "{ %s }"
    assert (
        code_of(gql(client, query % " ".join(f"a{i}: queueStats {{ failedCount }}" for i in range(3))))
        is None
    )
    body = gql(client, query % " ".join(f"a{i}: queueStats {{ failedCount }}" for i in range(4)))
    assert code_of(body) == "BAD_REQUEST" and "aliases" in body["errors"][0]["message"]


def test_tokens_are_limited(conn):
    client = keyed_client(conn, "viewer")
    long = "{ queueStats { " + " ".join(["failedCount"] * 2000) + " } }"
    body = gql(client, long)
    assert code_of(body) == "BAD_REQUEST"
    assert "more than 2000 tokens" in body["errors"][0]["message"]


def test_every_connection_caps_its_page_size(conn):
    client = keyed_client(conn, "admin")
    fields = gql(client, '{ __type(name: "Query") { fields { name args { name } } } }')["data"]["__type"][
        "fields"
    ]
    paged = [f["name"] for f in fields if any(a["name"] == "first" for a in f["args"])]
    assert {"failedJobs", "auditLog"} <= set(paged)
    for name in paged:
        # __typename: every connection has it, whatever its other fields (searchJobs has no totalCount).
        over = gql(client, f"{{ {name}(first: {MAX_PAGE_SIZE + 1}) {{ __typename }} }}")
        assert code_of(over) == "BAD_REQUEST", name
        assert code_of(gql(client, f"{{ {name}(first: {MAX_PAGE_SIZE}) {{ __typename }} }}")) is None, name
    nested = '{ queue(name: "default") { jobs(first: %d) { totalCount } } }'
    client.app.state.service.connection.sadd("rq:queues", "rq:queue:default")
    assert code_of(gql(client, nested % (MAX_PAGE_SIZE + 1))) == "BAD_REQUEST"
    assert code_of(gql(client, nested % MAX_PAGE_SIZE)) is None


@pytest.mark.parametrize("path", ["/graphql", "/api/v1/jobs/failed/retry-all"])
def test_request_bodies_over_the_declared_limit_are_refused(conn, path):
    client = keyed_client(conn, "admin", max_body_size=1000)
    response = client.post(path, content=b"x" * 1001, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["detail"] == "Request body too large: the limit is 1000 bytes"
    if path == "/graphql":
        assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert response.headers["X-Request-ID"]


def test_streamed_bodies_are_counted_as_they_arrive(conn):
    client = keyed_client(conn, "admin", max_body_size=1000)

    def chunks():  # no Content-Length: the limit is counted as the body arrives
        yield b'{"query": "{ __typename }", "x": "'
        yield b"x" * 2000
        yield b'"}'

    streamed = client.post("/graphql", content=chunks(), headers={"Content-Type": "application/json"})
    assert streamed.status_code == 413
    assert streamed.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    small = client.post("/graphql", json={"query": "{ __typename }"})
    assert small.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("transport", ["rest", "graphql"])
def test_unexpected_errors_are_masked_and_logged_with_the_request_id(conn, caplog, monkeypatch, transport):
    caplog.set_level(logging.ERROR)
    client = keyed_client(conn, "viewer")

    def explode(*args, **kwargs):
        raise RuntimeError("secret internals at rq:job:xyz")

    monkeypatch.setattr("gateway.services.facade.queues.queue_stats", explode)
    headers = {"X-Request-ID": "trace-9"}
    if transport == "rest":
        response = client.get("/api/v1/jobs/stats", headers=headers)
        assert response.status_code == 500
        assert response.json() == {"detail": "Internal server error", "request_id": "trace-9"}
    else:
        body = client.post(
            "/graphql", json={"query": "{ queueStats { failedCount } }"}, headers=headers
        ).json()
        assert body["errors"][0]["message"] == "Internal server error"
        assert body["errors"][0]["extensions"] == {"code": "INTERNAL", "request_id": "trace-9"}
    (record,) = [r for r in caplog.records if r.exc_info]
    assert "trace-9" in record.getMessage() and "secret internals" in str(record.exc_info[1])


def test_graphiql_and_introspection_can_be_switched_off(conn):
    client = keyed_client(conn, "viewer", graphiql=False, introspection=False)
    page = client.get("/graphql", headers={"Accept": "text/html"})
    assert "graphiql" not in page.text.lower()
    body = gql(client, "{ __schema { queryType { name } } }")
    assert code_of(body) == "BAD_REQUEST" and "introspection" in body["errors"][0]["message"].lower()
    assert gql(client, "{ queueStats { failedCount } }") == {"data": {"queueStats": {"failedCount": 0}}}


def test_cors_is_off_unless_origins_are_configured(conn):
    preflight = {"Origin": "https://dash.example", "Access-Control-Request-Method": "POST"}
    closed = keyed_client(conn).options("/graphql", headers=preflight)
    assert "access-control-allow-origin" not in closed.headers
    client = keyed_client(conn, cors_origins=("https://dash.example",))
    opened = client.options(
        "/graphql", headers={**preflight, "Access-Control-Request-Headers": "authorization"}
    )
    assert opened.headers["access-control-allow-origin"] == "https://dash.example"
    assert "authorization" in opened.headers["access-control-allow-headers"].lower()
    other = client.options("/graphql", headers={**preflight, "Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
