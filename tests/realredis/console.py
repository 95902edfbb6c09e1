"""The console under test: the gateway started by its CLI with one API key per role, on the
session's real redis-server, and chromium pages signed in with a given key. Every request a page
makes is recorded; one that leaves the gateway's origin is blocked and listed."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import redis
import requests
from rq import Queue

from gateway.demo import jobs
from tests.keyed import API_KEYS, KEYS

from .helpers import PROJECT_ROOT, _worker_command, failed_ids, run_worker
from .processes import GatewayProcess

TIMEOUT_MS = 15_000
KEYS_ARGUMENT = ";".join(key.line() for key in API_KEYS)
STATIC = PROJECT_ROOT / "gateway" / "static" / "console"


def start_gateway(redis_url: str, log: Path, *extra: str) -> GatewayProcess:
    """`python -m gateway serve` with a viewer, an operator, an admin and a billing-* key."""
    return GatewayProcess(redis_url, log, "--api-keys", KEYS_ARGUMENT, *extra).start()


def rest(gateway: GatewayProcess, path: str, role: str = "admin", **params: Any) -> Any:
    """What REST answers, for the parity checks."""
    response = requests.get(
        gateway.base + path, params=params, headers={"Authorization": f"Bearer {KEYS[role]}"}, timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()


@dataclass
class Visit:
    """One page: every request it made, those that left the origin (blocked), its errors."""

    page: Any
    requests: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    frames: list[str] = field(default_factory=list)  # websocket messages received


def open_console(browser: Any, base: str, role: str | None, path: str = "/") -> Visit:
    """A new browser context (its own sessionStorage) with `role`'s key signed in, at `path`."""
    context = browser.new_context()
    if role is not None:
        # The sign-in screen stores the key in sessionStorage; set it before the page's scripts run.
        context.add_init_script(f"sessionStorage.setItem('rq-gateway.key', {KEYS[role]!r})")
    page = context.new_page()
    return watch(page, base, path)


def watch(page: Any, base: str, path: str, also: tuple[str, ...] = ()) -> Visit:
    """Records the page's requests; `also` are origins it may reach besides the gateway's."""
    seen = Visit(page)
    origin = urlsplit(base)[:2]
    allowed = {origin, *(urlsplit(other)[:2] for other in also)}

    def route(route: Any) -> None:
        url = route.request.url
        seen.requests.append(url)
        if urlsplit(url)[:2] in allowed or url.startswith("data:"):
            route.continue_()
        else:
            seen.outside.append(url)
            route.abort()

    page.route("**/*", route)
    # WebSockets are not routed by page.route: record them too, and fail the check if one leaves.
    page.on("websocket", lambda ws: _record_socket(seen, origin, ws))
    page.on("console", lambda message: message.type == "error" and seen.errors.append(message.text))
    page.on("pageerror", lambda error: seen.errors.append(str(error)))
    page.goto(base + path)
    return seen


def _record_socket(seen: Visit, origin: tuple[str, str], socket: Any) -> None:
    url = socket.url
    seen.requests.append(url)
    socket.on("framereceived", lambda payload: seen.frames.append(str(payload)))
    scheme, netloc = urlsplit(url)[:2]
    if netloc != origin[1] or {"ws": "http", "wss": "https"}.get(scheme) != origin[0]:
        seen.outside.append(url)


def close(visit: Visit) -> None:
    visit.page.context.close()


def interval_ms(view: str) -> int:
    """A view's live interval, as its module declares it (`export const INTERVAL_MS = 2000;`)."""
    source = (STATIC / "views" / f"{view}.js").read_text()
    match = re.search(r"export const INTERVAL_MS = (\d+);", source)
    assert match, f"views/{view}.js declares no INTERVAL_MS"
    return int(match.group(1))


@contextmanager
def live_worker(redis_url: str, *queues: str) -> Iterator[str]:
    """A long-running `rq worker` (not --burst) with a known name, stopped (SIGTERM) at the end."""
    name = f"console-worker-{os.getpid()}"
    command = _worker_command(redis_url, queues or ("default",), ())
    command["args"] = [*command["args"][:2], "--name", name, *command["args"][3:]]  # drop --burst
    process = subprocess.Popen(**command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield name
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def failing(r: redis.Redis, redis_url: str, count: int, queue: str = "default") -> list[str]:
    """`count` jobs failed by a real worker, in enqueue order."""
    q = Queue(queue, connection=r)
    ids = [q.enqueue(jobs.parse_report, f"bad-{queue}-{i}").id for i in range(count)]
    run_worker(redis_url, [queue])
    assert set(ids) <= set(failed_ids(r, queue))
    return ids
