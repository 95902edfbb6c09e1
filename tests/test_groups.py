"""Failure groups on fakeredis: grouping, stable ids, orphans and unreadable jobs, group actions,
routing, and REST↔GraphQL parity. Jobs are failed by a real in-process RQ SimpleWorker."""

from __future__ import annotations

import hashlib

import pytest
from rq import Queue

from gateway.demo import jobs
from gateway.errors import FailureGroupNotFound, InvalidParameter
from gateway.services.writes.groups import ORPHAN_MESSAGE, READ_CHUNK, group_id_of
from tests.conftest import run_worker
from tests.transports import to_rest_shape

API = "/api/v1/jobs"
GROUP_FIELDS = "groupId kind funcName excType message count firstFailedAt lastFailedAt sampleJobId"
FAIL_WITH = "gateway.demo.jobs.fail_with"


def fail(conn, *calls, queue: str = "default") -> list[str]:
    """Enqueue (function, args...) calls and fail them with a real worker; ids in call order."""
    q = Queue(queue, connection=conn)
    ids = [q.enqueue(func, *args).id for func, *args in calls]
    run_worker(conn, queue)
    return ids


def by_message(groups) -> dict:
    return {(g.func_name, g.message): g for g in groups}


def test_values_fall_together_and_causes_fall_apart(conn, service):
    boom = fail(conn, (jobs.fail_with, "ValueError", "boom 1"), (jobs.fail_with, "ValueError", "boom 2"))
    key_error = fail(conn, (jobs.fail_with, "KeyError", "boom 3"))
    other_function = fail(conn, (jobs.parse_report, "boom"))

    result = service.failure_groups()

    assert result.total_failed == 4
    groups = by_message(result.groups)
    assert set(groups) == {
        (FAIL_WITH, "ValueError: boom <num>"),
        (FAIL_WITH, "KeyError: <str>"),  # KeyError quotes its argument
        ("gateway.demo.jobs.parse_report", "ValueError: malformed report header in <str>"),
    }
    values = groups[(FAIL_WITH, "ValueError: boom <num>")]
    assert (values.count, values.exc_type, values.kind) == (2, "ValueError", "failure")
    assert groups[(FAIL_WITH, "KeyError: <str>")].sample_job_id == key_error[0]
    parse_report = ("gateway.demo.jobs.parse_report", "ValueError: malformed report header in <str>")
    assert groups[parse_report].count == 1
    assert other_function[0] in {g.sample_job_id for g in result.groups}
    # Largest first, then by id; every id is distinct.
    assert [g.count for g in result.groups] == [2, 1, 1]
    assert result.groups[1].group_id < result.groups[2].group_id
    assert len({g.group_id for g in result.groups}) == 3
    assert set(boom) == {boom[0], boom[1]}


def test_times_are_the_members_ended_at_and_the_sample_is_the_latest(conn, service):
    ids = fail(conn, *[(jobs.fail_with, "ValueError", f"boom {i}") for i in range(3)])
    ended = [service.get_job(job_id).ended_at for job_id in ids]

    (group,) = service.failure_groups().groups

    assert (group.first_failed_at, group.last_failed_at) == (min(ended), max(ended))
    assert group.sample_job_id == ids[ended.index(max(ended))]
    assert group.last_failed_at.endswith("Z")


def test_a_stopped_jobs_failure_time_is_its_last_heartbeat_in_groups_and_date_filters(client, conn, service):
    """RQ leaves ended_at empty on a job a stop command ended: its group had null times and no
    date filter ever matched it. Its failure time is its last heartbeat, for groups, filters and
    the history alike (lua/prelude.lua failed_at, history/sample.py)."""
    ids = fail(conn, *[(jobs.fail_with, "ValueError", f"boom {i}") for i in range(2)])
    stopped = ids[1]
    heartbeat = "2031-01-01T00:00:00.000000Z"  # after every real failure: the group's last
    conn.hset(f"rq:job:{stopped}", mapping={"ended_at": "", "status": "stopped", "last_heartbeat": heartbeat})
    (group,) = service.failure_groups().groups
    assert (group.last_failed_at, group.sample_job_id) == (heartbeat, stopped)
    for filtered in (f"?failed_after={heartbeat}", f"?failed_after={heartbeat}&func_name={FAIL_WITH}"):
        assert [job["job_id"] for job in client.get(f"{API}/failed{filtered}").json()] == [stopped]


def test_group_ids_are_stable_across_calls_processes_and_restarts(conn, service):
    fail(conn, (jobs.fail_with, "ValueError", "boom 1"))
    first = service.failure_groups().groups[0]
    # The documented formula, pinned: a change would give every group a new id after an upgrade.
    assert group_id_of(("failure", FAIL_WITH, "ValueError", "ValueError: boom <num>")) == first.group_id
    documented = "\x1f".join(("v1", "failure", FAIL_WITH, "ValueError", "ValueError: boom <num>"))
    assert first.group_id == hashlib.sha256(documented.encode()).hexdigest()[:16] == "d6222dd454c92a7f"
    fail(conn, (jobs.fail_with, "ValueError", "boom 2"))
    assert service.failure_groups().groups[0].group_id == first.group_id


def test_orphans_and_unreadable_jobs_have_their_own_groups(conn, service):
    orphan, unreadable, fine = fail(conn, *[(jobs.fail_with, "ValueError", "boom") for _ in range(3)])
    conn.delete(f"rq:job:{orphan}")
    conn.hset(f"rq:job:{unreadable}", "data", b"not a pickled call")

    groups = {g.kind: g for g in service.failure_groups().groups}

    assert set(groups) == {"failure", "orphan", "unreadable"}
    assert (groups["orphan"].count, groups["orphan"].sample_job_id) == (1, orphan)
    assert groups["orphan"].message == ORPHAN_MESSAGE
    assert (groups["orphan"].func_name, groups["orphan"].first_failed_at) == (None, None)
    assert (groups["unreadable"].sample_job_id, groups["unreadable"].func_name) == (unreadable, None)
    assert groups["unreadable"].exc_type == "ValueError"  # the traceback is still readable
    assert groups["failure"].sample_job_id == fine


def test_a_registry_larger_than_one_read_chunk_is_counted_whole(conn, service, round_trips):
    (source,) = fail(conn, (jobs.fail_with, "ValueError", "boom"))
    fields, entries = conn.hgetall(f"rq:job:{source}"), conn.xrange(f"rq:results:{source}")
    score = conn.zscore("rq:failed:default", source)
    with conn.pipeline() as pipe:
        for i in range(READ_CHUNK + 10):
            pipe.hset(f"rq:job:clone-{i}", mapping=fields)
            pipe.xadd(f"rq:results:clone-{i}", entries[0][1])
            pipe.zadd("rq:failed:default", {f"clone-{i}": score})
        pipe.execute()
    service.failure_groups()  # loads the Lua scripts into Redis
    round_trips.reset()

    result = service.failure_groups()

    assert result.total_failed == READ_CHUNK + 11
    assert [g.count for g in result.groups] == [READ_CHUNK + 11]
    # No command per job: each chunk's fields are read by one script call.
    assert not {"HGETALL", "HMGET", "XREVRANGE"} & set(round_trips.commands)
    # The last entry, then per chunk one slice and one pipeline, then the empty slice ending the walk.
    assert round_trips.count == len(round_trips.commands) == 6


def test_retry_group_requeues_only_its_members(conn, service):
    flaky = fail(conn, (jobs.flaky_charge, 1), (jobs.flaky_charge, 2))
    other = fail(conn, (jobs.parse_report, "bad"))
    group = next(g for g in service.failure_groups().groups if g.exc_type == "ConnectionError")

    outcome = service.retry_failure_group(group.group_id)

    assert sorted(outcome.done_jobs) == sorted(flaky)
    assert (outcome.matched_count, outcome.total_failed, outcome.dry_run) == (2, 3, False)
    assert Queue("default", connection=conn).job_ids == outcome.done_jobs
    assert [j.job_id for j in service.list_failed()] == other
    run_worker(conn)  # flaky_charge succeeds on its second attempt
    assert {service.get_job(i).status for i in flaky} == {"finished"}


def test_dry_runs_change_nothing_and_say_what_would_happen(conn, service):
    ids = fail(conn, (jobs.parse_report, "a"), (jobs.parse_report, "b"))
    conn.delete(f"rq:job:{ids[0]}")
    orphans, failures = sorted(service.failure_groups().groups, key=lambda g: g.kind != "orphan")
    before = {key: conn.dump(key) for key in conn.scan_iter()}

    retry = service.retry_failure_group(orphans.group_id, dry_run=True)
    delete = service.delete_failure_group(failures.group_id, dry_run=True)

    assert {key: conn.dump(key) for key in conn.scan_iter()} == before
    assert (retry.done_jobs, retry.dry_run) == ([], True)
    assert [(e.job_id, e.error) for e in retry.errors] == [
        (ids[0], "Job data is gone (expired or deleted); it cannot be retried, only deleted")
    ]
    assert (delete.done_jobs, delete.matched_count) == ([ids[1]], 1)


def test_unknown_and_invalid_group_ids(conn, service):
    fail(conn, (jobs.parse_report, "bad"))
    with pytest.raises(FailureGroupNotFound, match="Failure group 0123456789abcdef has no failed jobs"):
        service.retry_failure_group("0123456789abcdef")
    with pytest.raises(FailureGroupNotFound):
        service.delete_failure_group("0123456789abcdef", dry_run=True)
    with pytest.raises(InvalidParameter, match="Invalid group id"):
        service.delete_failure_group("ABC")
    assert service.stats().failed_count == 1


def test_rest_errors_and_routing(client, conn):
    fail(conn, (jobs.parse_report, "bad"))
    # A failed job whose id is "groups" is still reached by the single-job delete route.
    Queue("default", connection=conn).enqueue(jobs.parse_report, "bad", job_id="groups")
    run_worker(conn)

    unknown = client.post(f"{API}/failed/groups/0123456789abcdef/retry")
    invalid = client.delete(f"{API}/failed/groups/not-a-group")
    bad_queue = client.get(f"{API}/failed/groups", params={"queue": "a\nb"})
    listed = client.get(f"{API}/failed/groups").json()
    deleted_job = client.delete(f"{API}/failed/groups")

    assert unknown.status_code == 404
    detail = "Failure group 0123456789abcdef has no failed jobs in queue 'default'"
    assert unknown.json() == {"detail": detail}
    assert invalid.status_code == 422
    assert invalid.json()["detail"].startswith("Invalid group id 'not-a-group'")
    assert bad_queue.status_code == 422
    assert [g["count"] for g in listed["groups"]] == [2] and listed["total_failed"] == 2
    assert deleted_job.status_code == 200 and deleted_job.json()["job_id"] == "groups"


# REST↔GraphQL parity ---------------------------------------------------------------------------


def rest_groups(client, queue=None):
    return client.get(f"{API}/failed/groups", params={"queue": queue} if queue else None).json()


def graphql(client, query: str, **variables) -> dict:
    body = client.post("/graphql", json={"query": query, "variables": variables}).json()
    assert "errors" not in body, body
    return to_rest_shape(body["data"])


def graphql_groups(client, queue=None):
    query = f"query($q: String) {{ failureGroups(queue: $q) {{ totalFailed groups {{ {GROUP_FIELDS} }} }} }}"
    return graphql(client, query, q=queue)["failure_groups"]


ACTION_FIELDS = "success totalFailed errorCount errors { jobId error } groupId dryRun matchedCount"


def restore(conn, snapshot: dict) -> None:
    conn.flushall()
    for key, (dumped, pttl) in snapshot.items():
        conn.restore(key, max(pttl, 0), dumped)


def both_actions(client, conn, snapshot, group_id: str, retry: bool, dry_run: bool) -> tuple[dict, dict]:
    """The same action through REST then GraphQL, each from the snapshot's data."""
    restore(conn, snapshot)
    if retry:
        rest = client.post(f"{API}/failed/groups/{group_id}/retry", params={"dry_run": dry_run})
        name, fields = "retryFailureGroup", f"{ACTION_FIELDS} requeuedCount requeuedJobs"
    else:
        rest = client.delete(f"{API}/failed/groups/{group_id}", params={"dry_run": dry_run})
        name, fields = "deleteFailureGroup", f"{ACTION_FIELDS} deletedCount deletedJobs"
    restore(conn, snapshot)
    query = f"mutation($g: ID!, $d: Boolean!) {{ {name}(groupId: $g, dryRun: $d) {{ {fields} }} }}"
    answer = graphql(client, query, g=group_id, d=dry_run)
    return rest.json(), answer["retry_failure_group" if retry else "delete_failure_group"]


def test_parity_of_groups_and_group_actions(client, conn):
    fail(conn, (jobs.fail_with, "ValueError", "boom 1"), (jobs.fail_with, "ValueError", "boom 2"))
    fail(conn, (jobs.flaky_charge, 3))
    fail(conn, (jobs.parse_report, "bad"), queue="reports")
    orphan = fail(conn, (jobs.fail_with, "TimeoutError", "slow"))[0]
    conn.delete(f"rq:job:{orphan}")

    for queue in (None, "reports"):
        assert rest_groups(client, queue) == graphql_groups(client, queue)
    groups = rest_groups(client)["groups"]
    assert len(groups) == 3
    snapshot = {key: (conn.dump(key), conn.pttl(key)) for key in conn.scan_iter()}
    for group in groups:
        for retry in (True, False):
            for dry_run in (True, False):
                rest, answer = both_actions(client, conn, snapshot, group["group_id"], retry, dry_run)
                assert rest == answer
                assert rest["matched_count"] == group["count"]


def test_graphql_error_codes_match_rest(client):
    query = "mutation($g: ID!) { deleteFailureGroup(groupId: $g) { success } }"
    for group_id, code, status in (("0123456789abcdef", "NOT_FOUND", 404), ("nope", "BAD_REQUEST", 422)):
        rest = client.delete(f"{API}/failed/groups/{group_id}")
        body = client.post("/graphql", json={"query": query, "variables": {"g": group_id}}).json()
        assert rest.status_code == status
        assert body["errors"][0]["extensions"]["code"] == code
        assert body["errors"][0]["message"] == rest.json()["detail"]


def test_keys_of_the_wrong_type_read_as_absent(conn, service):
    hash_gone, stream_gone = fail(conn, *[(jobs.fail_with, "ValueError", "boom") for _ in range(2)])
    conn.delete(f"rq:job:{hash_gone}", f"rq:results:{stream_gone}")
    conn.set(f"rq:job:{hash_gone}", "not a hash")
    conn.set(f"rq:results:{stream_gone}", "not a stream")

    groups = {g.kind: g for g in service.failure_groups().groups}

    assert groups["orphan"].sample_job_id == hash_gone
    assert groups["failure"].sample_job_id == stream_gone
    assert (groups["failure"].exc_type, groups["failure"].message) == (None, None)
