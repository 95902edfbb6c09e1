"""Real, long-running RQ processes for the worker-control and schedule tests: an `rq worker` (not
--burst; suspension and shutdown concern workers that stay up) and an `rq cron`. Each is always
stopped at the end of its `with` block."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from .helpers import HERE, RQ_BIN


@contextmanager
def running_worker(
    url: str, name: str, log: Path, queues: tuple[str, ...] = ("default",), with_scheduler: bool = False
) -> Iterator[subprocess.Popen]:
    args = [str(RQ_BIN), "worker", "--url", url, "--name", name, *queues]
    if with_scheduler:
        args.insert(2, "--with-scheduler")
    process = _rq(args, log)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # RQ's cold shutdown: kills a running horse
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def wait_exit(process: subprocess.Popen, timeout: float, log: Path) -> int:
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"rq worker did not exit within {timeout}s:\n{log.read_text()[-3000:]}", pytrace=False)


@contextmanager
def running_cron(url: str, log: Path, config: str = "cron_config") -> Iterator[subprocess.Popen]:
    """`rq cron` loading `config` from this directory; stopped with SIGTERM (it unregisters)."""
    process = _rq([str(RQ_BIN), "cron", "--url", url, config], log)
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)


def _rq(args: list[str], log: Path) -> subprocess.Popen:
    """An `rq` command run from this directory, which is on its PYTHONPATH (the job functions and
    the cron config live here), its output in `log`."""
    pythonpath = os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")]))
    with log.open("wb") as output:
        return subprocess.Popen(
            args,
            cwd=HERE,
            env={**os.environ, "PYTHONPATH": pythonpath},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
