"""A client that PINGs Redis in a loop, in a process of its own, until SIGTERM; then it writes
every round trip (seconds, one per line) to the file it was given.

Its own process, not a thread of the benchmark: a thread shares the benchmark's GIL with its HTTP
polling and RSS sampling, so its longest PING measured Python's scheduling as much as Redis. It
rests PAUSE between PINGs: a loop without rest keeps a whole core of this 2-core machine busy
sending PINGs, taking it from Redis and the gateway it measures, while a stall of Redis longer
than PAUSE still meets a PING (one is sent at most PAUSE after the last came back).

    python -m bench.pinger redis://127.0.0.1:6379/0 /tmp/pings.txt
"""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

import redis

PAUSE = 0.001  # seconds between a PING's answer and the next PING


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
