"""GraphQL-specific behaviour: paging, error codes, masking, and resolvers off the event loop."""

from __future__ import annotations

import threading

from gateway.errors import GatewayError


def gql(client, query, **variables):
    return client.post("/graphql", json={"query": query, "variables": variables}).json()


PAGE = """query($after: String) {
  failedJobs(first: 2, after: $after) {
    totalCount edges { cursor node { id } } pageInfo { hasNextPage endCursor }
  }
}"""


def test_failed_jobs_pages_in_rest_order(client, factory):
    factory.failed(5)
    rest_order = [j["job_id"] for j in client.get("/api/v1/jobs/failed").json()]
    seen, after = [], None
    while True:
        page = gql(client, PAGE, after=after)["data"]["failedJobs"]
        assert page["totalCount"] == 5
        seen += [edge["node"]["id"] for edge in page["edges"]]
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == rest_order


def test_first_is_capped_and_cursor_validated(client):
    body = gql(client, "{ failedJobs(first: 5000) { totalCount } }")
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    body = gql(client, '{ failedJobs(after: "garbage") { totalCount } }')
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_job_not_found_is_null_with_code(client):
    body = gql(client, '{ job(id: "nope") { id } }')
    assert body["data"] == {"job": None}
    assert body["errors"][0]["message"] == "Job nope not found"
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_invalid_id_and_bad_query_are_bad_request(client):
    body = gql(client, '{ job(id: "bad:x") { id } }')
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    body = gql(client, "{ noSuchField }")
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_backend_down_is_service_unavailable(client, conn):
    conn.connection_pool.connection_kwargs["server"].connected = False
    body = gql(client, "{ queueStats { failedCount } }")
    assert body["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert body["errors"][0]["message"] == client.get("/api/v1/jobs/stats").json()["detail"]


def test_unexpected_errors_are_masked(client, monkeypatch):
    def explode(*args):
        raise RuntimeError("secret internals at rq:job:xyz")

    monkeypatch.setattr(client.app.state.service, "stats", explode)
    response = client.post("/graphql", json={"query": "{ queueStats { failedCount } }"})
    body = response.json()
    assert body["errors"][0]["message"] == "Internal server error"
    request_id = response.headers["X-Request-ID"]
    assert body["errors"][0]["extensions"] == {"code": "INTERNAL", "request_id": request_id}
    assert "secret" not in str(body)


def test_resolvers_run_service_calls_off_the_event_loop(client, monkeypatch):
    threads = []
    original = client.app.state.service.stats

    def record(*args):
        threads.append(threading.current_thread())
        return original(*args)

    monkeypatch.setattr(client.app.state.service, "stats", record)
    loop_threads = []

    @client.app.get("/_loop_thread")
    async def loop_thread():
        loop_threads.append(threading.current_thread())
        return {}

    client.get("/_loop_thread")
    assert gql(client, "{ queueStats { failedCount } }")["data"]["queueStats"]["failedCount"] == 0
    assert threads and threads[0] is not loop_threads[0]


def test_every_error_class_is_in_both_tables():
    from gateway.graphql.errors import CODE_BY_ERROR, code_for
    from gateway.rest.errors import STATUS_BY_ERROR, status_for

    assert set(CODE_BY_ERROR) == set(STATUS_BY_ERROR)

    def leaves(cls):
        subclasses = cls.__subclasses__()
        return [cls] if not subclasses else [leaf for sub in subclasses for leaf in leaves(sub)]

    for cls in leaves(GatewayError):
        error = cls.__new__(cls)
        assert status_for(error) != 500, cls
        assert code_for(error) != "INTERNAL", cls


def test_a_page_costs_the_same_round_trips_whatever_its_size(client, factory, round_trips):
    factory.failed(40)
    query = "query($n: Int) { failedJobs(first: $n) { nodes { id funcName excInfo } } }"
    gql(client, query, n=1)  # load the Lua scripts once
    counts = {}
    for size in (1, 40):
        round_trips.reset()
        assert len(gql(client, query, n=size)["data"]["failedJobs"]["nodes"]) == size
        counts[size] = round_trips.count
        assert round_trips.commands.count("XREVRANGE") == size
    assert counts[1] == counts[40] == 2


def test_results_streams_are_read_only_when_asked_for(client, factory, round_trips):
    (job_id,) = factory.failed(1)
    gql(client, "{ failedJobs { totalCount } }")
    round_trips.reset()
    body = gql(client, "{ failedJobs { nodes { id funcName } } }")
    assert body["data"]["failedJobs"]["nodes"][0]["funcName"].endswith("parse_report")
    assert "XREVRANGE" not in round_trips.commands
    round_trips.reset()
    body = gql(client, "{ failedJobs { edges { node { ... on Job { excInfo } } } } }")
    assert "ValueError" in body["data"]["failedJobs"]["edges"][0]["node"]["excInfo"]
    assert "XREVRANGE" in round_trips.commands
    round_trips.reset()
    assert "ValueError" in gql(client, f'{{ job(id: "{job_id}") {{ excInfo }} }}')["data"]["job"]["excInfo"]
    assert round_trips.commands.count("XREVRANGE") == 1


def test_a_document_of_several_operations_needs_an_operation_name(client, factory, caplog):
    """GraphQL's GetOperation: without operationName, a document holding more than one operation
    is a request error. Strawberry ran the first one instead, so `query A {...} mutation B {...}`
    sent without a name ran A, and with the mutation first, the mutation: nothing ran must run."""
    (job_id,) = factory.failed(1)
    mutation = f'mutation Clear {{ deleteFailedJob(id: "{job_id}") {{ success }} }}'
    for document in (
        f"{mutation} query Read {{ viewer {{ name }} }}",
        f"query Read {{ viewer {{ name }} }} {mutation}",
    ):
        for transport in ("post", "get"):
            if transport == "post":
                body = client.post("/graphql", json={"query": document}).json()
            else:
                body = client.get("/graphql", params={"query": document}).json()
            assert body.get("data") is None, body
            (error,) = body["errors"]
            assert error["extensions"]["code"] == "BAD_REQUEST"
            # A GET whose first operation is the mutation is refused earlier, as any GET mutation.
            assert "operation name" in error["message"] or error["message"].startswith("mutations are not")
    assert client.get(f"/api/v1/jobs/status/{job_id}").json()["status"] == "failed"
    named = client.post("/graphql", json={"query": document, "operationName": "Read"}).json()
    assert named == {"data": {"viewer": {"name": "anonymous"}}}
