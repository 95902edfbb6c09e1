"""The run lock that keeps timed tests alone under pytest-xdist (tests/exclusive.py): an exclusive
holder keeps everyone else out, shared holders run together, and a waiting exclusive holder is
not overtaken by later shared ones. Two RunLocks on one directory stand for two xdist workers
(flock locks belong to open file descriptions, so they exclude each other within one process)."""

from __future__ import annotations

import fcntl
import re
import threading
from pathlib import Path

import pytest

from tests.exclusive import TIMED, RunLock, timed_files_first
from tests.realredis.helpers import wait_until

ROOT = Path(__file__).resolve().parents[1]
NOT_YET = 0.2  # how long a thread that must stay blocked is given to (wrongly) get through


class Holder:
    """Takes the lock on its own thread and holds it until released."""

    def __init__(self, lock: RunLock, exclusive: bool) -> None:
        self.entered = threading.Event()
        self._release = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(lock, exclusive), daemon=True)
        self._thread.start()

    def _run(self, lock: RunLock, exclusive: bool) -> None:
        with lock.held(exclusive):
            self.entered.set()
            self._release.wait(10)

    def release(self) -> None:
        self._release.set()
        self._thread.join(10)
        assert not self._thread.is_alive()


def _gate_is_held(directory: Path) -> bool:
    with (directory / "gate.lock").open("ab") as gate:
        try:
            fcntl.flock(gate, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(gate, fcntl.LOCK_UN)
        return False


def test_shared_holders_run_together_and_an_exclusive_one_waits_for_them(tmp_path):
    first, second = Holder(RunLock(tmp_path), False), Holder(RunLock(tmp_path), False)
    assert first.entered.wait(5) and second.entered.wait(5)
    timed = Holder(RunLock(tmp_path), True)
    assert not timed.entered.wait(NOT_YET)
    first.release()
    assert not timed.entered.wait(NOT_YET)
    second.release()
    assert timed.entered.wait(5)
    timed.release()


def test_a_waiting_exclusive_holder_is_not_overtaken_by_a_later_shared_one(tmp_path):
    running = Holder(RunLock(tmp_path), False)
    assert running.entered.wait(5)
    timed = Holder(RunLock(tmp_path), True)
    wait_until(lambda: _gate_is_held(tmp_path), 5, "the timed holder to wait at the gate")
    later = Holder(RunLock(tmp_path), False)
    assert not later.entered.wait(NOT_YET)
    running.release()
    assert timed.entered.wait(5)
    assert not later.entered.wait(NOT_YET), "a shared holder ran beside the exclusive one"
    timed.release()
    assert later.entered.wait(5)
    later.release()


@pytest.mark.parametrize("key", sorted(TIMED))
def test_every_timed_entry_names_an_existing_test(key):
    """A renamed file or test would silently lose its place in the list."""
    path, _, name = key.partition("::")
    source = (ROOT / path).read_text()
    if name:
        assert re.search(rf"^(async )?def {re.escape(name)}\(", source, re.MULTILINE), key


class _Item:
    def __init__(self, path: str, timed: bool = False) -> None:
        self.path, self.timed = Path(path), timed

    def get_closest_marker(self, name: str):
        return name if self.timed else None


def test_files_with_a_timed_test_move_to_the_front_whole_and_in_order():
    a1, a2 = _Item("a.py"), _Item("a.py")
    b1, b2 = _Item("b.py"), _Item("b.py", timed=True)
    c1 = _Item("c.py", timed=True)
    items = [a1, a2, b1, b2, c1]
    timed_files_first(items)  # stand-ins with the two attributes it reads
    assert items == [b1, b2, c1, a1, a2]
