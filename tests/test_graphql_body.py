"""Request bodies the JSON decoder cannot take (too deep, invalid, not UTF-8, not an object) are
a 400 with a GraphQL error coded BAD_REQUEST on /graphql, and a 422 on REST: never a 500."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.keyed import keyed_client

JSON = {"Content-Type": "application/json"}

UNREADABLE = (
    "Invalid request: the body cannot be read as JSON (it is not UTF-8, is nested too deeply, or "
    "holds a number of over 4300 digits)"
)


def nested(depth: int, opener: str = "[", closer: str = "]") -> str:
    return opener * depth + closer * depth


@pytest.fixture
def viewer(conn):
    return keyed_client(conn, "viewer")


@pytest.fixture
def admin(conn):
    """One app for every example: building one an example was most of the test's time."""
    return keyed_client(conn, "admin")


def assert_bad_request(response) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert error["message"] and body["detail"] == error["message"]


def test_a_10kb_body_nested_5000_levels_is_a_400_bad_request(viewer):
    body = '{"query": "{__typename}", "variables": {"a": ' + nested(5000) + "}}"
    assert 10_000 <= len(body) <= 10_100
    response = viewer.post("/graphql", content=body, headers=JSON)
    assert_bad_request(response)
    assert "nested" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"\xff\xfe{",  # not UTF-8
        b"\x80abc",
        b'"just a string"',
        b"1",
        b"null",
        b"",
        b'{"query": "{__typename}"',
    ],
)
def test_bodies_that_are_not_a_json_object_are_400_bad_request(viewer, body):
    assert_bad_request(viewer.post("/graphql", content=body, headers=JSON))


def test_a_deep_variables_parameter_of_a_get_is_a_400_bad_request(viewer):
    response = viewer.get("/graphql", params={"query": "{ __typename }", "variables": nested(5000)})
    assert_bad_request(response)


def test_an_acceptable_body_still_runs(viewer):
    response = viewer.post("/graphql", json={"query": "{ __typename }", "variables": {"a": [[[1]]]}})
    assert response.status_code == 200 and response.json() == {"data": {"__typename": "Query"}}


def test_other_request_errors_of_the_transport_are_bad_request_too(viewer):
    response = viewer.post("/graphql", content=b"query=x", headers={"Content-Type": "text/plain"})
    assert_bad_request(response)


# Hostile bodies: deep nests of arrays and objects, random bytes, truncated JSON, valid JSON of
# any shape. Whatever the body, /graphql answers 200 or 400, and a 400 is a coded GraphQL error.
_depth = st.integers(min_value=1, max_value=20_000)
_nests = st.one_of(
    _depth.map(nested),
    _depth.map(lambda d: '{"a":' * d + "1" + "}" * d),
    _depth.map(lambda d: '{"query": "{__typename}", "variables": {"v": ' + nested(d) + "}}"),
    _depth.map(lambda d: '{"query": "{__typename}", "extensions": ' + '{"e":' * d + "0" + "}" * d + "}"),
)
_hostile = st.one_of(
    _nests.map(str.encode),
    _nests.map(lambda text: text[: len(text) // 2].encode()),
    st.binary(max_size=200),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children),
        max_leaves=20,
    ).map(lambda value: json.dumps(value).encode()),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=_hostile)
def test_no_body_makes_graphql_answer_a_server_error(viewer, body):
    response = viewer.post("/graphql", content=body, headers=JSON)
    assert response.status_code in (200, 400), (response.status_code, response.text[:200])
    if response.status_code == 400:
        assert_bad_request(response)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=_hostile)
def test_no_body_makes_rest_answer_a_server_error(admin, body):
    response = admin.post("/api/v1/jobs/failed/retry", content=body, headers=JSON)
    assert response.status_code == 422, (response.status_code, response.text[:200])
    assert response.json()["detail"].startswith("Invalid request")


def test_a_deeply_nested_rest_body_is_a_422(conn):
    client = keyed_client(conn, "admin")
    body = '{"job_ids": ' + nested(5000) + "}"
    response = client.post("/api/v1/jobs/failed/retry", content=body, headers=JSON)
    assert response.status_code == 422
    # FastAPI answers both the same way: the detail names both, not "not UTF-8" alone.
    assert response.json()["detail"] == UNREADABLE
