"""RQ workers."""

from __future__ import annotations

import strawberry

from gateway import services

# A worker's counters cover every queue it listens to (README "Roles").
COUNTER = (
    "{}, whichever of its queues they were of; null for a queue-limited API key when the worker also "
    "listens to a queue outside the key's patterns"
)


@strawberry.type
class Worker:
    name: str
    state: str = strawberry.field(description="RQ's worker state: started, idle, busy, suspended (or '?').")
    queues: list[str]
    current_job_id: strawberry.ID | None
    successful_job_count: int | None = strawberry.field(description=COUNTER.format("Jobs it finished"))
    failed_job_count: int | None = strawberry.field(description=COUNTER.format("Jobs it failed"))
    total_working_time: float | None = strawberry.field(
        description=COUNTER.format("Seconds spent running jobs")
    )
    last_heartbeat: str | None
    birth_date: str | None
    hostname: str | None
    pid: int | None
    suspended: bool = strawberry.field(
        description="Whether `rq suspend` is in force: the flag holds for every worker of the server."
    )
    suspended_until: str | None = strawberry.field(
        description="When the suspension ends; null when not suspended or suspended until resumed."
    )

    @classmethod
    def of(cls, worker: services.WorkerInfo) -> Worker:
        fields = dict(worker.__dict__)
        if worker.current_job_id is not None:
            fields["current_job_id"] = strawberry.ID(worker.current_job_id)
        return cls(**fields)
