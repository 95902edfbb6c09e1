"""On-call controls (issue 15): worker commands, suspension, enqueue-now and replay."""

from __future__ import annotations

from pydantic import BaseModel, Field

from gateway.services import CommandOutcome, EnqueueNowOutcome, ReplayOutcome, WorkerSuspension


class Suspension(BaseModel):
    suspended: bool = Field(description="Whether `rq suspend` is in force: no worker starts a new job.")
    until: str | None = Field(
        description="When the suspension ends (ISO 8601, UTC, ending in Z); null: until resumed."
    )

    @classmethod
    def of(cls, suspension: WorkerSuspension) -> Suspension:
        return cls(suspended=suspension.suspended, until=suspension.until)


class WorkerCommand(BaseModel):
    success: bool
    worker_name: str = Field(description="The worker that received the command.")
    command: str = Field(description="RQ's command: stop-job, shutdown, or shutdown+kill-horse.")
    job_id: str | None = None
    message: str

    @classmethod
    def of(cls, outcome: CommandOutcome) -> WorkerCommand:
        return cls(**outcome.__dict__)


class EnqueueNow(BaseModel):
    success: bool
    job_id: str
    queue: str
    enqueued_by: str = Field(
        description="`gateway`: pushed onto the queue now. `scheduler`: a running RQ scheduler holds "
        "the queue, so it was made due and the scheduler enqueues it on its next tick (about a second)."
    )
    message: str

    @classmethod
    def of(cls, outcome: EnqueueNowOutcome) -> EnqueueNow:
        return cls(**outcome.__dict__)


class Replay(BaseModel):
    job_id: str = Field(description="The new job's id.")
    replay_of: str = Field(description="The replayed job's id.")
    queue: str = Field(description="The queue the new job was enqueued on.")

    @classmethod
    def of(cls, outcome: ReplayOutcome) -> Replay:
        return cls(job_id=outcome.job_id, replay_of=outcome.replay_of, queue=outcome.queue)
