"""Embedded demo Redis: an in-memory server filled with real jobs run by a real RQ worker."""

from __future__ import annotations

import logging
import signal

import fakeredis
from rq import Queue, SimpleWorker

from gateway.demo import jobs


def run_worker_quietly(worker: SimpleWorker) -> None:
    """Run a burst without its log output, and give back the signal handlers RQ's worker
    installs: otherwise Ctrl+C or `docker stop` of the gateway would raise StopRequested."""
    worker_log = logging.getLogger("rq.worker")
    level = worker_log.level
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    worker_log.setLevel(logging.CRITICAL)
    try:
        worker.work(burst=True, logging_level="CRITICAL")
    finally:
        worker_log.setLevel(level)
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


def demo_connection() -> fakeredis.FakeRedis:
    """A fresh in-memory Redis with finished, failed and queued jobs across two queues."""
    connection = fakeredis.FakeRedis(server=fakeredis.FakeServer())
    default = Queue("default", connection=connection)
    reports = Queue("reports", connection=connection)

    for trade_id in (1, 2, 3):
        default.enqueue(jobs.simulate_replicated_trade, trade_id)
    default.enqueue(jobs.add, 2, 3)
    for order_id in (101, 102):
        default.enqueue(jobs.flaky_charge, order_id)  # fails once; a retry succeeds
    reports.enqueue(jobs.parse_report, "report:2024-01")
    reports.enqueue(jobs.parse_report, "garbled-2024-02")  # fails every time
    reports.enqueue(jobs.parse_report, "garbled-2024-03")

    run_worker_quietly(SimpleWorker([default, reports], connection=connection))

    # Left queued so the demo has queued jobs too (no worker runs in demo mode).
    default.enqueue(jobs.simulate_replicated_trade, 4)
    reports.enqueue(jobs.parse_report, "report:2024-04")
    return connection
