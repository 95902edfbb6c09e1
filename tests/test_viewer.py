"""The `viewer` query: the caller's key name, role and queue patterns, which the console uses to
show only the controls a key may use. Without a valid key it is refused like every read."""

from __future__ import annotations

import pytest

from tests.keyed import KEYS, gql, keyed_client

QUERY = "{ viewer { name role queuePatterns } }"


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("viewer", {"name": "viewer", "role": "viewer", "queuePatterns": []}),
        ("operator", {"name": "operator", "role": "operator", "queuePatterns": []}),
        ("admin", {"name": "admin", "role": "admin", "queuePatterns": []}),
        ("billing", {"name": "billing", "role": "operator", "queuePatterns": ["billing-*"]}),
    ],
)
def test_viewer_names_the_key_its_role_and_its_queues(conn, key, expected):
    assert gql(keyed_client(conn, key), QUERY) == {"data": {"viewer": expected}}


@pytest.mark.parametrize("header", [None, {"Authorization": "Bearer not-a-key"}])
def test_viewer_without_a_valid_key_is_unauthenticated(conn, header):
    body = gql(keyed_client(conn), QUERY, headers=header)
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_without_keys_the_caller_is_the_anonymous_admin(client):
    body = client.post("/graphql", json={"query": QUERY}).json()
    assert body == {"data": {"viewer": {"name": "anonymous", "role": "admin", "queuePatterns": []}}}


def test_the_secret_never_appears(conn):
    body = gql(keyed_client(conn, "admin"), QUERY)
    assert KEYS["admin"] not in str(body)


@pytest.mark.parametrize(
    ("hide", "key", "hidden"), [(True, "viewer", True), (True, "operator", False), (False, "viewer", False)]
)
def test_viewer_says_whether_payloads_are_hidden_from_it_as_they_are(conn, factory, hide, key, hidden):
    job_id = factory.queued()
    client = keyed_client(conn, key, hide_payloads=hide)
    said = gql(client, "{ viewer { payloadsHidden } }")["data"]["viewer"]["payloadsHidden"]
    shown = gql(client, "query($id: ID!) { job(id: $id) { args } }", id=job_id)["data"]["job"]["args"]
    assert said is hidden
    assert (shown is None) is hidden
