"""JSON request bodies refuse fields they do not know: a misspelt or misplaced field (GraphQL's
`dryRun` in a REST body, a `queue` that belongs in the query string) is a 422 that names it, not
a field silently dropped, which turned a dry run into a real retry or delete of a whole queue."""

from __future__ import annotations

import json

import pytest

from gateway.app import create_app
from gateway.config import Settings


def _body_schemas() -> list[tuple[str, dict]]:
    """Every JSON request body of the OpenAPI document, by route, with the schema it names."""
    document = create_app(Settings(redis_url="redis://unused"), connection=None).openapi()
    found = []
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                ref = content["application/json"]["schema"]["$ref"]
                schema = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
                found.append((f"{method.upper()} {path}", schema))
    return found


def test_routes_with_a_json_body_are_found():
    paths = {path for path, _ in _body_schemas()}
    assert any("/api/v1/operations" in path for path in paths), paths
    assert any(path.endswith("/failed/retry") for path in paths), paths


@pytest.mark.parametrize(("route", "schema"), _body_schemas(), ids=[route for route, _ in _body_schemas()])
def test_every_request_body_forbids_unknown_fields(route, schema):
    assert schema.get("additionalProperties") is False, f"{route}: {schema['title']} ignores unknown fields"


def test_a_graphql_spelt_dry_run_in_a_rest_body_starts_nothing(client, conn, factory):
    (job,) = factory.failed()
    body = {"action": "retry", "queue": "default", "selector": {"all": True}, "dryRun": True}
    response = client.post("/api/v1/operations", json=body)
    assert response.status_code == 422, response.text
    assert "dryRun" in response.json()["detail"]
    assert conn.zscore("rq:failed:default", job) is not None
    assert client.get("/api/v1/operations").json()["operations"] == []


def test_a_queue_in_a_selected_retry_body_is_refused_not_dropped(client, conn, factory):
    (job,) = factory.failed()
    response = client.post("/api/v1/jobs/failed/retry", json={"job_ids": [job], "queue": "x"})
    assert response.status_code == 422, response.text
    assert "queue" in response.json()["detail"]
    assert conn.zscore("rq:failed:default", job) is not None


FORM = "application/x-www-form-urlencoded"  # what `curl -d` sends without a header


def _path_of(route: str) -> str:
    return route.split(" ", 1)[1].replace("{", "").replace("}", "")


@pytest.mark.parametrize(
    ("route", "content_type"),
    [(route, kind) for route, _ in _body_schemas() for kind in ("text/plain", FORM)],
)
def test_a_json_body_sent_as_another_type_is_told_to_say_json_and_acts_on_nothing(
    client, conn, factory, route, content_type
):
    (job,) = factory.failed()
    body = json.dumps({"action": "delete", "selector": {"all": True}, "job_ids": [job]})
    response = client.post(_path_of(route), content=body, headers={"Content-Type": content_type})
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert "Content-Type: application/json" in detail and content_type in detail, detail
    assert conn.zscore("rq:failed:default", job) is not None


@pytest.mark.parametrize("route", [route for route, _ in _body_schemas()])
def test_a_missing_body_is_named_as_a_missing_json_object(client, route):
    response = client.post(_path_of(route), headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json() == {"detail": "Invalid request: body: a JSON object is required"}


def test_a_json_body_of_the_wrong_shape_keeps_pydantics_words(client):
    response = client.post("/api/v1/operations", json=[1, 2])
    assert response.status_code == 422, response.text
    assert "Content-Type" not in response.json()["detail"]
