"""Frozen results of the RQ 3 views (issue 15): concurrency rate limits and job groups."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LimitedJob:
    job_id: str
    queue: str | None  # None: the job's data is gone, or it has no origin
    status: str | None


@dataclass(frozen=True)
class RateLimitInfo:
    """One RQ 3 rate-limit key: at most `concurrency` of its jobs queued or running (`allowed`);
    the others wait in RQ's rate_limited set, oldest first, until a slot frees."""

    key: str
    concurrency: int | None
    allowed_count: int
    waiting_count: int
    allowed: list[LimitedJob]
    waiting: list[LimitedJob]


@dataclass(frozen=True)
class JobGroupSummary:
    name: str
    job_count: int


@dataclass(frozen=True)
class JobGroupInfo:
    """One RQ job group (`Group.enqueue_many`): its jobs, by id, with their statuses now."""

    name: str
    job_count: int
    jobs: list[LimitedJob]
