"""The read-only schedule views (issue 15): RQ's CronSchedulers and rq-scheduler's jobs."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from gateway.services import CronView, RqSchedulerView

_FROM = ConfigDict(from_attributes=True)


class CronRun(BaseModel):
    model_config = _FROM
    job_id: str = Field(description="The job the cron job enqueued: GET /api/v1/jobs/status/{job_id}.")
    status: str | None = Field(description="Its status now; null when its data is gone.")
    enqueued_at: str | None


class CronJob(BaseModel):
    model_config = _FROM
    name: str
    func_name: str
    queue: str
    cron: str | None = Field(description="The cron expression, or null for an interval job.")
    interval: int | None = Field(description="Seconds between runs, or null for a cron expression.")
    next_run: str | None
    last_enqueue: str | None
    history_total: int = Field(description="Runs RQ remembers (the newest 1000, for a year).")
    history: list[CronRun] = Field(description="The newest 20 runs, newest first.")


class CronScheduler(BaseModel):
    model_config = _FROM
    name: str
    hostname: str | None
    pid: int | None
    created_at: str | None
    last_heartbeat: str | None
    config_file: str | None
    cron_jobs: list[CronJob]


class Cron(BaseModel):
    model_config = _FROM
    schedulers: list[CronScheduler] = Field(description="Empty without a CronScheduler (or RQ < 2.4).")

    @classmethod
    def of(cls, view: CronView) -> Cron:
        return cls.model_validate(view)


class RqSchedulerJob(BaseModel):
    model_config = _FROM
    job_id: str
    func_name: str | None
    queue: str | None
    next_run: str | None
    interval: int | None = Field(description="Seconds between runs (rq-scheduler's `schedule`).")
    cron: str | None = Field(description="rq-scheduler's `cron_string`.")
    repeat_left: int | None = Field(description="Runs left; null: no repeat count.")
    status: str | None


class RqScheduler(BaseModel):
    model_config = _FROM
    total: int = Field(
        description="Entries in rq-scheduler's set (for a queue-limited key, those of its queues); "
        "0 when it is not used."
    )
    jobs: list[RqSchedulerJob] = Field(description="By next run, the first `first`.")

    @classmethod
    def of(cls, view: RqSchedulerView) -> RqScheduler:
        return cls.model_validate(view)
