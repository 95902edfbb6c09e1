"""The GraphQL cost limit (gateway/graphql/cost.py): computed before execution, with variables,
fragments and aliases counted; refused with BAD_REQUEST, the cost and the limit."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from graphql import get_introspection_query, parse
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from gateway.config import Settings
from gateway.graphql.cost import HEAVY_FIELDS, LIST_ESTIMATE, operation_cost
from gateway.graphql.schema import schema
from gateway.services import JobService
from tests.keyed import code_of, gql, keyed_client


def aliased_pages(count: int) -> str:
    return (
        "{ "
        + " ".join(f"a{i}: failedJobs(first: 1000) {{ nodes {{ excInfo }} }}" for i in range(count))
        + " }"
    )


# The review's query: 30 aliases of a full page of tracebacks (190 MB answered).
REVIEW_QUERY = aliased_pages(30)
EVERY_JOB_FIELD = (
    "id status funcName args kwargs createdAt enqueuedAt startedAt endedAt result excInfo origin "
    "description isFinished isFailed isStarted isQueued location { queue registry } dependencyIds"
)


def cost(query: str, **variables) -> int:
    return operation_cost(schema._schema, parse(query), variables)


def test_the_cost_counts_pages_heavy_fields_variables_fragments_and_aliases():
    assert cost("{ failedJobs(first: 10) { nodes { id } } }") == 1 + 10
    assert cost("{ failedJobs(first: 10) { nodes { id excInfo } } }") == 1 + 10 * 11
    assert cost("{ failedJobs { nodes { id } } }") == 1 + 100  # the resolvers' default page
    assert cost("{ failedJobs(first: null) { nodes { id } } }") == 1 + 100
    assert cost("query($n: Int) { failedJobs(first: $n) { nodes { id } } }", n=7) == 1 + 7
    assert cost("query($n: Int = 3) { failedJobs(first: $n) { nodes { id } } }") == 1 + 3
    assert cost("{ a: failedJobs(first: 5) { nodes { id } } b: failedJobs(first: 5) { nodes { id } } }") == 12
    fragment = "{ failedJobs(first: 4) { ...C } } fragment C on JobConnection { nodes { ...J } } "
    assert cost(fragment + "fragment J on Job { id result }") == 1 + 4 * 11
    inline = "{ failedJobs(first: 4) { ... on JobConnection { edges { node { ... on Job { args } } } } } }"
    assert cost(inline) == 1 + 4 * (1 + 1 + HEAVY_FIELDS[("Job", "args")])
    # A list the query does not bound counts LIST_ESTIMATE items, and multiplies what it holds.
    assert cost("{ queues { queueName jobs(first: 2) { nodes { id } } } }") == LIST_ESTIMATE * (1 + 1 + 2)
    assert cost("{ __typename queueStats { failedCount } }") == 1


def test_introspection_costs_nothing():
    query = get_introspection_query(
        descriptions=True, specified_by_url=True, directive_is_repeatable=True, schema_description=True
    )
    assert cost(query) == 0


def test_the_default_limit_admits_a_full_page_of_every_field_and_refuses_the_review_query():
    limit = Settings().graphql_max_cost
    assert cost(f"{{ failedJobs(first: 1000) {{ totalCount nodes {{ {EVERY_JOB_FIELD} }} }} }}") <= limit
    assert (
        cost(f"{{ failedJobs(first: 1000) {{ edges {{ cursor node {{ {EVERY_JOB_FIELD} }} }} }} }}") <= limit
    )
    assert cost(REVIEW_QUERY) > limit
    # Ten aliases of a page of 1000 tracebacks (502 MB answered in the review).
    assert cost(aliased_pages(10)) > limit


def test_the_review_query_is_refused_before_any_resolver_runs(conn, monkeypatch):
    calls = []
    monkeypatch.setattr(JobService, "failed_page", lambda *args, **kwargs: calls.append(args))
    body = gql(keyed_client(conn, "viewer"), REVIEW_QUERY)
    assert code_of(body) == "BAD_REQUEST" and body["data"] is None
    (error,) = body["errors"]
    computed, limit = cost(REVIEW_QUERY), Settings().graphql_max_cost
    assert error["extensions"] == {"code": "BAD_REQUEST", "cost": computed, "maxCost": limit}
    assert f"Query cost {computed} exceeds the limit of {limit}" in error["message"]
    assert calls == []


def test_a_page_of_1000_failed_jobs_with_tracebacks_passes(conn, factory):
    factory.failed(3)
    body = gql(keyed_client(conn, "viewer"), "{ failedJobs(first: 1000) { nodes { id excInfo } } }")
    assert "errors" not in body
    assert len(body["data"]["failedJobs"]["nodes"]) == 3
    assert all("Traceback" in node["excInfo"] for node in body["data"]["failedJobs"]["nodes"])


def test_graphiql_introspection_passes_the_cost_limit(conn):
    body = gql(keyed_client(conn, "viewer", graphql_max_cost=1), get_introspection_query(descriptions=True))
    assert "errors" not in body and body["data"]["__schema"]["queryType"]["name"] == "Query"


def test_a_variable_is_counted_with_its_value(conn):
    client = keyed_client(conn, "viewer", graphql_max_cost=50)
    query = "query($n: Int) { failedJobs(first: $n) { nodes { id } } }"
    assert code_of(gql(client, query, n=49)) is None
    refused = gql(client, query, n=50)
    assert code_of(refused) == "BAD_REQUEST" and refused["errors"][0]["extensions"]["cost"] == 51


def test_bad_variables_get_their_own_error_not_a_cost(conn):
    body = gql(keyed_client(conn, "viewer"), "query($n: Int) { failedJobs(first: $n) { totalCount } }", n="x")
    assert code_of(body) == "BAD_REQUEST" and "$n" in body["errors"][0]["message"]


def test_the_limit_is_a_cli_option_with_an_environment_twin(monkeypatch):
    import uvicorn

    from gateway.cli import main

    apps = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: apps.append(app))
    for option in main.commands["serve"].params:
        monkeypatch.delenv(option.envvar, raising=False)
    redis = ["--redis-url", "redis://127.0.0.1:1/0"]
    assert CliRunner().invoke(main, ["serve", *redis, "--graphql-max-cost", "123"]).exit_code == 0
    result = CliRunner().invoke(main, ["serve", *redis], env={"RQ_GATEWAY_GRAPHQL_MAX_COST": "77"})
    assert result.exit_code == 0
    assert [app.state.settings.graphql_max_cost for app in apps] == [123, 77]
    assert "--graphql-max-cost" in CliRunner().invoke(main, ["serve", "--help"]).output


# Property: for generated queries over real jobs, the computed cost bounds the answer. A query the
# limit admits never returns more (objects, heavy fields weighted) than the limit; one it refuses
# is refused with that cost before execution.
MAX_COST = 1500
_JOB_FIELDS = ["id", "funcName", "origin", "excInfo", "result", "args", "kwargs", "description"]
_HEAVY = {field: weight for (type_name, field), weight in HEAVY_FIELDS.items()}


@st.composite
def _queries(draw) -> tuple[str, dict]:
    variables: dict[str, int] = {}
    fragments: dict[str, str] = {}

    def first() -> str:
        kind = draw(st.sampled_from(["literal", "variable", "default", "null"]))
        if kind == "literal":
            return f"(first: {draw(st.integers(0, 40))})"
        if kind == "variable":
            name = f"v{len(variables)}"
            variables[name] = draw(st.integers(0, 40))
            return f"(first: ${name})"
        return "" if kind == "default" else "(first: null)"

    def job() -> str:
        fields = " ".join(draw(st.lists(st.sampled_from(_JOB_FIELDS), min_size=1, max_size=5)))
        if draw(st.booleans()):
            name = f"J{len(fragments)}"
            fragments[name] = f"fragment {name} on Job {{ {fields} }}"
            return f"...{name}"
        return fields

    def connection() -> str:
        parts = draw(st.lists(st.sampled_from(["nodes", "edges", "totalCount", "pageInfo"]), min_size=1))
        shapes = {
            "nodes": lambda: f"nodes {{ {job()} }}",
            "edges": lambda: f"edges {{ cursor node {{ {job()} }} }}",
            "totalCount": lambda: "totalCount",
            "pageInfo": lambda: "pageInfo { hasNextPage }",
        }
        return " ".join(shapes[part]() for part in parts)

    roots = {
        "failed": lambda: f"failedJobs{first()} {{ {connection()} }}",
        "billing": lambda: (
            f'failedJobs(queue: "billing", first: {draw(st.integers(0, 40))}) {{ {connection()} }}'
        ),
        "queue": lambda: (
            f'queue(name: "default") {{ jobs(state: FAILED, first: {draw(st.integers(0, 40))}) '
            f"{{ {connection()} }} }}"
        ),
        "queues": lambda: f"queues {{ queueName jobs(state: FAILED, first: 1) {{ {connection()} }} }}",
    }
    chosen = draw(st.lists(st.sampled_from(sorted(roots)), min_size=1, max_size=4))
    body = " ".join(f"a{i}: {roots[name]()}" for i, name in enumerate(chosen))
    declared = ", ".join(f"${name}: Int" for name in variables)
    operation = f"query({declared}) {{ {body} }}" if declared else f"{{ {body} }}"
    return " ".join([operation, *fragments.values()]), variables


def answered_cost(data: dict) -> int:
    """The answer's objects (besides `data` itself), each counting 1, plus the weight of each heavy
    field (whose JSON value, e.g. a dict of kwargs, is one field, not objects of the schema)."""

    def count(value) -> int:
        if isinstance(value, list):
            return sum(count(item) for item in value)
        if not isinstance(value, dict):
            return 0
        return 1 + sum(_HEAVY[key] if key in _HEAVY else count(item) for key, item in value.items())

    return count(data) - 1


@pytest.fixture
def seeded(conn, factory):
    factory.failed(12)
    factory.failed(5, queue="billing")
    return keyed_client(conn, "viewer", graphql_max_cost=MAX_COST)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=_queries())
def test_an_admitted_query_never_answers_more_than_the_limit(seeded, case):
    query, variables = case
    computed = cost(query, **variables)
    body = gql(seeded, query, **variables)
    event("refused" if computed > MAX_COST else "admitted")
    if computed > MAX_COST:
        assert body["data"] is None
        assert body["errors"][0]["extensions"] == {
            "code": "BAD_REQUEST",
            "cost": computed,
            "maxCost": MAX_COST,
        }, (query, body)
        return
    assert "errors" not in body, body["errors"]
    assert answered_cost(body["data"]) <= computed <= MAX_COST


def test_the_bound_is_exact_when_the_registry_fills_the_page(seeded):
    query = "{ failedJobs(first: 12) { nodes { id excInfo } edges { node { args } } } }"
    body = gql(seeded, query)
    assert answered_cost(body["data"]) == cost(query) == 1 + 12 * 11 + 12 * (1 + 1 + 5)
