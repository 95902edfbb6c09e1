"""Processes the fault tests stop, kill and restart: a durable redis-server of one test alone and
the gateway started by its CLI; plus the "each job in exactly one place" inspection."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import redis
import requests

from .helpers import PROJECT_ROOT, RedisServer, free_port, wait_until


class DurableRedisServer(RedisServer):
    """A redis-server with an append-only file fsynced on every write: whatever it acknowledged
    survives kill -9 or SHUTDOWN NOSAVE, so "no job lost" is checkable after a restart. A Lua
    script is logged as one MULTI/EXEC after it ran, so a crash never leaves half of one."""

    def arguments(self) -> list[str]:
        return [
            *("--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory)),
            *("--save", "", "--appendonly", "yes", "--appendfsync", "always"),
            # DEBUG SLEEP freezes the server for the slow-Redis tests (off by default in 7.x).
            *("--enable-debug-command", "local"),
        ]


class GatewayProcess:
    """`python -m gateway serve` under uvicorn, on a free loopback port."""

    def __init__(self, redis_url: str, log: Path, *extra: str):
        self.redis_url = redis_url
        self.log = log
        self.extra = extra
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def start(self, wait_ready: bool = True) -> GatewayProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_URL", "RQ_GATEWAY_"))}
        argv = [sys.executable, "-m", "gateway", "serve", "--redis-url", self.redis_url]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [*argv, "--port", str(self.port), "--log-level", "warning", *self.extra],
                cwd=PROJECT_ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        path = "/readyz" if wait_ready else "/healthz"
        wait_until(lambda: self._answers(path), 30, f"the CLI-started gateway to answer {path}", 0.05)
        return self

    def _answers(self, path: str) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"gateway exited with {self.process.returncode}:\n{self.output()}")
        try:
            return requests.get(self.base + path, timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    def kill9(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def places(r: redis.Redis, ids: list[str], queue: str = "default") -> dict[str, list[str]]:
    """Where each id is: one entry per occurrence in the queue list, plus each registry holding
    it. A healthy job has exactly one place; [] means gone from every list and registry."""
    found: dict[str, list[str]] = {job_id: [] for job_id in ids}
    for job_id, count in Counter(m.decode() for m in r.lrange(f"rq:queue:{queue}", 0, -1)).items():
        if job_id in found:
            found[job_id].extend(["queue"] * count)
    for registry in ("failed", "started", "finished"):
        for member in r.zrange(f"rq:{registry}:{queue}", 0, -1):
            job_id = member.decode()
            if job_id in found:
                found[job_id].append(registry)
    return found


def job_keys_exist(r: redis.Redis, ids: list[str]) -> dict[str, tuple[bool, bool]]:
    """(job hash exists, results stream exists) per id, in pipelines."""
    out: dict[str, tuple[bool, bool]] = {}
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        with r.pipeline(transaction=False) as pipe:
            for job_id in chunk:
                pipe.exists(f"rq:job:{job_id}")
                pipe.exists(f"rq:results:{job_id}")
            replies = pipe.execute()
        for index, job_id in enumerate(chunk):
            out[job_id] = (bool(replies[2 * index]), bool(replies[2 * index + 1]))
    return out


def statuses(r: redis.Redis, ids: list[str]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        with r.pipeline(transaction=False) as pipe:
            for job_id in chunk:
                pipe.hget(f"rq:job:{job_id}", "status")
            for job_id, status in zip(chunk, pipe.execute(), strict=True):
                out[job_id] = status.decode() if status else None
    return out


def assert_retry_consistent(r: redis.Redis, ids: list[str], queue: str = "default") -> dict[str, int]:
    """After an interrupted retry-all: each job is once in the queue (status queued) or once in
    the failed registry (status failed), with its job hash and results stream. Returns counts."""
    where = places(r, ids, queue)
    status = statuses(r, ids)
    existing = job_keys_exist(r, ids)
    bad = {
        job_id: (spots, status[job_id], existing[job_id])
        for job_id, spots in where.items()
        if spots not in (["queue"], ["failed"])
        or status[job_id] != {"queue": "queued", "failed": "failed"}[spots[0]]
        or existing[job_id] != (True, True)
    }
    assert not bad, f"{len(bad)} of {len(ids)} jobs not in exactly one place, e.g. {list(bad.items())[:5]}"
    counts = Counter(spots[0] for spots in where.values())
    return {"queue": counts["queue"], "failed": counts["failed"]}


def assert_clear_consistent(r: redis.Redis, ids: list[str], queue: str = "default") -> dict[str, int]:
    """After an interrupted clear: each job is either gone entirely (no registry entry, no job
    hash, no results stream) or still failed with all its keys. Returns counts."""
    where = places(r, ids, queue)
    existing = job_keys_exist(r, ids)
    bad = {
        job_id: (spots, existing[job_id])
        for job_id, spots in where.items()
        if (spots, existing[job_id]) not in (([], (False, False)), (["failed"], (True, True)))
    }
    assert not bad, f"{len(bad)} of {len(ids)} jobs half-deleted, e.g. {list(bad.items())[:5]}"
    deleted = sum(1 for spots in where.values() if not spots)
    return {"deleted": deleted, "failed": len(ids) - deleted}
