"""An operation's own state in Redis, damaged: its hash of another type, fields that do not
parse, an errors list of another type or with entries that are not "code id". Damaged data is
shown where it is and never fails an answer about other data (README "Damaged data"): an
operation that cannot be read reads as absent (404, NOT_FOUND) and the list goes on without
it; a runner never acts on a request it cannot read back; a damaged operation in the running
set does not keep the others from being resumed."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import redis

from gateway.services import JobService
from gateway.services.operations import store as stored

from .helpers import failed_ids, wait_until

API = "/api/v1/operations"
GQL_ONE = "query($id: ID!) { operation(id: $id) { id status errors { jobId error } } }"
GQL_LIST = "{ operations(limit: 100) { id } }"


def _hash_of_another_type(r: redis.Redis, key: str) -> None:
    r.delete(key)
    r.set(key, "not a hash")


UNREADABLE: dict[str, Callable[[redis.Redis, str], object]] = {
    "another type": _hash_of_another_type,
    "total not a number": lambda r, key: r.hset(key, "total", "abc"),
    "selector not JSON": lambda r, key: r.hset(key, "selector", "{bad"),
    "selector a list": lambda r, key: r.hset(key, "selector", "[1, 2]"),
    "selector nested too deeply": lambda r, key: r.hset(key, "selector", "[" * 5000),
    "selector of no kind": lambda r, key: r.hset(key, "selector", '{"every": true}'),
    "action unknown": lambda r, key: r.hset(key, "action", "explode"),
    "no id": lambda r, key: r.hdel(key, "id"),
    "no started_at": lambda r, key: r.hdel(key, "started_at"),
    "only a stray field": lambda r, key: (r.delete(key), r.hset(key, "foo", "bar")),
    # Fields that parse as text or a number but are no operation's: shown, they broke the
    # contract (status is one of four; counts are never negative; the id is the one asked for).
    "status unknown": lambda r, key: r.hset(key, "status", "exploded"),
    "status empty": lambda r, key: r.hset(key, "status", ""),
    "count negative": lambda r, key: r.hset(key, "done", "-5"),
    "id of another operation": lambda r, key: r.hset(key, "id", "0" * 32),
}


def _finished(client, body: dict) -> str:
    started = client.post(API, json=body)
    assert started.status_code == 202, started.text
    operation_id = started.json()["id"]
    wait_until(lambda: client.get(f"{API}/{operation_id}").json()["status"] != "running", 30, "the end")
    return operation_id


@pytest.mark.parametrize("damage", UNREADABLE)
def test_an_operation_whose_state_cannot_be_read_is_absent_and_the_others_are_listed(
    client, r, fail_jobs, damage
):
    ids = fail_jobs(2)
    healthy = _finished(client, {"action": "retry", "selector": {"job_ids": [ids[0]]}})
    damaged = _finished(client, {"action": "retry", "selector": {"job_ids": [ids[1]]}})
    UNREADABLE[damage](r, stored.operation_key(damaged))

    for answer in (client.get(f"{API}/{damaged}"), client.post(f"{API}/{damaged}/cancel")):
        assert answer.status_code == 404, answer.text
        assert damaged in answer.json()["detail"]
    listed = client.get(f"{API}?first=100")
    assert listed.status_code == 200, listed.text
    assert [op["id"] for op in listed.json()["operations"]] == [healthy]

    one = client.post("/graphql", json={"query": GQL_ONE, "variables": {"id": damaged}}).json()
    assert one["errors"][0]["extensions"]["code"] == "NOT_FOUND", one
    every = client.post("/graphql", json={"query": GQL_LIST}).json()
    assert every == {"data": {"operations": [{"id": healthy}]}}


def test_an_errors_list_of_another_type_or_with_garbage_entries_reads_without_them(client, r, fail_jobs):
    fail_jobs(1)
    operation_id = _finished(client, {"action": "retry", "selector": {"job_ids": ["gone-1", "gone-2"]}})
    errors = stored.errors_key(operation_id)
    r.delete(errors)
    r.rpush(errors, "garbage", "x y", "", "0 gone-2")
    shown = client.get(f"{API}/{operation_id}")
    assert shown.status_code == 200, shown.text
    assert shown.json()["errors"][-1] == {"job_id": "gone-2", "error": "not found in failed jobs registry"}
    assert len(shown.json()["errors"]) == 4

    r.delete(errors)
    r.set(errors, "not a list")
    shown = client.get(f"{API}/{operation_id}")
    assert shown.status_code == 200, shown.text
    assert shown.json()["errors"] == [] and shown.json()["error_count"] == 2


def _runner_service(redis_url: str) -> JobService:
    service = JobService(redis.Redis.from_url(redis_url))
    service.use_operations()
    return service


@pytest.mark.parametrize("damage", ["selector of no kind", "action unknown", "selector not JSON"])
def test_a_running_operation_whose_request_cannot_be_read_back_ends_failed_acting_on_nothing(
    redis_url, r, fail_jobs, monkeypatch, damage
):
    """It used to take an unknown selector kind for every failed job, and an unknown action
    for a delete."""
    ids = fail_jobs(3)
    service = _runner_service(redis_url)
    monkeypatch.setattr(service.operations_runner, "run_in_background", lambda *_: None)
    operation, _ = service.start_operation("retry", {"job_ids": ids[:1]})
    token = r.get(stored.lease_key(operation.id)).decode()
    UNREADABLE[damage](r, stored.operation_key(operation.id))

    service.operations_runner.run(operation.id, token)

    assert r.hget(stored.operation_key(operation.id), "status") == b"failed"
    assert not r.sismember(stored.RUNNING, operation.id)
    assert sorted(failed_ids(r)) == sorted(ids)


def test_a_damaged_operation_in_the_running_set_keeps_no_other_from_being_resumed(
    redis_url, r, fail_jobs, monkeypatch
):
    ids = fail_jobs(2)
    service = _runner_service(redis_url)
    runner = service.operations_runner
    monkeypatch.setattr(runner, "run_in_background", lambda *_: None)
    first, _ = service.start_operation("retry", {"job_ids": ids[:1]})
    second, _ = service.start_operation("retry", {"job_ids": ids[1:]})
    damaged, healthy = sorted([first.id, second.id])  # the damaged one is met first
    _hash_of_another_type(r, stored.operation_key(damaged))
    r.delete(stored.lease_key(damaged), stored.lease_key(healthy))

    taker = _runner_service(redis_url)
    assert taker.operations_runner.resume_orphans() == [healthy]
    wait_until(lambda: taker.operation(healthy).status == "succeeded", 30, "the resumed one to finish")
    assert failed_ids(r) == ids[:1] if damaged == first.id else ids[1:]


def test_a_replayed_idempotency_key_whose_operation_cannot_be_read_is_a_conflict_that_says_so(
    client, r, fail_jobs
):
    ids = fail_jobs(1)
    body = {"action": "retry", "selector": {"job_ids": ids}}
    operation_id = client.post(API, json=body, headers={"Idempotency-Key": "k1"}).json()["id"]
    _hash_of_another_type(r, stored.operation_key(operation_id))

    replayed = client.post(API, json=body, headers={"Idempotency-Key": "k1"})
    assert replayed.status_code == 409, replayed.text
    assert operation_id in replayed.json()["detail"] and "Idempotency-Key" in replayed.json()["detail"]


def test_an_idempotency_key_of_another_type_reads_as_unused(client, r, fail_jobs):
    ids = fail_jobs(1)
    client.post(
        API, json={"action": "retry", "selector": {"job_ids": ["gone"]}}, headers={"Idempotency-Key": "k"}
    )
    (key,) = r.keys(stored.IDEMPOTENCY_PREFIX + "*")
    r.delete(key)
    r.hset(key, "x", "y")

    started = client.post(
        API, json={"action": "retry", "selector": {"job_ids": ids}}, headers={"Idempotency-Key": "k"}
    )
    assert started.status_code == 202, started.text
    assert r.get(key).decode() == started.json()["id"]


@pytest.mark.parametrize("key", [stored.INDEX, stored.RUNNING])
def test_the_operations_index_or_running_set_of_another_type_is_replaced_not_a_500_or_a_ghost(
    client, r, fail_jobs, key
):
    """The create script wrote the operation's hash, then failed on the index or the running set:
    a 500, and an operation shown `running` for ever that no process would resume."""
    ids = fail_jobs(2)
    r.set(key, "not a zset or set")
    assert client.get(f"{API}?first=5").json() == {"operations": [], "next_cursor": None}

    operation_id = _finished(client, {"action": "retry", "selector": {"job_ids": ids}})

    shown = client.get(f"{API}/{operation_id}").json()
    assert (shown["status"], shown["acted"]) == ("succeeded", 2)
    assert [op["id"] for op in client.get(f"{API}?first=5").json()["operations"]] == [operation_id]
    assert not r.smembers(stored.RUNNING)


@pytest.mark.parametrize("kind", ["all", "job_ids"])
def test_an_operations_own_lists_of_another_type_are_replaced_and_every_job_counted(
    redis_url, r, fail_jobs, monkeypatch, kind
):
    """A chunk acted on its jobs, then failed recording an error in a key of another type: the
    jobs acted on, but not counted, and the operation `failed`."""
    ids = fail_jobs(3)
    r.delete(f"rq:job:{ids[0]}")  # an orphan: an error of a retry
    service = _runner_service(redis_url)
    monkeypatch.setattr(service.operations_runner, "run_in_background", lambda *_: None)
    operation, _ = service.start_operation("retry", {"all": True} if kind == "all" else {"job_ids": ids})
    token = r.get(stored.lease_key(operation.id)).decode()
    r.set(stored.errors_key(operation.id), "not a list")
    r.set(stored.limited_key(operation.id), "not a list")

    service.operations_runner.run(operation.id, token)

    final = service.operation(operation.id)
    assert (final.status, final.done, final.acted, final.error_count) == ("succeeded", 3, 2, 1)
    assert [error.job_id for error in final.errors] == [ids[0]]
