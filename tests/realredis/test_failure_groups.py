"""Failure groups on a real redis-server, with jobs failed by a real `rq worker --burst`: three
causes, group retry run by a stock worker, group delete, dry runs that write nothing, and two
concurrent group retries that enqueue each job once."""

from __future__ import annotations

import re
from collections import Counter

from fastapi.testclient import TestClient
from rq import Queue
from rq.job import Job

from gateway.demo import jobs

from .helpers import API, failed_ids, keyspace, queued_ids
from .test_concurrency import clone_failed_job, race

FAIL_WITH = "gateway.demo.jobs.fail_with"
FLAKY_MESSAGE = "payment provider timed out for order <num>"
GROUPS_QUERY = (
    "query($q: String) { failureGroups(queue: $q) { totalFailed groups { groupId kind funcName excType "
    "message count firstFailedAt lastFailedAt sampleJobId } } }"
)


def camel_keys(rest: dict) -> dict:
    return {re.sub(r"_([a-z])", lambda m: m.group(1).upper(), key): value for key, value in rest.items()}


def fail_three_causes(r, worker) -> dict[str, list[str]]:
    """2 flaky charges (ConnectionError, succeed on retry), 3 malformed reports (ValueError),
    2 missing keys (KeyError), all failed by one real burst worker."""
    q = Queue("default", connection=r)
    made = {
        "flaky": [q.enqueue(jobs.flaky_charge, order).id for order in (11, 12)],
        "report": [q.enqueue(jobs.parse_report, f"bad-{i}").id for i in range(3)],
        "key": [q.enqueue(jobs.fail_with, "KeyError", f"user-{i}").id for i in range(2)],
    }
    worker()
    assert len(failed_ids(r)) == 7
    return made


def groups_by_exc(client) -> dict[str, dict]:
    body = client.get(f"{API}/failed/groups").json()
    return {group["exc_type"]: group for group in body["groups"]}


def test_groups_of_jobs_failed_by_a_real_worker(client, r, worker):
    made = fail_three_causes(r, worker)

    body = client.get(f"{API}/failed/groups").json()
    graphql = client.post("/graphql", json={"query": GROUPS_QUERY}).json()["data"]["failureGroups"]

    assert body["total_failed"] == 7
    summary = [(g["count"], g["func_name"], g["exc_type"], g["message"]) for g in body["groups"]]
    assert summary[0] == (
        3,
        "gateway.demo.jobs.parse_report",
        "ValueError",
        "ValueError: malformed report header in <str>",
    )
    assert set(summary[1:]) == {
        (
            2,
            "gateway.demo.jobs.flaky_charge",
            "ConnectionError",
            "ConnectionError: payment provider timed out for order <num>",
        ),
        (2, FAIL_WITH, "KeyError", "KeyError: <str>"),
    }
    ties = [g["group_id"] for g in body["groups"][1:]]
    assert ties == sorted(ties)  # equal counts: by group_id
    for group in body["groups"]:
        members = {"ValueError": made["report"], "ConnectionError": made["flaky"], "KeyError": made["key"]}
        ended = [Job.fetch(i, connection=r).ended_at for i in members[group["exc_type"]]]
        as_text = sorted(e.strftime("%Y-%m-%dT%H:%M:%S.%fZ") for e in ended)
        assert (group["first_failed_at"], group["last_failed_at"]) == (as_text[0], as_text[-1])
        assert group["sample_job_id"] in members[group["exc_type"]]
        assert group["kind"] == "failure"
    assert graphql == {"totalFailed": 7, "groups": [camel_keys(g) for g in body["groups"]]}


def test_group_retry_runs_on_a_stock_worker_and_leaves_other_groups(client, r, worker):
    made = fail_three_causes(r, worker)
    flaky = groups_by_exc(client)["ConnectionError"]

    retried = client.post(f"{API}/failed/groups/{flaky['group_id']}/retry")

    assert retried.status_code == 200
    body = retried.json()
    assert sorted(body["requeued_jobs"]) == sorted(made["flaky"])
    assert (body["requeued_count"], body["matched_count"], body["total_failed"]) == (2, 2, 7)
    assert (body["success"], body["dry_run"], body["errors"]) == (True, False, [])
    assert sorted(queued_ids(r)) == sorted(made["flaky"])
    assert sorted(failed_ids(r)) == sorted(made["report"] + made["key"])
    worker()  # a stock worker runs the requeued jobs: flaky_charge succeeds on its second attempt
    assert {Job.fetch(i, connection=r).get_status() for i in made["flaky"]} == {"finished"}
    assert set(groups_by_exc(client)) == {"ValueError", "KeyError"}
    again = client.post(f"{API}/failed/groups/{flaky['group_id']}/retry")
    assert again.status_code == 404


def test_group_delete_removes_the_members_and_what_rq_keeps_for_them(client, r, worker):
    made = fail_three_causes(r, worker)
    reports = groups_by_exc(client)["ValueError"]

    deleted = client.delete(f"{API}/failed/groups/{reports['group_id']}")

    assert deleted.status_code == 200
    body = deleted.json()
    assert sorted(body["deleted_jobs"]) == sorted(made["report"])
    assert (body["deleted_count"], body["error_count"], body["dry_run"]) == (3, 0, False)
    for job_id in made["report"]:
        assert r.exists(f"rq:job:{job_id}", f"rq:results:{job_id}") == 0
    assert sorted(failed_ids(r)) == sorted(made["flaky"] + made["key"])
    assert queued_ids(r) == []


def test_dry_runs_write_nothing(client, r, worker):
    made = fail_three_causes(r, worker)
    r.delete(f"rq:job:{made['key'][0]}")  # an orphan: a dry retry reports it as an error
    groups = client.get(f"{API}/failed/groups").json()["groups"]
    assert sorted(g["kind"] for g in groups) == ["failure", "failure", "failure", "orphan"]
    before = keyspace(r)

    answers = []
    for group in groups:
        gid = group["group_id"]
        answers.append(client.post(f"{API}/failed/groups/{gid}/retry", params={"dry_run": "true"}).json())
        answers.append(client.delete(f"{API}/failed/groups/{gid}", params={"dry_run": "true"}).json())
        mutation = (
            "mutation($g: ID!) { retryFailureGroup(groupId: $g, dryRun: true) { requeuedJobs } "
            "deleteFailureGroup(groupId: $g, dryRun: true) { deletedJobs } }"
        )
        assert (
            "errors" not in client.post("/graphql", json={"query": mutation, "variables": {"g": gid}}).json()
        )

    # Only the audit trail grew: a dry run is audited (as ACTION.dry_run), and changes no job data.
    after = keyspace(r)
    audit = after.pop(b"rq-gateway:audit")
    assert after == before
    assert audit and r.xlen("rq-gateway:audit") == 4 * len(groups)
    assert all(answer["dry_run"] is True for answer in answers)
    orphan_retry = answers[2 * [g["kind"] for g in groups].index("orphan")]
    assert orphan_retry["requeued_jobs"] == [] and orphan_retry["error_count"] == 1
    assert orphan_retry["errors"][0]["job_id"] == made["key"][0]
    would_delete = sorted(i for answer in answers[1::2] for i in answer["deleted_jobs"])
    assert would_delete == sorted(failed_ids(r))


def test_two_concurrent_group_retries_enqueue_each_job_once(app, r, fail_jobs, worker):
    (source,) = fail_jobs(1)
    members = {source, *clone_failed_job(r, source, 1999)}
    q = Queue("default", connection=r)
    bystanders = [q.enqueue(jobs.fail_with, "TimeoutError", "slow").id for _ in range(2)]
    worker()
    groups = TestClient(app).get(f"{API}/failed/groups").json()["groups"]
    (group,) = [g for g in groups if g["count"] == 2000]

    results = race(app, [("POST", f"{API}/failed/groups/{group['group_id']}/retry")] * 2)

    (_, s1, e1), (_, s2, e2) = results
    assert s1 < e2 and s2 < e1, "the two requests were not in flight at the same time"
    bodies = []
    for response, _, _ in results:
        assert response.status_code == 200, response.text
        bodies.append(response.json())
    requeued = [set(body["requeued_jobs"]) for body in bodies]
    assert not requeued[0] & requeued[1], "a job was requeued by both calls"
    assert requeued[0] | requeued[1] == members
    in_queue = Counter(queued_ids(r))
    assert set(in_queue) == members and max(in_queue.values()) == 1
    assert sorted(failed_ids(r)) == sorted(bystanders)


def test_damaged_keys_and_orphans_form_their_own_groups(client, r, fail_jobs):
    orphan, wrong_type, unreadable, fine = fail_jobs(4)
    r.delete(f"rq:job:{orphan}", f"rq:job:{wrong_type}")
    r.set(f"rq:job:{wrong_type}", "not a hash")
    r.hset(f"rq:job:{unreadable}", "data", b"not a pickled call")

    body = client.get(f"{API}/failed/groups").json()

    kinds = {g["kind"]: g for g in body["groups"]}
    assert (kinds["orphan"]["count"], kinds["unreadable"]["count"], kinds["failure"]["count"]) == (2, 1, 1)
    assert kinds["unreadable"]["sample_job_id"] == unreadable
    assert kinds["failure"]["sample_job_id"] == fine
    assert body["total_failed"] == 4
    retried = client.post(f"{API}/failed/groups/{kinds['orphan']['group_id']}/retry")
    assert retried.status_code == 200, retried.text
    assert sorted(e["job_id"] for e in retried.json()["errors"]) == sorted([orphan, wrong_type])
    assert retried.json()["requeued_jobs"] == []
    deleted = client.delete(f"{API}/failed/groups/{kinds['orphan']['group_id']}").json()
    assert sorted(deleted["deleted_jobs"]) == sorted([orphan, wrong_type])
    assert sorted(failed_ids(r)) == sorted([unreadable, fine])
