"""The audit trail: one JSON line and one stream entry per mutation, on both transports, whatever
its outcome; read back by admins only."""

from __future__ import annotations

import json
import logging
from dataclasses import fields

import pytest

from gateway.apikeys import ApiKey, hash_key
from gateway.graphql.audit import AuditEntry as GraphQLEntry
from gateway.rest.models.audit import AuditEntry as RestEntry
from gateway.services.audit import AUDIT_STREAM, AuditRecord, AuditTrail
from gateway.services.audit import AuditEntry as ServiceEntry
from gateway.services.principal import Role
from gateway.services.redis.backend import BackendHealth
from tests.keyed import API_KEYS, bearer, code_of, gql, keyed_client

RETRY = "mutation($id: ID!) { retryFailedJob(id: $id) { success } }"
DELETE = "mutation($id: ID!) { deleteFailedJob(id: $id) { success } }"


def audit_lines(caplog) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "rq_gateway.audit"]


def stream_records(conn) -> list[dict]:
    return [json.loads(fields[b"record"]) for _, fields in conn.xrange(AUDIT_STREAM)]


def mutate(client, transport, document_or_path, method="POST", job_id=None, headers=None):
    """Returns the request id the gateway answered with."""
    if transport == "rest":
        response = client.request(method, document_or_path, headers=headers)
    else:
        response = client.post(
            "/graphql", json={"query": document_or_path, "variables": {"id": job_id}}, headers=headers
        )
    return response.headers["X-Request-ID"]


@pytest.mark.parametrize("transport", ["rest", "graphql"])
def test_a_successful_mutation_is_logged_and_streamed(conn, factory, caplog, transport):
    caplog.set_level(logging.INFO, logger="rq_gateway.audit")
    (job_id,) = factory.failed(1)
    client = keyed_client(conn, "operator")
    target = f"/api/v1/jobs/failed/{job_id}/retry" if transport == "rest" else RETRY
    request_id = mutate(client, transport, target, job_id=job_id)
    (line,) = audit_lines(caplog)
    assert line == {
        "time": line["time"],
        "request_id": request_id,
        "key": "operator",
        "action": "retry",
        "queue": "default",
        "job_count": 1,
        "job_ids": [job_id],
        "outcome": "ok",
        "error": None,
    }
    assert line["time"].endswith("Z")
    assert stream_records(conn) == [line]


@pytest.mark.parametrize("transport", ["rest", "graphql"])
def test_refused_and_failed_mutations_are_audited_too(conn, factory, caplog, transport):
    caplog.set_level(logging.INFO, logger="rq_gateway.audit")
    (job_id,) = factory.failed(1)
    client = keyed_client(conn)
    rest = transport == "rest"
    delete = f"/api/v1/jobs/failed/{job_id}" if rest else DELETE
    mutate(client, transport, delete, "DELETE", job_id)  # no key
    mutate(client, transport, delete, "DELETE", job_id, headers=bearer("viewer"))  # role too low
    missing = "/api/v1/jobs/failed/no-such-job/retry" if rest else RETRY
    mutate(client, transport, missing, job_id="no-such-job", headers=bearer("admin"))
    outcomes = [(line["key"], line["action"], line["outcome"], line["error"]) for line in audit_lines(caplog)]
    assert outcomes == [
        ("anonymous", "delete", "refused", "Unauthenticated"),
        ("viewer", "delete", "refused", "Forbidden"),
        ("admin", "retry", "error", "FailedJobNotFound"),
    ]
    # Without a valid key: in the log only (see test_refusals.py), never in the capped stream.
    assert [(r["key"], r["outcome"]) for r in stream_records(conn)] == [
        ("viewer", "refused"),
        ("admin", "error"),
    ]
    assert conn.zcard("rq:failed:default") == 1


def test_bulk_mutations_record_the_count_and_the_first_ten_ids(conn, factory, caplog):
    caplog.set_level(logging.INFO, logger="rq_gateway.audit")
    ids = factory.failed(12)
    client = keyed_client(conn, "admin")
    client.post("/api/v1/jobs/failed/retry-all", headers={"X-Request-ID": "runbook-7"})
    (line,) = audit_lines(caplog)
    assert (line["action"], line["job_count"], line["request_id"]) == ("retry_all", 12, "runbook-7")
    assert len(line["job_ids"]) == 10 and set(line["job_ids"]) <= set(ids)


def test_an_unexpected_error_is_audited_as_internal(conn, caplog, monkeypatch):
    caplog.set_level(logging.INFO, logger="rq_gateway.audit")
    client = keyed_client(conn, "admin")

    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("gateway.services.facade.actions.act_on_all", explode)
    response = client.delete("/api/v1/jobs/failed/clear")
    assert response.status_code == 500
    (line,) = audit_lines(caplog)
    assert (line["outcome"], line["error"]) == ("error", "InternalError")
    assert line["request_id"] == response.json()["request_id"]


def test_the_log_line_is_written_when_redis_is_down(conn, caplog):
    caplog.set_level(logging.INFO)
    client = keyed_client(conn, "admin")
    conn.connection_pool.connection_kwargs["server"].connected = False
    assert client.post("/api/v1/jobs/failed/retry-all").status_code == 503
    (line,) = audit_lines(caplog)
    assert (line["outcome"], line["error"]) == ("error", "BackendUnavailable")
    assert "not written to Redis" in caplog.text


def test_the_stream_is_capped_approximately_and_can_be_turned_off(conn, factory, monkeypatch):
    calls = []
    real = conn.xadd
    monkeypatch.setattr(conn, "xadd", lambda *a, **kw: calls.append(kw) or real(*a, **kw))
    keyed_client(conn, "admin", audit_maxlen=500).post("/api/v1/jobs/failed/retry-all")
    assert calls == [{"maxlen": 500, "approximate": True}]
    keyed_client(conn, "admin", audit_maxlen=0).post("/api/v1/jobs/failed/retry-all")
    assert len(calls) == 1 and conn.xlen(AUDIT_STREAM) == 1


def test_reads_are_not_audited(conn, caplog):
    caplog.set_level(logging.INFO, logger="rq_gateway.audit")
    client = keyed_client(conn, "admin")
    client.get("/api/v1/jobs/stats")
    gql(client, "{ failedJobs { totalCount } }")
    assert audit_lines(caplog) == [] and conn.xlen(AUDIT_STREAM) == 0


def test_admins_read_the_trail_back_newest_first_on_both_transports(conn):
    admin = keyed_client(conn, "admin")
    for number in range(5):
        admin.post(f"/api/v1/jobs/failed/job-{number}/retry")
    page = admin.get("/api/v1/audit?limit=2").json()
    assert page["total"] == 5
    assert [e["job_ids"] for e in page["entries"]] == [["job-4"], ["job-3"]]
    rest = list(page["entries"])
    while page["next_cursor"]:
        page = admin.get("/api/v1/audit", params={"limit": 2, "cursor": page["next_cursor"]}).json()
        rest += page["entries"]
    assert [e["job_ids"][0] for e in rest] == [f"job-{n}" for n in range(4, -1, -1)]

    query = """query($after: String) { auditLog(first: 2, after: $after) {
      totalCount nodes { id requestId key action queue jobCount jobIds outcome error time }
      edges { cursor } pageInfo { hasNextPage endCursor } } }"""
    graphql, after = [], None
    while True:
        connection = gql(admin, query, after=after)["data"]["auditLog"]
        assert connection["totalCount"] == 5
        assert [e["cursor"] for e in connection["edges"]] == [n["id"] for n in connection["nodes"]]
        graphql += connection["nodes"]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert [n["id"] for n in graphql] == [e["cursor"] for e in rest]
    assert graphql[0] | {"id": None} == {
        "id": None,
        "requestId": rest[0]["request_id"],
        "key": "admin",
        "action": "retry",
        "queue": "default",
        "jobCount": 1,
        "jobIds": ["job-4"],
        "outcome": "error",
        "error": "FailedJobNotFound",
        "time": rest[0]["time"],
    }


@pytest.mark.parametrize("key", ["viewer", "operator", "billing"])
def test_only_admins_read_the_trail(conn, key):
    client = keyed_client(conn, key)
    assert client.get("/api/v1/audit").status_code == 403
    assert code_of(gql(client, "{ auditLog { totalCount } }")) == "FORBIDDEN"
    assert keyed_client(conn).get("/api/v1/audit").status_code == 401


BILLING_ADMIN = ApiKey("billing-admin", Role.ADMIN, hash_key("rqg_billing-admin-0123456789"), ("billing-*",))


@pytest.mark.parametrize("limited", [False, True])
def test_records_written_by_something_else_are_shown_as_far_as_they_read_never_failing_the_page(
    conn, limited
):
    """The stream is a Redis key anyone may write to: a record that is not an object, nested
    deeper than the JSON parser goes, or with fields of other types is shown with what it holds
    of a record, and the page around it is the same."""
    admin = keyed_client(conn, "admin")
    admin.post("/api/v1/jobs/failed/job-0/retry?queue=billing-eu")
    for record in (b"[1]", b"[" * 5000, b'{"queue": ' + b"[" * 5000 + b"]}", b"\xff", b"42"):
        conn.xadd(AUDIT_STREAM, {"record": record})
    conn.xadd(
        AUDIT_STREAM,
        {"record": json.dumps({"queue": "billing-eu", "job_count": "many", "job_ids": 7, "error": [1]})},
    )
    conn.xadd(AUDIT_STREAM, {"record": json.dumps({"queue": {"a": 1}, "key": None, "worker": 5})})
    client = admin
    if limited:
        client = keyed_client(conn, api_keys=(*API_KEYS, BILLING_ADMIN))
        client.headers["Authorization"] = "Bearer rqg_billing-admin-0123456789"
    page = client.get("/api/v1/audit")
    assert page.status_code == 200, page.text
    entries = page.json()["entries"]
    assert entries[-1]["job_ids"] == ["job-0"]
    odd = next(e for e in entries if e["queue"] == "billing-eu" and e["job_ids"] != ["job-0"])
    assert (odd["job_count"], odd["job_ids"], odd["error"]) == (0, [], None)
    graphql = gql(client, "{ auditLog { totalCount nodes { id key action queue jobCount jobIds error } } }")
    assert "errors" not in graphql, graphql
    assert graphql["data"]["auditLog"]["totalCount"] == page.json()["total"]


@pytest.mark.parametrize("limited", [False, True])
def test_a_stream_key_of_another_type_reads_as_an_empty_trail(conn, limited):
    """As every key of another Redis type: the trail reads as empty (a 500 before, WRONGTYPE),
    and mutations still answer (their record goes to the log only)."""
    conn.set(AUDIT_STREAM, "not a stream")
    client = keyed_client(conn, "admin")
    if limited:
        client = keyed_client(conn, api_keys=(*API_KEYS, BILLING_ADMIN))
        client.headers["Authorization"] = "Bearer rqg_billing-admin-0123456789"
    assert client.post("/api/v1/jobs/failed/job-0/retry?queue=billing-eu").status_code == 404
    page = client.get("/api/v1/audit")
    assert page.status_code == 200, page.text
    assert page.json() == {"entries": [], "total": 0, "next_cursor": None}
    graphql = gql(client, "{ auditLog { totalCount nodes { id } } }")
    assert graphql == {"data": {"auditLog": {"totalCount": 0, "nodes": []}}}


def test_bad_audit_paging_is_a_bad_request(conn):
    admin = keyed_client(conn, "admin")
    assert admin.get("/api/v1/audit?cursor=rq:job:x").status_code == 422
    assert admin.get("/api/v1/audit?limit=1001").status_code == 422
    assert code_of(gql(admin, '{ auditLog(after: "nope") { totalCount } }')) == "BAD_REQUEST"
    assert code_of(gql(admin, "{ auditLog(first: 1001) { totalCount } }")) == "BAD_REQUEST"


def test_failure_group_actions_need_their_role_and_are_audited_dry_runs_marked(conn, factory, caplog):
    caplog.set_level(logging.INFO, logger="rq_gateway.audit")
    ids = factory.failed(3)
    viewer, operator, admin = (keyed_client(conn, key) for key in ("viewer", "operator", "admin"))
    (group,) = viewer.get("/api/v1/jobs/failed/groups").json()["groups"]
    retry = f"/api/v1/jobs/failed/groups/{group['group_id']}/retry"
    assert viewer.post(retry).status_code == 403
    assert operator.post(retry, params={"dry_run": "true"}).status_code == 200
    assert operator.delete(f"/api/v1/jobs/failed/groups/{group['group_id']}").status_code == 403
    assert admin.delete(f"/api/v1/jobs/failed/groups/{group['group_id']}").status_code == 200
    trail = [(a["key"], a["action"], a["outcome"], a["job_count"]) for a in audit_lines(caplog)]
    assert trail == [
        ("viewer", "retry_group", "refused", 0),
        ("operator", "retry_group.dry_run", "ok", 3),
        ("operator", "delete_group", "refused", 0),
        ("admin", "delete_group", "ok", 3),
    ]
    assert set(audit_lines(caplog)[-1]["job_ids"]) == set(ids)


def test_cancel_requeue_and_selected_actions_follow_roles_patterns_and_audit(conn, factory, caplog):
    caplog.set_level(logging.INFO, logger="rq_gateway.audit")
    failed = factory.failed(2, queue="billing-eu")  # first: its worker would run queued jobs
    billing_job = factory.queued(queue="billing-eu")
    default_job = factory.queued(queue="default")
    viewer, billing, admin = (keyed_client(conn, key) for key in ("viewer", "billing", "admin"))
    assert viewer.post(f"/api/v1/jobs/{billing_job}/cancel").status_code == 403  # role
    # Outside the key's patterns: answered and recorded as a missing job (no queue, JobNotFound).
    assert billing.post(f"/api/v1/jobs/{default_job}/cancel").status_code == 404
    assert billing.post(f"/api/v1/jobs/{billing_job}/cancel").status_code == 200
    assert billing.post(f"/api/v1/jobs/{billing_job}/requeue").status_code == 200
    assert billing.post("/api/v1/jobs/no-such-job/cancel").status_code == 404
    retry = {"job_ids": failed}
    assert billing.post("/api/v1/jobs/failed/retry?queue=billing-eu", json=retry).status_code == 200
    assert billing.post("/api/v1/jobs/failed/delete?queue=billing-eu", json=retry).status_code == 403
    mutation = "mutation($id: ID!) { cancelJob(id: $id) { success } }"
    assert code_of(gql(billing, mutation, id=default_job)) == "NOT_FOUND"
    assert code_of(gql(admin, mutation, id=default_job)) is None
    trail = [(a["key"], a["action"], a["queue"], a["outcome"], a["job_count"]) for a in audit_lines(caplog)]
    assert trail == [
        ("viewer", "cancel", "billing-eu", "refused", 1),
        ("billing", "cancel", None, "error", 1),
        ("billing", "cancel", "billing-eu", "ok", 1),
        ("billing", "requeue", "billing-eu", "ok", 1),
        ("billing", "cancel", None, "error", 1),
        ("billing", "retry_selected", "billing-eu", "ok", 2),
        ("billing", "delete_selected", "billing-eu", "refused", 2),
        ("billing", "cancel", None, "error", 1),
        ("admin", "cancel", "default", "ok", 1),
    ]


def test_hostile_ids_are_cut_to_the_longest_valid_id_and_invalid_queues_not_recorded(conn, caplog):
    caplog.set_level(logging.INFO, logger="rq_gateway.audit")
    client = keyed_client(conn)
    huge = "x" * 20_000
    client.post("/graphql", json={"query": RETRY, "variables": {"id": huge}}, headers=bearer("admin"))
    client.post(
        f"/api/v1/jobs/failed/retry?queue={'q' * 20_000}", json={"job_ids": ["a"]}, headers=bearer("admin")
    )
    first, second = audit_lines(caplog)
    assert first["outcome"] == "error" and first["job_ids"] == ["x" * 512]
    assert second["outcome"] == "error" and second["queue"] is None
    assert stream_records(conn) == [first, second]


def test_every_field_of_a_read_back_record_reaches_both_transports(conn):
    """The service's record grew `operation_id` and `selector_kind` after the transports' models
    were written, and the REST model dropped `selector_kind` silently (pydantic ignores extras):
    every field the service reads back must be a field of both, under its own name."""
    service = {f.name for f in fields(ServiceEntry)}
    assert service - set(RestEntry.model_fields) == set()
    graphql = {f.name for f in GraphQLEntry.__strawberry_definition__.fields} | {"cursor"}  # GraphQL: id
    assert service - graphql == set()


def test_an_operation_finish_reads_back_with_its_selector_kind(conn):
    record = AuditRecord("r", "runner", "operation_retry.finish", "default", operation_id="ab" * 16)
    record.acted, record.selector_kind = 3, "query"
    AuditTrail(conn).write(record, BackendHealth())
    admin = keyed_client(conn, "admin")
    [rest] = admin.get("/api/v1/audit").json()["entries"]
    assert (rest["operation_id"], rest["job_count"], rest["selector_kind"]) == ("ab" * 16, 3, "query")
    [node] = gql(admin, "{ auditLog { nodes { jobCount selectorKind } } }")["data"]["auditLog"]["nodes"]
    assert node == {"jobCount": 3, "selectorKind": "query"}
