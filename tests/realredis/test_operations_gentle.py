"""A tracked operation over 100,000 failed jobs leaves Redis responsive: a client PINGing in a
loop never waits more than 20 ms, and a real `rq worker` on another queue keeps taking and
finishing jobs meanwhile, none lost. The operation runs in the CLI-started gateway (its own
process); the pinger and the worker are separate clients, as in production.

The pinger is the benchmark's (bench/pinger.py): a process of its own that rests 1 ms between
PINGs. A PING loop in a thread of this process, without rest, took one of the machine's two
cores from Redis and the gateway, and measured its own scheduling: CI once saw a lone 22 ms PING
while Redis's slow log held no command over 20 ms.

Why it holds: each Lua call acts on a chunk sized to stay about 2 ms inside Redis
(services/operations/pacing.py), and the runner lets go between chunks.

What a PING waits for is the command Redis is running when it arrives, so the check is made on
two clocks: the pinger's, and Redis's own slow log, which holds every command of 20 ms or more
whoever sent it (the operation's chunks, the history writer's ticks, the worker).

On a shared machine another process can starve the pinger or redis-server itself, and then even
a lone PING or HGET with no operation waits tens of milliseconds. So both are first measured
without the operation (the worker running). On a calm machine (that window's worst PING under
10 ms, no command in the slow log) the bound is the issue's 20 ms for every PING and every
command. On a starved one, the share of PINGs over 20 ms stays under 2%, and no PING or command
takes over 500 ms (there a lone HMGET can take 70 ms: Redis's clock is the wall clock too).
"""

from __future__ import annotations

import os
import time

import pytest
import requests
from rq.intermediate_queue import IntermediateQueue

from bench.pinger import Pinger
from bench.seed import enqueue, seed_failed
from gateway.demo import jobs
from gateway.services.operations import store as stored

from .helpers import start_worker, wait_until
from .processes import GatewayProcess

pytestmark = pytest.mark.e2e

N = int(os.environ.get("RQ_GATEWAY_GENTLE_JOBS", "100000"))
MAX_PING_SECONDS = 0.020
BASELINE_SECONDS = 5.0
CALM_SECONDS = 0.010
STARVED_SHARE = 0.02
STARVED_MAX_SECONDS = 0.5
OTHER_JOBS = 1500  # a forking rq worker does about 60 a second here: it outlasts the operation


@pytest.mark.parametrize("action", ["retry", "delete"])
def test_redis_stays_responsive_and_a_worker_keeps_working_during_an_operation(
    redis_server, r, tmp_path, action
):
    seed_failed(r, redis_server.url, N, with_worker=20)
    other = enqueue(r, OTHER_JOBS, "other", jobs.add, lambda i: (i, 1))
    gateway = GatewayProcess(redis_server.url, tmp_path / "gateway.log").start()
    worker = start_worker(redis_server.url, ("other",), tmp_path / "worker.log")
    try:
        # The worker is taking jobs before the operation starts.
        wait_until(lambda: r.zcard("rq:finished:other") > 0, 60, "the worker's first job", 0.01)
        # The machine's own stalls, with the worker running but no operation: on a shared 2-core
        # machine another process can starve redis-server for longer than 20 ms. Measured, not
        # synchronisation: a window of PINGs as long as the operation roughly takes.
        r.config_set("slowlog-log-slower-than", int(MAX_PING_SECONDS * 1e6))
        r.config_set("slowlog-max-len", 1000)
        r.slowlog_reset()
        with Pinger(redis_server.url, tmp_path / "baseline.txt") as baseline:
            time.sleep(BASELINE_SECONDS)
        stalled = r.slowlog_get(1000)  # a plain command of 20 ms: redis-server itself was starved
        r.slowlog_reset()
        with Pinger(redis_server.url, tmp_path / "pings.txt") as pinger:
            started = requests.post(
                f"{gateway.base}/api/v1/operations",
                json={"action": action, "selector": {"all": True}},
                timeout=60,
            ).json()
            key = stored.operation_key(started["id"])
            finished_at_start = r.zcard("rq:finished:other")
            wait_until(lambda: r.hget(key, "status") != b"running", 300, "the operation to end", 0.05)
            finished_at_end = r.zcard("rq:finished:other")
        body = requests.get(f"{gateway.base}/api/v1/operations/{started['id']}", timeout=10).json()
        worker.terminate()  # a warm shutdown: the job under way finishes
        worker.wait(timeout=60)
    finally:
        if worker.poll() is None:
            worker.kill()
        gateway.stop()
    assert (body["status"], body["acted"]) == ("succeeded", N)
    assert len(pinger.pings) > 100
    slowlog = [(e["duration"], e["command"][:60]) for e in r.slowlog_get(1000)]
    calm = baseline.worst < CALM_SECONDS and not stalled
    allowed = MAX_PING_SECONDS if calm else STARVED_MAX_SECONDS
    assert all(micros <= allowed * 1e6 for micros, _ in slowlog), (
        f"Redis ran commands over {allowed * 1000:.0f} ms (µs, command): {slowlog[:10]}"
    )
    slow = pinger.over(MAX_PING_SECONDS)
    assert calm or len(slow) <= STARVED_SHARE * len(pinger.pings), (
        f"{len(slow)} of {len(pinger.pings)} PINGs waited over 20 ms: {slow[:20]}"
    )
    assert pinger.worst <= allowed, (
        f"a PING waited {pinger.worst * 1000:.1f} ms (allowed {allowed * 1000:.1f} ms; without the "
        f"operation the worst was {baseline.worst * 1000:.1f} ms); over 20 ms: {slow[:20]}"
    )
    assert finished_at_end > finished_at_start, "the worker finished no job during the operation"
    assert finished_at_end < OTHER_JOBS, "the worker ran out of jobs before the operation ended"
    # None lost: every job of the other queue finished, or still waits in its queue. A stop that
    # lands between RQ's dequeue and the job's start leaves it in RQ's intermediate queue, for
    # RQ's own maintenance to put back: waiting too. (Not drained: at 60 jobs a second that took
    # half of this test's time, the machine held for it alone.)
    finished = {member.decode() for member in r.zrange("rq:finished:other", 0, -1)}
    waiting = [member.decode() for member in r.lrange("rq:queue:other", 0, -1)]
    waiting += [
        member.decode()
        for member in r.lrange(IntermediateQueue.get_intermediate_queue_key("rq:queue:other"), 0, -1)
    ]
    assert finished.isdisjoint(waiting) and len(set(waiting)) == len(waiting)
    assert finished | set(waiting) == set(other) and len(set(other)) == OTHER_JOBS
    assert r.zcard("rq:failed:other") == 0 and r.zcard("rq:wip:other") == 0
