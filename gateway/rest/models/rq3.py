"""RQ 3's rate limits and job groups (issue 15), read-only."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from gateway.services import JobGroupInfo, JobGroupSummary, RateLimitInfo

_FROM = ConfigDict(from_attributes=True)


class LimitedJob(BaseModel):
    model_config = _FROM
    job_id: str
    queue: str | None = Field(description="The job's queue; null when its data is gone.")
    status: str | None


class RateLimit(BaseModel):
    model_config = _FROM
    key: str
    concurrency: int | None = Field(description="At most this many of its jobs queued or running.")
    allowed_count: int = Field(description="Jobs holding a slot (queued or running).")
    waiting_count: int = Field(description="Jobs waiting for a slot (status rate_limited).")
    allowed: list[LimitedJob] = Field(description="The first 100 holding a slot.")
    waiting: list[LimitedJob] = Field(description="The first 100 waiting, oldest first.")


class RateLimits(BaseModel):
    rate_limits: list[RateLimit]

    @classmethod
    def of(cls, limits: list[RateLimitInfo]) -> RateLimits:
        return cls(rate_limits=[RateLimit.model_validate(limit) for limit in limits])


class JobGroupSize(BaseModel):
    model_config = _FROM
    name: str
    job_count: int


class JobGroups(BaseModel):
    groups: list[JobGroupSize]

    @classmethod
    def of(cls, groups: list[JobGroupSummary]) -> JobGroups:
        return cls(groups=[JobGroupSize.model_validate(group) for group in groups])


class JobGroup(BaseModel):
    model_config = _FROM
    name: str
    job_count: int
    jobs: list[LimitedJob] = Field(description="The first 100 by id, with their statuses now.")

    @classmethod
    def of(cls, group: JobGroupInfo) -> JobGroup:
        return cls.model_validate(group)
