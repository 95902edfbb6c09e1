"""GET /metrics: Prometheus's text format, with rq-exporter's names and labels for RQ's gauges
(so Grafana dashboard 12196 and existing alert rules work unchanged) and the gateway's own
metrics under `rq_gateway_`.

- RQ: rq_workers{name,queues,state}, rq_workers_success_total / rq_workers_failed_total /
  rq_workers_working_time_total{name,queues}, rq_jobs{queue,status}, and
  rq_queue_latency_seconds{queue}, from one read of the service (JobService.rq_snapshot: three
  round trips, shared by the scrapes of one second, never a write).
- The gateway: HTTP requests and durations (gateway/request_metrics.py), jobs acted on, Redis
  errors, refused keys, and rq_gateway_redis_up, 0 when the read failed. Redis down is still a
  200, with the gateway's own metrics, so alerting keeps working.

With several Redis instances, `?instance=NAME` reads that instance's RQ gauges (default: the
default instance's), as every keyed route takes it.

With API keys configured, any valid key reads it (Prometheus's `authorization` scrape setting),
a key limited to queue patterns only its queues' gauges and their workers' (JobService.rq_snapshot);
`--metrics-public` opens it whole. It is a read: never audited."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from prometheus_client import REGISTRY, CollectorRegistry, Summary, disable_created_metrics, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from gateway.errors import BackendUnavailable
from gateway.rest.deps import InstanceParam, get_service
from gateway.services import JobService, RqSnapshot

router = APIRouter(tags=["monitoring"])
# No `_created` gauge beside each counter and histogram child: the multiprocess collector of
# --workers N writes none, so one process and many expose the same series (and half as many).
disable_created_metrics()
# What generate_latest writes. Named here: prometheus-client 0.26's CONTENT_TYPE_LATEST says 1.0.0,
# which Prometheus servers before 3.0 do not know.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# rq-exporter's own: the panel "RQ data collection" of dashboard 12196 reads it.
COLLECTION_SECONDS = Summary("rq_request_processing_seconds", "Time spent collecting RQ data")
# rq_jobs' `status` values: RQ's queue and its seven registries, as RQ's JobStatus names them;
# rq-exporter's six first, in its order.
JOB_STATUSES = ("queued", "started", "finished", "failed", "deferred", "scheduled", "canceled")
READY_STATUS = "ready_to_enqueue"


async def _metrics_service(request: Request, instance: InstanceParam = None) -> JobService:
    """The keyed service of the instance named (Prometheus's `params` scrape setting; None: the
    default), or with --metrics-public its unbound one (no key asked, none refused)."""
    if request.app.state.settings.metrics_public:
        return request.app.state.instances.service(instance)
    return await get_service(request, instance)


@router.get("/metrics", name="metrics", include_in_schema=False)
def metrics(service: Annotated[JobService, Depends(_metrics_service)]) -> Response:
    """Prometheus text exposition format 0.0.4."""
    try:
        with COLLECTION_SECONDS.time():
            snapshot: RqSnapshot | None = service.rq_snapshot()
    except BackendUnavailable:
        snapshot = None  # answered with rq_gateway_redis_up 0 and the gateway's own metrics
    rq = CollectorRegistry(auto_describe=False)
    rq.register(_RqCollector(snapshot))
    return Response(_gateway_metrics() + generate_latest(rq), media_type=CONTENT_TYPE)


def _gateway_metrics() -> bytes:
    """The gateway's own counters: this process's, or under --workers N every process's, summed
    from prometheus-client's multiprocess files."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


class _RqCollector(Collector):
    def __init__(self, snapshot: RqSnapshot | None) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "rq_gateway_redis_up",
            "1 when this scrape read RQ's data from Redis, 0 when Redis did not answer.",
            value=0 if self.snapshot is None else 1,
        )
        if self.snapshot is None:
            return
        yield from _worker_families(self.snapshot)
        jobs = GaugeMetricFamily("rq_jobs", "RQ jobs by queue and status", labels=["queue", "status"])
        latency = GaugeMetricFamily(
            "rq_queue_latency_seconds",
            "Seconds the job at the head of the queue has waited; 0 when the queue is empty.",
            labels=["queue"],
        )
        for queue in self.snapshot.queues:
            stats = queue.stats
            for status in JOB_STATUSES:
                jobs.add_metric([stats.queue_name, status], getattr(stats, f"{status}_count"))
            jobs.add_metric([stats.queue_name, READY_STATUS], queue.ready_count)
            if queue.latency_seconds is not None:
                latency.add_metric([stats.queue_name], queue.latency_seconds)
        yield jobs
        yield latency


def _worker_families(snapshot: RqSnapshot) -> Iterator[Metric]:
    workers = GaugeMetricFamily("rq_workers", "RQ workers", labels=["name", "queues", "state"])
    labels = ["name", "queues"]
    success = CounterMetricFamily("rq_workers_success", "RQ workers success count", labels=labels)
    failed = CounterMetricFamily("rq_workers_failed", "RQ workers fail count", labels=labels)
    working = CounterMetricFamily("rq_workers_working_time", "RQ workers spent seconds", labels=labels)
    for worker in snapshot.workers:
        queues = ",".join(worker.queues)
        workers.add_metric([worker.name, queues, worker.state], 1)
        # None for a queue-limited key when the worker also listens to a queue it may not see
        # (the counters count that queue's jobs too): no sample, rather than a 0 that would read
        # as a counter reset.
        if worker.successful_job_count is not None:
            success.add_metric([worker.name, queues], worker.successful_job_count)
        if worker.failed_job_count is not None:
            failed.add_metric([worker.name, queues], worker.failed_job_count)
        if worker.total_working_time is not None:
            working.add_metric([worker.name, queues], worker.total_working_time)
    yield from (workers, success, failed, working)
