"""The failed-job filter as query parameters, shared by the list, retry-all and clear routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from gateway.services import FailedJobFilter

_DATE = (
    "ISO 8601 date or time, with or without Z or an offset; without one it is UTC. "
    "Compared with the job's failure time (ended_at): failed_after <= ended_at < failed_before."
)


async def failed_job_filter(
    func_name: Annotated[
        str | None,
        Query(description="Exact function name.", examples=["app.jobs.send_invoice"]),
    ] = None,
    exc_type: Annotated[
        str | None,
        Query(
            description="Exact class of the raised exception (the outermost of a chain).",
            examples=["ValueError"],
        ),
    ] = None,
    search: Annotated[
        str | None, Query(description="Case-sensitive substring of the traceback.", examples=["timed out"])
    ] = None,
    failed_after: Annotated[str | None, Query(description=_DATE, examples=["2024-01-31T22:00:00Z"])] = None,
    failed_before: Annotated[str | None, Query(description=_DATE, examples=["2024-02-01T06:00:00Z"])] = None,
) -> FailedJobFilter:
    # async: parsing is quick; bad values raise InvalidParameter, answered as a 422.
    return FailedJobFilter.parse(func_name, exc_type, search, failed_after, failed_before)


FilterParams = Annotated[FailedJobFilter, Depends(failed_job_filter)]
DryRunParam = Annotated[
    bool,
    Query(description="Answer with the ids that would be acted on, and change nothing.", examples=[True]),
]
