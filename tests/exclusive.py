"""Under pytest-xdist, the tests that measure time run alone.

CI runs the suite on three xdist workers (README "Test"). A test whose assertion is a latency bound
or a rate measured over wall-clock time (the 20 ms PING bound during an operation, the Redis
commands per second of 1,000 subscribers) would otherwise share the machine's two cores with
whatever the other workers run meanwhile, and measure its neighbours instead of the gateway.

So each test holds a lock shared by all workers of the run for its whole run protocol (setup,
call and teardown, including the module fixtures it sets up or tears down): an exclusive one for
the timed tests, a shared one for every other test. The lock prefers the exclusive side: once a
timed test waits, no new test starts on another worker, so it waits at most for the tests already
running. In a single process (no xdist) nothing is locked.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import pytest

MARKER = "exclusive"

# Timed tests marked here rather than in their files, so the list is one place to review. A test
# may also carry @pytest.mark.exclusive itself.
_REAL = "tests/realredis"
TIMED: dict[str, str] = {
    f"{_REAL}/test_operations_gentle.py": "max PING latency and a live worker during an operation",
    f"{_REAL}/test_history_bounded.py": "no history tick's command over 10 ms in Redis's slow log",
    f"{_REAL}/test_subscriptions_real.py::test_a_thousand_subscribers_cost_the_redis_commands_of_one": (
        "Redis commands per second of 1 and of 1,000 subscribers, compared within 10%"
    ),
    f"{_REAL}/test_faults.py": "answers within a bound of the Redis timeout while Redis stalls",
    f"{_REAL}/test_sentinel.py::test_failover_mid_retry_all_and_reads_503s_only_in_the_window_and_loses_"
    "nothing": "503s only inside a failover window measured in seconds",
}


class RunLock:
    """A writer-preferring readers-writer lock between the processes of one pytest run, from two
    flock(2) files: `gate` is taken briefly by everyone and held by a waiting writer, so readers
    queue behind it; `tests` is held shared by each running test, exclusively by a timed one."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        # Each process opens its own descriptions: flock locks belong to them, not to the paths.
        self._gate: IO[bytes] = (directory / "gate.lock").open("ab")
        self._tests: IO[bytes] = (directory / "tests.lock").open("ab")

    @contextmanager
    def held(self, exclusive: bool) -> Iterator[None]:
        fcntl.flock(self._gate, fcntl.LOCK_EX)
        try:
            fcntl.flock(self._tests, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        finally:
            fcntl.flock(self._gate, fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(self._tests, fcntl.LOCK_UN)

    def close(self) -> None:
        self._gate.close()
        self._tests.close()


_LOCK = pytest.StashKey[RunLock]()


def configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARKER}: measures wall-clock time; under pytest-xdist no other test runs meanwhile"
    )
    # In a pytest-xdist worker, basetemp is <the run's base temporary directory>/<worker id>: the
    # parent is shared by the workers of one run, and pytest removes it with its old runs.
    if os.environ.get("PYTEST_XDIST_WORKER") and config.option.basetemp:
        config.stash[_LOCK] = RunLock(Path(config.option.basetemp).parent / "exclusive")


def unconfigure(config: pytest.Config) -> None:
    lock = config.stash.get(_LOCK, None)
    if lock is not None:
        lock.close()


def mark_timed(items: list[pytest.Item]) -> None:
    for item in items:
        if any(item.nodeid == key or item.nodeid.startswith(f"{key}::") for key in TIMED):
            item.add_marker(MARKER)


def timed_files_first(items: list[pytest.Item]) -> None:
    """Move the files holding timed tests to the front, each file kept whole and in order. They
    run alone wherever they are; at the front they cannot be the last work while the other worker
    idles. (pytest-xdist keeps this order under --no-loadscope-reorder; by default it schedules
    files by test count, the one- and two-test timed files last.)"""
    timed = {item.path for item in items if is_exclusive(item)}
    items.sort(key=lambda item: item.path not in timed)


def is_exclusive(item: pytest.Item) -> bool:
    return item.get_closest_marker(MARKER) is not None


@contextmanager
def protocol(item: pytest.Item) -> Iterator[None]:
    lock = item.config.stash.get(_LOCK, None)
    if lock is None:
        yield
        return
    with lock.held(exclusive=is_exclusive(item)):
        yield
