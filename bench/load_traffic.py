"""The load test's traffic: concurrent asyncio + httpx clients, each drawing requests from a
weighted mix of REST and GraphQL reads and single retries (client 0 also sends an occasional
retry-all), checking every answer and recording latencies and errors; and the RSS sampler."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter, defaultdict

import httpx

from bench.infra import proc_status

API = "/api/v1/jobs"
GRAPHQL_PAGE = (
    "query($after: String) { failedJobs(first: 50, after: $after) { totalCount nodes { id status } } }"
)
RETRY_ALL_EVERY = 15.0  # seconds between the occasional retry-alls (shorter runs: two of them)
# kind: (weight, accepted statuses). A single retry is 404 when the job is not failed right now.
MIX = {
    "list page": (25, {200}),
    "status": (20, {200}),
    "stats": (15, {200}),
    "graphql failedJobs": (20, {200}),
    "retry one": (20, {200, 404}),
}


class Recorder:
    def __init__(self) -> None:
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: Counter = Counter()
        self.error_samples: list[str] = []

    def error(self, kind: str, what: str) -> None:
        self.errors[kind] += 1
        if len(self.error_samples) < 10:
            self.error_samples.append(f"{kind}: {what}")


async def _request(
    client: httpx.AsyncClient, kind: str, ids: list[str], rng: random.Random
) -> httpx.Response:
    if kind == "list page":
        return await client.get(f"{API}/failed", params={"limit": 100, "offset": rng.randrange(0, len(ids))})
    if kind == "status":
        return await client.get(f"{API}/status/{rng.choice(ids)}")
    if kind == "stats":
        return await client.get(f"{API}/stats")
    if kind == "graphql failedJobs":
        return await client.post("/graphql", json={"query": GRAPHQL_PAGE})
    if kind == "retry one":
        return await client.post(f"{API}/failed/{rng.choice(ids)}/retry")
    return await client.post(f"{API}/failed/retry-all")


def _check(kind: str, response: httpx.Response) -> str | None:
    """None when the answer is a correct one, else what is wrong with it."""
    accepted = {200} if kind == "retry-all" else MIX[kind][1]
    if response.status_code not in accepted:
        return f"HTTP {response.status_code}: {response.text[:200]}"
    body = response.json()
    if kind == "graphql failedJobs" and body.get("errors"):
        return f"GraphQL errors: {body['errors']}"
    if kind == "retry-all" and body["error_count"]:
        return f"retry-all errors: {body['errors'][:3]}"
    return None


async def client_loop(
    index: int, base: str, ids: list[str], deadline: float, recorder: Recorder, seed_value: int
) -> None:
    rng = random.Random(seed_value + index)
    kinds, weights = list(MIX), [w for w, _ in MIX.values()]
    every = min(RETRY_ALL_EVERY, (deadline - time.monotonic()) / 2)
    next_retry_all = time.monotonic() + every / 2
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        while time.monotonic() < deadline:
            kind = rng.choices(kinds, weights)[0]
            if index == 0 and time.monotonic() >= next_retry_all:
                kind, next_retry_all = "retry-all", time.monotonic() + every
            started = time.perf_counter()
            try:
                response = await _request(client, kind, ids, rng)
                problem = _check(kind, response)
            except httpx.HTTPError as error:
                problem = f"{type(error).__name__}: {error}"
            recorder.latency[kind].append(time.perf_counter() - started)
            if problem:
                recorder.error(kind, problem)


async def rss_sampler(pid: int, deadline: float, samples: list[int]) -> None:
    while time.monotonic() < deadline:
        samples.append(proc_status(pid)["VmRSS"])
        await asyncio.sleep(0.5)


async def drive(base: str, pid: int, ids: list[str], seconds: float, clients: int, seed_value: int):
    recorder, samples = Recorder(), []
    deadline = time.monotonic() + seconds
    tasks = [client_loop(i, base, ids, deadline, recorder, seed_value) for i in range(clients)]
    await asyncio.gather(rss_sampler(pid, deadline, samples), *tasks)
    return recorder, samples
