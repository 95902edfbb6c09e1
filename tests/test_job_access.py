"""The one check of operations addressed by job id (services/job_access.py), fast: its rules one
by one, the guard that makes every such operation take it, and the audit of a refused attempt.
The real-Redis tests are tests/realredis/test_job_access*.py."""

from __future__ import annotations

import json
import logging

import pytest

from gateway.apikeys import ApiKey, hash_key
from gateway.errors import FailedJobNotFound, JobInOtherQueue, JobNotFound
from gateway.services import JobService
from gateway.services.access import action, read
from gateway.services.job_access import authorise_job, hidden_jobs
from gateway.services.principal import Principal, RequestScope, Role
from gateway.services.redis.origins import JobPlace, read_places
from tests.keyed import keyed_client

UNRESTRICTED = Principal("ops", Role.ADMIN)
BILLING = Principal("billing", Role.ADMIN, ("billing-*",))


def place(queue: str | None, exists: bool = True) -> JobPlace:
    return JobPlace("j1", exists, queue)


@pytest.mark.parametrize(
    ("principal", "where", "named", "registry", "expected"),
    [
        # The job's own queue, whatever the default queue is.
        (BILLING, place("billing-eu"), None, True, "billing-eu"),
        (UNRESTRICTED, place("reports"), None, True, "reports"),
        (BILLING, place("billing-eu"), "billing-eu", True, "billing-eu"),
        # Outside the patterns, or of unknown queue: what a missing job answers.
        (BILLING, place("default"), None, False, JobNotFound),
        (BILLING, place("default"), None, True, FailedJobNotFound),
        (BILLING, place(None), None, False, JobNotFound),
        (BILLING, place(None), "billing-eu", True, FailedJobNotFound),
        # A queue named wrongly: named only where the key may see the job's queue.
        (UNRESTRICTED, place("billing-eu"), "default", True, JobInOtherQueue),
        (BILLING, place("billing-eu"), "default", True, JobInOtherQueue),
        (BILLING, place("reports"), "billing-eu", True, FailedJobNotFound),
        # Unknown queue, unrestricted key: the named queue, else the default one.
        (UNRESTRICTED, place(None), None, False, "default"),
        (UNRESTRICTED, place(None), "reports", True, "reports"),
        # No job: a registry operation looks where it may (an orphaned entry); others: not found.
        (BILLING, place(None, exists=False), "billing-eu", True, "billing-eu"),
        (BILLING, place(None, exists=False), None, True, FailedJobNotFound),
        (UNRESTRICTED, place(None, exists=False), None, True, "default"),
        (UNRESTRICTED, place(None, exists=False), None, False, JobNotFound),
        # An unrestricted read needs no place at all.
        (UNRESTRICTED, None, None, False, "default"),
        (None, place("reports"), None, False, "reports"),  # an unbound service
    ],
)
def test_the_rule(principal, where, named, registry, expected):
    if isinstance(expected, str):
        assert authorise_job(principal, "j1", where, named, "default", registry) == expected
    else:
        with pytest.raises(expected) as raised:
            authorise_job(principal, "j1", where, named, "default", registry)
        assert type(raised.value) is expected
        assert "j1" in raised.value.message


def test_job_in_other_queue_names_the_jobs_queue():
    with pytest.raises(JobInOtherQueue) as raised:
        authorise_job(BILLING, "j1", place("billing-eu"), "default", "default", True)
    assert raised.value.message == "Job j1 not found in queue 'default': it is in queue 'billing-eu'"


def test_hidden_jobs_are_the_existing_ones_a_key_may_not_see():
    places = [
        JobPlace("mine", True, "billing-eu"),
        JobPlace("other", True, "default"),
        JobPlace("unknown", True, None),
        JobPlace("missing", False, None),
    ]
    assert hidden_jobs(BILLING, places) == {"other", "unknown"}
    assert hidden_jobs(UNRESTRICTED, places) == set()


def test_origins_are_read_as_written_or_unknown(conn):
    conn.hset("rq:job:a", "origin", "billing-eu")
    conn.hset("rq:job:b", "origin", "")
    conn.hset("rq:job:c", "status", "queued")
    conn.hset("rq:job:d", "origin", b"\xff\xfe")
    conn.set("rq:job:e", "a string, not a hash")
    assert read_places(conn, ["a", "b", "c", "d", "e", "f"]) == [
        JobPlace("a", True, "billing-eu"),
        JobPlace("b", True, None),
        JobPlace("c", True, None),
        JobPlace("d", True, None),
        JobPlace("e", True, None),
        JobPlace("f", False, None),
    ]


class Careless(JobService):
    """Operations that name jobs but forget to check them."""

    @action("poke", Role.OPERATOR)
    def poke(self, job_id: str) -> str:
        return job_id

    @read()
    def peek(self, job_ids: list[str], queue: str | None = None) -> int:
        return len(job_ids)


@pytest.mark.parametrize("call", [lambda s: s.poke("j1"), lambda s: s.peek(["j1"])])
def test_an_operation_that_names_jobs_cannot_return_without_checking_them(conn, call):
    scope = RequestScope(Principal("ops", Role.ADMIN), "r1")
    with pytest.raises(RuntimeError, match="did not check the jobs"):
        call(Careless(conn).scoped(scope))
    assert call(Careless(conn)) is not None, "an unbound service (library use) is not guarded"


LIMITED_ADMIN = ApiKey("billing-admin", Role.ADMIN, hash_key("rqg_billing-admin-0123456789"), ("billing-*",))


@pytest.mark.parametrize("transport", ["rest", "graphql"])
def test_an_attempt_on_a_hidden_job_is_audited_as_one_on_a_missing_job(conn, factory, caplog, transport):
    caplog.set_level(logging.INFO)
    (hidden,) = factory.failed(1, queue="reports")
    client = keyed_client(conn, api_keys=(LIMITED_ADMIN,))
    headers = {"Authorization": "Bearer rqg_billing-admin-0123456789"}
    for job_id in (hidden, "no-such-job"):
        if transport == "rest":
            assert client.delete(f"/api/v1/jobs/failed/{job_id}", headers=headers).status_code == 404
        else:
            document = "mutation($id: ID!) { deleteFailedJob(id: $id) { success } }"
            client.post("/graphql", json={"query": document, "variables": {"id": job_id}}, headers=headers)
    audited = [json.loads(r.getMessage()) for r in caplog.records if r.name == "rq_gateway.audit"]
    shown = [{k: v for k, v in a.items() if k not in ("time", "request_id", "job_ids")} for a in audited]
    assert (
        shown[0]
        == shown[1]
        == {
            "key": "billing-admin",
            "action": "delete",
            "queue": "default",  # where a missing job is looked for without ?queue=
            "job_count": 1,
            "outcome": "error",
            "error": "FailedJobNotFound",
        }
    )
    (warning,) = [r.getMessage() for r in caplog.records if r.name == "rq_gateway.access"]
    assert (
        f"API key 'billing-admin' addressed job {hidden} in 'reports', outside its queue patterns" in warning
    )
    assert conn.zcard("rq:failed:reports") == 1


def test_the_check_costs_one_round_trip_and_none_for_an_unrestricted_read(conn, factory, round_trips):
    job_id, warm_up = factory.failed(2)
    scoped = {
        name: JobService(conn).scoped(RequestScope(principal, "r1"))
        for name, principal in (("all", UNRESTRICTED), ("limited", Principal("d", Role.ADMIN, ("default",))))
    }
    counts = {}
    for name, service in scoped.items():
        round_trips.reset()
        service.get_job(job_id)
        counts[name] = round_trips.count
    scoped["all"].retry(warm_up)  # loads the script into Redis once
    round_trips.reset()
    scoped["all"].retry(job_id)
    assert counts == {"all": 1, "limited": 2}, "status: one pipeline, plus the origin for a limited key"
    assert round_trips.commands[:2] == ["HGET", "EXISTS"], "retry: the origin, then its one script"
    assert round_trips.count == 2
