"""The audit trail, newest first."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from gateway.services import AuditPage


class AuditEntry(BaseModel):
    cursor: str = Field(description="The stream entry id.")
    time: str
    request_id: str
    key: str = Field(description="Name of the API key, or `anonymous`.")
    action: str = Field(description="retry, delete, retry_all, clear, ...")
    queue: str | None
    job_count: int
    job_ids: list[str] = Field(description="The first 10 job ids.")
    outcome: str = Field(description="ok, refused or error.")
    error: str | None = Field(description="The error, e.g. Forbidden, FailedJobNotFound; null when ok.")
    worker: str | None = Field(default=None, description="The worker a worker command addressed.")
    operation_id: str | None = Field(
        default=None, description="The tracked operation a start, cancel or finish record is about."
    )
    selector_kind: str | None = Field(
        default=None,
        description="An operation's finish: its selector's kind (all, filter, group_id, job_ids, query).",
    )


class AuditLog(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "entries": [
                        {
                            "cursor": "1764320000000-0",
                            "time": "2026-11-28T09:53:20.000000Z",
                            "request_id": "4f1c2a9e0b7d4e51a3c6d8f0e2b4a6c8",
                            "key": "oncall",
                            "action": "retry_all",
                            "queue": "default",
                            "job_count": 2,
                            "job_ids": ["abc-123", "abc-124"],
                            "outcome": "ok",
                            "error": None,
                        }
                    ],
                    "total": 1,
                    "next_cursor": None,
                }
            ]
        }
    )

    entries: list[AuditEntry] = Field(description="Newest first.")
    total: int = Field(
        description="Entries kept in the capped stream; for a queue-limited key, those of its queues."
    )
    next_cursor: str | None = Field(description="Pass as `cursor` for older entries; null on the last page.")

    @classmethod
    def of(cls, page: AuditPage) -> AuditLog:
        return cls(
            entries=[AuditEntry(**entry.__dict__) for entry in page.entries],
            total=page.total,
            next_cursor=page.end_cursor if page.has_next_page else None,
        )
