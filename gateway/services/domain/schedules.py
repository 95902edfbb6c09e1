"""Frozen results of the read-only schedule views (issue 15): RQ's CronScheduler (RQ >= 2.4) and
rq-scheduler's sorted set of scheduled jobs. Times are ISO 8601 UTC ending in Z."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CronRun:
    """One job a cron job enqueued: its id links to the job (status, retry, replay)."""

    job_id: str
    status: str | None  # None: the job's data is gone (expired or deleted)
    enqueued_at: str | None


@dataclass(frozen=True)
class CronJobInfo:
    name: str
    func_name: str
    queue: str
    cron: str | None  # a cron expression, or
    interval: int | None  # seconds between runs
    next_run: str | None
    last_enqueue: str | None
    history_total: int  # RQ keeps the newest 1000 for a year
    history: list[CronRun]  # newest first


@dataclass(frozen=True)
class CronSchedulerInfo:
    name: str
    hostname: str | None
    pid: int | None
    created_at: str | None
    last_heartbeat: str | None
    config_file: str | None
    cron_jobs: list[CronJobInfo]


@dataclass(frozen=True)
class CronView:
    schedulers: list[CronSchedulerInfo]


@dataclass(frozen=True)
class RqSchedulerJob:
    """One entry of rq-scheduler's sorted set."""

    job_id: str
    func_name: str | None
    queue: str | None
    next_run: str | None
    interval: int | None
    cron: str | None
    repeat_left: int | None  # None: repeats forever (or runs once, without interval or cron)
    status: str | None


@dataclass(frozen=True)
class RqSchedulerView:
    total: int
    jobs: list[RqSchedulerJob]
