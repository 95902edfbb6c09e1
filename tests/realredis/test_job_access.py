"""Operations addressed by job id, on a real Redis with jobs RQ itself wrote: a key limited to some
queues acts on or sees a job only when its origin matches a pattern, a job outside them answers
exactly like one that does not exist, and retry/delete act on the job's own queue."""

from __future__ import annotations

import uuid

import pytest
from rq import Queue
from rq.job import Job

from gateway.demo import jobs

from .helpers import failed_ids, keyspace, queued_ids
from .job_access import OPERATIONS, attempt, keyed_app_client

TRANSPORTS = ["rest", "graphql"]
NOT_FOUND = (404, "NOT_FOUND")


def _data(r) -> dict:
    """The keyspace without the audit trail, which every audited attempt appends to."""
    return {key: value for key, value in keyspace(r).items() if not key.startswith(b"rq-gateway:")}


def _unknown_origin(r, job_id: str, how: str) -> None:
    if how == "empty":
        r.hset(f"rq:job:{job_id}", "origin", "")
    elif how == "missing":
        r.hdel(f"rq:job:{job_id}", "origin")
    else:
        r.hset(f"rq:job:{job_id}", "origin", b"\xff\xfebad")


def _missing() -> str:
    return str(uuid.uuid4())


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("origin", ["empty", "missing", "undecodable"])
def test_a_limited_key_cannot_see_cancel_or_requeue_a_job_whose_queue_is_unknown(r, transport, origin):
    """Issue 9 point 4: an empty origin used to skip the queue check and fall back to `default`."""
    q = Queue("default", connection=r)
    queued = q.enqueue(jobs.add, 1, 2).id
    canceled = q.enqueue(jobs.add, 3, 4).id
    Job.fetch(canceled, connection=r).cancel()
    for job_id in (queued, canceled):
        _unknown_origin(r, job_id, origin)
    client = keyed_app_client(r)
    before = _data(r)

    for key in ("operator-billing", "operator-default"):  # `default` matches the fallback queue
        cancel = attempt(client, transport, OPERATIONS["cancel"], key, queued)
        requeue = attempt(client, transport, OPERATIONS["requeue"], key, canceled)
        status = attempt(client, transport, OPERATIONS["status"], key, queued)
        assert cancel.code in NOT_FOUND, cancel
        assert cancel == attempt(client, transport, OPERATIONS["cancel"], key, _missing())
        assert requeue == attempt(client, transport, OPERATIONS["requeue"], key, _missing())
        assert status == attempt(client, transport, OPERATIONS["status"], key, _missing())
    assert _data(r) == before, "nothing changed in Redis"
    assert queued_ids(r) == [queued]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_an_unrestricted_key_still_cancels_a_job_without_origin(r, transport):
    q = Queue("default", connection=r)
    queued = q.enqueue(jobs.add, 1, 2).id
    _unknown_origin(r, queued, "empty")
    answer = attempt(keyed_app_client(r), transport, OPERATIONS["cancel"], "operator-all", queued)
    assert answer.ok, answer
    assert queued_ids(r) == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_job_outside_the_keys_patterns_answers_exactly_like_a_missing_one(r, fail_jobs, transport):
    """Issue 9 point 5: an id in another queue used to answer 403 "may not access queue ...",
    an unknown id 404, so a limited key could probe which ids exist."""
    (failed,) = fail_jobs(1, queue="reports")
    q = Queue("reports", connection=r)
    queued = q.enqueue(jobs.add, 1, 2).id
    canceled = q.enqueue(jobs.add, 3, 4).id
    Job.fetch(canceled, connection=r).cancel()
    target = {"status": queued, "retry": failed, "delete": failed, "cancel": queued, "requeue": canceled}
    client = keyed_app_client(r)
    before = _data(r)

    for name, job_id in target.items():
        op = OPERATIONS[name]
        for queue in [None, "billing-eu", "reports", "default"] if op.takes_queue else [None]:
            hidden = attempt(client, transport, op, "admin-billing", job_id, queue)
            assert hidden.code in NOT_FOUND, (name, queue, hidden)
            assert hidden == attempt(client, transport, op, "admin-billing", _missing(), queue), (name, queue)
    assert _data(r) == before, "nothing changed in Redis"
    # The same jobs are there for a key that may see them.
    assert attempt(client, transport, OPERATIONS["status"], "viewer-mixed", queued).ok


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_retry_and_delete_without_a_queue_act_on_the_jobs_own_queue(r, fail_jobs, transport):
    """Issue 9 point 13: without ?queue= they used to look in the default queue's registry."""
    retried, deleted, limited = fail_jobs(3, queue="billing-eu")
    client = keyed_app_client(r)

    assert attempt(client, transport, OPERATIONS["retry"], "operator-all", retried).ok
    assert attempt(client, transport, OPERATIONS["delete"], "admin-all", deleted).ok
    assert attempt(client, transport, OPERATIONS["retry"], "operator-billing", limited).ok
    assert queued_ids(r, "billing-eu") == [retried, limited]
    assert failed_ids(r, "billing-eu") == []
    assert not r.exists(f"rq:job:{deleted}")


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_wrong_queue_is_a_404_naming_the_jobs_queue_when_the_key_may_see_it(r, fail_jobs, transport):
    (job_id,) = fail_jobs(1, queue="billing-eu")
    client = keyed_app_client(r)
    before = _data(r)
    for name in ("retry", "delete"):
        op = OPERATIONS[name]
        for key in ("admin-all", "admin-billing"):
            wrong = attempt(client, transport, op, key, job_id, "default")
            assert wrong.code in NOT_FOUND, wrong
            assert wrong.body in (
                {"detail": "Job <id> not found in queue 'default': it is in queue 'billing-eu'"},
                "Job <id> not found in queue 'default': it is in queue 'billing-eu'",
            )
        # A key that may not see billing-eu learns nothing: the plain not-found of a missing id.
        hidden = attempt(client, transport, op, "admin-default", job_id, "default")
        assert hidden.code in NOT_FOUND
        assert hidden == attempt(client, transport, op, "admin-default", _missing(), "default")
    assert _data(r) == before, "nothing changed in Redis"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_selected_actions_leave_out_the_jobs_a_key_may_not_see(r, fail_jobs, transport):
    """A job of unknown queue in billing-eu's own registry: listed there, but not the key's to act on."""
    unknown, mine = fail_jobs(2, queue="billing-eu")
    _unknown_origin(r, unknown, "empty")
    client = keyed_app_client(r)
    before = _data(r)
    for name in ("retry_selected", "delete_selected"):
        op = OPERATIONS[name]
        hidden = attempt(client, transport, op, "admin-billing", unknown, "billing-eu")
        assert hidden == attempt(client, transport, op, "admin-billing", _missing(), "billing-eu")
        assert "<id> not found in failed jobs registry" in str(hidden.body)
    assert _data(r) == before, "nothing changed in Redis"
    assert attempt(client, transport, OPERATIONS["retry_selected"], "operator-billing", mine, "billing-eu").ok
    assert attempt(client, transport, OPERATIONS["retry_selected"], "operator-all", unknown, "billing-eu").ok
    assert queued_ids(r, "billing-eu") == [mine, unknown]
