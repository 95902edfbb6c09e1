"""A queue-limited admin reads only its queues' audit records, on both transports; queue-less
records are for unrestricted admins. Pages hold `first` visible records and continue exactly."""

from __future__ import annotations

import json
from fnmatch import fnmatchcase

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.apikeys import ApiKey, hash_key
from gateway.services import JobService
from gateway.services.audit import AUDIT_STREAM, AuditRecord, AuditTrail
from gateway.services.principal import Principal, RequestScope, Role
from tests.keyed import API_KEYS, bearer, gql, keyed_client

LIMITED = {"billing-admin": ("billing-*",), "two-admin": ("default", "other")}
SECRETS = {name: f"rqg_{name}-secret-0123456789" for name in LIMITED}
ADMINS = (
    *API_KEYS,
    *(ApiKey(name, Role.ADMIN, hash_key(SECRETS[name]), patterns) for name, patterns in LIMITED.items()),
)
QUERY = """query($after: String) { auditLog(first: 2, after: $after) {
  totalCount nodes { queue requestId } pageInfo { hasNextPage endCursor } } }"""


def as_key(name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {SECRETS[name]}"} if name in SECRETS else bearer(name)


def rest_trail(client, headers) -> tuple[list, int]:
    page = client.get("/api/v1/audit", params={"limit": 2}, headers=headers).json()
    entries, total = list(page["entries"]), page["total"]
    while page["next_cursor"]:
        page = client.get(
            "/api/v1/audit", params={"limit": 2, "cursor": page["next_cursor"]}, headers=headers
        )
        page = page.json()
        assert len(page["entries"]) <= 2 and page["total"] == total
        entries += page["entries"]
    return [(e["queue"], e["request_id"]) for e in entries], total


def graphql_trail(client, headers) -> tuple[list, int]:
    nodes, after = [], None
    while True:
        connection = gql(client, QUERY, headers=headers, after=after)["data"]["auditLog"]
        nodes += [(node["queue"], node["requestId"]) for node in connection["nodes"]]
        if not connection["pageInfo"]["hasNextPage"]:
            return nodes, connection["totalCount"]
        after = connection["pageInfo"]["endCursor"]


def test_limited_admins_read_only_their_queues_records_on_both_transports(conn, factory):
    client = keyed_client(conn, api_keys=ADMINS)
    factory.queued(queue="billing-eu")
    written = []
    for queue in ("default", "billing-eu", "other", "billing-us", "default", "reports"):
        response = client.post(f"/api/v1/jobs/failed/missing/retry?queue={queue}", headers=bearer("admin"))
        written.append((queue, response.headers["X-Request-ID"]))
    response = client.post("/api/v1/jobs/no-such-job/cancel", headers=bearer("admin"))  # no queue
    written.append((None, response.headers["X-Request-ID"]))
    newest_first = written[::-1]
    expected = {
        "admin": newest_first,
        "billing-admin": [r for r in newest_first if r[0] in ("billing-eu", "billing-us")],
        "two-admin": [r for r in newest_first if r[0] in ("default", "other")],
    }
    for key, records in expected.items():
        assert rest_trail(client, as_key(key)) == (records, len(records)), key
        assert graphql_trail(client, as_key(key)) == (records, len(records)), key
    assert client.get("/api/v1/audit", headers=bearer("billing")).status_code == 403  # an operator


# Names with quotes and backslashes too: the reader picks each record's queue out of its JSON line.
names = ["default", "billing-eu", "billing-us", "b", "reports-1", "ünï", 'b"q', "d\\", '"queue":"b']
queues = st.one_of(st.none(), st.sampled_from(names))
patterns = st.lists(
    st.sampled_from(["billing-*", "default", "b*", "*-1", "[bd]*", "?", "ü*", "nope", "*", '"*']), max_size=3
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=st.lists(queues, max_size=40), key_patterns=patterns, first=st.integers(0, 7))
def test_every_limited_reader_pages_through_exactly_its_records(conn, records, key_patterns, first):
    conn.delete(AUDIT_STREAM)
    service = JobService(conn)
    trail = AuditTrail(conn)
    for number, queue in enumerate(records):
        trail.write(
            AuditRecord(str(number), "someone", "retry", queue, job_ids=[f'"queue":"{number}"']),
            service.health,
        )
    principal = Principal("reader", Role.ADMIN, tuple(key_patterns))
    service = service.scoped(RequestScope(principal, "r"))
    expected = [
        str(number)
        for number, queue in reversed(list(enumerate(records)))
        if not key_patterns or (queue is not None and any(fnmatchcase(queue, p) for p in key_patterns))
    ]
    if first == 0:
        page = service.audit_log(0)
        assert (page.entries, page.total, page.has_next_page) == ([], len(expected), bool(expected))
        return
    seen, after = [], None
    while True:
        page = service.audit_log(first, after)
        assert page.total == len(expected)
        seen += [entry.request_id for entry in page.entries]
        if not page.has_next_page:
            break
        assert len(page.entries) == first, "only the last page is short"
        after = page.end_cursor
    assert seen == expected


def test_limited_readers_tolerate_damaged_records(conn):
    conn.xadd(AUDIT_STREAM, {"record": json.dumps({"queue": 7})})
    conn.xadd(AUDIT_STREAM, {"record": b"not json"})
    conn.xadd(AUDIT_STREAM, {"record": json.dumps(AuditRecord("1", "k", "retry", "billing-eu").as_dict())})
    service = JobService(conn).scoped(RequestScope(Principal("r", Role.ADMIN, ("billing-*",)), "r"))
    page = service.audit_log(10)
    assert [entry.request_id for entry in page.entries] == ["1"] and page.total == 1


def test_an_action_on_a_job_of_another_queue_than_named_is_recorded_in_the_jobs_queue(conn, factory):
    """An unrestricted admin retrying a reports job with ?queue=billing-eu is told the job is in
    reports; the record names reports, so a billing-* admin's trail does not say that the job
    exists elsewhere (as it would beside a record of its own queue, with JobInOtherQueue)."""
    client = keyed_client(conn, api_keys=ADMINS)
    factory.queued(queue="billing-eu")
    (job_id,) = factory.failed(1, queue="reports")
    response = client.post(f"/api/v1/jobs/failed/{job_id}/retry?queue=billing-eu", headers=bearer("admin"))
    assert response.status_code == 404 and "'reports'" in response.json()["detail"]
    (entry,) = client.get("/api/v1/audit", headers=bearer("admin")).json()["entries"]
    assert (entry["queue"], entry["job_ids"], entry["error"]) == ("reports", [job_id], "JobInOtherQueue")
    assert client.get("/api/v1/audit", headers=as_key("billing-admin")).json()["entries"] == []


def test_a_limited_reader_counts_a_records_ids_without_those_of_jobs_it_may_not_see(conn, factory):
    """Another key's record of a billing queue may name reports jobs: a billing-* admin reads it
    without their ids, and without them in `job_count` (it counted them, so the difference told
    how many were named). Its own records stay whole; the ids beyond the ten a record keeps, which
    no reader sees, stay counted."""
    (foreign,) = factory.failed(1, queue="reports")
    (own,) = factory.failed(1, queue="billing-eu")
    many = [f"x{i}" for i in range(11)]
    for record in (
        AuditRecord("selected", "admin", "retry_selected", "billing-eu", [foreign, own, "gone"]),
        # A replay lists the job it replayed (the one counted), then the job it made.
        AuditRecord("replay", "admin", "replay", "billing-eu", [foreign, own], acted=1),
        AuditRecord("many", "admin", "retry_selected", "billing-eu", [foreign, *many]),
        AuditRecord("own", "r", "retry_selected", "billing-eu", [foreign, own]),
    ):
        conn.xadd(AUDIT_STREAM, {"record": json.dumps(record.as_dict())})
    service = JobService(conn).scoped(RequestScope(Principal("r", Role.ADMIN, ("billing-*",)), "r"))
    seen = {entry.request_id: (entry.job_ids, entry.job_count) for entry in service.audit_log(10).entries}
    assert seen == {
        "selected": ([own, "gone"], 2),
        "replay": ([own], 0),
        "many": (many[:9], 11),
        "own": ([foreign, own], 2),
    }
    whole = JobService(conn).scoped(RequestScope(Principal("a", Role.ADMIN, ()), "a")).audit_log(10)
    assert {entry.request_id: entry.job_count for entry in whole.entries} == {
        "selected": 3,
        "replay": 1,
        "many": 12,
        "own": 2,
    }


_json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8) | st.just("0" * 32),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
_damaged_record = st.fixed_dictionaries(
    {
        "action": st.sampled_from(["operation_retry.finish", "operation_delete.finish"]) | _json_value,
        "key": st.just("admin") | _json_value,
        "queue": st.just("billing-eu") | _json_value,
        "operation_id": st.text(max_size=40) | _json_value,
    },
    optional={name: _json_value for name in ("job_ids", "job_count", "selector_kind", "time")},
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=st.lists(_damaged_record | _json_value, max_size=6))
def test_any_record_in_the_trail_reads_for_every_admin_and_never_fails_the_page(conn, records):
    """The class of someone else's data: whatever a record holds (written by another tool, or
    damaged), every admin's page answers. A finish record's operation id of any shape once made a
    queue-limited admin's page a 422 about an id it never sent."""
    conn.delete(AUDIT_STREAM)
    for record in records:
        conn.xadd(AUDIT_STREAM, {"record": json.dumps(record)})
    for patterns in ((), ("billing-*",)):
        service = JobService(conn).scoped(RequestScope(Principal("reader", Role.ADMIN, patterns), "r"))
        page = service.audit_log(100)
        assert len(page.entries) == page.total <= len(records)
        if not patterns:
            assert page.total == len(records)
