"""The operations table: per N, the gateway, the floor and RQ's per-job loop doing the same
retry-all, clear, page of 100 (REST and GraphQL), list-all and failure groups, each run checked."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import redis

from bench.contestants import (
    GRAPHQL_PAGE,
    QUEUE_KEY,
    REGISTRY_KEY,
    floor_clear,
    floor_list,
    floor_retry,
    http_json,
    loop_clear,
    loop_list,
    loop_retry,
)
from bench.infra import Server, log
from bench.snapshots import Snapshot, restore
from bench.timing import Sample, expect, timed


@dataclass
class OpResult:
    name: str
    gateway: Sample | None = None
    floor: Sample | None = None
    loop: Sample | None = None


def measure_ops(
    n: int,
    r: redis.Redis,
    client: httpx.Client,
    gateway: Server,
    snapshot: Snapshot,
    reps: int,
    loop_reps: int,
    loop_from: dict | None,
) -> dict[str, OpResult]:
    """loop_from: {op: Sample at a smaller N} to extrapolate RQ's per-job loop instead of running it."""
    ops: dict[str, OpResult] = {}
    api = gateway.base + "/api/v1/jobs"
    reset = lambda: restore(r, snapshot)  # noqa: E731

    def moved_all(_out: Any) -> None:
        expect(r.zcard(REGISTRY_KEY) == 0, "failed registry empty after retry")
        expect(r.llen(QUEUE_KEY) == n, f"queue holds {n} after retry")

    def cleared_all(_out: Any) -> None:
        expect(r.zcard(REGISTRY_KEY) == 0, "failed registry empty after clear")
        expect(r.dbsize() < len(snapshot) - 2 * n + 10, "job hashes and results deleted")

    def rest_retry_ok(resp: httpx.Response) -> None:
        body = resp.json()
        expect(body["requeued_count"] == n and body["error_count"] == 0, f"retry-all: {str(body)[:200]}")
        moved_all(resp)

    def rest_clear_ok(resp: httpx.Response) -> None:
        body = resp.json()
        expect(body["deleted_count"] == n and body["error_count"] == 0, f"clear: {str(body)[:200]}")
        cleared_all(resp)

    def count_is(k: int) -> Callable[[Any], None]:
        def check(out: Any) -> None:
            data = out.content if isinstance(out, httpx.Response) else out
            expect(len(json.loads(data)) == k, f"{k} jobs listed")

        return check

    def graphql_ok(resp: httpx.Response) -> None:
        body = resp.json()
        expect("errors" not in body, f"graphql errors: {str(body)[:300]}")
        expect(len(body["data"]["failedJobs"]["nodes"]) == 100, "graphql page of 100")

    def loop_or_extrapolate(op: str, run, check, setup) -> Sample:
        if loop_from and op in loop_from:
            small_n, sample = loop_from[op]
            factor = n / small_n
            return sample.scaled(factor, f"extrapolated x{factor:g} from N={small_n:,}")
        return timed(loop_reps, run, check, setup)

    page = min(100, n)

    log(f"N={n:,}: retry-all")
    ops["retry"] = OpResult(
        "retry-all (REST)",
        gateway=timed(
            reps, lambda: http_json(client, "POST", api + "/failed/retry-all"), rest_retry_ok, reset
        ),
        floor=timed(reps, lambda: floor_retry(r), moved_all, reset),
    )
    ops["retry"].loop = loop_or_extrapolate("retry", lambda: loop_retry(r), moved_all, reset)

    log(f"N={n:,}: clear")
    ops["clear"] = OpResult(
        "clear (REST)",
        gateway=timed(reps, lambda: http_json(client, "DELETE", api + "/failed/clear"), rest_clear_ok, reset),
        floor=timed(reps, lambda: floor_clear(r), cleared_all, reset),
    )
    ops["clear"].loop = loop_or_extrapolate("clear", lambda: loop_clear(r), cleared_all, reset)

    log(f"N={n:,}: page of 100 (REST, GraphQL)")
    reset()
    page_reps = 4 * reps
    rest_page = lambda: http_json(client, "GET", api + "/failed", params={"limit": 100})  # noqa: E731
    gql_page = lambda: http_json(client, "POST", gateway.base + "/graphql", json={"query": GRAPHQL_PAGE})  # noqa: E731
    for warm in (rest_page, gql_page, lambda: floor_list(r, 100), lambda: loop_list(r, 100)):
        warm()
    ops["page"] = OpResult(
        "page of 100 with exc_info (REST)",
        gateway=timed(page_reps, rest_page, count_is(page)),
        floor=timed(page_reps, lambda: floor_list(r, 100), count_is(page)),
        loop=timed(page_reps, lambda: loop_list(r, 100), count_is(page)),  # cheap: as many as the others
    )
    ops["graphql"] = OpResult(
        "same page through GraphQL",
        gateway=timed(page_reps, gql_page, graphql_ok),
        floor=ops["page"].floor,
    )

    log(f"N={n:,}: list all")
    list_all = lambda: http_json(client, "GET", api + "/failed")  # noqa: E731
    list_reps = 1 if loop_from else reps  # tens of seconds each at 100k
    ops["list"] = OpResult(
        f"list all {n:,} with exc_info (REST)",
        gateway=timed(list_reps, list_all, count_is(n)),
        floor=timed(list_reps, lambda: floor_list(r, None), count_is(n)),
    )
    ops["list"].loop = loop_or_extrapolate("list", lambda: loop_list(r, None), count_is(n), None)

    log(f"N={n:,}: failure groups")
    restore(r, snapshot)
    ops["groups"] = measure_groups(n, client, gateway, reps)
    return ops


def measure_groups(n: int, client: httpx.Client, gateway: Server, reps: int) -> OpResult:
    """GET /failed/groups over the whole registry (a read: runs share one restore). The seeded jobs
    all fail alike, so every job is read, decoded and normalized, and they form one group."""

    def grouped_all(resp: httpx.Response) -> None:
        body = resp.json()
        expect(body["total_failed"] == n, f"groups: total_failed {body['total_failed']}")
        expect(sum(g["count"] for g in body["groups"]) == n, f"groups: {str(body)[:200]}")

    groups = lambda: http_json(client, "GET", gateway.base + "/api/v1/jobs/failed/groups")  # noqa: E731
    groups()  # warm-up: loads the read script into Redis
    return OpResult(f"failure groups over {n:,} failed jobs (REST)", gateway=timed(reps, groups, grouped_all))
