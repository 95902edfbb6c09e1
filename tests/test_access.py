"""API keys and roles: one guard in the service layer, so REST and GraphQL allow and refuse alike."""

from __future__ import annotations

import inspect
import logging
import re
from typing import Any

import pytest

from gateway.errors import Forbidden
from gateway.services import JobService
from gateway.services.access import access_of
from gateway.services.principal import Role
from tests.keyed import KEYS, bearer, code_of, gql, keyed_client

REST_CODES = {200: "ok", 401: "UNAUTHENTICATED", 403: "FORBIDDEN", 404: "NOT_FOUND", 422: "BAD_REQUEST"}

# action: (role needed, REST request, GraphQL document); {id} is a failed job of queue "default".
ACTIONS = {
    "stats": (Role.VIEWER, ("GET", "/api/v1/jobs/stats"), "{ queueStats { failedCount } }"),
    "list": (Role.VIEWER, ("GET", "/api/v1/jobs/failed"), "{ failedJobs { totalCount } }"),
    "status": (Role.VIEWER, ("GET", "/api/v1/jobs/status/{id}"), '{ job(id: "{id}") { id } }'),
    "retry": (
        Role.OPERATOR,
        ("POST", "/api/v1/jobs/failed/{id}/retry"),
        'mutation { retryFailedJob(id: "{id}") { success } }',
    ),
    "retry_all": (
        Role.OPERATOR,
        ("POST", "/api/v1/jobs/failed/retry-all"),
        "mutation { retryAllFailedJobs { success } }",
    ),
    "delete": (
        Role.ADMIN,
        ("DELETE", "/api/v1/jobs/failed/{id}"),
        'mutation { deleteFailedJob(id: "{id}") { success } }',
    ),
    "clear": (
        Role.ADMIN,
        ("DELETE", "/api/v1/jobs/failed/clear"),
        "mutation { clearFailedJobs { success } }",
    ),
    "audit": (Role.ADMIN, ("GET", "/api/v1/audit"), "{ auditLog { totalCount } }"),
}

DELETE = "mutation($id: ID!) { deleteFailedJob(id: $id) { success } }"
JOB = "query($id: ID!) { job(id: $id) { id } }"
JOB_PAYLOAD = "query($id: ID!) { job(id: $id) { args kwargs result funcName } }"
QUEUE_PAGE_PAYLOAD = (
    '{ queue(name: "default") { jobs(state: FINISHED) { nodes { args kwargs result funcName } } } }'
)


def attempt(client, transport: str, action: str, job_id: str, headers=None) -> str:
    """The outcome of one action: "ok" or the error code, in GraphQL's vocabulary."""
    _, (method, path), document = ACTIONS[action]
    if transport == "rest":
        response = client.request(method, path.replace("{id}", job_id), headers=headers)
        return REST_CODES[response.status_code]
    body = gql(client, document.replace("{id}", job_id), headers=headers)
    return code_of(body) or "ok"


@pytest.mark.parametrize("transport", ["rest", "graphql"])
@pytest.mark.parametrize("action", list(ACTIONS))
@pytest.mark.parametrize("caller", ["none", "invalid", "viewer", "operator", "admin"])
def test_each_role_may_do_exactly_its_actions_on_both_transports(conn, factory, transport, action, caller):
    (job_id,) = factory.failed(1)
    client = keyed_client(conn)
    if caller == "none":
        headers = {}
    elif caller == "invalid":
        headers = {"Authorization": "Bearer rqg_not-a-configured-key"}
    else:
        headers = bearer(caller)
    needed = ACTIONS[action][0]
    if caller in ("none", "invalid"):
        expected = "UNAUTHENTICATED"
    else:
        expected = "ok" if Role[caller.upper()] >= needed else "FORBIDDEN"
    assert attempt(client, transport, action, job_id, headers) == expected


def test_refusals_have_the_documented_shapes(conn, factory):
    (job_id,) = factory.failed(1)
    client = keyed_client(conn)
    missing = client.post(f"/api/v1/jobs/failed/{job_id}/retry")
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    assert missing.json() == {"detail": "Missing API key: send the header 'Authorization: Bearer <key>'"}
    invalid = client.get("/api/v1/jobs/stats", headers={"Authorization": "Bearer nope"})
    assert (invalid.status_code, invalid.json()) == (401, {"detail": "Invalid API key"})
    basic = client.get("/api/v1/jobs/stats", headers={"Authorization": "Basic dXNlcjpwdw=="})
    assert basic.status_code == 401
    forbidden = client.delete(f"/api/v1/jobs/failed/{job_id}", headers=bearer("operator"))
    assert forbidden.status_code == 403
    assert forbidden.json() == {"detail": "API key 'operator' has role operator; delete needs admin"}

    body = gql(client, DELETE, id=job_id)
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}
    assert body["errors"][0]["message"] == missing.json()["detail"]
    body = gql(client, DELETE, headers=bearer("viewer"), id=job_id)
    assert body["errors"][0]["extensions"] == {"code": "FORBIDDEN"}
    assert body["errors"][0]["message"] == "API key 'viewer' has role viewer; delete needs admin"
    assert keyed_client(conn).get(f"/api/v1/jobs/status/{job_id}", headers=bearer("admin")).status_code == 200


def test_probes_docs_and_graphiql_stay_open(conn):
    client = keyed_client(conn)
    for path in ("/healthz", "/readyz", "/docs", "/openapi.json"):
        assert client.get(path).status_code == 200, path
    assert "graphiql" in client.get("/graphql", headers={"Accept": "text/html"}).text.lower()
    # The schema is documentation (it is in the repository); the data behind it is not.
    assert gql(client, "{ __schema { queryType { name } } }") == {
        "data": {"__schema": {"queryType": {"name": "Query"}}}
    }


def test_every_keyed_rest_route_refuses_a_request_without_a_key(conn):
    """Covers routes added later too: each one that uses the keyed service must refuse."""
    client = keyed_client(conn)
    paths = client.app.openapi()["paths"]
    checked = 0
    for path, operations in paths.items():
        if path in ("/healthz", "/readyz"):
            continue
        for method, operation in operations.items():
            url = re.sub(r"\{[^}]+\}", "abc", path)
            status = client.request(method.upper(), url).status_code
            # 422: a required parameter is missing, checked by FastAPI before any service call.
            assert status in (401, 422), f"{method} {path}: {status}"
            assert {"401", "403"} <= set(operation["responses"]), f"{path} documents 401 and 403"
            assert operation.get("security") == [{"HTTPBearer": []}], path
            checked += 1
    assert checked >= 8


_DUMMY = {"String": '"default"', "ID": '"abc"', "Int": "1", "Boolean": "false"}
_DUMMY |= {"OperationAction": "RETRY", "OperationSelectorInput": "{all: true}"}


def _field_calls(client, operation: str) -> list[str]:
    type_query = (
        '{ __type(name: "%s") { fields { name type { kind ofType { kind ofType { kind } } } '
        "args { name type { kind name ofType { name kind ofType { name } } } } } } }"
    )
    fields = gql(client, type_query % operation)["data"]["__type"]["fields"]
    calls = []
    for field in fields:
        args = []
        for arg in field["args"]:
            if arg["type"]["kind"] != "NON_NULL":
                continue
            inner = arg["type"]["ofType"]
            # Required arguments get a plausible scalar; other types get null, so the field fails
            # validation: BAD_REQUEST, which never reaches data either.
            if inner["kind"] == "LIST":
                args.append(f"{arg['name']}: [{_DUMMY.get(inner['ofType']['name'], 'null')}]")
            else:
                args.append(f"{arg['name']}: {_DUMMY.get(inner['name'], 'null')}")
        call = field["name"] + (f"({', '.join(args)})" if args else "")
        leaf = field["type"]
        while leaf.get("ofType"):
            leaf = leaf["ofType"]
        calls.append(call if leaf["kind"] in ("SCALAR", "ENUM") else call + " { __typename }")
    return calls


@pytest.mark.parametrize("operation", ["Query", "Mutation"])
def test_every_graphql_field_refuses_a_request_without_a_key(conn, operation):
    client = keyed_client(conn)
    calls = _field_calls(client, operation)
    assert calls
    keyword = "query" if operation == "Query" else "mutation"
    checked = 0
    for call in calls:
        body = gql(client, f"{keyword} {{ {call} }}")
        assert code_of(body) in ("UNAUTHENTICATED", "BAD_REQUEST"), (call, body)
        assert not any((body.get("data") or {}).values()), (call, body)
        checked += code_of(body) == "UNAUTHENTICATED"
    assert checked >= len(calls) - 2, "nearly every field was called with usable arguments"


def service_members(cls: type = JobService) -> dict[str, Any]:
    """Every attribute of the service class as defined, its bases' included: JobService is composed
    of one mixin per feature (gateway/services/facade/), so vars(JobService) would miss nearly all."""
    return {name: inspect.getattr_static(cls, name) for name in dir(cls)}


def test_every_public_service_method_declares_its_access():
    """A new JobService operation must say which role it needs; one without a declaration fails here."""
    undeclared = [
        name
        for name, member in service_members().items()
        if callable(member) and not name.startswith("_") and access_of(member) is None
    ]
    assert undeclared == []
    declared = {name: access_of(member) for name, member in service_members().items() if callable(member)}
    roles = {name: declared[name].role for name in ("retry", "retry_all", "delete", "clear")}
    assert roles == {
        "retry": Role.OPERATOR,
        "retry_all": Role.OPERATOR,
        "delete": Role.ADMIN,
        "clear": Role.ADMIN,
    }
    assert all(declared[name].audited for name in roles), "mutations are audited"
    assert declared["audit_log"].role == Role.ADMIN and not declared["audit_log"].audited


@pytest.mark.parametrize("transport", ["rest", "graphql"])
def test_hide_payloads_nulls_args_kwargs_and_result_for_viewers_only(conn, factory, transport):
    (failed,) = factory.failed(1)
    finished = factory.finished()
    for key, hidden in (("viewer", True), ("operator", False), ("admin", False)):
        client = keyed_client(conn, key, hide_payloads=True)
        if transport == "rest":
            jobs = [
                *client.get("/api/v1/jobs/failed").json(),
                client.get(f"/api/v1/jobs/status/{finished}").json(),
                *client.get("/api/v1/queues/default/jobs?state=finished").json()["jobs"],
            ]
        else:
            page = gql(client, "{ failedJobs { nodes { args kwargs result funcName } } }")["data"]
            job = gql(client, JOB_PAYLOAD, id=finished)["data"]["job"]
            queue_page = gql(client, QUEUE_PAGE_PAYLOAD)["data"]["queue"]["jobs"]
            jobs = [*page["failedJobs"]["nodes"], job, *queue_page["nodes"]]
        payloads = [(job["args"], job["kwargs"], job["result"]) for job in jobs]
        if hidden:
            assert payloads == [(None, None, None)] * 3
        else:
            assert payloads == [(["bad-0"], {}, None), ([2, 3], {}, 5), ([2, 3], {}, 5)]
        assert all(job.get("func_name", job.get("funcName")) for job in jobs), "the rest is still shown"
    viewer = keyed_client(conn, "viewer")  # without --hide-payloads viewers see payloads
    assert viewer.get(f"/api/v1/jobs/status/{failed}").json()["args"] == ["bad-0"]


def test_keys_never_appear_in_logs(conn, factory, caplog):
    (job_id,) = factory.failed(1)
    caplog.set_level(logging.DEBUG)
    for key in KEYS:
        client = keyed_client(conn, key)
        client.get("/api/v1/jobs/stats")
        client.post(f"/api/v1/jobs/failed/{job_id}/retry")
        gql(client, "mutation { clearFailedJobs { success } }")
    wrong = "rqg_a-wrong-key-that-must-not-be-logged"
    keyed_client(conn).post("/api/v1/jobs/failed/retry-all", headers={"Authorization": f"Bearer {wrong}"})
    assert "rq_gateway.audit" in {record.name for record in caplog.records}, "the audit did log"
    for secret in [*KEYS.values(), wrong]:
        assert secret not in caplog.text


def test_anonymous_mode_serves_everything_as_anonymous_admin(client, factory):
    (job_id,) = factory.failed(1)
    assert client.delete(f"/api/v1/jobs/failed/{job_id}").status_code == 200


def test_an_operation_calling_another_is_checked_and_audited_once(conn, factory, caplog):
    from gateway.services.access import action
    from gateway.services.audit import AuditTrail
    from gateway.services.principal import Principal, RequestScope

    class Extended(JobService):
        @action("retry_two", Role.OPERATOR)
        def retry_two(self, job_ids: list[str], queue: str | None = None) -> int:
            return sum(self.retry(job_id, queue).success for job_id in job_ids)

    caplog.set_level(logging.INFO, logger="rq_gateway.audit")
    ids = factory.failed(2)
    scope = RequestScope(Principal("ops", Role.OPERATOR), "r1", AuditTrail(conn))
    assert Extended(conn).scoped(scope).retry_two(ids) == 2
    (line,) = [r.getMessage() for r in caplog.records if r.name == "rq_gateway.audit"]
    assert '"action":"retry_two"' in line and '"job_count":2' in line
    viewer = RequestScope(Principal("v", Role.VIEWER), "r2", AuditTrail(conn))
    with pytest.raises(Forbidden):
        Extended(conn).scoped(viewer).retry_two(ids)
