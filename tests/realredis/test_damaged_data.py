"""What real deployments leave behind: orphaned registry entries, arguments the gateway cannot
import, corrupt job payloads, a job literally named "clear", and ids that are not RQ ids."""

from __future__ import annotations

import importlib.util
import os
import random
import subprocess
import sys
import textwrap

import pytest
from rq import Queue

from gateway.demo import jobs

from .helpers import API, HERE, failed_ids, queued_ids

ORPHAN_DETAIL_FRAGMENT = "its data is gone"


def test_orphaned_entry_is_listed_counted_refused_for_retry_and_deletable(client, r, fail_jobs):
    orphan, first, second = fail_jobs(3)
    r.delete(f"rq:job:{orphan}")
    order = failed_ids(r)
    assert orphan in order

    listed = client.get(f"{API}/failed")
    stats = client.get(f"{API}/stats").json()

    assert listed.status_code == 200
    by_id = {job["job_id"]: job for job in listed.json()}
    assert [job["job_id"] for job in listed.json()] == order
    assert by_id[orphan]["status"] == "failed"
    assert by_id[orphan]["func_name"] is None
    assert by_id[orphan]["args"] is None
    assert by_id[first]["func_name"] == "gateway.demo.jobs.parse_report"
    assert len(listed.json()) == stats["failed_count"] == 3

    retry = client.post(f"{API}/failed/{orphan}/retry")
    assert retry.status_code == 404
    assert ORPHAN_DETAIL_FRAGMENT in retry.json()["detail"]
    assert orphan in retry.json()["detail"]
    assert orphan in failed_ids(r)  # left in place, so it can still be deleted

    retry_all = client.post(f"{API}/failed/retry-all").json()
    assert retry_all["success"] is False
    assert retry_all["total_failed"] == 3
    assert sorted(retry_all["requeued_jobs"]) == sorted([first, second])
    assert retry_all["requeued_count"] == 2
    assert retry_all["error_count"] == 1
    (error,) = retry_all["errors"]
    assert error["job_id"] == orphan
    assert "gone" in error["error"] and "cannot be retried" in error["error"]
    assert sorted(queued_ids(r)) == sorted([first, second])
    assert failed_ids(r) == [orphan]

    deleted = client.delete(f"{API}/failed/{orphan}")
    assert deleted.status_code == 200
    assert deleted.json()["success"] is True
    assert failed_ids(r) == []
    assert r.exists(f"rq:results:{orphan}") == 0
    assert client.get(f"{API}/stats").json()["failed_count"] == 0


def test_clear_counts_orphans_as_deleted(client, r, fail_jobs):
    orphan, kept = fail_jobs(2)
    r.delete(f"rq:job:{orphan}")
    order = failed_ids(r)

    response = client.delete(f"{API}/failed/clear")

    assert response.status_code == 200
    body = response.json()
    assert body["deleted_jobs"] == order
    assert body["deleted_count"] == body["total_failed"] == 2
    assert body["errors"] == [] and body["success"] is True
    assert r.exists("rq:failed:default", f"rq:job:{kept}", f"rq:results:{orphan}") == 0


UNDECODABLE_MODULE = '''
class Widget:
    """Importable by the worker, not by the gateway."""

    def __init__(self, label):
        self.label = label

    def __repr__(self):
        return f"Widget({self.label!r})"
'''

ENQUEUE_WIDGET = """
import sys
from redis import Redis
from rq import Queue
from undecodable_mod import Widget

queue = Queue("default", connection=Redis.from_url(sys.argv[1]))
print(queue.enqueue("gateway.demo.jobs.parse_report", Widget("w-1")).id)
"""


def test_args_of_a_class_the_gateway_cannot_import_are_null_not_an_error(
    client, r, redis_url, worker, tmp_path
):
    module_dir = tmp_path / "worker-only"
    module_dir.mkdir()
    (module_dir / "undecodable_mod.py").write_text(textwrap.dedent(UNDECODABLE_MODULE))
    assert importlib.util.find_spec("undecodable_mod") is None  # the gateway process cannot import it
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(module_dir), str(HERE)])}
    enqueued = subprocess.run(
        [sys.executable, "-c", ENQUEUE_WIDGET, redis_url],
        env=env,
        cwd=module_dir,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    widget_job = enqueued.stdout.strip()
    plain_job = Queue("default", connection=r).enqueue(jobs.parse_report, "plain-bad").id
    worker(extra_paths=[module_dir])
    assert "undecodable_mod" not in sys.modules

    listed = client.get(f"{API}/failed")
    status = client.get(f"{API}/status/{widget_job}")

    assert listed.status_code == 200
    by_id = {job["job_id"]: job for job in listed.json()}
    assert set(by_id) == {widget_job, plain_job}
    widget = by_id[widget_job]
    assert widget["status"] == "failed"
    assert widget["func_name"] == "gateway.demo.jobs.parse_report"
    assert widget["args"] is None
    assert widget["kwargs"] == {}
    # The worker could import the class: the job ran and failed inside parse_report.
    assert "AttributeError: 'Widget' object has no attribute 'startswith'" in widget["exc_info"]
    assert by_id[plain_job]["args"] == ["plain-bad"]
    assert "ValueError: malformed report header in 'plain-bad'" in by_id[plain_job]["exc_info"]
    assert status.status_code == 200
    assert status.json()["args"] is None
    assert status.json()["func_name"] == "gateway.demo.jobs.parse_report"
    assert "undecodable_mod" not in sys.modules


def test_corrupt_job_payload_is_listed_with_null_call_fields(client, r, fail_jobs):
    corrupt, fine = fail_jobs(2)
    garbage = random.Random(20240101).randbytes(96)
    r.hset(f"rq:job:{corrupt}", "data", garbage)

    listed = client.get(f"{API}/failed")
    status = client.get(f"{API}/status/{corrupt}")
    stats = client.get(f"{API}/stats")

    assert listed.status_code == 200
    by_id = {job["job_id"]: job for job in listed.json()}
    assert by_id[corrupt]["status"] == "failed"
    assert by_id[corrupt]["is_failed"] is True
    assert (by_id[corrupt]["func_name"], by_id[corrupt]["args"], by_id[corrupt]["kwargs"]) == (
        None,
        None,
        None,
    )
    assert "ValueError" in by_id[corrupt]["exc_info"]  # the results stream is intact
    assert by_id[fine]["func_name"] == "gateway.demo.jobs.parse_report"
    assert by_id[fine]["args"] == ["bad-default-1"]
    assert status.status_code == 200
    assert status.json()["status"] == "failed"
    assert status.json()["func_name"] is None
    assert stats.status_code == 200
    assert stats.json()["failed_count"] == 2


def test_job_named_clear_does_not_shadow_clear_all(client, r, worker):
    q = Queue("default", connection=r)
    named = q.enqueue(jobs.parse_report, "bad-clear", job_id="clear").id
    others = [q.enqueue(jobs.parse_report, f"bad-{i}").id for i in range(2)]
    worker()
    assert named == "clear"
    assert sorted(failed_ids(r)) == sorted(["clear", *others])
    assert client.get(f"{API}/status/clear").json()["status"] == "failed"

    response = client.delete(f"{API}/failed/clear")

    assert response.status_code == 200
    body = response.json()
    assert "message" not in body  # the clear-all answer, not a single-job deletion
    assert body["total_failed"] == body["deleted_count"] == 3
    assert sorted(body["deleted_jobs"]) == sorted(["clear", *others])
    assert failed_ids(r) == []
    for job_id in ["clear", *others]:
        assert r.exists(f"rq:job:{job_id}", f"rq:results:{job_id}") == 0


def test_job_named_clear_can_be_retried_by_id(client, r, worker):
    q = Queue("default", connection=r)
    q.enqueue(jobs.parse_report, "bad-clear", job_id="clear")
    other = q.enqueue(jobs.parse_report, "bad-other").id
    worker()

    response = client.post(f"{API}/failed/clear/retry")

    assert response.status_code == 200
    assert response.json()["job_id"] == "clear"
    assert queued_ids(r) == ["clear"]
    assert failed_ids(r) == [other]


def _commands_processed(r) -> int:
    return r.info("stats")["total_commands_processed"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"{API}/status/bad:x"),
        ("POST", f"{API}/failed/bad:x/retry"),
        ("DELETE", f"{API}/failed/bad:x"),
        ("GET", f"{API}/status/{'a' * 513}"),
    ],
)
def test_invalid_job_id_is_422_and_never_reaches_redis(client, r, method, path):
    r.set("bad:x", "a key an unchecked id could address")
    client.get("/readyz")  # the gateway's connection is open, so nothing is left to set up
    first = _commands_processed(r)
    per_info_call = _commands_processed(r) - first
    before = _commands_processed(r)

    response = client.request(method, path)

    after = _commands_processed(r)
    assert response.status_code == 422
    assert "Invalid job id" in response.json()["detail"]
    # A refused mutation is still audited: one XADD to the audit stream, which never holds the id
    # as a key name.
    audited = 1 if method != "GET" else 0
    assert after - before == per_info_call + audited, "the gateway sent commands to Redis for an invalid id"
    assert r.get("bad:x") == b"a key an unchecked id could address"
    assert r.xlen("rq-gateway:audit") == audited
    assert set(r.keys()) == ({b"bad:x", b"rq-gateway:audit"} if audited else {b"bad:x"})


NOT_UTF8 = b"caf\xe9-\xff"
SHOWN = "caf\\xe9-\\xff"


def test_status_of_a_job_whose_origin_is_not_utf8_shows_it_escaped(client, r, fail_jobs):
    damaged_job, healthy = fail_jobs(2)
    r.hset(f"rq:job:{damaged_job}", "origin", NOT_UTF8)

    status = client.get(f"{API}/status/{damaged_job}")
    listed = client.get(f"{API}/failed")
    graphql = client.post(
        "/graphql",
        json={
            "query": "query($id: ID!) { job(id: $id) { origin location { queue } } }",
            "variables": {"id": damaged_job},
        },
    )

    assert status.status_code == 200
    assert status.json()["origin"] == SHOWN
    assert status.json()["location"]["queue"] == SHOWN
    assert listed.status_code == 200
    assert {job["job_id"]: job["origin"] for job in listed.json()} == {damaged_job: SHOWN, healthy: "default"}
    assert graphql.json() == {"data": {"job": {"origin": SHOWN, "location": {"queue": SHOWN}}}}


def test_retry_of_a_job_whose_origin_is_not_utf8_is_refused_and_writes_no_name(client, r, fail_jobs):
    damaged_job, healthy = fail_jobs(2)
    r.hset(f"rq:job:{damaged_job}", "origin", NOT_UTF8)
    queues_before = r.smembers("rq:queues")

    single = client.post(f"{API}/failed/{damaged_job}/retry")
    bulk = client.post(f"{API}/failed/retry-all")

    assert single.status_code == 422
    assert "not UTF-8" in single.json()["detail"] and damaged_job in single.json()["detail"]
    assert bulk.status_code == 200
    assert bulk.json()["requeued_jobs"] == [healthy]
    assert [e["job_id"] for e in bulk.json()["errors"]] == [damaged_job]
    assert "not UTF-8" in bulk.json()["errors"][0]["error"]
    assert r.smembers("rq:queues") == queues_before
    assert all(member.decode() for member in r.smembers("rq:queues"))  # every member decodes
    assert failed_ids(r) == [damaged_job]  # left in place, to inspect and delete
    assert client.get("/api/v1/queues").status_code == 200


def test_a_queues_set_member_that_is_not_utf8_is_listed_escaped_beside_the_others(client, r, fail_jobs):
    fail_jobs(2)
    r.sadd("rq:queues", b"rq:queue:" + NOT_UTF8)
    r.rpush(b"rq:queue:" + NOT_UTF8, b"j1", b"j2")

    rest = client.get("/api/v1/queues")
    graphql = client.post(
        "/graphql", json={"query": "{ queues { queueName queuedCount failedCount jobs { totalCount } } }"}
    )

    assert rest.status_code == 200
    counts = {queue["queue_name"]: (queue["queued_count"], queue["failed_count"]) for queue in rest.json()}
    assert counts == {"default": (0, 2), SHOWN: (2, 0)}
    assert graphql.json() == {
        "data": {
            "queues": [
                {"queueName": SHOWN, "queuedCount": 2, "failedCount": 0, "jobs": {"totalCount": 0}},
                {"queueName": "default", "queuedCount": 0, "failedCount": 2, "jobs": {"totalCount": 0}},
            ]
        }
    }


# (key, the reads that touch it): a key of another Redis type reads as absent there.
WRONG_TYPE_KEYS = [
    ("rq:failed:default", [f"{API}/failed", f"{API}/stats", f"{API}/failed/groups", "/api/v1/queues"]),
    ("rq:queue:default", ["/api/v1/queues/default/jobs?state=queued", "/api/v1/queues", f"{API}/stats"]),
    ("rq:wip:default", ["/api/v1/queues/default/jobs?state=started", "/api/v1/queues/default"]),
    ("rq:finished:default", ["/api/v1/queues/default/jobs?state=finished", f"{API}/stats"]),
    ("rq:workers", ["/api/v1/workers"]),
    ("rq:workers:default", ["/api/v1/queues", "/api/v1/queues/default"]),
    ("rq:queues", ["/api/v1/queues"]),
]


@pytest.mark.parametrize(("key", "paths"), WRONG_TYPE_KEYS, ids=[key for key, _ in WRONG_TYPE_KEYS])
@pytest.mark.parametrize("value", ["string", "hash"])
def test_a_key_of_the_wrong_type_reads_as_absent_and_other_queues_stay_right(
    client, r, fail_jobs, key, paths, value
):
    fail_jobs(2, queue="other")
    r.sadd("rq:queues", "rq:queue:default")  # RQ knows the default queue, as after any enqueue
    r.delete(key)
    if value == "string":
        r.set(key, "damaged")
    else:
        r.hset(key, "damaged", "yes")

    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, (path, response.text)
    other = client.get(f"{API}/failed", params={"queue": "other"}).json()
    assert [job["func_name"] for job in other] == ["gateway.demo.jobs.parse_report"] * 2
    assert client.get(f"{API}/stats", params={"queue": "other"}).json()["failed_count"] == 2
    assert r.type(key) == (b"string" if value == "string" else b"hash")  # read, never repaired


def test_retry_onto_a_queue_key_of_another_type_is_refused_and_writes_nothing(client, r, fail_jobs):
    (job_id,) = fail_jobs(1)
    r.set("rq:queue:default", "damaged")

    response = client.post(f"{API}/failed/{job_id}/retry")

    assert response.status_code == 409
    assert "not a Redis list" in response.json()["detail"]
    assert failed_ids(r) == [job_id]
    assert r.hget(f"rq:job:{job_id}", "status") == b"failed"
    assert r.get("rq:queue:default") == b"damaged"


def test_a_failed_member_that_is_not_utf8_is_listed_with_its_job_refused_for_retry_and_deletable(
    client, r, fail_jobs
):
    (healthy,) = fail_jobs(1)
    member = b"job-\xe9"
    r.restore(b"rq:job:" + member, 0, r.dump(f"rq:job:{healthy}"))
    r.zadd("rq:failed:default", {member: 10**10})
    shown = "job-\\xe9"

    listed = {job["job_id"]: job for job in client.get(f"{API}/failed").json()}
    page = client.get("/api/v1/queues/default/jobs", params={"state": "failed"}).json()
    dry = client.post(f"{API}/failed/retry-all", params={"dry_run": "true"}).json()
    retried = client.post(f"{API}/failed/retry-all").json()

    assert listed[shown]["func_name"] == "gateway.demo.jobs.parse_report"  # its own job, read
    assert [job["job_id"] for job in page["jobs"]] == [healthy, shown]
    for body in (dry, retried):
        assert body["requeued_jobs"] == [healthy]
        assert [e["job_id"] for e in body["errors"]] == [shown]
        assert "not UTF-8" in body["errors"][0]["error"]
    assert r.lrange("rq:queue:default", 0, -1) == [healthy.encode()]

    cleared = client.delete(f"{API}/failed/clear").json()

    assert cleared["deleted_jobs"] == [shown]
    assert r.exists(b"rq:job:" + member, "rq:failed:default") == 0


def test_paging_one_by_one_visits_every_entry_once_damaged_members_included(client, r, fail_jobs):
    (healthy,) = fail_jobs(1)
    members = [b"a:b:c", b"legacy:1", b"x\xff", b"zz~41"]
    for offset, member in enumerate(members):
        r.zadd("rq:failed:default", {member: 10**10 + offset})
    expected = [healthy, "a:b:c", "legacy:1", "x\\xff", "zz~41"]

    rest, cursor = [], None
    while True:
        params = {"state": "failed", "limit": 1, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/queues/default/jobs", params=params).json()
        rest += [job["job_id"] for job in page["jobs"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    graphql, after = [], None
    while True:
        query = (
            "query($a: String) { failedJobs(first: 1, after: $a) "
            "{ nodes { id } pageInfo { hasNextPage endCursor } } }"
        )
        body = client.post("/graphql", json={"query": query, "variables": {"a": after}}).json()["data"][
            "failedJobs"
        ]
        graphql += [node["id"] for node in body["nodes"]]
        if not body["pageInfo"]["hasNextPage"]:
            break
        after = body["pageInfo"]["endCursor"]

    assert rest == graphql == expected
