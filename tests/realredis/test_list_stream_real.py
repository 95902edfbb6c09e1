"""The streamed GET /failed on real Redis: the same bytes as one slice of the registry, over jobs a
real `rq worker` failed, and, from the CLI-started gateway, an aborted connection (never a
complete-looking array) when Redis stops answering mid-answer."""

from __future__ import annotations

import json

import httpx
import pytest
import redis

from bench.seed import clone_failed, seed_failed
from gateway.rest.models import job_dict
from gateway.services import JobService
from gateway.services.reads import streams
from gateway.services.redis import keys
from gateway.services.redis.fetch import fetch_jobs

from .helpers import wait_until
from .processes import GatewayProcess


def one_slice_body(r: redis.Redis, offset: int, limit: int | None, queue: str = "default") -> bytes:
    """The body as the route built it before streaming: one slice of the registry, one pipeline."""
    ids = [m.decode() for m in r.zrange(keys.registry_key("failed", queue), 0, -1)]
    ids = ids[offset:] if limit is None else ids[offset : offset + limit]
    jobs = fetch_jobs(r, ids, JobService(r).serializer, queue, in_failed_registry=True)
    return ("[" + ",".join(json.dumps(job_dict(j), separators=(",", ":")) for j in jobs) + "]").encode()


def test_the_streamed_list_is_byte_for_byte_one_slice(client, r, redis_url, monkeypatch):
    seed_failed(r, redis_url, 40, with_worker=40)
    monkeypatch.setattr(streams, "STREAM_CHUNK", 7)
    for offset, limit in [(0, None), (0, 40), (3, None), (5, 14), (39, None), (40, None), (0, 0), (12, 7)]:
        params = {"offset": offset, **({} if limit is None else {"limit": limit})}
        response = client.get("/api/v1/jobs/failed", params=params)
        assert response.status_code == 200
        assert response.content == one_slice_body(r, offset, limit), (offset, limit)


def test_a_filtered_stream_matches_the_filter_over_the_whole_list(client, r, redis_url):
    seed_failed(r, redis_url, 30, with_worker=30)
    everything = client.get("/api/v1/jobs/failed").json()
    found = client.get("/api/v1/jobs/failed", params={"search": "bad-1", "offset": 2, "limit": 5}).json()
    expected = [job for job in everything if "bad-1" in (job["exc_info"] or "")][2:7]
    assert found == expected and found
    assert [job["job_id"] for job in everything] == sorted(
        (job["job_id"] for job in everything),
        key=lambda i: (r.zscore(keys.registry_key("failed", "default"), i), i),
    )


@pytest.fixture
def gateway(redis_server, tmp_path):
    process = GatewayProcess(redis_server.url, tmp_path / "gateway.log", "--redis-timeout", "0.5").start()
    yield process
    process.stop()


def test_redis_stopping_mid_answer_aborts_the_connection(gateway, r, redis_url):
    seed_failed(r, redis_url, 100, with_worker=100)
    clone_failed(r, 20_000)
    url = gateway.base + "/api/v1/jobs/failed"
    received = b""
    with (
        pytest.raises(httpx.HTTPError),
        httpx.Client(timeout=30) as client,
        client.stream("GET", url) as response,
    ):
        assert response.status_code == 200
        parts = response.iter_raw()
        received += next(parts)
        # Redis stops answering for longer than --redis-timeout: the next chunk cannot be read.
        r.execute_command("CLIENT", "PAUSE", "3000", "ALL")
        for part in parts:
            received += part
    assert received.startswith(b"[")
    with pytest.raises(json.JSONDecodeError):
        json.loads(received)
    # The pause ends by itself, and the gateway serves again.
    wait_until(lambda: httpx.get(url, params={"limit": 3}, timeout=30).status_code == 200, 15, "recovery")
