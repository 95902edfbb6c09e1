"""The on-call controls (issue 15) through both transports on fakeredis: the same answers and the
same errors (REST status + detail, GraphQL extensions.code + message), the roles they need, the
queue patterns they honour, and the audit record each mutation leaves."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from rq import Queue
from rq.job import Job

from gateway.demo import jobs
from gateway.services.audit import AUDIT_STREAM
from tests.control_transports import GraphQLControl, RestControl
from tests.keyed import bearer, keyed_client

TRANSPORTS = {"rest": RestControl, "graphql": GraphQLControl}


@pytest.fixture(params=["rest", "graphql"])
def api(request, client):
    return TRANSPORTS[request.param](client)


def keyed(conn, transport: str, key: str):
    return TRANSPORTS[transport](keyed_client(conn), bearer(key))


def test_suspend_suspension_and_resume(api, conn):
    assert api.suspension() == (None, {"suspended": False, "until": None})
    error, suspended = api.suspend(60)
    assert error is None and suspended["suspended"] is True and suspended["until"].endswith("Z")
    assert api.suspension() == (None, suspended)
    assert api.suspend() == (None, {"suspended": True, "until": None})
    assert api.resume() == (None, {"suspended": False, "until": None})


def test_both_transports_read_the_same_suspension(client, conn):
    RestControl(client).suspend(90)
    assert RestControl(client).suspension() == GraphQLControl(client).suspension()


def test_errors_match_across_transports(api, conn, factory):
    finished = factory.finished()  # first: its worker would run a queued job too
    queued = factory.queued()
    q = Queue("default", connection=conn)
    deferred = q.enqueue(jobs.add, 1, 1, depends_on=q.enqueue(jobs.add, 0, 0)).id
    conflict = "CONFLICT"
    assert api.stop(queued) == (
        conflict,
        f"Job {queued} is queued; only started (running) jobs can be stopped",
    )
    assert api.stop("missing") == ("NOT_FOUND", "Job missing not found")
    assert api.enqueue_now(finished) == (
        conflict,
        f"Job {finished} is finished; only scheduled or deferred jobs can be enqueued now",
    )
    assert api.enqueue_now(deferred)[0] == conflict
    assert api.replay(queued) == (
        conflict,
        f"Job {queued} is queued; only finished or failed jobs can be replayed",
    )
    assert api.shutdown("nobody") == ("NOT_FOUND", "Worker 'nobody' not found")
    assert api.suspend(0)[0] == "BAD_REQUEST"
    assert api.replay(finished, "bad\x01queue")[0] == "BAD_REQUEST"


def test_enqueue_now_and_replay_answer_alike(api, conn, factory):
    when = datetime.now(timezone.utc) + timedelta(hours=1)
    scheduled = Queue("default", connection=conn).enqueue_at(when, jobs.add, 1, 2).id
    assert api.enqueue_now(scheduled) == (
        None,
        {
            "success": True,
            "job_id": scheduled,
            "queue": "default",
            "enqueued_by": "gateway",
            "message": f"Job {scheduled} has been enqueued on 'default'",
        },
    )
    finished = factory.finished()
    error, replay = api.replay(finished, "other")
    assert error is None and replay == {"job_id": replay["job_id"], "replay_of": finished, "queue": "other"}
    assert Job.fetch(replay["job_id"], connection=conn).meta["replay_of"] == finished


@pytest.mark.parametrize("transport", ["rest", "graphql"])
def test_roles_and_queue_patterns(conn, factory, transport):
    queued = factory.queued()
    finished_billing = factory.finished(queue="billing-eu")
    viewer, operator = keyed(conn, transport, "viewer"), keyed(conn, transport, "operator")
    billing = keyed(conn, transport, "billing")  # an operator limited to billing-*
    assert viewer.suspension()[0] is None  # a read
    assert viewer.stop(queued)[0] == "FORBIDDEN"
    assert viewer.replay(finished_billing)[0] == "FORBIDDEN"
    for admin_only in (operator.suspend, operator.resume, lambda: operator.shutdown("w1")):
        assert admin_only()[0] == "FORBIDDEN"
    assert billing.suspend()[0] == "FORBIDDEN"  # a queue-limited key never acts on every worker
    assert billing.stop(queued) == ("NOT_FOUND", f"Job {queued} not found")  # outside its patterns
    assert billing.replay(finished_billing, "default")[0] == "FORBIDDEN"
    error, replay = billing.replay(finished_billing, "billing-us")
    assert error is None and replay["queue"] == "billing-us"


def _records(conn) -> list[dict]:
    return [json.loads(fields[b"record"]) for _, fields in conn.xrange(AUDIT_STREAM)]


@pytest.mark.parametrize("transport", ["rest", "graphql"])
def test_every_control_is_audited(conn, factory, transport):
    admin = keyed(conn, transport, "admin")
    finished = factory.finished()
    queued = factory.queued()
    admin.suspend(30)
    admin.resume()
    admin.stop(queued)
    admin.shutdown("nobody")
    _, replay = admin.replay(finished)
    records = [(r["action"], r["outcome"], r["error"], r["job_ids"]) for r in _records(conn)]
    assert records == [
        ("suspend_workers", "ok", None, []),
        ("resume_workers", "ok", None, []),
        ("stop", "error", "Conflict", [queued]),
        ("shutdown_worker", "error", "WorkerNotFound", []),
        ("replay", "ok", None, [finished, replay["job_id"]]),
    ]
    # A worker command names its worker, in the stream and in the trail both transports read.
    assert [r.get("worker") for r in _records(conn)] == [None, None, None, "nobody", None]
    (read_back,) = [
        e for e in keyed_client(conn, "admin").get("/api/v1/audit").json()["entries"] if e["worker"]
    ]
    assert (read_back["action"], read_back["worker"]) == ("shutdown_worker", "nobody")


@pytest.mark.parametrize("transport", ["rest", "graphql"])
def test_a_stop_record_names_the_worker_it_was_sent_to(conn, transport):
    """Stop is addressed by job id; the worker that received it is found, not named by the caller,
    and its record names it as a shutdown's does, so the trail says which worker killed the job."""
    from tests.test_worker_control import Listener, _started

    job_id = _started(conn, "w7")
    listener = Listener(conn, "w7")
    error, _ = keyed(conn, transport, "admin").stop(job_id)
    assert error is None and listener.commands() == [{"command": "stop-job", "job_id": job_id}]
    listener.pubsub.close()  # the worker dies without unregistering: nobody receives the next stop
    error, _ = keyed(conn, transport, "admin").stop(job_id)
    assert error is not None
    records = [(r["action"], r["outcome"], r["error"], r.get("worker")) for r in _records(conn)]
    assert records == [("stop", "ok", None, "w7"), ("stop", "error", "WorkerNotListening", "w7")]


@pytest.mark.parametrize("transport", ["rest", "graphql"])
def test_a_stale_stop_record_names_the_worker_that_runs_other_work(conn, transport):
    """A stop refused because the named worker runs other work (a stale `started`) names that
    worker in its record too, as a delivered or undelivered stop does."""
    from rq import Worker

    from tests.test_worker_control import _started

    Worker([Queue("default", connection=conn)], name="w8", connection=conn).register_birth()
    job_id = _started(conn, "w8")
    conn.sadd("rq:worker:w8:executions", "another-job:1")
    error, _ = keyed(conn, transport, "admin").stop(job_id)
    assert error is not None
    records = [(r["action"], r["outcome"], r.get("worker")) for r in _records(conn)]
    assert records == [("stop", "error", "w8")]
