"""On-call controls (issue 15): the REST keys of gateway/rest/models/control.py, in camelCase."""

from __future__ import annotations

import strawberry

from gateway import services


@strawberry.type
class WorkerSuspension:
    suspended: bool = strawberry.field(description="Whether `rq suspend` is in force.")
    until: str | None = strawberry.field(description="When it ends (ISO 8601 UTC); null: until resumed.")

    @classmethod
    def of(cls, suspension: services.WorkerSuspension) -> WorkerSuspension:
        return cls(suspended=suspension.suspended, until=suspension.until)


@strawberry.type
class WorkerCommandResult:
    success: bool
    worker_name: str
    command: str = strawberry.field(description="RQ's command: stop-job, shutdown, or shutdown+kill-horse.")
    job_id: strawberry.ID | None
    message: str

    @classmethod
    def of(cls, outcome: services.CommandOutcome) -> WorkerCommandResult:
        job_id = strawberry.ID(outcome.job_id) if outcome.job_id is not None else None
        return cls(
            success=outcome.success,
            worker_name=outcome.worker_name,
            command=outcome.command,
            job_id=job_id,
            message=outcome.message,
        )


@strawberry.type
class EnqueueNowResult:
    success: bool
    job_id: strawberry.ID
    queue: str
    enqueued_by: str = strawberry.field(
        description="gateway: pushed now; scheduler: a running RQ scheduler enqueues it on its next tick."
    )
    message: str

    @classmethod
    def of(cls, outcome: services.EnqueueNowOutcome) -> EnqueueNowResult:
        return cls(
            success=outcome.success,
            job_id=strawberry.ID(outcome.job_id),
            queue=outcome.queue,
            enqueued_by=outcome.enqueued_by,
            message=outcome.message,
        )


@strawberry.type
class ReplayResult:
    job_id: strawberry.ID = strawberry.field(description="The new job's id.")
    replay_of: strawberry.ID = strawberry.field(description="The replayed job's id.")
    queue: str

    @classmethod
    def of(cls, outcome: services.ReplayOutcome) -> ReplayResult:
        return cls(
            job_id=strawberry.ID(outcome.job_id),
            replay_of=strawberry.ID(outcome.replay_of),
            queue=outcome.queue,
        )
