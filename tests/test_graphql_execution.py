"""The leaf-object fast path gives exactly what graphql-core's own executor gives, and is taken."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import strawberry
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from gateway.graphql import schema as gateway_schema
from gateway.graphql.execution import LeafObjectExecutionContext
from gateway.services import JobService


def _standard_schema() -> strawberry.Schema:
    """The gateway's schema with graphql-core's standard execution context."""
    return gateway_schema._Schema(
        query=gateway_schema.Query,
        mutation=gateway_schema.Mutation,
        extensions=[gateway_schema.ErrorCodes],
    )


def _run(schema: strawberry.Schema, query: str, service: Any, variables: dict | None = None) -> dict:
    result = asyncio.run(schema.execute(query, variable_values=variables, context_value={"service": service}))
    errors = [
        {"message": e.message, "path": e.path, "code": (e.extensions or {}).get("code")}
        for e in result.errors or []
    ]
    return {"data": result.data, "errors": errors}


QUERIES = [
    "{ failedJobs(first: 5) { nodes { id status funcName args kwargs createdAt endedAt excInfo result } } }",
    "{ failedJobs { totalCount nodes { __typename a: id b: id isFailed isQueued origin description } } }",
    "{ failedJobs { edges { cursor node { ...J } } pageInfo { hasNextPage endCursor } } } "
    "fragment J on Job { id status enqueuedAt startedAt }",
    "query($skip: Boolean!) "
    "{ failedJobs { nodes { id funcName @skip(if: $skip) excInfo @include(if: $skip) } } }",
    "{ queueStats { queueName failedCount queuedCount } }",
]


@pytest.mark.parametrize("query", QUERIES)
def test_results_are_identical_to_the_standard_executor(service, factory, query):
    factory.failed(3)
    factory.flaky_failed()
    for skip in (True, False):
        fast = _run(gateway_schema.schema, query, service, {"skip": skip})
        standard = _run(_standard_schema(), query, service, {"skip": skip})
        assert fast == standard
        assert not fast["errors"] and fast["data"]


def test_a_null_in_a_non_null_field_gets_graphql_cores_own_error(service, factory):
    factory.failed(2)

    class NullOrigins(JobService):
        def failed_page(self, *args: Any):
            page = super().failed_page(*args)
            object.__setattr__(page.jobs[1], "origin", None)
            return page

    broken = NullOrigins(service.connection)
    query = "{ failedJobs { nodes { id origin } } }"
    fast = _run(gateway_schema.schema, query, broken)
    standard = _run(_standard_schema(), query, broken)
    assert fast == standard
    assert fast["errors"] and fast["errors"][0]["path"] == ["failedJobs", "nodes", 1, "origin"]


def test_job_fields_are_not_executed_one_by_one(service, factory, monkeypatch):
    """The property behind the GraphQL page time: field executions do not grow with the page."""
    executed: list[str] = []
    original = StrawberryGraphQLCoreExecutionContext.execute_field

    def counting(self, parent_type, *args, **kwargs):
        executed.append(parent_type.name)
        return original(self, parent_type, *args, **kwargs)

    monkeypatch.setattr(StrawberryGraphQLCoreExecutionContext, "execute_field", counting)
    factory.failed(20)
    query = "{ failedJobs(first: 20) { nodes { id status funcName args kwargs createdAt endedAt excInfo } } }"
    assert len(_run(gateway_schema.schema, query, service)["data"]["failedJobs"]["nodes"]) == 20
    assert "Job" not in executed
    assert executed == ["Query", "JobConnection"]
    assert gateway_schema.schema.execution_context_class is LeafObjectExecutionContext
