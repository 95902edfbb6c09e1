"""Tracked operations without a real Redis: the selector's parse over every shape a client can
send, the chunk sizing and the jobs/s cap, and the REST refusals (services/operations/)."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import pytest
import redis
from hypothesis import given
from hypothesis import strategies as st

from gateway.app import create_app
from gateway.cli_options import OPTIONS
from gateway.config import Settings
from gateway.errors import InvalidInput
from gateway.services.operations import store as store_module
from gateway.services.operations.model import FILTER_FIELDS, MAX_OPERATION_IDS, Selector
from gateway.services.operations.pacing import MOST_CHUNK, ChunkSizer, Pace
from gateway.services.operations.runner import OperationRunner, fails_again
from gateway.services.operations.store import OperationStore
from tests.asgi_call import call_asgi, status_and_body
from tests.keyed import bearer, gql, keyed_client

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


@given(
    st.one_of(
        _json,
        st.dictionaries(
            st.sampled_from(["all", "filter", "group_id", "job_ids", "query", "other"]), _json, max_size=3
        ),
    )
)
def test_any_selector_parses_or_is_refused_with_invalid_parameter(raw):
    """The class of bad input: whatever JSON a client sends as a selector, the answer is a
    Selector or an InvalidInput (a 422 with a detail), never another exception (a 500)."""
    try:
        selector = Selector.parse(raw)
    except InvalidInput as error:
        assert error.message
    else:
        assert selector.as_dict == {selector.kind: selector.value}
        assert Selector.parse(selector.as_dict) == selector  # the stored form parses back alike


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ({}, "exactly one"),
        ({"all": True, "job_ids": ["a"]}, "exactly one"),
        ({"all": False}, '"all" must be true'),
        ({"filter": {"nope": "x"}}, "takes only.*unknown field 'nope'"),
        ({"filter": {"func_name": "x", "bogus": 1}}, "takes only.*unknown field 'bogus'$"),
        ({"all": True, "extra": 1}, "exactly one of.*unknown field 'extra'$"),
        ({"job_ids": ["a"], "jobIds": ["b"]}, "exactly one of.*unknown field 'jobIds'$"),
        (
            {"all": True, **{f"x{n}": 1 for n in range(9)}},
            "unknown fields 'x0', 'x1', 'x2', 'x3', 'x4', ...$",
        ),
        ({"y" * 1000: 1}, "unknown selector 'y{64}...'"),
        ({"filter": {"failed_after": "yesterday"}}, "failed_after"),
        ({"job_ids": []}, "1 to"),
        ({"job_ids": ["a b"]}, "Invalid job id"),
        ({"job_ids": ["a"] * (MAX_OPERATION_IDS + 1)}, "1 to"),
        ({"query": "fnuc:charge"}, "position 0: unknown qualifier"),
        ({"query": 4711}, "must be a search query"),
        ({"query": "id:abc"}, "use job_ids"),
        # Empty selectors would take every failed job (an empty shell variable clearing a queue).
        ({"query": ""}, 'query is empty.*use {"all": true}'),
        ({"query": "   "}, 'query is empty.*use {"all": true}'),
        ({"query": '""'}, "position 0: free text needs a value"),
        ({"filter": {}}, 'no criterion.*use {"all": true}'),
        ({"filter": {"func_name": ""}}, 'no criterion.*use {"all": true}'),
        ({"filter": {"search": "  ", "exc_type": None}}, 'no criterion.*use {"all": true}'),
        ({"filter": dict.fromkeys(FILTER_FIELDS, "")}, 'no criterion.*use {"all": true}'),
        ({"group_id": ""}, "Invalid group id"),
        ({"group_id": "a" * 100_000}, "Invalid group id"),
        ({"group_id": "not-a-group"}, "Invalid group id"),
    ],
)
def test_bad_selectors_say_what_is_wrong(raw, says):
    with pytest.raises(InvalidInput, match=says):
        Selector.parse(raw)


def test_a_filter_selector_keeps_its_criteria_and_leaves_blank_ones_out():
    selector = Selector.parse({"filter": {"exc_type": "ValueError", "search": "", "func_name": None}})
    assert selector.value == {"exc_type": "ValueError"}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


EMPTY_SELECTORS = [
    {"query": ""},
    {"query": "   "},
    {"filter": {}},
    {"filter": {"func_name": ""}},
    {"group_id": ""},
    {"group_id": "f" * 100_000},
]


@pytest.mark.parametrize("action", ["retry", "delete"])
@pytest.mark.parametrize("selector", EMPTY_SELECTORS)
def test_rest_and_graphql_refuse_an_empty_selector_and_say_to_use_all(client, factory, action, selector):
    """An empty query or filter selected every failed job, for delete too; an empty or huge
    group id was accepted. Now a 422 / BAD_REQUEST, and nothing is acted on."""
    ids = factory.failed(2)
    body = {"action": action, "selector": selector}
    for dry_run in (True, False):
        response = client.post("/api/v1/operations", json={**body, "dry_run": dry_run})
        assert response.status_code == 422, response.text
        detail = response.json()["detail"]
        assert ('{"all": true}' in detail) if "group_id" not in selector else ("Invalid group id" in detail)
    graphql_selector = {"groupId" if k == "group_id" else k: v for k, v in selector.items()}
    if "filter" in selector:
        graphql_selector["filter"] = {_camel(name): v for name, v in selector["filter"].items()}
    answer = client.post(
        "/graphql",
        json={
            "query": "mutation($s: OperationSelectorInput!) { startOperation(action: "
            + action.upper()
            + ", selector: $s) { id } }",
            "variables": {"s": graphql_selector},
        },
    ).json()
    assert answer["errors"][0]["extensions"]["code"] == "BAD_REQUEST", answer
    assert len(client.get("/api/v1/jobs/failed").json()) == len(ids)


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ({"all": True, "filter": None, "group_id": None, "job_ids": None, "query": None}, "all"),
        ({"all": None, "query": "exc:ValueError"}, "query"),
        ({"job_ids": ["a"], "filter": None}, "job_ids"),
    ],
)
def test_a_null_selector_field_is_absent_as_in_graphql(raw, kind):
    """A typed client (an OpenAPI-generated one) writes every selector field, null when unset;
    GraphQL's OperationSelectorInput treats null as absent, and so does a filter's field. REST
    refused the same selector with "exactly one of". Null is absent everywhere now."""
    assert Selector.parse(raw).kind == kind


@pytest.mark.parametrize("raw", [{"all": None}, {"filter": None}, {"query": None, "job_ids": None}])
def test_a_selector_of_nulls_alone_holds_none(raw):
    with pytest.raises(InvalidInput, match="exactly one of all, filter"):
        Selector.parse(raw)


def test_job_ids_selector_keeps_each_id_once_in_order():
    assert Selector.parse({"job_ids": ["b", "a", "b"]}).value == ["b", "a"]


def test_chunk_size_grows_while_calls_are_quick_and_shrinks_at_once_when_slow():
    sizer = ChunkSizer(target_seconds=0.003, first=100)
    sizer.observe(100, 0.0003)  # 3 us a job: 1000 would fit, but growth is at most double
    assert sizer.size == 200
    for _ in range(10):
        sizer.observe(sizer.size, sizer.size * 3e-6)
    assert sizer.size == 1000  # 3 us a job: 1000 fill the 3 ms
    for _ in range(10):
        sizer.observe(sizer.size, sizer.size * 1e-6)
    assert sizer.size == MOST_CHUNK
    sizer.observe(MOST_CHUNK, 0.030)  # 15 us a job: 3 ms holds 200
    assert sizer.size == 200


def test_pace_keeps_jobs_done_behind_the_rate():
    now = [0.0]
    pace = Pace(1000, clock=lambda: now[0])
    assert pace.cap(2000) == 100  # a tenth of a second's worth
    assert pace.wait_after(100) == pytest.approx(0.1)
    now[0] = 0.5
    assert pace.wait_after(100) == 0.0  # behind the rate: no wait
    assert Pace(0).wait_after(10**6) == 0.0 and Pace(0).cap(2000) == 2000


@pytest.mark.parametrize(
    "body",
    [
        {"action": "explode", "selector": {"all": True}},
        {"action": "retry", "selector": {"all": True, "group_id": "x"}},
        {"action": "retry"},
        {"action": "retry", "selector": {"all": True}, "queue": "bad\x00name"},
    ],
)
def test_rest_refuses_a_bad_start_with_422_and_a_detail(client, body):
    response = client.post("/api/v1/operations", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["detail"]


def test_rest_refuses_a_bad_operation_id_and_answers_404_for_a_missing_one(client):
    assert client.get("/api/v1/operations/nothex").status_code == 422
    missing = client.get("/api/v1/operations/" + "0" * 32)
    assert (missing.status_code, missing.json()) == (404, {"detail": f"Operation {'0' * 32} not found"})
    assert client.post("/api/v1/operations/" + "0" * 32 + "/cancel").status_code == 404


@pytest.mark.parametrize("key", ["x" * 300, " "])
def test_rest_refuses_a_bad_idempotency_key(client, key):
    response = client.post(
        "/api/v1/operations",
        json={"action": "retry", "selector": {"all": True}},
        headers={"Idempotency-Key": key},
    )
    assert response.status_code == 422 and "Idempotency-Key" in response.json()["detail"]


IN_SCRIPT = " script: 2b8f, on @user_script:12."


@pytest.mark.parametrize(
    ("error", "again"),
    [
        (redis.ResponseError("user_script:12: attempt to compare nil with number" + IN_SCRIPT), True),
        (redis.ResponseError("WRONGTYPE Operation against a key holding the wrong kind" + IN_SCRIPT), True),
        # A command outside a script on a key of another type fails the same on every resume too.
        (redis.ResponseError("WRONGTYPE Operation against a key holding the wrong kind of value"), True),
        (redis.exceptions.OutOfMemoryError("command not allowed when used memory" + IN_SCRIPT), False),
        (redis.ResponseError("NOREPLICAS Not enough good replicas to write." + IN_SCRIPT), False),
        (redis.ResponseError("BUSY Redis is busy running a script. You can only call SCRIPT KILL"), False),
        (redis.exceptions.ReadOnlyError("You can't write against a read only replica." + IN_SCRIPT), False),
        (redis.ConnectionError("Connection closed by server."), False),
        (redis.TimeoutError("Timeout reading from socket"), False),
    ],
)
def test_only_a_scripts_own_failure_fails_an_operation_other_errors_pause_it(error, again):
    assert fails_again(error) is again


SECRET_QUERY = 'kwargs.note:"card 4111" args:4711'


def test_hide_payloads_hides_a_search_selector_from_viewers_on_rest_and_graphql(conn, factory):
    """An operator's search selector may quote job arguments (`args:4711`); viewers under
    --hide-payloads, who may not search them, read it in operations and operation(id): now the
    query is null for them. A filter's fields (function, exception, traceback text) stay shown."""
    factory.failed(1)
    client = keyed_client(conn, hide_payloads=True)
    operator, viewer = bearer("operator"), bearer("viewer")
    searched = client.post(
        "/api/v1/operations",
        json={"action": "retry", "selector": {"query": SECRET_QUERY}},
        headers=operator,
    ).json()
    filtered = client.post(
        "/api/v1/operations",
        json={"action": "retry", "selector": {"filter": {"search": "ValueError"}}},
        headers=operator,
    ).json()

    assert client.get(f"/api/v1/operations/{searched['id']}", headers=operator).json()["selector"] == {
        "query": SECRET_QUERY
    }
    rest_one = client.get(f"/api/v1/operations/{searched['id']}", headers=viewer).json()
    rest_all = client.get("/api/v1/operations", headers=viewer).json()["operations"]
    graphql = gql(
        client,
        "query($id: ID!) { operation(id: $id) { selector } operations { id selector } }",
        viewer,
        id=searched["id"],
    )["data"]
    assert rest_one["selector"] == graphql["operation"]["selector"] == {"query": None}
    by_id = {op["id"]: op["selector"] for op in rest_all}
    assert by_id == {op["id"]: op["selector"] for op in graphql["operations"]}
    assert by_id == {searched["id"]: {"query": None}, filtered["id"]: {"filter": {"search": "ValueError"}}}
    assert "4711" not in json.dumps([rest_one, rest_all, graphql])


@pytest.mark.parametrize(
    ("query", "argument", "not_named"),
    [
        ("{ operations(limit: 0) { id } }", "limit", "first"),
        ("{ operations(limit: 101) { id } }", "limit", "first"),
        (
            'mutation { startOperation(action: RETRY, selector: {all: true}, idempotencyKey: "") { id } }',
            "idempotencyKey",
            "Idempotency-Key",
        ),
        (
            'mutation { startOperation(action: RETRY, selector: {all: true}, idempotencyKey: " ") { id } }',
            "idempotencyKey",
            "Idempotency-Key",
        ),
        (
            'mutation { startOperation(action: RETRY, selector: {all: true}, idempotencyKey: "k1 ") { id } }',
            "idempotencyKey",
            "Idempotency-Key",
        ),
        (
            'mutation { startOperation(action: RETRY, selector: {all: true}, idempotencyKey: "'
            + "k" * 300
            + '") { id } }',
            "idempotencyKey",
            "Idempotency-Key",
        ),
    ],
)
def test_graphql_errors_name_the_graphql_argument(client, factory, query, argument, not_named):
    """They named REST's: `first must be 1 to 100`, `Idempotency-Key must be ...`."""
    factory.failed(1)
    error = client.post("/graphql", json={"query": query}).json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert error["message"].startswith(f"{argument} must be") and not_named not in error["message"]


def test_bulk_max_rate_is_documented_as_the_jobs_examined_per_second_which_the_runner_paces():
    """The help said "Jobs per second one tracked operation may act on", but the runner paces the
    jobs each step examined (Pace.wait_after(step.examined)): a filter that matched nothing still
    moved at the cap. The help and README now say what it caps."""
    runner_source = inspect.getsource(OperationRunner._drive)
    assert "pace.wait_after(step.examined)" in runner_source
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    (row,) = [line for line in readme.splitlines() if line.startswith("| `--bulk-max-rate`")]
    for text in (OPTIONS["bulk_max_rate"]["help"], row):
        assert "examine" in text and "act on;" not in text and "retry or delete;" not in text


@pytest.mark.parametrize(
    ("selector", "named"),
    [
        ('{filter: {failedAfter: "garbage"}}', "failedAfter"),
        ('{filter: {failedAfter: "2026-01-02", failedBefore: "2026-01-01"}}', "failedAfter"),
    ],
)
def test_graphql_selector_filter_errors_name_the_schemas_fields(client, factory, selector, named):
    """They named REST's body fields (`Invalid failed_after ...`)."""
    factory.failed(1)
    query = f"mutation {{ startOperation(action: RETRY, selector: {selector}) {{ id }} }}"
    error = client.post("/graphql", json={"query": query}).json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert named in error["message"] and "failed_" not in error["message"]


def test_a_reused_idempotency_key_is_refused_in_words_both_transports_use(client, factory):
    factory.failed(2)
    first = {"action": "retry", "selector": {"all": True}}
    assert client.post("/api/v1/operations", json=first, headers={"Idempotency-Key": "k1"}).status_code == 202
    other = {**first, "selector": {"group_id": "0" * 16}}
    rest = client.post("/api/v1/operations", json=other, headers={"Idempotency-Key": "k1"})
    mutation = (
        'mutation { startOperation(action: RETRY, selector: {groupId: "%s"}, idempotencyKey: "k1") { id } }'
    )
    graphql = client.post("/graphql", json={"query": mutation % ("0" * 16)}).json()["errors"][0]
    said = "This idempotency key was used for another request in the last 24 h"
    assert (rest.status_code, rest.json()["detail"]) == (422, said)
    assert (graphql["extensions"]["code"], graphql["message"]) == ("BAD_REQUEST", said)


def test_operations_started_in_one_millisecond_list_in_the_order_they_started(conn, monkeypatch):
    """The list's index is a zset by start time: operations started in the same millisecond (a
    script, several replicas) listed in the order of their random ids, not newest first."""
    store = OperationStore(conn)
    monkeypatch.setattr(store_module.time, "time", lambda: 1_800_000_000.0)
    started = [
        store.create("retry", "default", Selector.parse({"all": True}), "admin", 0, "", "t", None)[0]
        for _ in range(30)
    ]
    assert store.listed_after(None, 100) == started[::-1]
    assert store.listed_after(started[20], 100) == started[19::-1]  # paging follows the same order


@pytest.mark.parametrize("key", ["clé-1", "注文-4711", "k"])
def test_an_idempotency_key_is_the_same_key_over_rest_and_graphql(client, factory, key):
    """HTTP carries a header as bytes, which the server reads as Latin-1: a UTF-8 key sent to
    REST ("clé-1") read as another key than the same text sent to GraphQL, so a client that
    switched transports started a second operation."""
    factory.failed(2)
    mutation = (
        "mutation($k: String) { startOperation(action: RETRY, selector: {all: true}, "
        "idempotencyKey: $k) { id } }"
    )
    by_graphql = gql(client, mutation, k=key)["data"]["startOperation"]["id"]
    body = {"action": "retry", "selector": {"all": True}}
    rest = client.post("/api/v1/operations", json=body, headers={"Idempotency-Key": key.encode()})
    replayed = (rest.status_code, rest.json()["id"], rest.headers.get("Idempotent-Replayed"))
    assert replayed == (202, by_graphql, "true")


def test_an_idempotency_key_header_that_is_not_utf8_is_refused_in_words(conn):
    """Sent as raw ASGI: the test client re-encodes header bytes that are not UTF-8."""
    app = create_app(Settings(redis_url="redis://unused"), connection=conn)
    messages, error = call_asgi(
        app,
        "/api/v1/operations",
        method="POST",
        body=b'{"action": "retry", "selector": {"all": true}}',
        raw_headers=((b"content-type", b"application/json"), (b"idempotency-key", b"caf\xe9")),
    )
    status, body = status_and_body(messages)
    assert error is None and status == 422 and "UTF-8" in json.loads(body)["detail"], body
