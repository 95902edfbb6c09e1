"""A client that PINGs Redis in a loop, in a process of its own, until SIGTERM; then it writes
every round trip (seconds, one per line) to the file it was given.

Its own process, not a thread of the benchmark: a thread shares the benchmark's GIL with its HTTP
polling and RSS sampling, so its longest PING measured Python's scheduling as much as Redis. It
rests PAUSE between PINGs: a loop without rest keeps a whole core of this 2-core machine busy
sending PINGs, taking it from Redis and the gateway it measures, while a stall of Redis longer
than PAUSE still meets a PING (one is sent at most PAUSE after the last came back).

    python -m bench.pinger redis://127.0.0.1:6379/0 /tmp/pings.txt

The benchmark and the CI test of the same bound (tests/realredis/test_operations_gentle.py) both
run it through `Pinger`.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import redis

PAUSE = 0.001  # seconds between a PING's answer and the next PING
REPO = Path(__file__).resolve().parents[1]


class Pinger:
    """This module's loop in a child process, for a `with` block; after it, `pings` holds every
    round trip in seconds."""

    def __init__(self, url: str, out: Path, python: str = sys.executable):
        self._command = [python, "-m", "bench.pinger", url, str(out)]
        self._out = out
        self._process: subprocess.Popen[bytes] | None = None
        self.pings: list[float] = []

    def __enter__(self) -> Pinger:
        ready = self._out.with_suffix(".ready")
        ready.unlink(missing_ok=True)
        self._out.unlink(missing_ok=True)  # never the PINGs of a window before
        self._process = subprocess.Popen(self._command, cwd=REPO)
        while not ready.exists():
            if self._process.poll() is not None:
                raise RuntimeError("the pinger did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *_: object) -> None:
        assert self._process is not None
        self._process.terminate()
        if self._process.wait(timeout=30) != 0:
            raise RuntimeError(f"the pinger failed (exit code {self._process.returncode})")
        self.pings = [float(line) for line in self._out.read_text().split()]

    @property
    def worst(self) -> float:
        return max(self.pings, default=0.0)

    def over(self, seconds: float) -> list[float]:
        """The round trips longer than `seconds`, in milliseconds."""
        return [round(p * 1000, 1) for p in self.pings if p > seconds]


def main() -> None:
    url, out = sys.argv[1], Path(sys.argv[2])
    client = redis.Redis.from_url(url, socket_timeout=10)
    client.ping()
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    pings: list[float] = []
    out.with_suffix(".ready").touch()
    while not stopping:
        started = time.perf_counter()
        client.ping()
        pings.append(time.perf_counter() - started)
        time.sleep(PAUSE)
    out.write_text("".join(f"{p!r}\n" for p in pings))


if __name__ == "__main__":
    main()
