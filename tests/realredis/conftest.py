"""Fixtures for the real-Redis tests: one redis-server per session (FLUSHALLed before each test),
the gateway in-process under TestClient, and a real `rq worker --burst` to fail jobs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from rq import Queue

from gateway.app import create_app
from gateway.config import Settings
from gateway.demo import jobs
from tests.test_docs_browser import _require_browser

from .console import Visit, open_console
from .helpers import HERE, RedisServer, failed_ids, require_redis_server, run_worker, start_redis_server
from .sentinel import SentinelDeployment, start_sentinel_deployment


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test in this directory needs a real redis-server (runs before -m deselection)."""
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.redis_server)


@pytest.fixture(scope="session")
def redis_server_binary() -> str:
    return require_redis_server()


@pytest.fixture(scope="session")
def redis_server(redis_server_binary: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = start_redis_server(redis_server_binary, tmp_path_factory.mktemp("redis-session"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def second(redis_server_binary: str, tmp_path: Path) -> Iterator[RedisServer]:
    """A second redis-server of this test alone: another Redis instance (`--redis b=URL`)."""
    server = start_redis_server(redis_server_binary, tmp_path / "b")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def sentinels(redis_server_binary: str, tmp_path: Path) -> Iterator[SentinelDeployment]:
    """A Sentinel deployment of this test alone: a master, a replica and three sentinels."""
    deployment = start_sentinel_deployment(redis_server_binary, tmp_path / "sentinel")
    try:
        yield deployment
    finally:
        deployment.stop()


@pytest.fixture
def slow_app(redis_url: str) -> Iterator[FastAPI]:
    """An app whose operations run at 200 jobs/s: chunks of 20, a tenth of a second apart."""
    application = create_app(Settings(redis_url=redis_url, bulk_max_rate=200))
    yield application
    application.state.service.operations_runner.stop()
    application.state.service.connection.close()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    return redis_server.url


@pytest.fixture(autouse=True)
def flushall(redis_server: RedisServer) -> None:
    """Every test starts from an empty session Redis."""
    client = redis_server.client()
    try:
        client.flushall()
    finally:
        client.close()


@pytest.fixture
def r(redis_server: RedisServer) -> Iterator[redis.Redis]:
    """A raw client on the session server (already FLUSHALLed for this test)."""
    client = redis_server.client()
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def app(r: redis.Redis, redis_url: str):
    application = create_app(Settings(redis_url=redis_url))
    try:
        yield application
    finally:
        # An operation's runner may still be writing its end (the audit record follows the
        # status a test waits for): closing the client under it fails that thread.
        application.state.service.operations_runner.stop(wait=10)
        application.state.service.connection.close()


@pytest.fixture
def client(app) -> TestClient:
    return TestClient(app)


@pytest.fixture
def worker(redis_url: str) -> Callable[..., object]:
    """worker("default", "other", extra_paths=[...]) runs one real burst worker to completion."""

    def run(*queues: str, extra_paths=(), timeout: float = 60.0):
        return run_worker(redis_url, queues or ("default",), extra_paths=extra_paths, timeout=timeout)

    return run


@pytest.fixture
def fail_jobs(fail_on) -> Callable[..., list[str]]:
    """fail_jobs(n, queue) enqueues n parse_report jobs with bad input and lets a real worker fail
    them; returns their ids in enqueue order."""

    def make(count: int, queue: str = "default", **enqueue_kwargs) -> list[str]:
        return fail_on({queue: count}, **enqueue_kwargs)[queue]

    return make


@pytest.fixture
def fail_on(r: redis.Redis, worker) -> Callable[..., dict[str, list[str]]]:
    """fail_on({queue: n, ...}) is fail_jobs on several queues at once, with one worker run (each
    costs half a second of the machine); returns each queue's ids in enqueue order."""

    def make(counts: dict[str, int], **enqueue_kwargs) -> dict[str, list[str]]:
        made = {}
        for queue, count in counts.items():
            q = Queue(queue, connection=r)
            made[queue] = [
                q.enqueue(jobs.parse_report, f"bad-{queue}-{i}", **enqueue_kwargs).id for i in range(count)
            ]
        worker(*counts)
        for queue, ids in made.items():
            assert set(ids) <= set(failed_ids(r, queue)), "the worker did not fail every job"
        return made

    return make


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """Debian's chromium driven by Playwright, one per console test module (launched only by the
    modules that ask for it; a missing browser skips, or fails under CI=true)."""
    sync_playwright, chromium = _require_browser()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium)
        yield launched
        launched.close()


@pytest.fixture
def visit(browser, gateway) -> Iterator[Callable[..., Visit]]:
    """visit(role, path): a console page signed in with `role`'s key on the module's own
    `gateway` fixture; every page opened is closed after the test."""
    opened: list[Visit] = []

    def open_page(role: str | None, path: str = "/") -> Visit:
        seen = open_console(browser, gateway.base, role, path)
        opened.append(seen)
        return seen

    yield open_page
    for seen in opened:
        seen.page.context.close()
