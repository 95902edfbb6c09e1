"""The Lua scripts' bare result numbers match the Outcome / CancelCode names Python reads them by.

Each script is run into each case by name, and the set of numbers each script can return is
read off its source, so a code added to a script without its name (or renumbered on one side
only) fails here."""

from __future__ import annotations

import re

import pytest
from rq import Queue

from gateway.demo import jobs
from gateway.errors import JobDataGone, JobUnreadable, QueueKeyDamaged
from gateway.services.domain.outcome import RETRY_ERRORS, RETRY_REFUSALS, CancelCode, Outcome
from gateway.services.redis import keys, scripts
from gateway.services.redis.registry import now_timestamp
from gateway.services.writes.failed_actions import delete_args, requeue_args

FAR = 9_999_999_999


def _keys(queue: str) -> list:
    return [keys.registry_key("failed", queue), keys.history_seen_key("failed", queue)]


def _requeue_code(conn, job_id, script=scripts.REQUEUE, queue="default") -> int:
    (code,) = conn.register_script(script)(
        keys=_keys(queue), args=requeue_args(now_timestamp(), queue, [job_id])
    )
    return int(code)


def _delete_code(conn, job_id, script=scripts.DELETE, queue="default") -> int:
    (code,) = conn.register_script(script)(keys=_keys(queue), args=delete_args(now_timestamp(), [job_id]))
    return int(code)


def _in_registry(conn, job_id, queue="default", **fields) -> None:
    conn.zadd(keys.registry_key("failed", queue), {job_id: FAR})
    if fields:
        conn.hset(keys.job_key(job_id), mapping=fields)


@pytest.mark.parametrize("script", [scripts.REQUEUE, scripts.REQUEUE_DRY])
def test_requeue_returns_each_outcome_by_its_number(conn, factory, script):
    (failed,) = factory.failed(1)
    assert _requeue_code(conn, failed, script) == Outcome.REQUEUED
    assert _requeue_code(conn, "not-there", script) == Outcome.NOT_IN_REGISTRY
    _in_registry(conn, "orphan")
    assert _requeue_code(conn, "orphan", script) == Outcome.ORPHAN
    _in_registry(conn, "limited", status="failed", origin="default", rate_limit_key="rq:rl:k")
    assert _requeue_code(conn, "limited", script) == Outcome.RATE_LIMITED
    _in_registry(conn, "unreadable", status="failed", origin=b"caf\xe9")
    assert _requeue_code(conn, "unreadable", script) == Outcome.UNREADABLE
    conn.set(keys.queue_key("broken"), "not a list")
    _in_registry(conn, "damaged", "broken", status="failed", origin="broken")
    assert _requeue_code(conn, "damaged", script, "broken") == Outcome.QUEUE_DAMAGED


@pytest.mark.parametrize("script", [scripts.DELETE, scripts.DELETE_DRY])
def test_delete_returns_each_outcome_by_its_number(conn, factory, script):
    (failed,) = factory.failed(1)
    assert _delete_code(conn, failed, script) == Outcome.DELETED
    _in_registry(conn, "orphan")
    assert _delete_code(conn, "orphan", script) == Outcome.DELETED
    assert _delete_code(conn, "not-there", script) == Outcome.NOT_IN_REGISTRY


@pytest.mark.parametrize("code", [_requeue_code, _delete_code])
def test_the_history_seen_set_forgets_what_a_script_takes_and_keeps_the_rest(conn, factory, code):
    taken, kept = factory.failed(2)
    seen = keys.history_seen_key("failed", "default")
    conn.zadd(seen, {taken: 0, kept: 0})
    assert code(conn, taken) == 1
    assert conn.zrange(seen, 0, -1) == [kept.encode()]


@pytest.mark.parametrize("code", [_requeue_code, _delete_code])
def test_a_seen_set_of_another_type_is_damaged_data_left_alone(conn, factory, code):
    (failed,) = factory.failed(1)
    conn.set(keys.history_seen_key("failed", "default"), "not a sorted set")
    assert code(conn, failed) == 1
    assert conn.get(keys.history_seen_key("failed", "default")) == b"not a sorted set"


def _cancel_code(conn, job_id, origin="default") -> int:
    run = conn.register_script(scripts.CANCEL)
    script_keys = [
        keys.job_key(job_id),
        keys.queue_key(origin),
        *(keys.registry_key(state, origin) for state in ("deferred", "scheduled", "canceled")),
    ]
    code, _status = run(keys=script_keys, args=[job_id, origin, "default", now_timestamp()])
    return int(code)


def test_cancel_returns_each_code_by_its_number(conn):
    queued = Queue(connection=conn).enqueue(jobs.add, 1, 2).id
    assert _cancel_code(conn, queued) == CancelCode.CANCELED
    assert _cancel_code(conn, queued) == CancelCode.NOT_WAITING  # canceled already
    assert _cancel_code(conn, "no-such-job") == CancelCode.GONE
    conn.hset(
        keys.job_key("limited"), mapping={"status": "queued", "origin": "default", "rate_limit_key": "k"}
    )
    assert _cancel_code(conn, "limited") == CancelCode.RATE_LIMITED
    moved = Queue("other", connection=conn).enqueue(jobs.add, 1, 2).id
    assert _cancel_code(conn, moved, origin="default") == CancelCode.MOVED


def _numbers(pattern: str, source: str) -> set[int]:
    return {int(n) for n in re.findall(pattern, source)}


def test_every_number_a_script_returns_has_a_name():
    per_id = r"codes\[#codes \+ 1\] = (-?\d+)"
    assert _numbers(per_id, scripts.REQUEUE) == {int(o) for o in Outcome}
    assert _numbers(per_id, scripts.REQUEUE_DRY) == {int(o) for o in Outcome}
    assert _numbers(per_id, scripts.DELETE) == {Outcome.DELETED, Outcome.NOT_IN_REGISTRY}
    assert _numbers(per_id, scripts.DELETE_DRY) == {Outcome.DELETED, Outcome.NOT_IN_REGISTRY}
    assert _numbers(r"return \{(-?\d+), ", scripts.CANCEL) == {int(c) for c in CancelCode}


def test_each_retry_refusal_is_its_errors_reason():
    assert {
        Outcome.ORPHAN: JobDataGone,
        Outcome.UNREADABLE: JobUnreadable,
        Outcome.QUEUE_DAMAGED: QueueKeyDamaged,
    } == RETRY_REFUSALS
    assert {code: error.reason for code, error in RETRY_REFUSALS.items()} == RETRY_ERRORS
    assert set(RETRY_REFUSALS).isdisjoint({Outcome.DONE, Outcome.NOT_IN_REGISTRY, Outcome.RATE_LIMITED})
