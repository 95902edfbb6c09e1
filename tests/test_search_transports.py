"""GET /api/v1/search and GraphQL searchJobs (gateway/rest/search.py, gateway/graphql/search.py):
one body over both transports, the same pages, the same refusals (a 422 `detail` and BAD_REQUEST
that say the position; FORBIDDEN under --hide-payloads and outside a key's queues), and
--search-scan-limit reaching the service."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rq import Queue

from gateway.demo import jobs
from tests.conftest import run_worker
from tests.keyed import code_of, gql, keyed_client
from tests.transports import JOB_FIELDS, to_rest_shape

SEARCH = (
    "query($q: String!, $queue: String, $first: Int, $after: String) { searchJobs(query: $q, "
    f"queue: $queue, first: $first, after: $after) {{ scanned complete nodes {{ {JOB_FIELDS} }} "
    "edges { cursor } pageInfo { hasNextPage endCursor } } }"
)


@pytest.fixture
def seeded(conn) -> dict[str, list[str]]:
    billing = Queue("billing-eu", connection=conn)
    charges = [
        billing.enqueue(jobs.fail_with, "ValueError", f"card of customer {n} declined") for n in range(5)
    ]
    run_worker(conn, "billing-eu")
    other = Queue("reports", connection=conn).enqueue(jobs.parse_report, "customer 4711")
    return {"charges": [job.id for job in charges], "reports": [other.id]}


def rest_search(client, **params):
    response = client.get("/api/v1/search", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def graphql_search(client, q, queue=None, limit=None, cursor=None):
    body = gql(client, SEARCH, q=q, queue=queue, first=limit, after=cursor)
    assert "errors" not in body, body
    return body["data"]["searchJobs"]


@pytest.mark.parametrize("limit", [2, 100])
def test_both_transports_page_through_the_same_jobs(conn, seeded, limit) -> None:
    client = keyed_client(conn, "admin")
    rest_pages, graphql_pages = [], []
    cursor = None
    while True:
        page = rest_search(client, q="customer", limit=limit, **({"cursor": cursor} if cursor else {}))
        rest_pages.append(page)
        if page["complete"]:
            break
        cursor = page["next_cursor"]
    cursor = None
    while True:
        page = graphql_search(client, "customer", limit=limit, cursor=cursor)
        graphql_pages.append(page)
        if not page["pageInfo"]["hasNextPage"]:
            break
        cursor = page["pageInfo"]["endCursor"]
    assert [to_rest_shape(p["nodes"]) for p in graphql_pages] == [p["jobs"] for p in rest_pages]
    assert [p["scanned"] for p in graphql_pages] == [p["scanned"] for p in rest_pages]
    found = [job["job_id"] for page in rest_pages for job in page["jobs"]]
    assert sorted(found) == sorted(seeded["charges"] + seeded["reports"])
    assert set(rest_pages[-1]) == {"jobs", "scanned", "complete", "next_cursor"}
    assert rest_pages[-1]["next_cursor"] is None


def test_a_malformed_query_says_where_on_both_transports(conn) -> None:
    client = keyed_client(conn, "admin")
    response = client.get("/api/v1/search", params={"q": 'func:add "open'})
    assert response.status_code == 422
    assert response.json()["detail"] == "Invalid search query at position 9: unterminated quote"
    body = gql(client, SEARCH, q='func:add "open')
    assert code_of(body) == "BAD_REQUEST"
    assert body["errors"][0]["message"] == "Invalid search query at position 9: unterminated quote"
    assert client.get("/api/v1/search", params={"cursor": "nope"}).status_code == 422


def test_hidden_payloads_refuse_payload_terms_to_viewers_only(conn, seeded) -> None:
    viewer = keyed_client(conn, "viewer", hide_payloads=True)
    response = viewer.get("/api/v1/search", params={"q": "args:4711"})
    assert response.status_code == 403 and "hide-payloads" in response.json()["detail"]
    assert code_of(gql(viewer, SEARCH, q="kwargs.card:1")) == "FORBIDDEN"
    assert rest_search(viewer, q="4711")["jobs"] == []  # the description holding it is hidden
    operator = keyed_client(conn, "operator", hide_payloads=True)
    assert [job["job_id"] for job in rest_search(operator, q="args:4711")["jobs"]] == seeded["reports"]


def test_a_queue_limited_key_searches_its_queues_only(conn, seeded) -> None:
    billing = keyed_client(conn, "billing")
    found = rest_search(billing, q="customer")["jobs"]
    assert sorted(job["job_id"] for job in found) == sorted(seeded["charges"])
    assert billing.get("/api/v1/search", params={"queue": "reports"}).status_code == 403
    assert rest_search(billing, q=f"id:{seeded['reports'][0]}")["jobs"] == []


def test_the_scan_limit_setting_bounds_each_request(conn, seeded) -> None:
    client = keyed_client(conn, "admin", search_scan_limit=2)
    page = rest_search(client, q="customer")
    assert page["scanned"] == 2 and not page["complete"] and page["next_cursor"]


def test_the_scan_limit_bounds_a_graphql_request_however_many_search_fields_it_has(conn, seeded) -> None:
    """--search-scan-limit bounds one request (README "Search"), but each searchJobs field of a
    GraphQL document had a limit of its own: 30 aliases (the alias limit) made one small request
    examine 30 times as many jobs, in as many threads at once. The fields share it now, one after
    another in document order, each with what the ones before it left."""
    client = keyed_client(conn, "admin", search_scan_limit=4)  # seeded holds 6 jobs
    fields = "scanned complete pageInfo { endCursor }"
    document = "{ " + " ".join(f'a{n}: searchJobs(query: "customer") {{ {fields} }}' for n in range(3)) + " }"
    pages = [gql(client, document)["data"][f"a{n}"] for n in range(3)]
    assert [page["scanned"] for page in pages] == [4, 0, 0]
    assert all(not page["complete"] and page["pageInfo"]["endCursor"] for page in pages)
    # A search that needs less leaves the rest to the next one; each request has its own limit.
    small = f'a: searchJobs(query: "", queue: "reports") {{ {fields} }}'
    body = gql(client, "{ " + small + f' b: searchJobs(query: "customer") {{ {fields} }} }}')
    assert (body["data"]["a"]["scanned"], body["data"]["a"]["complete"]) == (1, True)
    assert body["data"]["b"]["scanned"] == 3
    again = graphql_search(client, "customer", cursor=pages[1]["pageInfo"]["endCursor"])
    assert again["scanned"] == 4


def test_a_queue_term_is_checked_as_the_queue_parameter_is(conn, seeded) -> None:
    """`queue:NAME` names a queue as `?queue=NAME` does (README "Roles"): outside a limited key's
    patterns it is a 403 / FORBIDDEN, an invalid name a 422, a queue RQ does not know a 404."""
    billing = keyed_client(conn, "billing")
    for params in ({"queue": "reports"}, {"q": "queue:reports"}, {"q": "customer queue:reports"}):
        response = billing.get("/api/v1/search", params=params)
        assert response.status_code == 403, (params, response.text)
        assert response.json()["detail"] == "API key 'billing' may not access queue 'reports'"
    body = gql(billing, SEARCH, q="queue:reports")
    assert code_of(body) == "FORBIDDEN"
    assert body["errors"][0]["message"] == "API key 'billing' may not access queue 'reports'"
    assert code_of(gql(billing, SEARCH, q="queue:nope")) == "FORBIDDEN"  # unknown or not, as ?queue=
    assert billing.get("/api/v1/search", params={"q": "queue:nope"}).status_code == 403
    found = rest_search(billing, q="queue:billing-eu")["jobs"]
    assert sorted(job["job_id"] for job in found) == sorted(seeded["charges"])
    admin = keyed_client(conn, "admin")
    for params in ({"queue": "nope"}, {"q": "queue:nope"}):
        response = admin.get("/api/v1/search", params=params)
        assert response.status_code == 404, (params, response.text)
        assert response.json()["detail"] == "Queue 'nope' not found"
    assert code_of(gql(admin, SEARCH, q="queue:nope")) == "NOT_FOUND"
    for params in ({"queue": "a\nb"}, {"q": 'queue:"a\nb"'}):
        response = admin.get("/api/v1/search", params=params)
        assert response.status_code == 422, (params, response.text)
        assert response.json()["detail"].startswith("Invalid queue name 'a\\nb'")
    assert code_of(gql(admin, SEARCH, q='queue:"a\nb"')) == "BAD_REQUEST"


def test_an_operations_search_selector_checks_its_queue_terms_as_a_search_does(conn, seeded) -> None:
    """Acting on every match is an operation with a search selector, but its `queue:` terms went
    unchecked: outside a limited key's patterns, or not a queue name at all, they were a 200
    that matched nothing where the same query is a 403 or a 422 as a search."""
    billing = keyed_client(conn, "billing")
    operate = {"action": "retry", "queue": "billing-eu", "dry_run": True}
    for q, status in [("queue:reports", 403), ("customer queue:reports", 403), ('queue:"a\nb"', 422)]:
        searched = billing.get("/api/v1/search", params={"q": q})
        started = billing.post("/api/v1/operations", json={**operate, "selector": {"query": q}})
        assert (searched.status_code, started.status_code) == (status, status), (q, started.text)
        assert started.json()["detail"] == searched.json()["detail"]
    body = gql(
        billing,
        'mutation { startOperation(action: RETRY, queue: "billing-eu", selector: {query: "queue:reports"}, '
        "dryRun: true) { matched } }",
    )
    assert code_of(body) == "FORBIDDEN"
    allowed = billing.post("/api/v1/operations", json={**operate, "selector": {"query": "queue:billing-eu"}})
    assert (allowed.status_code, allowed.json()["matched"]) == (200, 5)


@pytest.mark.parametrize("first", [0, -1, 1001])
def test_graphql_page_size_errors_name_first_and_its_real_bounds(conn, seeded, first) -> None:
    client = keyed_client(conn, "admin")
    for q in ("customer", f"id:{seeded['charges'][0]}"):  # the scan and the id lookup alike
        body = gql(client, SEARCH, q=q, first=first)
        assert code_of(body) == "BAD_REQUEST", body
        assert body["errors"][0]["message"] == "first must be between 1 and 1000"
    assert graphql_search(client, "customer", limit=1000)["complete"]
    assert len(graphql_search(client, "customer", limit=1)["nodes"]) == 1


def test_an_id_query_answers_the_job_through_graphql_as_rest_does(conn, seeded) -> None:
    """`id:` is a lookup, not a scan: its page has no cursors of its own, which made searchJobs's
    edges fail (INTERNAL). Now the job comes with the cursor right after it, in its queue or
    registry, which ends the same query and resumes a wider one after that job."""
    client = keyed_client(conn, "admin")
    charges = seeded["charges"]
    queued = Queue("billing-eu", connection=conn).enqueue(jobs.add, 1, 2).id
    for job_id, terms in [(charges[2], ""), (charges[2], " status:failed"), (queued, " status:queued")]:
        rest = rest_search(client, q=f"id:{job_id}{terms}")
        page = graphql_search(client, f"id:{job_id}{terms}")
        assert [job["job_id"] for job in rest["jobs"]] == [job_id]
        assert to_rest_shape(page["nodes"]) == rest["jobs"]
        assert page["complete"] and not page["pageInfo"]["hasNextPage"]
        (edge,) = page["edges"]
        # Passed back, the cursor ends the id: query and goes on after the job in a scan.
        again = graphql_search(client, f"id:{job_id}{terms}", cursor=edge["cursor"])
        assert again["nodes"] == [] and again["complete"]
        rest_again = rest_search(client, q=f"id:{job_id}", cursor=edge["cursor"])
        assert rest_again["jobs"] == []
        scan = rest_search(client, q="", queue="billing-eu", limit=1000)["jobs"]
        order = [job["job_id"] for job in scan]
        after = rest_search(client, q="", queue="billing-eu", limit=1000, cursor=edge["cursor"])["jobs"]
        assert [job["job_id"] for job in after] == order[order.index(job_id) + 1 :]
    # A cursor from before the job's place still finds it; a tampered one is a 422, as for a scan.
    first = graphql_search(client, "", queue="billing-eu", limit=1)
    before = rest_search(client, q=f"id:{charges[2]}", cursor=first["pageInfo"]["endCursor"])
    assert [job["job_id"] for job in before["jobs"]] == [charges[2]]
    assert client.get("/api/v1/search", params={"q": f"id:{queued}", "cursor": "nope"}).status_code == 422
    assert code_of(gql(client, SEARCH, q=f"id:{queued}", after="nope")) == "BAD_REQUEST"


_TERMS = [
    "func:fail_with",
    "func:parse_report",
    "func:add",
    "status:failed",
    "status:queued",
    "queue:billing-eu",
    "queue:reports",
    "exc:ValueError",
    "customer",
    '"customer 3"',
    "declined",
]


@pytest.fixture
def mixed(conn, seeded) -> list[str]:
    """seeded, and a job waiting in billing-eu: ids of jobs in the queue and in registries."""
    waiting = Queue("billing-eu", connection=conn).enqueue(jobs.add, 3, 4, description="customer 3 waits")
    return [*seeded["charges"], *seeded["reports"], waiting.id]


def _pages_rest(client, q, limit):
    found, cursor = [], None
    for _ in range(50):
        page = rest_search(client, q=q, limit=limit, **({"cursor": cursor} if cursor else {}))
        found += page["jobs"]
        if page["complete"]:
            return found
        cursor = page["next_cursor"]
    raise AssertionError("no end")


def _pages_graphql(client, q, limit):
    found, cursor = [], None
    for _ in range(50):
        page = graphql_search(client, q, limit=limit, cursor=cursor)
        assert len(page["edges"]) == len(page["nodes"])
        found += to_rest_shape(page["nodes"])
        if not page["pageInfo"]["hasNextPage"]:
            return found
        cursor = page["pageInfo"]["endCursor"]
    raise AssertionError("no end")


@pytest.fixture
def admin(conn):
    """One app for every example: building one an example was most of the test's time."""
    return keyed_client(conn, "admin")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), limit=st.integers(1, 4))
def test_both_transports_answer_every_query_alike_and_id_finds_what_a_scan_finds(
    admin, mixed, data, limit
) -> None:
    """For any query, id: included, GraphQL returns the jobs REST returns; and an id: lookup
    answers exactly the job a scan for the other terms finds with that id."""
    client = admin
    terms = data.draw(st.lists(st.sampled_from(_TERMS), max_size=3, unique=True))
    job_id = data.draw(st.one_of(st.none(), st.sampled_from([*mixed, "no-such-job"])))
    query = " ".join(terms)
    scanned = _pages_rest(client, query, limit)
    assert _pages_graphql(client, query, limit) == scanned
    if job_id is not None:
        looked_up = _pages_rest(client, f"id:{job_id} {query}", limit)
        assert _pages_graphql(client, f"id:{job_id} {query}", limit) == looked_up
        assert looked_up == [job for job in scanned if job["job_id"] == job_id]
