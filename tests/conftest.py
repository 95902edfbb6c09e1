"""Fast fixtures: a fresh in-memory Redis (fakeredis with Lua) per test, and factories that put
jobs into each state by running them through a real in-process RQ worker."""

from __future__ import annotations

import fakeredis
import pytest
from fastapi.testclient import TestClient
from rq import Queue, SimpleWorker

from gateway.app import create_app
from gateway.config import Settings
from gateway.demo import jobs
from gateway.demo.seed import run_worker_quietly
from gateway.services import JobService
from tests import exclusive, node_ids


def pytest_configure(config: pytest.Config) -> None:
    exclusive.configure(config)


def pytest_unconfigure(config: pytest.Config) -> None:
    exclusive.unconfigure(config)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    node_ids.make_unique(items)
    exclusive.mark_timed(items)
    exclusive.timed_files_first(items)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    """Timed tests run alone under pytest-xdist (tests/exclusive.py)."""
    with exclusive.protocol(item):
        return (yield)


@pytest.fixture
def conn() -> fakeredis.FakeRedis:
    return fakeredis.FakeRedis(server=fakeredis.FakeServer())


@pytest.fixture
def service(conn) -> JobService:
    return JobService(conn)


@pytest.fixture
def client(conn) -> TestClient:
    app = create_app(Settings(redis_url="redis://unused"), connection=conn)
    return TestClient(app, raise_server_exceptions=False)


def run_worker(conn, *queue_names: str) -> None:
    queues = [Queue(name, connection=conn) for name in queue_names or ("default",)]
    run_worker_quietly(SimpleWorker(queues, connection=conn))


class Factory:
    """Puts jobs into a given state with a real RQ SimpleWorker."""

    def __init__(self, conn):
        self.conn = conn

    def failed(self, count: int = 1, queue: str = "default", **enqueue_kwargs) -> list[str]:
        q = Queue(queue, connection=self.conn)
        ids = [q.enqueue(jobs.parse_report, f"bad-{i}", **enqueue_kwargs).id for i in range(count)]
        run_worker(self.conn, queue)
        return ids

    def flaky_failed(self, queue: str = "default") -> str:
        q = Queue(queue, connection=self.conn)
        job_id = q.enqueue(jobs.flaky_charge, 7).id
        run_worker(self.conn, queue)
        return job_id

    def finished(self, queue: str = "default") -> str:
        q = Queue(queue, connection=self.conn)
        job_id = q.enqueue(jobs.add, 2, 3).id
        run_worker(self.conn, queue)
        return job_id

    def queued(self, queue: str = "default") -> str:
        return Queue(queue, connection=self.conn).enqueue(jobs.add, 1, 1).id


@pytest.fixture
def factory(conn) -> Factory:
    return Factory(conn)


class RoundTrips:
    """Counts Redis round trips made through a client: single commands and pipeline executions."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, conn) -> None:
        self.count = 0
        self.commands: list[str] = []
        command = conn.execute_command

        def counted_command(*args, **kwargs):
            self.count += 1
            self.commands.append(str(args[0]).upper())
            return command(*args, **kwargs)

        monkeypatch.setattr(conn, "execute_command", counted_command)
        pipeline_class = type(conn.pipeline())
        execute = pipeline_class.execute

        def counted_execute(pipe, *args, **kwargs):
            self.count += 1
            self.commands.extend(str(command[0][0]).upper() for command in pipe.command_stack)
            return execute(pipe, *args, **kwargs)

        monkeypatch.setattr(pipeline_class, "execute", counted_execute)

    def reset(self) -> None:
        self.count = 0
        self.commands.clear()


@pytest.fixture
def round_trips(monkeypatch, conn) -> RoundTrips:
    return RoundTrips(monkeypatch, conn)
