"""Several Redis instances in one gateway (README "Several Redis instances"): two real
redis-servers behind one app; `?instance=` on every REST route, GraphQL `instances` and
`instance(name:)`, keys limited by `INSTANCE:QUEUE`, and one instance stopped mid-test."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import yaml
from fastapi.testclient import TestClient
from rq import Queue
from starlette.websockets import WebSocketDisconnect

from gateway.apikeys import hash_key
from gateway.app import create_app
from gateway.config import Settings
from gateway.demo import jobs
from gateway.services.audit import AUDIT_STREAM
from tests.live_session import PROTOCOL, Session
from tests.metrics_scrape import scrape

from .helpers import RedisServer, failed_ids, run_worker

README = (Path(__file__).parents[2] / "README.md").read_text()
VIEWER_B = "rqg_viewer-of-b-billing"
VIEWER_A = "rqg_viewer-of-everything-on-default"


def _fail(url: str, queue: str, count: int) -> list[str]:
    connection = redis.Redis.from_url(url)
    try:
        q = Queue(queue, connection=connection)
        ids = [q.enqueue(jobs.parse_report, f"bad-{i}").id for i in range(count)]
        run_worker(url, (queue,))
        assert set(ids) <= set(failed_ids(connection, queue))
        return ids
    finally:
        connection.close()


@pytest.fixture
def two(redis_url: str, second: RedisServer) -> Iterator[tuple[TestClient, list[str], list[str]]]:
    """The session server as `default` (2 failed jobs), the second as `b` (3 failed, in billing)."""
    on_a = _fail(redis_url, "default", 2)
    on_b = _fail(second.url, "billing", 3)
    app = create_app(Settings(redis_url=redis_url, redis_instances=(f"b={second.url}",), redis_timeout=1))
    try:
        yield TestClient(app), on_a, on_b
    finally:
        for name in app.state.instances.names:
            app.state.instances.service(name).connection.close()


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return sorted(job["job_id"] for job in response.json())


def test_rest_routes_take_the_instance_parameter(two):
    client, on_a, on_b = two
    # The default instance answers as before, with or without its name.
    assert _ids(client.get("/api/v1/jobs/failed")) == sorted(on_a)
    assert _ids(client.get("/api/v1/jobs/failed", params={"instance": "default"})) == sorted(on_a)
    assert _ids(client.get("/api/v1/jobs/failed", params={"queue": "billing", "instance": "b"})) == sorted(
        on_b
    )
    job = client.get(f"/api/v1/jobs/status/{on_b[0]}", params={"instance": "b"})
    assert job.status_code == 200 and job.json()["job_id"] == on_b[0]
    assert client.get(f"/api/v1/jobs/status/{on_b[0]}").status_code == 404  # not on the default
    # A mutation acts on the named instance only.
    retried = client.post(
        f"/api/v1/jobs/failed/{on_b[0]}/retry", params={"queue": "billing", "instance": "b"}
    )
    assert retried.status_code == 200, retried.text
    assert _ids(client.get("/api/v1/jobs/failed", params={"queue": "billing", "instance": "b"})) == sorted(
        on_b[1:]
    )
    assert _ids(client.get("/api/v1/jobs/failed")) == sorted(on_a)
    # Audited once, in the default instance's trail, naming the instance it acted on.
    trail = client.app.state.instances.service(None).connection.xrevrange(AUDIT_STREAM)
    records = [json.loads(fields[b"record"]) for _, fields in trail]
    assert [(r["action"], r["instance"], r["job_ids"]) for r in records] == [("retry", "b", [on_b[0]])]
    # Read through either instance, the audit log is that one trail (the console's audit page on b).
    for instance in ("default", "b"):
        entries = client.get("/api/v1/audit", params={"instance": instance}).json()["entries"]
        assert [(e["action"], e["job_ids"]) for e in entries] == [("retry", [on_b[0]])], instance


def test_every_keyed_route_documents_the_instance_parameter(two):
    client, _, _ = two
    spec = client.get("/openapi.json").json()
    keyed = [
        (path, method, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if operation.get("security")
    ]
    assert keyed, "no keyed route found"
    for path, method, operation in keyed:
        names = [p["name"] for p in operation.get("parameters", [])]
        assert "instance" in names, f"{method.upper()} {path} does not take ?instance="


def test_an_unknown_instance_is_a_404_that_names_it(two):
    client, _, _ = two
    response = client.get("/api/v1/jobs/failed", params={"instance": "nope"})
    assert response.status_code == 404
    assert response.json()["detail"] == "Redis instance 'nope' is not configured"
    body = client.post(
        "/graphql", json={"query": '{ instance(name: "nope") { queues { queueName } } }'}
    ).json()
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_graphql_instances_and_instance_fields(two):
    client, on_a, on_b = two
    query = """{
      instances { name healthy }
      default: failedJobs { totalCount }
      b: instance(name: "b") { failedJobs(queue: "billing") { totalCount nodes { id } } }
      a: instance(name: "default") { failedJobs { totalCount } }
    }"""
    body = client.post("/graphql", json={"query": query}).json()
    assert "errors" not in body, body
    data = body["data"]
    assert data["instances"] == [{"name": "default", "healthy": True}, {"name": "b", "healthy": True}]
    assert data["default"]["totalCount"] == len(on_a)
    assert data["a"]["failedJobs"]["totalCount"] == len(on_a)
    assert data["b"]["failedJobs"]["totalCount"] == len(on_b)
    assert sorted(node["id"] for node in data["b"]["failedJobs"]["nodes"]) == sorted(on_b)


def test_one_instance_down_never_fails_another(two, second: RedisServer):
    client, on_a, _ = two
    assert client.get("/readyz").json()["status"] == "ready"
    second.stop()
    down = client.get("/api/v1/jobs/failed", params={"queue": "billing", "instance": "b"})
    assert down.status_code == 503
    assert down.json()["detail"].startswith("Redis instance 'b': ")
    # The default instance still answers, REST and GraphQL, in the same request as the failure.
    assert _ids(client.get("/api/v1/jobs/failed")) == sorted(on_a)
    body = client.post(
        "/graphql",
        json={
            "query": "{ failedJobs { totalCount } "
            'b: instance(name: "b") { failedJobs(queue: "billing") { totalCount } } }'
        },
    ).json()
    assert body["data"]["failedJobs"]["totalCount"] == len(on_a)
    assert body["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert "'b'" in body["errors"][0]["message"]
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "degraded"
    assert [(i["name"], i["healthy"]) for i in ready.json()["instances"]] == [("default", True), ("b", False)]


def test_keys_limited_to_an_instance(redis_url: str, second: RedisServer):
    _fail(redis_url, "billing", 1)
    on_b = _fail(second.url, "billing", 2)
    keys = f"vb:viewer:{hash_key(VIEWER_B)}:b:billing*;va:viewer:{hash_key(VIEWER_A)}:default:*"
    app = create_app(Settings(redis_url=redis_url, redis_instances=(f"b={second.url}",), api_keys=keys))
    client = TestClient(app)
    as_b = {"Authorization": f"Bearer {VIEWER_B}"}
    as_a = {"Authorization": f"Bearer {VIEWER_A}"}
    params = {"queue": "billing", "instance": "b"}
    assert _ids(client.get("/api/v1/jobs/failed", params=params, headers=as_b)) == sorted(on_b)
    # The same queue name on another instance is not in the key's patterns.
    assert client.get("/api/v1/jobs/failed", params={"queue": "billing"}, headers=as_b).status_code == 403
    # An instance the key may not see answers as one that does not exist (the test below).
    assert client.get("/api/v1/jobs/failed", params=params, headers=as_a).status_code == 404
    assert client.get("/api/v1/jobs/failed", params={"queue": "billing"}, headers=as_a).status_code == 200
    listed = client.post("/graphql", json={"query": "{ instances { name } }"}, headers=as_b).json()
    assert listed["data"]["instances"] == [{"name": "b"}]


def test_an_instance_a_limited_key_may_not_see_answers_as_one_that_does_not_exist(
    redis_url: str, second: RedisServer
):
    """A key whose patterns all name instance b, asking for the default instance by name, got 403
    (no queue of its there) where a name of no instance got 404: it could probe which instance
    names are configured. Every place that takes an instance name now answers both alike: REST's
    `?instance=`, GraphQL's `instance(name:)` and `/graphql?instance=`, and the websocket's."""
    keys = f"vb:viewer:{hash_key(VIEWER_B)}:b:billing*"
    app = create_app(Settings(redis_url=redis_url, redis_instances=(f"b={second.url}",), api_keys=keys))
    client = TestClient(app, headers={"Authorization": f"Bearer {VIEWER_B}"})

    def answers(name: str) -> list[object]:
        seen: list[object] = []
        for path in ("/api/v1/jobs/failed", "/api/v1/queues", "/api/v1/workers"):
            response = client.get(path, params={"instance": name, "queue": "billing"})
            seen.append((response.status_code, response.text.replace(name, "NAME")))
        for url, query in (
            ("/graphql", f'{{ instance(name: "{name}") {{ queues {{ queueName }} }} }}'),
            (f"/graphql?instance={name}", "{ queues { queueName } workers { name } }"),
            (f"/graphql?instance={name}", 'mutation { cleanupQueue(name: "billing") { __typename } }'),
        ):
            response = client.post(url, json={"query": query})
            seen.append((response.status_code, response.text.replace(name, "NAME")))
        socket = client.websocket_connect(f"/graphql?instance={name}", subprotocols=[PROTOCOL])
        with socket as ws, pytest.raises(WebSocketDisconnect) as closed:
            Session(ws).init(VIEWER_B)
        seen.append((closed.value.code, closed.value.reason.replace(name, "NAME")))
        return seen

    hidden, unknown = answers("default"), answers("nope")
    assert hidden == unknown
    assert hidden[0] == (404, '{"detail":"Redis instance \'NAME\' is not configured"}')
    assert json.loads(hidden[3][1])["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert hidden[-1] == (4403, "Redis instance 'NAME' is not configured")
    # Its own instance answers; without a valid key, the name is checked after the key, as before.
    assert client.get("/api/v1/queues", params={"instance": "b"}).status_code == 200
    anonymous = client.get("/api/v1/queues", params={"instance": "default"}, headers={"Authorization": ""})
    assert anonymous.status_code == 401


def test_graphql_mutations_act_on_the_instance_the_request_names(two):
    client, on_a, on_b = two
    mutation = {"query": f'mutation {{ retryFailedJob(id: "{on_b[0]}", queue: "billing") {{ success }} }}'}
    # On the default instance the job does not exist; with ?instance=b it is retried there.
    refused = client.post("/graphql", json=mutation).json()
    assert refused["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    done = client.post("/graphql", params={"instance": "b"}, json=mutation).json()
    assert "errors" not in done, done
    assert _ids(client.get("/api/v1/jobs/failed", params={"queue": "billing", "instance": "b"})) == sorted(
        on_b[1:]
    )
    assert _ids(client.get("/api/v1/jobs/failed")) == sorted(on_a)


ADMIN_B = "rqg_admin-of-instance-b"
OPERATOR = "rqg_operator-everywhere"


def test_an_admin_limited_to_one_instance_reads_only_that_instances_audit_records(
    redis_url: str, second: RedisServer
):
    """Every instance's mutations are audited in the one trail of the default instance; a key
    whose patterns name only instance b (here `b:*`, bound to b as `*`) reads b's records alone,
    not the same queue's records on another instance."""
    on_a = _fail(redis_url, "billing", 1)
    on_b = _fail(second.url, "billing", 1)
    keys = f"ab:admin:{hash_key(ADMIN_B)}:b:*;op:operator:{hash_key(OPERATOR)}"
    client = TestClient(
        create_app(Settings(redis_url=redis_url, redis_instances=(f"b={second.url}",), api_keys=keys))
    )
    operator = {"Authorization": f"Bearer {OPERATOR}"}
    for job_id, instance in ((on_a[0], None), (on_b[0], "b")):
        params = {"queue": "billing", **({"instance": instance} if instance else {})}
        assert client.post(f"/api/v1/jobs/failed/{job_id}/retry", params=params, headers=operator).is_success
    admin_b = {"Authorization": f"Bearer {ADMIN_B}"}
    entries = client.get("/api/v1/audit", params={"instance": "b"}, headers=admin_b).json()["entries"]
    assert [e["job_ids"] for e in entries] == [[on_b[0]]]


def test_the_default_instance_down_is_not_blamed_on_another_nor_fails_it(redis_url: str, second: RedisServer):
    """The audit trail lives in the default instance. With the default down, reading the trail
    through `?instance=b` is a 503 that names the default, and b's own requests go on: its
    fail-fast window is not opened by the default's failure, and its mutations act, their records
    in the log only."""
    app = create_app(Settings(redis_url=second.url, redis_instances=(f"b={redis_url}",), redis_timeout=1))
    client = TestClient(app)
    try:
        second.stop()
        for _ in range(2):  # the second falls in the default's fail-fast window: the same words
            audit = client.get("/api/v1/audit", params={"instance": "b"})
            assert audit.status_code == 503
            assert audit.json()["detail"].startswith("Redis instance 'default': ")
        (error,) = client.post("/graphql?instance=b", json={"query": "{ auditLog { totalCount } }"}).json()[
            "errors"
        ]
        assert error["message"].startswith("Redis instance 'default': ")
        assert client.get("/api/v1/workers/suspension", params={"instance": "b"}).status_code == 200
        suspended = client.post("/api/v1/workers/suspend", params={"instance": "b", "duration": 60})
        assert suspended.status_code == 200
        assert client.post("/api/v1/workers/resume", params={"instance": "b"}).status_code == 200
    finally:
        for name in app.state.instances.names:
            app.state.instances.service(name).connection.close()


def test_with_the_default_down_a_query_that_reads_it_through_instance_keeps_the_others_answers(
    redis_url: str, second: RedisServer
):
    """README "Several Redis instances": a top-level field is non-null, so its error nulls the
    whole `data`; the same read through `instance(name: "default")` nulls only its own part."""
    app = create_app(Settings(redis_url=second.url, redis_instances=(f"b={redis_url}",), redis_timeout=1))
    client = TestClient(app)
    try:
        second.stop()
        names = "{ queues { queueName } }"
        both = f'{{ d: instance(name: "default") {names} b: instance(name: "b") {names} }}'
        answer = client.post("/graphql", json={"query": both}).json()
        assert answer["data"] == {"d": None, "b": {"queues": []}}
        assert [error["extensions"]["code"] for error in answer["errors"]] == ["SERVICE_UNAVAILABLE"]
        root = client.post(
            "/graphql",
            json={"query": '{ queues { queueName } b: instance(name: "b") { queues { queueName } } }'},
        )
        assert root.json()["data"] is None
    finally:
        for name in app.state.instances.names:
            app.state.instances.service(name).connection.close()


def test_readyz_names_only_the_instances_the_caller_may_see(redis_url: str, second: RedisServer):
    """With keys configured, the open probe answers everyone the same status and status code,
    and names an instance (or tells its failure) only to a key that may see it: a key limited
    to instance b could otherwise read the other names here, which every keyed route hides."""
    keys = f"vb:viewer:{hash_key(VIEWER_B)}:b:billing*;va:viewer:{hash_key(VIEWER_A)}"
    app = create_app(Settings(redis_url=redis_url, redis_instances=(f"b={second.url}",), api_keys=keys))
    client = TestClient(app)
    second.stop()

    def probe(key: str | None) -> tuple[int, dict]:
        response = client.get("/readyz", headers={"Authorization": f"Bearer {key}"} if key else {})
        return response.status_code, response.json()

    assert probe(None) == (200, {"status": "degraded", "instances": []})
    assert probe("rqg_not-a-key") == (200, {"status": "degraded", "instances": []})
    status, body = probe(VIEWER_B)
    assert (status, body["status"], [(i["name"], i["healthy"]) for i in body["instances"]]) == (
        200,
        "degraded",
        [("b", False)],
    )
    assert body["instances"][0]["reason"]
    status, body = probe(VIEWER_A)
    assert [(i["name"], i["healthy"]) for i in body["instances"]] == [("default", True), ("b", False)]


def test_readyz_with_every_instance_down_tells_no_name_without_a_key():
    keys = f"va:viewer:{hash_key(VIEWER_A)}"
    settings = Settings(
        redis_url="redis://127.0.0.1:1",
        redis_instances=("b=redis://127.0.0.1:2",),
        redis_timeout=0.5,
        api_keys=keys,
    )
    client = TestClient(create_app(settings), raise_server_exceptions=False)
    anonymous = client.get("/readyz")
    assert anonymous.status_code == 503 and anonymous.headers["retry-after"]
    assert anonymous.json() == {"detail": "No Redis instance answers"}
    keyed = client.get("/readyz", headers={"Authorization": f"Bearer {VIEWER_A}"})
    assert keyed.status_code == 503
    assert keyed.json()["detail"].startswith("No Redis instance answers: ")
    assert "'b'" in keyed.json()["detail"]


def test_metrics_scrape_the_instance_the_request_names(redis_url: str, second: RedisServer):
    """`/metrics?instance=b` (Prometheus's `params` scrape setting) gives instance b's RQ gauges,
    as every keyed route takes `?instance=`; a key limited to b's billing* sees those queues only,
    and an instance it may not see, like a name of none, is a 404, key or --metrics-public."""
    on_a = _fail(redis_url, "default", 1)
    on_b = _fail(second.url, "billing", 2)
    keys = f"vb:viewer:{hash_key(VIEWER_B)}:b:billing*;va:viewer:{hash_key(VIEWER_A)}"
    instances = (f"b={second.url}",)
    client = TestClient(create_app(Settings(redis_url=redis_url, redis_instances=instances, api_keys=keys)))

    def failed_counts(key: str, **params: str) -> dict[str, float]:
        found = scrape(client, headers={"Authorization": f"Bearer {key}"}, params=params)
        return {
            s.labels["queue"]: s.value for s in found["rq_jobs"].samples if s.labels["status"] == "failed"
        }

    assert failed_counts(VIEWER_A)["default"] == len(on_a)
    assert failed_counts(VIEWER_A, instance="b")["billing"] == len(on_b)
    assert "default" not in failed_counts(VIEWER_A, instance="b")
    assert failed_counts(VIEWER_B, instance="b") == {"billing": len(on_b)}
    hidden = client.get(
        "/metrics", params={"instance": "default"}, headers={"Authorization": f"Bearer {VIEWER_B}"}
    )
    unknown = client.get(
        "/metrics", params={"instance": "nope"}, headers={"Authorization": f"Bearer {VIEWER_B}"}
    )
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.json()["detail"].replace("default", "NAME") == unknown.json()["detail"].replace(
        "nope", "NAME"
    )

    public = TestClient(
        create_app(Settings(redis_url=redis_url, redis_instances=instances, metrics_public=True))
    )
    found = scrape(public, params={"instance": "b"})
    assert any(s.labels["queue"] == "billing" for s in found["rq_jobs"].samples)
    assert public.get("/metrics", params={"instance": "nope"}).status_code == 404


def test_the_readmes_scrape_configs_scrape_what_they_say(redis_url: str, second: RedisServer):
    """Each Prometheus scrape job of README "Monitoring", requested as Prometheus would (its
    metrics_path and params, its bearer key), answers that instance's gauges."""
    monitoring = README.split("\n## Monitoring\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```yaml\n(.*?)```", monitoring, re.S)
    jobs = [job for block in blocks for job in _scrape_jobs(block)]
    assert [job["job_name"] for job in jobs] == ["rq-gateway", "rq-gateway-billing"]
    _fail(redis_url, "default", 1)
    _fail(second.url, "invoices", 1)
    instances = (f"billing={second.url}",)
    client = TestClient(
        create_app(
            Settings(
                redis_url=redis_url, redis_instances=instances, api_keys=f"p:viewer:{hash_key(VIEWER_A)}"
            )
        )
    )
    for job, queue in zip(jobs, ("default", "invoices"), strict=True):
        assert job["authorization"]["type"] == "Bearer"
        params = {name: values[0] for name, values in job.get("params", {}).items()}
        found = scrape(client, headers={"Authorization": f"Bearer {VIEWER_A}"}, params=params)
        queues = {sample.labels["queue"] for sample in found["rq_jobs"].samples}
        assert queue in queues, (job["job_name"], queues)
        assert ("invoices" in queues) == (queue == "invoices")


def _scrape_jobs(block: str) -> list[dict]:
    loaded = yaml.safe_load(
        block if block.lstrip().startswith(("#", "scrape_configs")) else f"scrape_configs:\n{block}"
    )
    return loaded["scrape_configs"]
