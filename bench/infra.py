"""Processes for the harness: free loopback ports, its own redis-server, the CLI-started gateway
and the bare floor app, stopped with SIGINT; /proc readings of a process's memory.

Every benchmark (run, load, list_memory) starts its servers through here, so all of them are
started, waited for and stopped the same way."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import redis

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent  # the environment's console scripts: rq, rq-gateway
RQ_BIN = BIN / "rq"

_T0 = time.perf_counter()


def log(message: str) -> None:
    print(f"[{time.perf_counter() - _T0:6.1f}s] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop_process(proc: subprocess.Popen, name: str) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        log(f"{name} did not stop on SIGINT; killing pid {proc.pid}")
        proc.kill()
        proc.wait(5)


@contextmanager
def redis_server(workdir: Path) -> Iterator[tuple[str, redis.Redis]]:
    """A redis-server of its own on a free loopback port, no persistence, files in workdir."""
    port = free_port()
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    proc = subprocess.Popen(
        [
            *(binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"),
            *("--dir", str(workdir), "--logfile", str(workdir / "redis.log"), "--loglevel", "warning"),
        ],
        stdin=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    connection = redis.Redis.from_url(url)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                connection.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)
        log(f"redis-server pid {proc.pid} on {url}")
        yield url, connection
    finally:
        connection.close()
        stop_process(proc, "redis-server")


@dataclass
class Server:
    name: str
    proc: subprocess.Popen
    base: str

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        stop_process(self.proc, self.name)


def start_server(name: str, argv: list[str], port: int, ready_path: str, workdir: Path, env=None) -> Server:
    """Start an HTTP server and wait until ready_path answers 200; its output goes to workdir."""
    out = open(workdir / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the process
    proc = subprocess.Popen(argv, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, env=env)
    out.close()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}; see {workdir / (name + '.log')}")
        try:
            if httpx.get(base + ready_path, timeout=2).status_code == 200:
                return Server(name, proc, base)
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            stop_process(proc, name)
            raise RuntimeError(f"{name} not ready after 30 s")
        time.sleep(0.1)


def start_gateway(redis_url: str, workdir: Path, *extra: str) -> Server:
    """The gateway as users start it: `rq-gateway serve`, one uvicorn worker."""
    port = free_port()
    argv = [str(BIN / "rq-gateway"), "serve", "--redis-url", redis_url, "--port", str(port)]
    argv += ["--log-level", "warning", *extra]
    return start_server("gateway", argv, port, "/readyz", workdir)


def start_floor_app(redis_url: str, workdir: Path, queue: str) -> Server:
    """bench/floor_app.py under uvicorn with the gateway's settings (one worker, default loop)."""
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", "bench.floor_app:app", "--host", "127.0.0.1"]
    argv += ["--port", str(port), "--log-level", "warning"]
    env = {**os.environ, "BENCH_REDIS_URL": redis_url, "BENCH_QUEUE": queue}
    return start_server("floor-app", argv, port, "/ping", workdir, env=env)


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in bytes."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            name, value = line.split(":", 1)
            out[name] = int(value.split()[0]) * 1024
    return out


def reset_peak_rss(pid: int) -> bool:
    """VmHWM := VmRSS (`echo 5 > /proc/PID/clear_refs`); False where the kernel refuses."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/PID/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
