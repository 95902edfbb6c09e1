"""Fuzz: whatever Redis holds, no read answers 5xx (REST) or INTERNAL (GraphQL), and the answer
about the healthy jobs beside the damage stays right.

Hypothesis writes job keys of random Redis types with random fields and bytes, results streams
with random entries, and puts their ids (some not UTF-8, some with ':') in every queue and
registry; it also damages RQ's own sets and per-queue keys (wrong types, non-UTF-8 members, worker
hashes of random bytes). Healthy jobs failed by a real `rq worker` sit beside the damage."""

from __future__ import annotations

import pickle
import zlib
from base64 import b64encode

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.app import create_app
from gateway.config import Settings

from .helpers import API, restore, snapshot

_ODD_CALLS = [
    ("os.getcwd", None, (10**5000, [-(10**4400)]), {"n": 10**5000}),
    ("o\ud800s.getcwd", None, ("a\ud800b", {"k\udfff": float("nan")}), {"\ud800": "\udfff"}),
]
FIELDS = (
    "status",
    "origin",
    "data",
    "description",
    "created_at",
    "enqueued_at",
    "started_at",
    "ended_at",
    "exc_info",
    "dependency_ids",
    "dependency_id",
    "rate_limit_key",
    "ttl",
    "result_ttl",
    "meta",
    "timeout",
    "group_id",
    "last_heartbeat",
)
SPECIAL = [
    b"",
    b"\xff\xfe\x80",
    b"caf\xe9",
    b"failed",
    b"queued",
    b"finished",
    b"inf",
    b"nan",
    b"-1",
    b"99999999999999999999",
    b"2026-01-01T00:00:00.000000Z",
    b"0001-01-01T00:00:00+14:00",
    b"9999-12-31T23:59:59-14:00",
    b"[" * 3000,
    b'["a", 1, null]',
    b"default",
    b"x:y:z",
]
VALUES = st.one_of(st.sampled_from(SPECIAL), st.binary(max_size=40), st.text(max_size=20).map(str.encode))
# Payloads that decode, to values no JSON answer can hold as they are: an int of more digits than
# Python writes as text, lone surrogates in strings, keys and the function's name, NaN; as job data
# (zlib'd or not; protocol 0 writes ints as text, so it cannot hold the long one), meta, and a
# result's return_value. A job of them is otherwise whole, so every read decodes it.
ODD_DATA = [
    *(zlib.compress(pickle.dumps(call)) for call in _ODD_CALLS),
    *(pickle.dumps(call) for call in _ODD_CALLS),
    zlib.compress(pickle.dumps(_ODD_CALLS[1], protocol=0)),
]
ODD_META = [pickle.dumps({"cron_string": "*/5 \ud800", "interval": 10**5000, "k\udfff": float("nan")})]
ODD_RESULTS = [
    b64encode(pickle.dumps(10**5000)),
    b64encode(pickle.dumps(["\ud800", {"\udfff": -(10**4400)}])),
]
HASH = st.one_of(
    st.dictionaries(
        st.one_of(st.sampled_from(FIELDS), st.binary(min_size=1, max_size=8)), VALUES, max_size=10
    ),
    st.fixed_dictionaries(
        {
            "status": st.sampled_from([b"failed", b"finished", b"queued"]),
            "origin": st.just(b"default"),
            "data": st.sampled_from(ODD_DATA),
        },
        optional={"meta": st.sampled_from(ODD_META), "ended_at": st.just(b"2026-01-01T00:00:00.000000Z")},
    ),
)
KEY_TYPES = st.sampled_from(["hash", "hash", "hash", "string", "list", "set", "zset", "stream", "none"])
IDS = st.one_of(
    st.from_regex(r"\Af[a-z0-9]{1,6}\Z"),
    st.sampled_from([b"legacy:1234", b"caf\xe9", b"a:b:c", b"x\xff:y"]),
)
PLACES = st.sampled_from(
    ["failed", "queue", "started", "started_exec", "finished", "deferred", "scheduled", "canceled", "nowhere"]
)
JOB = st.fixed_dictionaries(
    {
        "id": IDS,
        "type": KEY_TYPES,
        "fields": HASH,
        "place": PLACES,
        "score": st.sampled_from([-1, 1, 10**10]),
        "results": st.one_of(
            st.none(),
            st.dictionaries(
                st.sampled_from([b"type", b"exc_string", b"return_value"]), VALUES, min_size=1, max_size=3
            ),
            st.fixed_dictionaries({b"type": st.just(b"1"), b"return_value": st.sampled_from(ODD_RESULTS)}),
        ),
    }
)
STRUCTURE = st.sampled_from(
    [
        "queues_set_member_not_utf8",
        "queues_set_member_colon",
        "workers_set_wrong_type",
        "workers_set_member_not_utf8",
        "worker_hash_random",
        "worker_hash_wrong_type",
        "worker_executions_damaged",
        "other_queue_keys_wrong_type",
        "workers_of_queue_wrong_type",
    ]
)

REGISTRY_PREFIX = {
    "failed": b"rq:failed:",
    "started": b"rq:wip:",
    "finished": b"rq:finished:",
    "deferred": b"rq:deferred:",
    "scheduled": b"rq:scheduled:",
    "canceled": b"rq:canceled:",
}
STATES = ("queued", "started", "failed", "finished", "deferred", "scheduled", "canceled")


def _as_bytes(job_id: str | bytes) -> bytes:
    return job_id if isinstance(job_id, bytes) else job_id.encode()


def _write_key(r, key: bytes, key_type: str, fields: dict) -> None:
    r.delete(key)
    if key_type == "hash" and fields:
        r.hset(key, mapping=fields)
    elif key_type == "string":
        r.set(key, b"not a hash")
    elif key_type == "list":
        r.rpush(key, b"a", b"\xff")
    elif key_type == "set":
        r.sadd(key, b"a", b"\xff")
    elif key_type == "zset":
        r.zadd(key, {b"a": 1, b"\xff": 2})
    elif key_type == "stream":
        r.xadd(key, {b"f": b"\xff"})


def _place(r, job_id: bytes, place: str, score: int) -> None:
    if place == "queue":
        r.rpush(b"rq:queue:default", job_id)
    elif place == "started_exec":
        r.zadd(b"rq:wip:default", {job_id + b":exec1": score})
    elif place in REGISTRY_PREFIX:
        r.zadd(REGISTRY_PREFIX[place] + b"default", {job_id: score})


def _sadd(r, key, *members: bytes) -> None:
    if r.type(key) in (b"set", b"none"):  # another example part may have damaged it already
        r.sadd(key, *members)


def _damage_structure(r, kind: str) -> None:
    if kind == "queues_set_member_not_utf8":
        _sadd(r, "rq:queues", b"rq:queue:caf\xe9")
        r.rpush(b"rq:queue:caf\xe9", b"x")
    elif kind == "queues_set_member_colon":
        _sadd(r, "rq:queues", b"rq:queue:tenant:1", b"not-a-queue-key")
    elif kind == "workers_set_wrong_type":
        r.delete("rq:workers")
        r.set("rq:workers", b"\xff")
    elif kind == "workers_set_member_not_utf8":
        _sadd(r, "rq:workers", b"rq:worker:w\xff")
        r.hset(b"rq:worker:w\xff", mapping={b"state": b"\xff", b"queues": b"default,\xff"})
    elif kind == "worker_hash_random":
        _sadd(r, "rq:workers", b"rq:worker:w1")
        r.hset(
            b"rq:worker:w1",
            mapping={
                b"state": b"busy",
                b"queues": b"\xff,,",
                b"successful_job_count": b"inf",
                b"total_working_time": b"nan",
                b"pid": b"99999999999999999999",
                b"birth": b"0001-01-01T00:00:00+14:00",
                b"last_heartbeat": b"\xff",
                b"current_job": b"\xff",
            },
        )
    elif kind == "worker_hash_wrong_type":
        _sadd(r, "rq:workers", b"rq:worker:w2")
        r.rpush(b"rq:worker:w2", b"x")
    elif kind == "worker_executions_damaged":
        _sadd(r, "rq:workers", b"rq:worker:w3")
        r.hset(b"rq:worker:w3", mapping={b"state": b"busy", b"queues": b"default"})
        _sadd(r, b"rq:worker:w3:executions", b"a:b:c", b"\xff", b"plain")
    elif kind == "other_queue_keys_wrong_type":
        _sadd(r, "rq:queues", b"rq:queue:dmg")
        r.set(b"rq:queue:dmg", b"x")
        for prefix in REGISTRY_PREFIX.values():
            r.set(prefix + b"dmg", b"x")
    elif kind == "workers_of_queue_wrong_type":
        r.set(b"rq:workers:default", b"x")


def _rest_reads(client, job_ids: list[str]) -> list:
    paths = [
        f"{API}/failed",
        f"{API}/failed?limit=1&offset=1",
        f"{API}/failed?exc_type=ValueError",
        f"{API}/failed?search=bad",
        f"{API}/failed?failed_after=2000-01-01T00:00:00Z&func_name=gateway.demo.jobs.parse_report",
        f"{API}/failed?failed_before=2100-01-01T00:00:00Z&limit=3",
        f"{API}/failed?queue=dmg",
        f"{API}/stats",
        f"{API}/stats?queue=dmg",
        f"{API}/failed/groups",
        "/api/v1/queues",
        "/api/v1/queues/default",
        "/api/v1/queues/dmg",
        "/api/v1/workers",
        "/api/v1/search?q=",
        "/api/v1/search?q=exc:ValueError+args:bad&state=failed",
        "/api/v1/search?q=meta.a:1+kwargs.b:2",
        "/api/v1/search?q=&queue=dmg",
    ]
    paths += [f"/api/v1/queues/{q}/jobs?state={s}" for q in ("default", "dmg") for s in STATES]
    paths += [f"/api/v1/queues/default/jobs?state={s}&order=desc&limit=2" for s in STATES]
    paths += [f"{API}/status/{job_id}" for job_id in job_ids]
    responses = [client.get(path) for path in paths]
    responses.append(client.post(f"{API}/failed/retry-all?dry_run=true"))
    responses.append(client.delete(f"{API}/failed/clear?dry_run=true"))
    for state in STATES:  # walk every page of one job, following the cursors
        cursor, seen = None, 0
        while seen < 40:
            params = {"state": state, "limit": 1, **({"cursor": cursor} if cursor else {})}
            response = client.get("/api/v1/queues/default/jobs", params=params)
            responses.append(response)
            if response.status_code != 200 or not response.json()["next_cursor"]:
                break
            cursor, seen = response.json()["next_cursor"], seen + 1
    cursor, seen = None, 0
    while seen < 40:  # every queue's every place, one job a page
        response = client.get(
            "/api/v1/search", params={"q": "", "limit": 1, **({"cursor": cursor} if cursor else {})}
        )
        responses.append(response)
        if response.status_code != 200 or not response.json()["next_cursor"]:
            break
        cursor, seen = response.json()["next_cursor"], seen + 1
    return responses


JOB_FIELDS = (
    "id status funcName args kwargs description origin createdAt enqueuedAt startedAt endedAt result excInfo"
)
GRAPHQL = (
    "query($id: ID!) { job(id: $id) { "
    + JOB_FIELDS
    + " location { queue registry } dependencyIds dependentIds } }"
)
GRAPHQL_ALL = (
    "{ queues { queueName queuedCount failedCount startedCount latencySeconds workerCount "
    + " ".join(
        f"{s}: jobs(state: {s.upper()}, first: 50) {{ totalCount nodes {{ {JOB_FIELDS} }} }}" for s in STATES
    )
    + ' } dated: failedJobs(first: 100, filter: {failedAfter: "2000-01-01T00:00:00Z"}) { totalCount'
    + " nodes { id } } failedJobs(first: 100) { totalCount nodes { "
    + JOB_FIELDS
    + " } } workers { name state queues currentJobId successfulJobCount failedJobCount totalWorkingTime"
    " lastHeartbeat birthDate hostname pid } failureGroups { totalFailed groups { groupId kind funcName"
    " excType message count sampleJobId } } queueStats { queueName failedCount queuedCount } }"
)


@pytest.fixture
def healthy_failed(r, fail_jobs):
    """(snapshot, ids) of two jobs a real worker failed on the default queue."""
    healthy = fail_jobs(2)
    return snapshot(r), healthy


@pytest.fixture
def client(r, redis_url: str):
    """GRAPHQL_ALL reads every field of every view in one query, on purpose: far over the default
    cost limit (graphql/cost.py), so this client raises it."""
    application = create_app(Settings(redis_url=redis_url, graphql_max_cost=10**9))
    try:
        yield TestClient(application)
    finally:
        application.state.service.connection.close()


@settings(
    max_examples=60,
    deadline=None,
    report_multiple_bugs=False,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(damaged_jobs=st.lists(JOB, max_size=6), structure=st.lists(STRUCTURE, max_size=3, unique=True))
def test_no_read_fails_on_damaged_data_and_healthy_jobs_stay_right(
    client, r, healthy_failed, damaged_jobs, structure
):
    snap, healthy = healthy_failed
    restore(r, snap)
    for job in damaged_jobs:
        job_id = _as_bytes(job["id"])
        _write_key(r, b"rq:job:" + job_id, job["type"], job["fields"])
        if job["results"] is not None:
            r.delete(b"rq:results:" + job_id)
            r.xadd(b"rq:results:" + job_id, job["results"])
        _place(r, job_id, job["place"], job["score"])
    for kind in structure:
        _damage_structure(r, kind)
    valid_ids = [j["id"] for j in damaged_jobs if isinstance(j["id"], str)] + healthy

    for response in _rest_reads(client, valid_ids):
        assert response.status_code < 500, (response.request.url, response.text)
    for job_id in valid_ids:
        body = client.post("/graphql", json={"query": GRAPHQL, "variables": {"id": job_id}}).json()
        # A job key that is gone or of another type is a job that does not exist: NOT_FOUND.
        assert all(e["extensions"]["code"] == "NOT_FOUND" for e in body.get("errors") or []), body
    everything = client.post("/graphql", json={"query": GRAPHQL_ALL})
    assert everything.status_code == 200
    assert "errors" not in everything.json(), everything.json()

    # The healthy jobs beside the damage are listed and read exactly as without it.
    listed = {job["job_id"]: job for job in client.get(f"{API}/failed").json()}
    for index, job_id in enumerate(healthy):
        assert listed[job_id]["func_name"] == "gateway.demo.jobs.parse_report"
        assert listed[job_id]["args"] == [f"bad-default-{index}"]
        assert "ValueError" in listed[job_id]["exc_info"]
        status = client.get(f"{API}/status/{job_id}").json()
        assert (status["status"], status["args"]) == ("failed", [f"bad-default-{index}"])
    nodes = {n["id"]: n for n in everything.json()["data"]["failedJobs"]["nodes"]}
    assert all(nodes[job_id]["funcName"] == "gateway.demo.jobs.parse_report" for job_id in healthy)
