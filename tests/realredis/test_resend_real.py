"""Exactly once against redis-py's retry, on a real redis-server behind a proxy that cuts a
connection after Redis ran a command and before its reply reached the gateway. A write is never
sent again (the answer is a 503 saying its outcome is unknown, and its effect happened once); a
read is sent again and answers as if nothing happened (redis/resend.py)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from rq import Queue

from gateway.app import create_app
from gateway.config import Settings
from gateway.services.audit import AUDIT_STREAM
from gateway.services.operations.store import INDEX as OPERATIONS
from gateway.services.redis import scripts

from .helpers import API, RedisServer, queued_ids
from .reply_cut import ReplyCutProxy

UNKNOWN = "it may or may not have taken effect"


@pytest.fixture
def proxy(redis_server: RedisServer) -> Iterator[ReplyCutProxy]:
    cutter = ReplyCutProxy(redis_server.port)
    try:
        yield cutter
    finally:
        cutter.close()


@pytest.fixture
def cut_client(proxy: ReplyCutProxy, r) -> Iterator[TestClient]:
    """The gateway, its Redis reached through the proxy."""
    app = create_app(Settings(redis_url=proxy.url))
    try:
        yield TestClient(app)
    finally:
        app.state.service.operations_runner.stop(wait=10)
        app.state.service.connection.close()


def _answered_unknown(response, proxy: ReplyCutProxy) -> None:
    """The one reply was cut, and the write answered 503: its outcome is unknown."""
    assert proxy.cuts == 1
    assert response.status_code == 503, response.text
    assert UNKNOWN in response.json()["detail"]


def _sha(script: str) -> bytes:
    return hashlib.sha1(script.encode()).hexdigest().encode()


def test_a_replay_whose_reply_is_lost_is_enqueued_once_and_answered_unknown(cut_client, proxy, r, fail_jobs):
    (failed,) = fail_jobs(1)
    queued_before = queued_ids(r)
    proxy.cut_reply_to(b"RPUSH")  # RQ's enqueue: the job hash and the push, one pipeline
    response = cut_client.post(f"{API}/{failed}/replay")
    _answered_unknown(response, proxy)
    pushed = [job_id for job_id in queued_ids(r) if job_id not in queued_before]
    assert len(pushed) == 1, f"the new job was pushed {len(pushed)} times: {pushed}"


def test_an_enqueue_now_whose_reply_is_lost_is_answered_unknown_not_refused(cut_client, proxy, r):
    job_id = Queue("default", connection=r).enqueue_in(timedelta(hours=1), "control_jobs.count_run", "x").id
    r.script_load(scripts.ENQUEUE_NOW)  # the EVALSHA runs at once (no NOSCRIPT round first)
    proxy.cut_reply_to(_sha(scripts.ENQUEUE_NOW))
    response = cut_client.post(f"{API}/{job_id}/enqueue-now")
    # Sent again, the claim would find the job gone from its registry and answer 409 "not
    # scheduled" for a job the first send had just enqueued.
    _answered_unknown(response, proxy)
    assert queued_ids(r) == [job_id]


def test_an_audit_record_whose_reply_is_lost_is_written_once(cut_client, proxy, r, fail_jobs):
    (failed,) = fail_jobs(1)
    proxy.cut_reply_to(b"XADD")
    response = cut_client.post(f"{API}/failed/{failed}/retry")
    assert response.status_code == 200, response.text  # the audit write's loss is logged, not raised
    assert proxy.cuts == 1
    assert r.xlen(AUDIT_STREAM) == 1
    assert queued_ids(r) == [failed]


def test_a_read_whose_reply_is_lost_is_sent_again(cut_client, proxy, r, fail_jobs):
    fail_jobs(2)
    proxy.cut_reply_to(_sha(scripts.LIVE_SLICE))
    r.script_load(scripts.LIVE_SLICE)
    response = cut_client.get(f"{API}/failed", params={"queue": "default"})
    assert response.status_code == 200, response.text
    assert proxy.cuts == 1
    assert len(response.json()) == 2


def test_an_operation_start_whose_reply_is_lost_starts_at_most_one(cut_client, proxy, r, fail_jobs):
    fail_jobs(3)
    r.script_load(scripts.OPERATION_CREATE)
    proxy.cut_reply_to(_sha(scripts.OPERATION_CREATE))
    response = cut_client.post("/api/v1/operations", json={"action": "retry", "selector": {"all": True}})
    _answered_unknown(response, proxy)
    assert r.zcard(OPERATIONS) <= 1


def test_a_retry_whose_reply_is_lost_is_answered_unknown_not_not_found(cut_client, proxy, r, fail_jobs):
    """requeue.lua claims the job from the failed registry: sent again, it found the job gone and
    answered 404 'not found in failed registry' for the job its first run had just requeued."""
    (failed,) = fail_jobs(1)
    r.script_load(scripts.REQUEUE)
    proxy.cut_reply_to(_sha(scripts.REQUEUE))
    response = cut_client.post(f"{API}/failed/{failed}/retry")
    _answered_unknown(response, proxy)
    assert queued_ids(r) == [failed]
