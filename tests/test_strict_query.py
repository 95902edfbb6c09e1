"""REST mutations refuse query parameters they do not take (gateway/rest/strict_query.py): a
misspelt `?dryrun=true` on retry-all ran the real retry. Over every mutation of the OpenAPI
document, so routes added later are covered; reads keep ignoring unknown parameters."""

from __future__ import annotations

import re

import pytest

from gateway.app import create_app
from gateway.config import Settings
from gateway.rest.strict_query import MUTATIONS, NAMES_SHOWN


def _mutations() -> list[tuple[str, str, frozenset[str]]]:
    document = create_app(Settings(redis_url="redis://unused"), connection=None).openapi()
    return [
        (
            method.upper(),
            path,
            frozenset(p["name"] for p in operation.get("parameters", []) if p["in"] == "query"),
        )
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if method.upper() in MUTATIONS
    ]


MUTATION_ROUTES = _mutations()


def _state(conn) -> dict[bytes, object]:
    """Every key and what it holds, as far as a refused request could have changed it."""
    return {key: conn.dump(key) for key in conn.scan_iter()}


def _url(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "abc", path)


def test_the_mutations_are_found():
    found = {(method, path) for method, path, _ in MUTATION_ROUTES}
    assert ("POST", "/api/v1/jobs/failed/retry-all") in found
    assert ("DELETE", "/api/v1/jobs/failed/clear") in found
    assert ("POST", "/api/v1/operations") in found


@pytest.mark.parametrize(
    ("method", "path", "declared"), MUTATION_ROUTES, ids=[f"{m} {p}" for m, p, _ in MUTATION_ROUTES]
)
def test_every_mutation_refuses_an_unknown_query_parameter_before_touching_redis(
    client, conn, factory, method, path, declared
):
    factory.failed(2)
    before = _state(conn)
    response = client.request(method, _url(path), params={"dryrun": "true"}, json={})
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert detail.startswith("Unknown query parameter 'dryrun': "), detail
    assert all(name in detail for name in declared), detail
    assert _state(conn) == before


@pytest.mark.parametrize(
    ("method", "path", "declared"), MUTATION_ROUTES, ids=[f"{m} {p}" for m, p, _ in MUTATION_ROUTES]
)
def test_no_declared_parameter_is_refused_as_unknown(client, method, path, declared):
    params = dict.fromkeys(declared, "true")
    params["dry_run"] = "true"  # where taken: never act while probing
    params = {name: value for name, value in params.items() if name in declared}
    response = client.request(method, _url(path), params=params, json={})
    assert not response.text.startswith('{"detail":"Unknown query parameter'), response.text


def test_a_misspelt_dry_run_retries_nothing_and_the_right_one_previews(client, conn, factory):
    jobs = factory.failed(3)
    refused = client.post("/api/v1/jobs/failed/retry-all?dryrun=true")
    assert refused.status_code == 422
    assert set(conn.zrange("rq:failed:default", 0, -1)) == {job.encode() for job in jobs}
    preview = client.post("/api/v1/jobs/failed/retry-all?dry_run=true")
    assert preview.status_code == 200 and preview.json()["total_failed"] == 3
    assert conn.zcard("rq:failed:default") == 3


def test_many_unknown_names_are_listed_in_part_and_cut_short(client):
    params = {f"{'x' * 100}{n}": "1" for n in range(NAMES_SHOWN + 3)}
    detail = client.delete("/api/v1/jobs/failed/clear", params=params).json()["detail"]
    assert detail.count("'x") == NAMES_SHOWN and " and 3 more: " in detail
    assert len(detail) < 1000


def test_reads_and_graphql_keep_ignoring_what_they_do_not_take(client):
    assert client.get("/api/v1/jobs/failed", params={"_": "1700000000"}).status_code == 200
    query = {"query": "{ queueStats { failedCount } }"}
    assert client.post("/graphql", params={"_": "1"}, json=query).status_code == 200


def test_the_websocket_route_is_not_refused_by_the_app_wide_check(client):
    """The check is an app-wide dependency, run for the GraphQL websocket too: it took a
    `Request`, which a websocket route cannot give, and every subscription's upgrade was a 500."""
    with client.websocket_connect("/graphql?_=1", subprotocols=["graphql-transport-ws"]) as socket:
        socket.send_json({"type": "connection_init"})
        assert socket.receive_json()["type"] == "connection_ack"
