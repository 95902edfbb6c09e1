"""The class property of issue 9 points 4 and 5, over every operation addressed by job id: random
keys (roles x queue patterns) x random jobs (queue, state, and an origin kept, empty, missing or
unreadable) x both transports, on a real Redis with jobs RQ itself wrote.

For a key that may not see the job (its origin outside the key's patterns, or unknown), every
answer is exactly the answer for an id that does not exist: a 404 (or a role 403, which does not
depend on the job), never a queue 403. Nothing changes in Redis for any answer that is not a
success."""

from __future__ import annotations

import uuid

from hypothesis import assume, given, settings
from hypothesis import strategies as st
from rq import Queue
from rq.job import Job

from gateway.demo import jobs
from tests.conftest import run_worker

from .helpers import keyspace
from .job_access import (
    KEY_NAMES,
    OPERATIONS,
    PATTERNS_OF,
    ROLE_OF,
    Answer,
    attempt,
    keyed_app_client,
    may_see,
)

QUEUES = ["billing-eu", "billing-us", "default", "reports"]
ORIGINS = ["kept", "empty", "missing", "unreadable"]
STATES = ["queued", "failed", "canceled"]


def _data(r) -> dict:
    return {key: value for key, value in keyspace(r).items() if not key.startswith(b"rq-gateway:")}


def _make_job(r, queue: str, state: str, origin: str) -> str:
    """A job as RQ leaves it in `state`, then its origin damaged as drawn."""
    q = Queue(queue, connection=r)
    if state == "failed":
        job_id = q.enqueue(jobs.parse_report, "garbled").id
        run_worker(r, queue)  # RQ's own worker fails it
    else:
        job_id = q.enqueue(jobs.add, 1, 2).id
        if state == "canceled":
            Job.fetch(job_id, connection=r).cancel()
    key = f"rq:job:{job_id}"
    if origin == "empty":
        r.hset(key, "origin", "")
    elif origin == "missing":
        r.hdel(key, "origin")
    elif origin == "unreadable":
        r.hset(key, "origin", b"\xc3(" + queue.encode())
    return job_id


def _is_role_refusal(answer: Answer) -> bool:
    return answer.code in (403, "FORBIDDEN") and " needs " in str(answer.body)


def _is_queue_refusal(answer: Answer) -> bool:
    return answer.code in (403, "FORBIDDEN") and "may not access queue" in str(answer.body)


@settings(max_examples=150, deadline=None)
@given(
    key=st.sampled_from(KEY_NAMES),
    queue=st.sampled_from(QUEUES),
    state=st.sampled_from(STATES),
    origin=st.sampled_from(ORIGINS),
    operation=st.sampled_from(sorted(OPERATIONS)),
    transport=st.sampled_from(["rest", "graphql"]),
    named=st.none() | st.sampled_from(QUEUES),
)
def _check(r, client, key, queue, state, origin, operation, transport, named) -> None:
    # An unrestricted key reading an unreadable origin is issue 9 point 10 (damaged data), not
    # access: a limited key never gets that far, and is drawn with every origin.
    assume(origin != "unreadable" or bool(PATTERNS_OF[key]))
    r.flushall()
    job_id = _make_job(r, queue, state, origin)
    op = OPERATIONS[operation]
    before = _data(r)

    answer = attempt(client, transport, op, key, job_id, named)

    assert answer.code not in (500, "INTERNAL"), answer
    if not answer.ok:
        assert _data(r) == before, f"{answer} but Redis changed"
    if _is_queue_refusal(answer):
        # Only a selected-jobs action names a queue it acts on, and is refused for that queue alone.
        addressed = named or "default"
        assert op.selected and not may_see(key, addressed), answer
        assert f"may not access queue '{addressed}'" in str(answer.body), answer
    job_queue = queue if origin == "kept" else None
    if ROLE_OF[key] < op.role:
        assert _is_role_refusal(answer), answer
    if ROLE_OF[key] < op.role or not may_see(key, job_queue):
        missing = attempt(client, transport, op, key, str(uuid.uuid4()), named)
        assert answer == missing, "a hidden job answers exactly as a missing one"
        assert _data(r) == before, "nothing changed for a job the key may not see"
        if not op.selected and ROLE_OF[key] >= op.role:
            assert answer.code in (404, "NOT_FOUND"), answer
    else:
        # A job the key may see: the operation ran on it, or answered why not (state, queue).
        assert answer.ok or _is_queue_refusal(answer) or answer.code in (404, 409, "NOT_FOUND", "CONFLICT"), (
            answer
        )


def test_a_job_a_key_may_not_see_is_indistinguishable_from_a_missing_one(r):
    with keyed_app_client(r) as client:  # one app and event loop for every example
        _check(r, client)
