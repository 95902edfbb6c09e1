"""What 1,000 subscribers to one live stream cost: Redis commands per second and gateway memory.

    python -m bench.subscriptions                        # 1,000 subscribers, 10 s windows
    python -m bench.subscriptions --subscribers 200 --window 5

Starts its own redis-server (loopback, no persistence) with one queued job, and the gateway
through its CLI (`rq-gateway serve`, one worker). Then, over real websockets speaking
graphql-transport-ws, every subscriber asks for `queueStats(queue: "default", intervalMs: 500)`:
1. one subscriber: Redis commands per second over the window (INFO commandstats, every client
   together, less INFO itself), and the gateway's VmRSS;
   the window opens and closes just after a stats read reaches Redis, so it holds whole reads;
2. the same with N subscribers (100 per connection, the default per-connection limit), all
   connected and each holding its first answer before the window opens;
3. one change (a job enqueued): the time until every subscriber has received it.
Prints a markdown table. The ratio of (2) to (1) is the shared poller at work: one read per
interval for the whole process, whoever listens."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

from rq import Queue
from websockets.asyncio.client import ClientConnection, connect

from bench.infra import log, proc_status, redis_server, start_gateway
from gateway.demo import jobs

QUERY = 'subscription { queueStats(queue: "default", intervalMs: 500) { queuedCount } }'


def command_calls(r) -> int:
    stats = r.info("commandstats")
    return sum(int(entry["calls"]) for name, entry in stats.items() if name != "cmdstat_info")  # less ours


async def _open(base: str, count: int) -> tuple[ClientConnection, list[str]]:
    """One connection with `count` subscriptions, each holding its first answer."""
    ws = await connect(base.replace("http", "ws", 1) + "/graphql", subprotocols=["graphql-transport-ws"])
    await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
    assert json.loads(await ws.recv())["type"] == "connection_ack"
    ids = [str(index) for index in range(count)]
    for op_id in ids:
        await ws.send(json.dumps({"id": op_id, "type": "subscribe", "payload": {"query": QUERY}}))
    for _ in ids:
        message = json.loads(await asyncio.wait_for(ws.recv(), 60))
        assert message["type"] == "next", message
    return ws, ids


async def _subscribe(base: str, total: int, per_connection: int) -> list[ClientConnection]:
    sizes = [min(per_connection, total - start) for start in range(0, total, per_connection)]
    return [ws for ws, _ in await asyncio.gather(*(_open(base, size) for size in sizes))]


def _llen_calls(r) -> int:
    return int(r.info("commandstats").get("cmdstat_llen", {}).get("calls", 0))


async def _next_read(r) -> None:
    """Return once one more stats read has reached Redis: each counts one LLEN, in one
    MULTI/EXEC, so when its LLEN is counted the whole read is."""
    before, deadline = _llen_calls(r), time.monotonic() + 30
    while _llen_calls(r) == before:
        if time.monotonic() > deadline:
            raise RuntimeError("no stats read reached Redis in 30 s")
        await asyncio.sleep(0.005)


async def _rate(r, seconds: float) -> float:
    """Commands per second over a window of about `seconds` that opens and closes just after a
    stats read: whole reads only, so the rate is not off by a read a fixed window may miss."""
    await _next_read(r)
    start, before = time.monotonic(), command_calls(r)
    for _ in range(round(seconds / 0.5)):
        await _next_read(r)
    return (command_calls(r) - before) / (time.monotonic() - start)


async def _run(r, base: str, pid: int, subscribers: int, per_connection: int, window: float) -> dict:
    one = await _subscribe(base, 1, per_connection)
    single = await _rate(r, window)
    rss_one = proc_status(pid)["VmRSS"]
    for ws in one:
        await ws.close()
    many = await _subscribe(base, subscribers, per_connection)
    rss_many = proc_status(pid)["VmRSS"]
    thousand = await _rate(r, window)
    rss_after = proc_status(pid)["VmRSS"]
    many_sizes = [min(per_connection, subscribers - s) for s in range(0, subscribers, per_connection)]
    fan_out = await _fan_out_sized(r, many, many_sizes, expected=2)
    for ws in many:
        await ws.close()
    return {
        "single": single,
        "many": thousand,
        "rss_one": rss_one,
        "rss_many": max(rss_many, rss_after),
        "fan_out": fan_out,
    }


async def _fan_out_sized(r, sockets: list[ClientConnection], sizes: list[int], expected: int) -> float:
    async def drain(ws: ClientConnection, size: int) -> None:
        seen = 0
        while seen < size:
            message = json.loads(await asyncio.wait_for(ws.recv(), 60))
            if message["payload"]["data"]["queueStats"]["queuedCount"] == expected:
                seen += 1

    start = time.monotonic()
    await asyncio.to_thread(Queue(connection=r).enqueue, jobs.add, 1, 2)
    await asyncio.gather(*(drain(ws, size) for ws, size in zip(sockets, sizes, strict=True)))
    return time.monotonic() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.subscriptions", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--subscribers", type=int, default=1000, help="subscribers (default 1000)")
    parser.add_argument("--per-connection", type=int, default=100, help="subscriptions per connection")
    parser.add_argument("--window", type=float, default=10.0, help="seconds of each measuring window")
    args = parser.parse_args(argv)
    mb = 2**20
    with tempfile.TemporaryDirectory(prefix="rq-gateway-subscriptions-") as tmp:
        workdir = Path(tmp)
        with redis_server(workdir) as (redis_url, r):
            Queue(connection=r).enqueue(jobs.add, 1, 2)
            # --no-history: INFO commandstats counts every command, the history writer's too.
            gateway = start_gateway(redis_url, workdir, "--no-history")
            try:
                log(f"measuring 1 and {args.subscribers} subscribers, {args.window:g} s windows")
                res = asyncio.run(
                    _run(r, gateway.base, gateway.pid, args.subscribers, args.per_connection, args.window)
                )
            finally:
                gateway.stop()
    ratio = res["many"] / res["single"]
    growth = (res["rss_many"] - res["rss_one"]) / mb
    print("| Subscribers | Redis commands/s | vs one subscriber | Gateway RSS | RSS growth | Change to all |")
    print("|---|---|---|---|---|---|")
    print(f"| 1 | {res['single']:.1f} | 1.00 | {res['rss_one'] / mb:.0f} MB | | |")
    print(
        f"| {args.subscribers:,} | {res['many']:.1f} | {ratio:.2f} | {res['rss_many'] / mb:.0f} MB "
        f"| {growth:.1f} MB | {res['fan_out'] * 1000:.0f} ms |"
    )
    met = abs(ratio - 1) <= 0.10 and growth <= 50
    verdict = "met" if met else "MISSED"
    print(f"\ntargets (commands/s within 10% of one subscriber, RSS growth <= 50 MB): {verdict}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
