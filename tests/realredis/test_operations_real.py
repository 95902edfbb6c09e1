"""Tracked operations on a real Redis with jobs a real worker failed: each selector, dry runs,
idempotency, cancel, roles, audit, GraphQL, and a dead runner's operation taken over by another
(services/operations/). The kill -9 of a whole gateway process is test_operations_crash.py."""

from __future__ import annotations

import json
import time

import pytest
import redis
from fastapi.testclient import TestClient
from rq import Queue
from rq.job import Job
from rq.serializers import resolve_serializer

from gateway.app import create_app
from gateway.config import Settings
from gateway.demo import jobs
from gateway.services import JobService
from gateway.services.audit import AUDIT_STREAM
from gateway.services.domain.outcome import Outcome
from gateway.services.operations import store as stored
from gateway.services.operations.chunks import Chunk, ChunkAction, walk_for
from gateway.services.operations.model import Selector
from gateway.services.operations.registry_steps import RegistrySteps
from gateway.services.redis import scripts
from gateway.services.redis.registry import RegistryReader
from gateway.services.writes.failed_actions import FailedJobActions
from tests.keyed import API_KEYS, bearer

from .helpers import failed_ids, keyspace, queued_ids, wait_until
from .processes import assert_clear_consistent, assert_retry_consistent

OPS = "/api/v1/operations"


def _finished(client: TestClient, operation_id: str, **headers: str) -> dict:
    def ended():
        body = client.get(f"{OPS}/{operation_id}", headers=headers).json()
        return body if body["status"] != "running" else None

    return wait_until(ended, 60, f"operation {operation_id} to end")


def _start(client: TestClient, body: dict, **headers: str):
    return client.post(OPS, json=body, headers=headers)


def test_retry_all_operation_requeues_each_job_once_and_reports_it(client, r, fail_jobs):
    ids = fail_jobs(30)
    started = _start(client, {"action": "retry", "selector": {"all": True}})
    assert started.status_code == 202, started.text
    body = started.json()
    assert started.headers["Location"] == f"{OPS}/{body['id']}"
    assert (body["action"], body["queue"], body["selector"], body["total"]) == (
        "retry",
        "default",
        {"all": True},
        30,
    )

    done = _finished(client, body["id"])
    assert done["status"] == "succeeded" and done["finished_at"]
    assert (done["total"], done["done"], done["matched"], done["acted"], done["error_count"]) == (
        30,
        30,
        30,
        30,
        0,
    )
    assert sorted(queued_ids(r)) == sorted(ids) and failed_ids(r) == []
    assert assert_retry_consistent(r, ids) == {"queue": 30, "failed": 0}
    listed = client.get(OPS).json()["operations"]
    assert [op["id"] for op in listed] == [body["id"]]


def test_rate_limited_jobs_in_an_operation_over_every_job_go_through_rqs_own_requeue(client, r, fail_jobs):
    """RQ 3: the in-Redis walk leaves a rate-limited job in place and hands it back; the runner
    requeues it through RQ (which reacquires its slot), beside the plain jobs the walk requeued."""
    rate_limit = pytest.importorskip("rq.rate_limit", reason="RQ 3 rate limits").RateLimit
    limited = fail_jobs(2, rate_limit=rate_limit("k", 1))
    plain = fail_jobs(3)
    started = _start(client, {"action": "retry", "queue": "default", "selector": {"all": True}}).json()
    body = _finished(client, started["id"])
    assert (body["status"], body["done"], body["acted"], body["error_count"]) == ("succeeded", 5, 5, 0)
    assert failed_ids(r) == []
    assert set(plain) <= set(queued_ids(r))
    assert all(Job.fetch(job_id, connection=r).get_status() != "failed" for job_id in limited)


def _first_chunk_of_a_retry_of_every_job(r):
    """(runner, operation id, its lease token, the step): a retry operation over every failed
    job whose runner ran one chunk of 10 and nothing more, as one that died right after it."""
    service = JobService(r)
    service.use_operations()
    runner = service.operations_runner
    total, last = RegistryReader(r).last("rq:failed:default")
    assert last is not None
    token = runner.new_token()
    operation_id, _ = runner.store.create(
        "retry", "default", Selector("all", True), "k", total, last.cursor, token, None
    )
    step = RegistrySteps(r, "default", "retry", last.cursor, operation_id, token).step(10)
    return runner, operation_id, token, step


def test_rate_limited_jobs_a_dead_runner_left_are_handed_to_rq_by_the_one_that_resumes(r, fail_jobs):
    """A chunk's Lua call lists the rate-limited jobs it left for RQ's requeue in the operation,
    in the same step as its progress. The runner dies right after that call (here: the chunk runs
    and nothing more); the runner that resumes hands them to RQ first. Before, they stayed failed
    while the operation's position had moved past them."""
    rate_limit = pytest.importorskip("rq.rate_limit", reason="RQ 3 rate limits").RateLimit
    limited = fail_jobs(2, rate_limit=rate_limit("k", 1))
    plain = fail_jobs(2)
    runner, operation_id, token, step = _first_chunk_of_a_retry_of_every_job(r)
    assert (
        step is not None and step.ended and sorted(step.rate_limited) == sorted(m.encode() for m in limited)
    )
    assert sorted(runner.store.limited(operation_id)) == sorted(m.encode() for m in limited)

    runner.run(operation_id, token)  # the runner that resumes (the lease is still this token's)
    state = runner.store.state(operation_id)
    assert (state["status"], state["acted"], state["done"]) == ("succeeded", "4", "4")
    assert failed_ids(r) == []
    assert set(plain) <= set(queued_ids(r))
    assert all(Job.fetch(job_id, connection=r).get_status() != "failed" for job_id in limited)
    assert runner.store.limited(operation_id) == []


def test_a_stalled_runner_handing_over_beside_its_successor_leaves_no_rate_limited_job_failed(r, fail_jobs):
    """Both read the list of rate-limited jobs, then interleave: the stalled one hands over the
    first job, its successor finds it requeued already (RQ refuses it) and takes it off too. The
    second job must stay listed until one of them hands it over (popping the list's head took it
    off unhandled)."""
    rate_limit = pytest.importorskip("rq.rate_limit", reason="RQ 3 rate limits").RateLimit
    limited = fail_jobs(2, rate_limit=rate_limit("k", 1))
    runner, operation_id, _, step = _first_chunk_of_a_retry_of_every_job(r)
    assert step is not None
    first, second = runner.store.limited(operation_id)
    actions = FailedJobActions(r, "default", None)

    stalled_reads = runner.store.limited(operation_id)
    assert actions._finish_rate_limited(first, Outcome.RATE_LIMITED) == Outcome.DONE
    successor_reads = runner.store.limited(operation_id)
    runner.store.handed_over(operation_id, first, acted=True)  # the stalled runner
    assert actions._finish_rate_limited(first, Outcome.RATE_LIMITED) == Outcome.NOT_IN_REGISTRY
    runner.store.handed_over(operation_id, first, acted=False)  # its successor
    assert stalled_reads == successor_reads == [first, second]
    assert runner.store.limited(operation_id) == [second]
    assert int(runner.store.state(operation_id)["acted"]) == 1
    assert sorted(failed_ids(r)) == sorted([second.decode()])
    assert sorted(m.encode() for m in limited) == sorted([first, second])


def test_delete_operation_with_a_filter_deletes_only_the_matching_jobs(client, r, fail_jobs, worker):
    kept = fail_jobs(5)
    q = Queue("default", connection=r)
    doomed = [q.enqueue(jobs.fail_with, "KeyError", f"k{i}").id for i in range(7)]
    worker("default")

    dry = _start(
        client, {"action": "delete", "selector": {"filter": {"exc_type": "KeyError"}}, "dry_run": True}
    )
    assert dry.status_code == 200 and "Location" not in dry.headers
    # What the real run then reports: 12 examined, 7 matched and deleted.
    assert (dry.json()["total"], dry.json()["dry_run"], dry.json()["matched"], dry.json()["acted"]) == (
        12,
        True,
        7,
        7,
    )

    body = _start(client, {"action": "delete", "selector": {"filter": {"exc_type": "KeyError"}}}).json()
    done = _finished(client, body["id"])
    assert (done["status"], done["total"], done["matched"], done["acted"]) == ("succeeded", 12, 7, 7)
    assert sorted(failed_ids(r)) == sorted(kept)
    assert assert_clear_consistent(r, doomed) == {"deleted": 7, "failed": 0}


def test_job_ids_selector_lists_ids_not_in_the_registry_as_errors(client, r, fail_jobs):
    ids = fail_jobs(3)
    body = _start(client, {"action": "retry", "selector": {"job_ids": [ids[0], "nope", ids[2]]}}).json()
    done = _finished(client, body["id"])
    assert (done["total"], done["acted"], done["error_count"]) == (3, 2, 1)
    assert done["errors"] == [{"job_id": "nope", "error": "not found in failed jobs registry"}]
    assert failed_ids(r) == [ids[1]]


def test_an_entry_whose_id_is_not_utf8_is_named_in_errors_as_the_failed_list_names_it(client, r):
    """README: bytes that are not UTF-8 are shown with backslash escapes, in ids too. An
    operation's errors decoded them lossily (U+FFFD), so its error could not be matched back to
    the entry the list shows; the dry run too."""
    r.sadd("rq:queues", "rq:queue:dmg")
    r.zadd("rq:failed:dmg", {b"caf\xe9": 9_999_999_999})
    [listed] = client.get("/api/v1/jobs/failed", params={"queue": "dmg"}).json()
    assert listed["job_id"] == "caf\\xe9"
    body = {"action": "retry", "queue": "dmg", "selector": {"all": True}}
    dry = _start(client, body | {"dry_run": True}).json()
    done = _finished(client, _start(client, body).json()["id"])
    for answer in (dry, done):
        assert [error["job_id"] for error in answer["errors"]] == [listed["job_id"]], answer


def test_group_selector_takes_the_failure_groups_members(client, r, fail_jobs, worker):
    fail_jobs(4)
    q = Queue("default", connection=r)
    timeouts = [q.enqueue(jobs.fail_with, "TimeoutError", "slow").id for _ in range(3)]
    worker("default")
    groups = client.get("/api/v1/jobs/failed/groups").json()["groups"]
    (group,) = [g for g in groups if g["exc_type"] == "TimeoutError"]
    body = _start(client, {"action": "retry", "selector": {"group_id": group["group_id"]}}).json()
    assert _finished(client, body["id"])["acted"] == 3
    assert sorted(queued_ids(r)) == sorted(timeouts)


def test_a_search_selector_acts_on_every_match_and_its_dry_run_predicts_it(client, r, fail_jobs):
    ids = fail_jobs(12)  # parse_report("bad-default-0") ... ("bad-default-11")
    selector = {"query": 'args:"bad-default-1"'}  # -1, -10 and -11
    dry = _start(client, {"action": "retry", "selector": selector, "dry_run": True}).json()
    assert (dry["total"], dry["matched"], dry["acted"]) == (12, 3, 3)
    body = _start(client, {"action": "retry", "selector": selector}).json()
    done = _finished(client, body["id"])
    assert (done["status"], done["matched"], done["acted"], done["done"]) == ("succeeded", 3, 3, 12)
    assert sorted(queued_ids(r)) == sorted([ids[1], ids[10], ids[11]])
    bad = _start(client, {"action": "retry", "selector": {"query": "fnuc:x"}})
    assert bad.status_code == 422 and "position 0" in bad.json()["detail"]


def test_a_search_selector_walks_no_further_than_the_last_job_failed_when_it_started(r, fail_jobs, worker):
    """A search selector's walk went on to the registry's end, whenever it got there: a job its
    retry requeued and a worker failed again lay ahead of it once more, and was retried again,
    so with a worker running the operation never ended. It stops, as the other walks do, at the
    last job failed when the operation started."""
    ids = fail_jobs(6)
    _, last = RegistryReader(r).last("rq:failed:default")
    assert last is not None
    selector = Selector.parse({"query": "func:parse_report"})
    walk = walk_for(r, resolve_serializer(None), "default", selector, last.cursor)
    chunks = walk.chunks("", lambda: 2)
    first = next(chunks)
    assert first.job_ids == failed_ids(r)[:2]
    time.sleep(1.1)  # RQ scores a failure to the second: the next ones land after the bound
    for job_id in first.job_ids:  # what the operation's chunk does, then a worker fails them again
        Job.fetch(job_id, connection=r).requeue()
    worker("default")
    # Both now lie after the bound; in either order: failed in one second, Redis orders them by id,
    # where the first failures (seconds apart on a slow machine) lay in the order they failed.
    assert sorted(failed_ids(r)[-2:]) == sorted(first.job_ids)
    walked = first.job_ids + [job_id for chunk in chunks for job_id in chunk.job_ids]
    assert sorted(walked) == sorted(ids)


def test_a_dry_run_writes_nothing(client, r, fail_jobs):
    fail_jobs(10)
    before = keyspace(r)
    for selector in ({"all": True}, {"filter": {"func_name": "gateway.demo.jobs.parse_report"}}):
        answer = _start(client, {"action": "delete", "selector": selector, "dry_run": True})
        assert (answer.status_code, answer.json()["total"]) == (200, 10)
    after = keyspace(r)
    assert after.pop(AUDIT_STREAM.encode())  # a dry run is audited (as ACTION.dry_run), nothing else
    assert after == before


def test_an_idempotency_replay_starts_nothing_new(client, r, fail_jobs):
    fail_jobs(5)
    request = {"action": "retry", "selector": {"all": True}}
    first = _start(client, request, **{"Idempotency-Key": "nightly-42"})
    _finished(client, first.json()["id"])
    fail_jobs(5)  # the worker fails these and the 5 requeued again: a new operation would retry 10
    again = _start(client, request, **{"Idempotency-Key": "nightly-42"})
    assert (again.status_code, again.json()["id"]) == (202, first.json()["id"])
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(client.get(OPS).json()["operations"]) == 1
    assert r.zcard("rq:failed:default") == 10  # nothing acted on the new failures
    other = _start(client, {**request, "action": "delete"}, **{"Idempotency-Key": "nightly-42"})
    assert other.status_code == 422 and "another request" in other.json()["detail"]
    # The replay is audited as one, naming the operation it answered: it started nothing.
    entries = client.get("/api/v1/audit").json()["entries"]
    retries = [(e["action"], e.get("operation_id")) for e in entries if "operation_retry" in e["action"]]
    operation_id = first.json()["id"]
    retries.remove(("operation_retry.finish", operation_id))  # written as the first one ended
    assert retries == [("operation_retry.replay", operation_id), ("operation_retry", operation_id)]


def test_cancel_stops_within_one_chunk(slow_app, r, fail_jobs):
    fail_jobs(300)
    client = TestClient(slow_app)
    body = _start(client, {"action": "delete", "selector": {"all": True}}).json()
    wait_until(lambda: client.get(f"{OPS}/{body['id']}").json()["acted"] > 0, 30, "a first chunk")
    canceled = client.post(f"{OPS}/{body['id']}/cancel").json()
    assert canceled["status"] == "canceled" and canceled["finished_at"]
    thread = slow_app.state.service.operations_runner._threads[body["id"]]
    thread.join(timeout=10)
    assert not thread.is_alive()
    final = client.get(f"{OPS}/{body['id']}").json()
    assert final["status"] == "canceled"
    assert canceled["acted"] <= final["acted"] <= canceled["acted"] + 20  # at most the chunk under way
    assert final["acted"] < 300
    assert r.zcard("rq:failed:default") == 300 - final["acted"]  # the counts are what happened
    again = client.post(f"{OPS}/{body['id']}/cancel").json()
    assert again == final  # canceling an ended operation changes nothing


def _keyed(redis_url: str) -> TestClient:
    return TestClient(create_app(Settings(redis_url=redis_url, api_keys=API_KEYS)))


def test_an_operation_needs_the_role_of_its_action(redis_url, r, fail_jobs):
    fail_jobs(3)
    client = _keyed(redis_url)
    viewer, operator, admin = bearer("viewer"), bearer("operator"), bearer("admin")
    assert _start(client, {"action": "retry", "selector": {"all": True}}, **viewer).status_code == 403
    assert _start(client, {"action": "delete", "selector": {"all": True}}, **operator).status_code == 403
    slow = _start(client, {"action": "delete", "selector": {"all": True}, "dry_run": True}, **admin)
    assert slow.status_code == 200
    started = _start(client, {"action": "delete", "selector": {"job_ids": ["not-there"]}}, **admin).json()
    refused = client.post(f"{OPS}/{started['id']}/cancel", headers=operator)
    assert refused.status_code == 403 and "admin" in refused.json()["detail"]
    assert client.get(f"{OPS}/{started['id']}", headers=viewer).status_code == 200  # viewers watch


def test_start_cancel_and_finish_are_audited_with_the_operation_its_queue_and_its_count(
    redis_url, r, fail_jobs
):
    """Each record names the operation (`operation_id`) and its queue, the cancel's too (it names
    no queue of its own), and the finish counts the jobs acted on without listing them. Before,
    only the finish's request_id held the id, the cancel's queue was null and the finish said
    job_count 0."""
    fail_jobs(3)
    client = _keyed(redis_url)
    body = _start(client, {"action": "retry", "selector": {"all": True}}, **bearer("operator")).json()
    _finished(client, body["id"], **bearer("operator"))
    client.post(f"{OPS}/{body['id']}/cancel", headers=bearer("operator"))

    def records():
        found = [json.loads(fields[b"record"]) for _, fields in r.xrange(AUDIT_STREAM)]
        return found if len(found) >= 3 else None

    trail = wait_until(records, 10, "three audit records")
    # The finish may be recorded before the start: the start's record is written as its request ends.
    shown = ("action", "key", "queue", "outcome", "operation_id", "job_count", "job_ids")
    assert sorted(tuple(t.get(name) for name in shown) for t in trail) == [
        ("operation_cancel", "operator", "default", "ok", body["id"], 0, []),
        ("operation_retry", "operator", "default", "ok", body["id"], 0, []),
        ("operation_retry.finish", "operator", "default", "ok", body["id"], 3, []),
    ]
    (finish,) = [t for t in trail if t["action"].endswith(".finish")]
    assert finish["request_id"] == f"operation-{body['id']}"
    read_back = client.get("/api/v1/audit", headers=bearer("admin")).json()["entries"]
    assert sorted((e["action"], e["operation_id"], e["job_count"]) for e in read_back) == [
        ("operation_cancel", body["id"], 0),
        ("operation_retry", body["id"], 0),
        ("operation_retry.finish", body["id"], 3),
    ]


def test_graphql_starts_watches_and_lists_operations(client, r, fail_jobs):
    fail_jobs(4)
    started = client.post(
        "/graphql",
        json={
            "query": 'mutation { startOperation(action: RETRY, selector: {all: true}, idempotencyKey: "g1")'
            " { id status total dryRun } }"
        },
    ).json()["data"]["startOperation"]
    assert (started["status"] in ("running", "succeeded"), started["total"], started["dryRun"]) == (
        True,
        4,
        False,
    )
    rest = _finished(client, started["id"])
    watched = client.post(
        "/graphql",
        json={
            "query": "query($id: ID!) { operation(id: $id) { status acted errorCount } operations { id } }",
            "variables": {"id": started["id"]},
        },
    ).json()["data"]
    assert watched["operation"] == {"status": "succeeded", "acted": rest["acted"], "errorCount": 0}
    assert watched["operations"] == [{"id": started["id"]}]
    bad = client.post(
        "/graphql", json={"query": "mutation { startOperation(action: RETRY, selector: {}) { id } }"}
    ).json()
    assert bad["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def _runner_service(redis_url: str, max_rate: float = 0) -> JobService:
    service = JobService(redis.Redis.from_url(redis_url))
    service.use_operations(max_rate=max_rate)
    return service


def test_a_dead_runners_operation_is_taken_over_and_finishes_exactly_the_rest(redis_url, r, fail_jobs):
    """The first runner stops mid-walk (as a killed process would: no more chunks, its lease
    left to lapse); another process's resumer claims it and acts on the rest, each job once."""
    ids = fail_jobs(400)
    first = _runner_service(redis_url, max_rate=400)  # chunks of 40
    operation, _ = first.start_operation("retry", {"all": True})
    wait_until(lambda: first.operation(operation.id).acted >= 80, 30, "a few chunks")
    first.operations_runner.stop()
    first.operations_runner._threads[operation.id].join(timeout=10)
    paused = first.operation(operation.id)
    assert paused.status == "running" and 0 < paused.acted < 400

    second = _runner_service(redis_url)
    assert second.operations_runner.resume_orphans() == []  # the lease has not lapsed yet
    r.pexpire(stored.lease_key(operation.id), 1)
    wait_until(lambda: not r.exists(stored.lease_key(operation.id)), 5, "the lease to lapse")
    assert second.operations_runner.resume_orphans() == [operation.id]
    wait_until(lambda: second.operation(operation.id).status == "succeeded", 30, "the takeover to finish")
    final = second.operation(operation.id)
    assert (final.total, final.done, final.matched, final.acted) == (400, 400, 400, 400)
    assert assert_retry_consistent(r, ids) == {"queue": 400, "failed": 0}
    assert len(queued_ids(r)) == 400  # nothing pushed twice


def test_a_chunk_script_failing_on_the_data_ends_the_operation_failed_not_resumed_forever(
    redis_url, r, fail_jobs, monkeypatch
):
    """A Lua error or a key of another type fails the same chunk again on every resume: the
    operation ends `failed` (README: "an unexpected error; see the log") and frees its lease."""
    fail_jobs(3)
    # As a script bug or damaged data would: a command on a key of another type (the operation hash).
    monkeypatch.setattr(scripts, "OPERATION_WALK_REQUEUE", "return redis.call('INCR', KEYS[2])")
    service = _runner_service(redis_url)
    operation, _ = service.start_operation("retry", {"all": True})
    wait_until(lambda: service.operation(operation.id).status != "running", 30, "the operation to end")
    assert service.operation(operation.id).status == "failed"
    assert not r.exists(stored.lease_key(operation.id))
    assert service.operations_runner.resume_orphans() == []
    assert len(failed_ids(r)) == 3


def test_an_operation_redis_refuses_for_memory_pauses_and_resumes_once_memory_frees(
    redis_url, r, fail_jobs, monkeypatch
):
    ids = fail_jobs(3)
    service = _runner_service(redis_url)
    monkeypatch.setattr(service.operations_runner, "run_in_background", lambda *_: None)
    operation, _ = service.start_operation("retry", {"all": True})
    token = r.get(stored.lease_key(operation.id)).decode()
    r.config_set("maxmemory", 1)
    try:
        service.operations_runner.run(operation.id, token)  # its chunk refused: OOM
    finally:
        r.config_set("maxmemory", 0)
    assert service.operation(operation.id).status == "running"
    assert len(failed_ids(r)) == 3
    service.operations_runner.run(operation.id, token)
    assert service.operation(operation.id).status == "succeeded"
    assert assert_retry_consistent(r, ids) == {"queue": 3, "failed": 0}


def test_a_runner_whose_lease_was_taken_over_acts_on_nothing(redis_url, r, fail_jobs):
    ids = fail_jobs(5)
    service = _runner_service(redis_url, max_rate=1)  # chunks of 1, a second apart
    operation, _ = service.start_operation("delete", {"all": True})
    service.operations_runner.stop()
    service.operations_runner._threads[operation.id].join(timeout=10)
    left = failed_ids(r)
    assert len(left) >= 4  # at most one chunk of 1 ran before the stop
    r.set(stored.lease_key(operation.id), "someone-else")
    stale = ChunkAction(r, "default", "delete", Selector("all", True), operation.id, "the-old-token")
    assert stale.run(Chunk(list(ids), list(ids), len(ids), "")) is None
    assert failed_ids(r) == left


def test_the_operations_list_pages_to_older_ones_and_a_limited_keys_pages_are_full(r):
    """?after= / operations(after:) take the id of a page's last operation: the pages add up to
    the list, each once, operations started meanwhile shift nothing, a queue-limited key's pages
    hold only its queues' operations and are full, and a cursor not listed is a 422."""
    from .job_access import bearer as access_bearer
    from .job_access import keyed_app_client

    client = keyed_app_client(r)

    def start(queue: str) -> str:
        body = {"action": "retry", "queue": queue, "selector": {"job_ids": ["no-such-job"]}}
        answer = client.post(OPS, json=body, headers=access_bearer("operator-all"))
        assert answer.status_code == 202, answer.text
        return answer.json()["id"]

    for i in range(7):
        start("billing-eu" if i % 2 else "reports")
    listed = client.get(OPS, params={"first": 100}, headers=access_bearer("viewer-all")).json()
    everything = [op["id"] for op in listed["operations"]]
    billing = [op["id"] for op in listed["operations"] if op["queue"] == "billing-eu"]
    assert len(everything) == 7 and len(billing) == 3 and listed["next_cursor"] is None

    def pages(key: str, first: int) -> list[list[str]]:
        found, after = [], None
        while True:
            params = {"first": first, **({"after": after} if after else {})}
            body = client.get(OPS, params=params, headers=access_bearer(key)).json()
            found.append([op["id"] for op in body["operations"]])
            after = body["next_cursor"]
            if after is None:
                return found
            if len(found) == 1:
                start("reports")  # started between two pages: the newest, so on no later page

    assert pages("viewer-all", 3) == [everything[0:3], everything[3:6], everything[6:7]]
    assert pages("viewer-billing", 2) == [billing[0:2], billing[2:3]]

    query = "query($after: ID) { operations(limit: 3, after: $after) { id } }"
    variables = {"after": everything[2]}
    answer = client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=access_bearer("viewer-all")
    ).json()
    assert [op["id"] for op in answer["data"]["operations"]] == everything[3:6]

    unknown = client.get(OPS, params={"after": "0" * 32}, headers=access_bearer("viewer-all"))
    assert unknown.status_code == 422 and "Unknown cursor" in unknown.json()["detail"]
    invalid = client.get(OPS, params={"after": "nope"}, headers=access_bearer("viewer-all"))
    assert invalid.status_code == 422
    # An operation of a queue the key may not see is, as a cursor, as unknown as no operation:
    # its id answered a page where an id of none is a 422, so a limited key could probe ids.
    hidden = next(op for op in everything if op not in billing)

    def as_cursor(after: str) -> tuple[int, str]:
        answer = client.get(OPS, params={"after": after}, headers=access_bearer("viewer-billing"))
        return answer.status_code, answer.json()["detail"].replace(after, "ID")

    assert as_cursor(hidden) == as_cursor("0" * 32)
    assert as_cursor(hidden)[0] == 422
    graphql = client.post(
        "/graphql",
        json={"query": query, "variables": {"after": hidden}},
        headers=access_bearer("viewer-billing"),
    ).json()
    assert graphql["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
