"""GET /failed streamed (gateway/services/reads/streams.py): bounded jobs per Redis round trip, written a
chunk at a time, with today's order, offset/limit and filter semantics, access checks before the
first byte, payloads hidden per chunk, and an aborted (never a complete-looking) answer when Redis
fails mid-way."""

from __future__ import annotations

import json

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.errors import BackendUnavailable
from gateway.rest.models import job_dict
from gateway.services import FailedJobFilter, JobService
from gateway.services.reads import streams
from gateway.services.redis import keys
from gateway.services.redis.fetch import fetch_jobs
from tests.asgi_call import call_asgi
from tests.keyed import bearer, keyed_client

FAILED = keys.registry_key("failed", "default")


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(streams, "STREAM_CHUNK", 3)
    return 3


@pytest.fixture
def pipelines(monkeypatch, conn):
    """The number of HGETALLs of every pipeline executed (one per round trip that reads jobs)."""
    sizes: list[int] = []
    pipeline_class = type(conn.pipeline())
    execute = pipeline_class.execute

    def counted(pipe, *args, **kwargs):
        hgetalls = sum(1 for command in pipe.command_stack if str(command[0][0]).upper() == "HGETALL")
        if hgetalls:
            sizes.append(hgetalls)
        return execute(pipe, *args, **kwargs)

    monkeypatch.setattr(pipeline_class, "execute", counted)
    return sizes


def old_body(conn, offset: int = 0, limit: int | None = None) -> bytes:
    """The body as the route rendered it before streaming: one slice of the whole registry."""
    ids = [m.decode() for m in conn.zrange(FAILED, 0, -1)]
    ids = ids[offset:] if limit is None else ids[offset : offset + limit]
    jobs = fetch_jobs(conn, ids, JobService(conn).serializer, "default", in_failed_registry=True)
    return ("[" + ",".join(json.dumps(job_dict(j), separators=(",", ":")) for j in jobs) + "]").encode()


def test_jobs_are_read_a_bounded_chunk_per_round_trip(service, factory, pipelines, small_chunks):
    factory.failed(10)
    pipelines.clear()
    assert len(service.list_failed()) == 10
    assert pipelines == [3, 3, 3, 1]


def test_the_stream_reads_redis_only_as_it_is_consumed(service, factory, pipelines, small_chunks):
    factory.failed(10)
    pipelines.clear()
    stream = iter(service.stream_failed())
    assert pipelines == [3]  # the first chunk, read before the answer starts
    assert len(next(stream)) == 3 and pipelines == [3]
    assert len(next(stream)) == 3 and pipelines == [3, 3]
    assert sum(len(chunk) for chunk in stream) == 4 and pipelines == [3, 3, 3, 1]


def test_the_answer_is_written_a_chunk_at_a_time_and_equals_the_old_body(conn, factory, small_chunks):
    factory.failed(10)
    client = keyed_client(conn, "viewer")
    messages, error = call_asgi(client.app, "/api/v1/jobs/failed", bearer("viewer"))
    assert error is None
    parts = [m["body"] for m in messages if m["type"] == "http.response.body" and m.get("body")]
    assert len(parts) >= 4  # four chunks of at most 3 jobs, then the closing bracket
    assert b"".join(parts) == old_body(conn)
    assert client.get("/api/v1/jobs/failed").content == old_body(conn)


def test_a_redis_failure_mid_stream_aborts_the_answer(conn, factory, small_chunks, monkeypatch):
    factory.failed(10)
    client = keyed_client(conn, "viewer")
    real_fetch, calls = streams.fetch_jobs, []

    def failing_after_first(*args, **kwargs):
        calls.append(1)
        if len(calls) > 1:
            raise redis.ConnectionError("Connection refused")
        return real_fetch(*args, **kwargs)

    monkeypatch.setattr(streams, "fetch_jobs", failing_after_first)
    messages, error = call_asgi(client.app, "/api/v1/jobs/failed", bearer("viewer"))
    assert messages[0]["type"] == "http.response.start" and messages[0]["status"] == 200
    assert error is not None  # raised to the server, which closes the connection
    bodies = [m for m in messages if m["type"] == "http.response.body"]
    assert all(m.get("more_body") for m in bodies)  # the answer was never completed
    with pytest.raises(json.JSONDecodeError):
        json.loads(b"".join(m.get("body", b"") for m in bodies))


def test_a_redis_failure_mid_stream_is_backend_unavailable(service, factory, small_chunks, monkeypatch):
    factory.failed(7)
    stream = iter(service.stream_failed())
    next(stream)
    monkeypatch.setattr(streams, "fetch_jobs", lambda *a, **k: (_ for _ in ()).throw(redis.TimeoutError()))
    with pytest.raises(BackendUnavailable):
        next(stream)


def test_errors_before_the_first_byte_are_the_usual_answers(conn, factory, monkeypatch):
    factory.failed(2)
    factory.failed(1, queue="billing-eu")
    billing = keyed_client(conn, "billing")
    refused = billing.get("/api/v1/jobs/failed")
    assert refused.status_code == 403 and "may not access queue 'default'" in refused.json()["detail"]
    assert len(billing.get("/api/v1/jobs/failed", params={"queue": "billing-eu"}).json()) == 1
    viewer = keyed_client(conn, "viewer")
    assert viewer.get("/api/v1/jobs/failed", params={"offset": -1}).status_code == 422
    assert keyed_client(conn).get("/api/v1/jobs/failed").status_code == 401

    def down(*args, **kwargs):
        raise redis.ConnectionError("Connection refused")

    monkeypatch.setattr(streams, "fetch_jobs", down)
    unavailable = viewer.get("/api/v1/jobs/failed")
    assert unavailable.status_code == 503 and "Retry-After" in unavailable.headers


def test_payloads_are_hidden_in_every_chunk(conn, factory, small_chunks):
    factory.failed(7)
    listed = keyed_client(conn, "viewer", hide_payloads=True).get("/api/v1/jobs/failed").json()
    assert len(listed) == 7
    assert all(job["args"] is None and job["kwargs"] is None for job in listed)
    shown = keyed_client(conn, "operator", hide_payloads=True).get("/api/v1/jobs/failed").json()
    assert len(shown) == 7 and all(job["args"] for job in shown)  # only viewers are concerned


@pytest.fixture
def twelve(conn, factory):
    ids = factory.failed(8)
    ids += [factory.flaky_failed() for _ in range(4)]
    return ids


@pytest.fixture
def viewer(conn):
    return keyed_client(conn, "viewer")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    offset=st.integers(0, 14),
    limit=st.none() | st.integers(0, 14),
    chunk=st.integers(1, 13),
    filtered=st.booleans(),
)
def test_offset_limit_and_filters_are_those_of_one_slice(
    conn, twelve, viewer, offset, limit, chunk, filtered
):
    service = JobService(conn)
    job_filter = FailedJobFilter.parse(func_name="gateway.demo.jobs.flaky_charge") if filtered else None
    everything = [job.job_id for job in service.list_failed(job_filter=job_filter)]
    expected = everything[offset:] if limit is None else everything[offset : offset + limit]
    stream = service.stream_failed(offset=offset, limit=limit, job_filter=job_filter, chunk=chunk)
    chunks = list(stream)
    assert [job.job_id for c in chunks for job in c] == expected
    assert all(0 < len(c) <= max(chunk, 500) for c in chunks)
    if not filtered:
        assert all(len(c) <= chunk for c in chunks)
        params = {"offset": offset, **({} if limit is None else {"limit": limit})}
        assert viewer.get("/api/v1/jobs/failed", params=params).content == old_body(conn, offset, limit)
