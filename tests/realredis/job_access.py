"""Shared by the job-access tests: keys of every role and queue pattern, every operation addressed
by job id on both transports, and one normalised answer so two attempts compare as equal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis
from fastapi.testclient import TestClient

from gateway.apikeys import ApiKey, hash_key
from gateway.app import create_app
from gateway.config import Settings
from gateway.services.principal import Role

from .helpers import API

# Queue patterns a key may carry: none (every queue), and limited ones.
PATTERNS: dict[str, tuple[str, ...]] = {
    "all": (),
    "billing": ("billing-*",),
    "default": ("default",),
    "mixed": ("billing-eu", "reports"),
    "nothing": ("nomatch-*",),
}
KEY_NAMES = [f"{role.label}-{patterns}" for role in Role for patterns in PATTERNS]


def _secret(name: str) -> str:
    return f"rqg_{name}-secret-0123456789"


API_KEYS = tuple(
    ApiKey(f"{role.label}-{name}", role, hash_key(_secret(f"{role.label}-{name}")), patterns)
    for role in Role
    for name, patterns in PATTERNS.items()
)
ROLE_OF = {key.name: key.role for key in API_KEYS}
PATTERNS_OF = {key.name: key.queues for key in API_KEYS}


def bearer(name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {_secret(name)}"}


def keyed_app_client(r: redis.Redis, hide_payloads: bool = False) -> TestClient:
    settings = Settings(redis_url="redis://unused", api_keys=API_KEYS, hide_payloads=hide_payloads)
    app = create_app(settings, connection=r)
    return TestClient(app, raise_server_exceptions=False)


def may_see(key: str, queue: str | None) -> bool:
    """The rule under test: a job of an unknown queue is in no pattern."""
    patterns = PATTERNS_OF[key]
    if not patterns:
        return True
    from fnmatch import fnmatchcase

    return queue is not None and any(fnmatchcase(queue, p) for p in patterns)


@dataclass(frozen=True)
class Operation:
    name: str
    role: Role
    method: str
    path: str  # {id} is the job id
    document: str  # GraphQL, with $id (or $ids) and, when it takes one, $queue
    takes_queue: bool
    selected: bool = False  # addressed by a list of ids, in a body


OPERATIONS = {
    op.name: op
    for op in (
        Operation(
            "status", Role.VIEWER, "GET", "/status/{id}", "query($id: ID!) { job(id: $id) { id } }", False
        ),
        Operation(
            "retry",
            Role.OPERATOR,
            "POST",
            "/failed/{id}/retry",
            "mutation($id: ID!, $queue: String) { retryFailedJob(id: $id, queue: $queue) "
            "{ success jobId message } }",
            True,
        ),
        Operation(
            "delete",
            Role.ADMIN,
            "DELETE",
            "/failed/{id}",
            "mutation($id: ID!, $queue: String) { deleteFailedJob(id: $id, queue: $queue) "
            "{ success jobId message } }",
            True,
        ),
        Operation(
            "cancel",
            Role.OPERATOR,
            "POST",
            "/{id}/cancel",
            "mutation($id: ID!) { cancelJob(id: $id) { success jobId message } }",
            False,
        ),
        Operation(
            "requeue",
            Role.OPERATOR,
            "POST",
            "/{id}/requeue",
            "mutation($id: ID!) { requeueJob(id: $id) { success jobId message } }",
            False,
        ),
        Operation(
            "retry_selected",
            Role.OPERATOR,
            "POST",
            "/failed/retry",
            "mutation($ids: [ID!]!, $queue: String) { retryFailedJobs(ids: $ids, queue: $queue) "
            "{ success totalFailed errors { jobId error } } }",
            True,
            selected=True,
        ),
        Operation(
            "delete_selected",
            Role.ADMIN,
            "POST",
            "/failed/delete",
            "mutation($ids: [ID!]!, $queue: String) { deleteFailedJobs(ids: $ids, queue: $queue) "
            "{ success totalFailed errors { jobId error } } }",
            True,
            selected=True,
        ),
    )
}


@dataclass(frozen=True)
class Answer:
    """One attempt's answer with the job id replaced by `<id>`: HTTP status (REST) or
    extensions.code (GraphQL, "ok" without an error), and the body or error message."""

    code: Any
    body: Any

    @property
    def ok(self) -> bool:
        return self.code in (200, "ok")


def _masked(value: Any, job_id: str) -> Any:
    if isinstance(value, str):
        return value.replace(job_id, "<id>")
    if isinstance(value, list):
        return [_masked(item, job_id) for item in value]
    if isinstance(value, dict):
        return {key: _masked(item, job_id) for key, item in value.items()}
    return value


def attempt(
    client: TestClient, transport: str, op: Operation, key: str, job_id: str, queue: str | None = None
) -> Answer:
    headers = bearer(key)
    if transport == "rest":
        params = {"queue": queue} if queue is not None and op.takes_queue else None
        body = {"job_ids": [job_id]} if op.selected else None
        response = client.request(
            op.method, API + op.path.replace("{id}", job_id), params=params, json=body, headers=headers
        )
        return Answer(response.status_code, _masked(response.json(), job_id))
    variables: dict[str, Any] = {"ids": [job_id]} if op.selected else {"id": job_id}
    if op.takes_queue:
        variables["queue"] = queue
    payload = client.post("/graphql", json={"query": op.document, "variables": variables}, headers=headers)
    answer = payload.json()
    errors = answer.get("errors") or []
    if errors:
        assert not any((answer.get("data") or {}).values()), answer  # null with the error
        return Answer(errors[0]["extensions"]["code"], _masked(errors[0]["message"], job_id))
    return Answer("ok", _masked(answer["data"], job_id))
