"""The contract's retry-all and clear over a whole failed registry (writes/streamed_bulk.py), on a
real redis-server: each chunk's action is sent before the reply of the one before is read, so
Redis does not wait for the gateway between chunks; an error leaves no reply unread and loses
nothing."""

from __future__ import annotations

import pytest
import redis

from gateway.errors import BackendUnavailable
from gateway.services import JobService
from gateway.services.redis import scripts
from gateway.services.writes import failed_actions
from tests.recorded_calls import queued_when_read, record_script_calls

REGISTRY = "rq:failed:default"
SCRIPTS = {"retry_all": scripts.REQUEUE, "clear": scripts.DELETE}


def _failed(r: redis.Redis, count: int) -> list[str]:
    ids = [f"job-{i:02}" for i in range(count)]
    for job_id in ids:
        r.zadd(REGISTRY, {job_id: -1})
        r.hset(f"rq:job:{job_id}", mapping={"status": "failed", "origin": "default"})
    return ids


@pytest.mark.parametrize("action", ["retry_all", "clear"])
def test_each_chunks_action_is_queued_behind_the_one_before(r, monkeypatch, action):
    monkeypatch.setattr(failed_actions, "BULK_CHUNK", 3)
    ids = _failed(r, 13)
    events = record_script_calls(r, monkeypatch, sha=r.register_script(SCRIPTS[action]).sha)
    outcome = getattr(JobService(r), action)()
    assert sorted(outcome.done_jobs) == ids and outcome.total_failed == 13
    # Chunks of 3, 3, 3, 3 and 1: each reply read with the next action queued, but the last.
    assert queued_when_read(events) == [2, 2, 2, 2, 1]
    assert r.zcard(REGISTRY) == 0


@pytest.mark.parametrize("action", ["retry_all", "clear"])
def test_an_error_reply_mid_walk_leaves_nothing_unread_and_the_next_walk_does_the_rest(
    r, monkeypatch, action
):
    """Redis refusing a chunk (out of memory, a failover): the request fails (a 503 through the
    API), the actions queued behind have their replies read before the connection goes back to
    the pool, and a second retry-all acts exactly on what is left: every job once."""
    monkeypatch.setattr(failed_actions, "BULK_CHUNK", 3)
    ids = _failed(r, 13)
    refused = redis.ResponseError("OOM command not allowed when used memory > 'maxmemory'")
    sha = r.register_script(SCRIPTS[action]).sha
    record_script_calls(r, monkeypatch, sha=sha, fail_read=2, error=refused)
    with pytest.raises(BackendUnavailable):  # a 503 through the API
        getattr(JobService(r), action)()
    left = r.zcard(REGISTRY)
    assert 0 < left < 13 and r.ping() is True
    monkeypatch.undo()
    monkeypatch.setattr(failed_actions, "BULK_CHUNK", 3)
    rest = getattr(JobService(r), action)()
    assert len(rest.done_jobs) == left and r.zcard(REGISTRY) == 0
    if action == "retry_all":
        assert sorted(r.lrange("rq:queue:default", 0, -1)) == [i.encode() for i in ids]
    else:
        assert not any(r.exists(f"rq:job:{job_id}") for job_id in ids)
