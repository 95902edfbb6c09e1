"""Snapshots: every key of a seeded database as (key, PTTL, DUMP), restored with FLUSHDB +
pipelined RESTORE before every run that changes data, so every run starts from identical data."""

from __future__ import annotations

import time

import redis

from bench.infra import log
from bench.seed import CHUNK, QUEUE, clone_failed, enqueue, keep_first, registry_key, run_burst_worker

Snapshot = list[tuple[bytes, int, bytes]]  # (key, pttl in ms or 0, DUMP payload)


def dump_all(r: redis.Redis) -> Snapshot:
    keys = list(r.scan_iter(count=1000))
    snapshot: Snapshot = []
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        with r.pipeline(transaction=False) as pipe:
            for key in chunk:
                pipe.dump(key)
                pipe.pttl(key)
            replies = pipe.execute()
        for index, key in enumerate(chunk):
            payload, pttl = replies[2 * index], replies[2 * index + 1]
            if payload is not None and pttl != -2:
                snapshot.append((key, max(pttl, 0), payload))
    return snapshot


def restore(r: redis.Redis, snapshot: Snapshot) -> None:
    r.flushdb()
    for start in range(0, len(snapshot), CHUNK):
        with r.pipeline(transaction=False) as pipe:
            for key, pttl, payload in snapshot[start : start + CHUNK]:
                pipe.restore(key, pttl, payload, replace=True)
            pipe.execute()


def build_snapshots(r: redis.Redis, redis_url: str, sizes: list[int], worker_cap: int) -> dict:
    """Fail min(max(sizes), worker_cap) jobs with a real worker (timed), then one snapshot per N:
    smaller N keep the first N registry entries, larger N are cloned."""
    seeded = min(max(sizes), worker_cap)
    log(f"seeding {seeded:,} failed jobs with one rq SimpleWorker (burst) ...")
    r.flushdb()
    enqueue(r, seeded)
    started = time.perf_counter()
    run_burst_worker(redis_url, QUEUE, timeout=None)  # minutes at 10k on a slow machine
    worker_seconds = time.perf_counter() - started
    if r.zcard(registry_key()) != seeded:
        raise RuntimeError(f"worker left {r.zcard(registry_key())} failed jobs, expected {seeded}")
    log(f"worker failed {seeded:,} jobs in {worker_seconds:.1f} s")
    base = dump_all(r)
    snapshots = {}
    for n in sizes:
        restore(r, base)
        if n < seeded:
            keep_first(r, n)
        elif n > seeded:
            log(f"cloning to {n:,} failed jobs ...")
            clone_failed(r, n)
        assert r.zcard(registry_key()) == n
        snapshots[n] = dump_all(r)
        log(f"snapshot N={n:,}: {len(snapshots[n]):,} keys")
    return {"snapshots": snapshots, "seeded": seeded, "worker_seconds": worker_seconds}
