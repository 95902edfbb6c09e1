"""RQ workers."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from gateway.services import WorkerInfo

# A worker's counters cover every queue it listens to (README "Roles").
_COUNTER = (
    "{}, whichever of its queues they were of; null for a queue-limited API key when the worker also "
    "listens to a queue outside the key's patterns"
)


class Worker(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "3f1c9a2e7b5d4c60a1e2f3b4c5d6e7f8",
                    "state": "busy",
                    "queues": ["default", "reports"],
                    "current_job_id": "abc-123",
                    "successful_job_count": 120,
                    "failed_job_count": 3,
                    "total_working_time": 96.5,
                    "last_heartbeat": "2024-01-01T12:00:00.000000Z",
                    "birth_date": "2024-01-01T08:00:00.000000Z",
                    "hostname": "worker-1",
                    "pid": 4242,
                    "suspended": False,
                    "suspended_until": None,
                }
            ]
        }
    )

    name: str
    state: str = Field(description="RQ's worker state: started, idle, busy, suspended (or '?').")
    queues: list[str]
    current_job_id: str | None
    successful_job_count: int | None = Field(description=_COUNTER.format("Jobs it finished"))
    failed_job_count: int | None = Field(description=_COUNTER.format("Jobs it failed"))
    total_working_time: float | None = Field(description=_COUNTER.format("Seconds spent running jobs"))
    last_heartbeat: str | None = Field(description="ISO 8601, UTC, ending in Z.")
    birth_date: str | None = Field(description="ISO 8601, UTC, ending in Z.")
    hostname: str | None
    pid: int | None
    suspended: bool = Field(
        description="Whether `rq suspend` is in force: the flag holds for every worker of the server."
    )
    suspended_until: str | None = Field(
        description="When the suspension ends (ISO 8601, UTC, ending in Z); null when not suspended "
        "or suspended until resumed."
    )

    @classmethod
    def of(cls, worker: WorkerInfo) -> Worker:
        return cls(**worker.__dict__)
