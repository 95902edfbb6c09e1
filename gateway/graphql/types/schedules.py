"""The read-only schedule views (issue 15): the REST keys of gateway/rest/models/schedules.py."""

from __future__ import annotations

import strawberry

from gateway import services


@strawberry.type
class CronRun:
    job_id: strawberry.ID = strawberry.field(description="The job the cron job enqueued: `job(id:)`.")
    status: str | None = strawberry.field(description="Its status now; null when its data is gone.")
    enqueued_at: str | None


@strawberry.type
class CronJob:
    name: str
    func_name: str
    queue: str
    cron: str | None = strawberry.field(description="The cron expression, or null for an interval job.")
    interval: int | None = strawberry.field(description="Seconds between runs, or null.")
    next_run: str | None
    last_enqueue: str | None
    history_total: int
    history: list[CronRun] = strawberry.field(description="The newest 20 runs, newest first.")


@strawberry.type
class CronScheduler:
    name: str
    hostname: str | None
    pid: int | None
    created_at: str | None
    last_heartbeat: str | None
    config_file: str | None
    cron_jobs: list[CronJob]


@strawberry.type
class CronView:
    schedulers: list[CronScheduler] = strawberry.field(description="Empty without a CronScheduler.")

    @classmethod
    def of(cls, view: services.CronView) -> CronView:
        return cls(
            schedulers=[
                CronScheduler(
                    name=s.name,
                    hostname=s.hostname,
                    pid=s.pid,
                    created_at=s.created_at,
                    last_heartbeat=s.last_heartbeat,
                    config_file=s.config_file,
                    cron_jobs=[
                        CronJob(
                            name=j.name,
                            func_name=j.func_name,
                            queue=j.queue,
                            cron=j.cron,
                            interval=j.interval,
                            next_run=j.next_run,
                            last_enqueue=j.last_enqueue,
                            history_total=j.history_total,
                            history=[
                                CronRun(
                                    job_id=strawberry.ID(r.job_id), status=r.status, enqueued_at=r.enqueued_at
                                )
                                for r in j.history
                            ],
                        )
                        for j in s.cron_jobs
                    ],
                )
                for s in view.schedulers
            ]
        )


@strawberry.type
class RqSchedulerJob:
    job_id: strawberry.ID
    func_name: str | None
    queue: str | None
    next_run: str | None
    interval: int | None
    cron: str | None = strawberry.field(description="rq-scheduler's cron_string.")
    repeat_left: int | None
    status: str | None


@strawberry.type
class RqSchedulerView:
    total_count: int = strawberry.field(
        description="Entries in rq-scheduler's set (for a queue-limited key, those of its queues; "
        "REST `total`)."
    )
    jobs: list[RqSchedulerJob]

    @classmethod
    def of(cls, view: services.RqSchedulerView) -> RqSchedulerView:
        return cls(
            total_count=view.total,
            jobs=[
                RqSchedulerJob(
                    job_id=strawberry.ID(j.job_id),
                    func_name=j.func_name,
                    queue=j.queue,
                    next_run=j.next_run,
                    interval=j.interval,
                    cron=j.cron,
                    repeat_left=j.repeat_left,
                    status=j.status,
                )
                for j in view.jobs
            ],
        )
