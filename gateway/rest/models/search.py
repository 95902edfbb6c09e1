"""The answer of GET /api/v1/search."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from gateway.rest.models.jobs import Job, job_dict
from gateway.services import SearchPage


class SearchResult(BaseModel):
    jobs: list[Job] = Field(description="Matching jobs in scan order, with the fields of the failed list.")
    scanned: int = Field(
        description="Jobs of the queues searched this request examined (at most --search-scan-limit)."
    )
    complete: bool = Field(description="True when every job in scope was examined: there is nothing more.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` to go on where this request stopped; null when complete."
    )

    @classmethod
    def of(cls, page: SearchPage) -> dict[str, Any]:
        """The JSON body, built without a model per job (a page can hold 1000)."""
        return {
            "jobs": [job_dict(job) for job in page.jobs],
            "scanned": page.scanned,
            "complete": page.complete,
            "next_cursor": page.next_cursor,
        }
