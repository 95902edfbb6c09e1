"""A selective operation (a query, a filter, a failure group) reads many more entries than it
acts on. Its chunks were sized by the jobs each Lua call acted on, as the walk of every job is;
but the size is the number of entries read: a chunk of 100 entries holding 5 matches looked
20 times too slow per job, so chunks shrank to 10 entries, and a chunk that matched nothing gave
no measure to grow again. A query matching 1 job in 20 walked 10 entries a round trip: a
resumed 100k-job operation ran at 2,900 jobs/s where a fresh one ran at 10,000 (found black-box).
Now a selective walk reads up to MOST_CHUNK entries a chunk, and the sizer bounds only the jobs
one call acts on: a chunk ends at that many matches, its position right after the last."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from bench.seed import clone_failed
from gateway.app import create_app
from gateway.config import Settings
from gateway.services.operations import chunks
from gateway.services.operations.pacing import MOST_CHUNK

from .helpers import failed_ids, wait_until

OPS = "/api/v1/operations"
SOURCES = 20
TOTAL = 4000


@pytest.fixture
def interleaved(r, fail_jobs) -> list[str]:
    """TOTAL failed jobs, clones of SOURCES parse_report('bad-default-i') jobs, interleaved in registry
    order (each its own score), so a job's matches are spread evenly: 1 in SOURCES."""
    fail_jobs(SOURCES)
    ids = clone_failed(r, TOTAL)
    by_source: dict[str, list[str]] = {}
    for job_id in ids:
        by_source.setdefault(job_id.split("-c")[0], []).append(job_id)
    order = [
        group[i]
        for i in range(max(map(len, by_source.values())))
        for group in by_source.values()
        if i < len(group)
    ]
    r.zadd("rq:failed:default", {job_id: 4_000_000_000 + index for index, job_id in enumerate(order)})
    return order


@pytest.fixture
def calls(monkeypatch) -> list[tuple[int, int]]:
    """(entries examined, jobs acted on) of every chunk call a walk the gateway reads makes."""
    seen: list[tuple[int, int]] = []
    run = chunks.ChunkAction.run

    def recording(self, chunk):
        seen.append((chunk.examined, len(chunk.members)))
        return run(self, chunk)

    monkeypatch.setattr(chunks.ChunkAction, "run", recording)
    return seen


SPARSE = TOTAL // SOURCES


@pytest.mark.parametrize(
    ("selector", "matches"),
    [
        ({"query": 'args:"\\"bad-default-3\\""'}, SPARSE),
        ({"filter": {"search": "'bad-default-3'"}}, SPARSE),
        # Every entry selected: chunks end at the call's most jobs, inside the entries read.
        ({"query": "func:parse_report"}, TOTAL),
        ({"filter": {"func_name": "gateway.demo.jobs.parse_report"}}, TOTAL),
    ],
    ids=["sparse-query", "sparse-filter", "dense-query", "dense-filter"],
)
def test_a_selective_walk_reads_large_chunks_and_acts_on_each_match_once(
    redis_url, r, interleaved, calls, selector, matches
):
    app = create_app(Settings(redis_url=redis_url))
    try:
        client = TestClient(app)
        started = client.post(OPS, json={"action": "retry", "selector": selector}).json()
        ended = wait_until(
            lambda: (body := client.get(f"{OPS}/{started['id']}").json())["status"] != "running" and body,
            60,
            "the operation to end",
        )
    finally:
        app.state.service.operations_runner.stop(wait=5)
        app.state.service.connection.close()
    assert (ended["status"], ended["done"], ended["matched"], ended["acted"]) == (
        "succeeded",
        TOTAL,
        matches,
        matches,
    )
    assert len(failed_ids(r)) == TOTAL - matches
    assert sum(examined for examined, _ in calls) == TOTAL
    assert sum(acted for _, acted in calls) == matches
    if matches == SPARSE:
        # 4,000 entries in chunks of up to MOST_CHUNK: a handful of calls, not hundreds.
        assert len(calls) <= 4 * TOTAL // MOST_CHUNK, calls
    else:
        assert max(acted for _, acted in calls) <= MOST_CHUNK
