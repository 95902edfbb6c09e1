"""Embedded demo Redis: an in-memory server filled with real jobs run by a real RQ worker."""

from __future__ import annotations

import logging

import fakeredis
from rq import Queue, SimpleWorker

from gateway.demo import jobs

DEMO_QUEUES = ("default", "reports")


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

    worker_log = logging.getLogger("rq.worker")
    level = worker_log.level
    worker_log.setLevel(logging.CRITICAL)
    try:
        SimpleWorker([default, reports], connection=connection).work(burst=True, logging_level="CRITICAL")
    finally:
        worker_log.setLevel(level)

    # Left queued so the demo has queued jobs too (no worker runs in demo mode).
    default.enqueue(jobs.simulate_replicated_trade, 4)
    reports.enqueue(jobs.parse_report, "report:2024-04")
    return connection
