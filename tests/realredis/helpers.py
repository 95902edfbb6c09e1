"""Plain helpers for the real-Redis tests: a managed redis-server, a real `rq worker --burst`
subprocess, bounded polling, and small Redis inspections. Fixtures live in conftest.py."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pytest
import redis

HERE = Path(__file__).resolve().parent
PROJECT_ROOT = HERE.parents[1]
RQ_BIN = Path(sys.executable).parent / "rq"
API = "/api/v1/jobs"

T = TypeVar("T")


def wait_until(predicate: Callable[[], T], timeout: float, message: str, interval: float = 0.02) -> T:
    """Poll `predicate` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout:.1f}s waiting for {message}", pytrace=False)
        time.sleep(interval)  # poll interval only; the deadline above bounds the wait


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def require_redis_server() -> str:
    """Path of `redis-server`; skip without it, but fail when CI=true (CI must never skip these)."""
    binary = shutil.which("redis-server")
    if binary:
        return binary
    reason = (
        "redis-server is not on PATH: the tests in tests/realredis need a real Redis server "
        "(install it, e.g. `apt-get install redis-server`)"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI=true, so this is a failure, not a skip", pytrace=False)
    pytest.skip(reason)


class RedisServer:
    """One real redis-server on a loopback port, with no persistence, in its own directory."""

    def __init__(self, binary: str, directory: Path, port: int | None = None):
        self.binary = binary
        self.directory = directory
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None
        self._log = directory / "redis-server.log"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def client(self, **kwargs: Any) -> redis.Redis:
        kwargs.setdefault("socket_timeout", 10)
        return redis.Redis(host="127.0.0.1", port=self.port, **kwargs)

    def arguments(self) -> list[str]:
        """The command line after the binary. The kinds of server the tests need (durable,
        replica, sentinel, TLS-only) each say only how theirs differs; start() is shared."""
        return [
            *("--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory)),
            *("--save", "", "--appendonly", "no"),
        ]

    def start(self, timeout: float = 10.0) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        arguments = self.arguments()  # may write a config file into the directory
        with self._log.open("ab") as log:
            self.process = subprocess.Popen(
                [self.binary, *arguments], stdout=log, stderr=subprocess.STDOUT, cwd=self.directory
            )
        try:
            self._wait_for_ping(timeout)
        except BaseException:
            self.stop()  # never leak a server that did not come up
            raise

    def kill(self) -> None:
        """kill -9: no shutdown work at all."""
        process, self.process = self.process, None
        assert process is not None
        process.kill()
        process.wait(timeout=10)

    def _wait_for_ping(self, timeout: float) -> None:
        assert self.process is not None
        probe = self.client(socket_connect_timeout=0.5, socket_timeout=0.5)
        try:
            deadline = time.monotonic() + timeout
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(
                        f"redis-server exited with {self.process.returncode} on port {self.port}:\n"
                        + self._log.read_text(errors="replace")[-2000:]
                    )
                try:
                    if probe.ping():
                        return
                except redis.ConnectionError:
                    pass
                if time.monotonic() >= deadline:
                    raise RuntimeError(f"redis-server on port {self.port} did not answer PING in {timeout}s")
                time.sleep(0.02)  # poll interval; bounded by the deadline
        finally:
            probe.close()

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        try:
            os.kill(process.pid, signal.SIGCONT)  # a frozen server must run to handle SIGTERM
        except ProcessLookupError:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def start_redis_server(binary: str, directory: Path, attempts: int = 3) -> RedisServer:
    """Start on a fresh free port, retrying if another process grabbed the port meanwhile."""
    error: Exception | None = None
    for attempt in range(attempts):
        server = RedisServer(binary, directory / f"attempt-{attempt}")
        try:
            server.start()
            return server
        except RuntimeError as exc:
            error = exc
    raise RuntimeError(f"could not start redis-server after {attempts} attempts: {error}")


def _worker_command(url: str, queues: Sequence[str], extra_paths: Iterable[Path]) -> dict[str, Any]:
    pythonpath = [str(HERE), *(str(p) for p in extra_paths)]
    if os.environ.get("PYTHONPATH"):
        pythonpath.append(os.environ["PYTHONPATH"])
    return {
        "args": [str(RQ_BIN), "worker", "--burst", "--url", url, *queues],
        "cwd": HERE,
        "env": {**os.environ, "PYTHONPATH": os.pathsep.join(pythonpath)},
    }


def start_worker(url: str, queues: Sequence[str] = ("default",), log: Path | None = None) -> subprocess.Popen:
    """Start a stock `rq worker --burst` in the background; finish it with `wait_worker`."""
    output = log.open("wb") if log else subprocess.DEVNULL
    try:
        return subprocess.Popen(**_worker_command(url, queues, ()), stdout=output, stderr=subprocess.STDOUT)
    finally:
        if log:
            output.close()


def wait_worker(process: subprocess.Popen, timeout: float = 60.0) -> None:
    try:
        returncode = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
        pytest.fail(f"rq worker --burst did not exit within {timeout}s", pytrace=False)
    assert returncode == 0, f"rq worker exited with {returncode}"


def run_worker(
    url: str,
    queues: Sequence[str] = ("default",),
    extra_paths: Iterable[Path] = (),
    timeout: float = 60.0,
) -> subprocess.CompletedProcess:
    """Run a stock `rq worker --burst` until it has drained `queues` and exited."""
    try:
        done = subprocess.run(
            **_worker_command(url, queues, extra_paths), capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"rq worker --burst did not exit within {timeout}s: {exc.output}", pytrace=False)
    if done.returncode != 0:
        pytest.fail(
            f"rq worker exited with {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}",
            pytrace=False,
        )
    return done


def failed_ids(r: redis.Redis, queue: str = "default") -> list[str]:
    """The failed registry as Redis holds it, in ZRANGE (ascending score) order."""
    return [m.decode() for m in r.zrange(f"rq:failed:{queue}", 0, -1)]


def queued_ids(r: redis.Redis, queue: str = "default") -> list[str]:
    return [m.decode() for m in r.lrange(f"rq:queue:{queue}", 0, -1)]


def keyspace(r: redis.Redis) -> dict[bytes, tuple[int, bytes]]:
    """Every key with its DUMP and whether it expires: equal snapshots mean nothing was written."""
    return {key: (r.pttl(key) > 0, r.dump(key)) for key in r.scan_iter(count=1000)}


def snapshot(r: redis.Redis) -> dict[bytes, tuple[int, bytes]]:
    """Every key's DUMP and PTTL, for restore()."""
    return {key: (r.pttl(key), r.dump(key)) for key in r.scan_iter(count=1000)}


def restore(r: redis.Redis, snap: dict[bytes, tuple[int, bytes]]) -> None:
    r.flushall()
    with r.pipeline(transaction=False) as pipe:
        for key, (pttl, dumped) in snap.items():
            pipe.restore(key, max(pttl, 0), dumped)
        pipe.execute()
