"""What a read's result shows its caller (the guard in access.py calls `shown_to` on every read):
a queue-less read (a job by id, a search) is refused when it holds a job of a queue the key may
not access; a queue's read by a limited key shows the jobs of other queues it finds there (damaged
data: a job whose hash names another origin, or none, in this queue's registry) without their
data; and `--hide-payloads` hides every payload from viewers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gateway.errors import Forbidden
from gateway.services.domain.models import JobInfo, JobPage, SearchPage
from gateway.services.payloads import hide_payloads
from gateway.services.principal import Principal, RequestScope
from gateway.services.reads.streams import JobStream


def shown_to(scope: RequestScope, names_queue: bool, result: Any, queue: str | None = None) -> Any:
    """`result` as the caller of `scope` may see it; `names_queue`: the read was of one queue,
    which the guard has already checked: `queue` (None when it was a job's, by its id)."""
    if isinstance(result, JobStream):  # each chunk as it is read
        return result.map(lambda chunk: shown_to(scope, names_queue, chunk, queue))
    principal = scope.principal
    if not names_queue and principal.queues:
        for job in _jobs_in(result):
            if not _may_read(principal, _queue_of(job)):
                raise Forbidden.queue(principal.name, str(job.origin))
    if principal.queues:
        # A job of another queue, or of an unknown one, found in this queue: shown where it is,
        # as a job without an origin is, and without its data (README "Roles").
        result = hide_payloads(result, lambda job: not _may_read(principal, _queue_of(job)), queue)
    if scope.hides_payloads:
        result = hide_payloads(result)
    return result


def _may_read(principal: Principal, origin: str | None) -> bool:
    return origin is not None and principal.may_access_queue(origin)


def _queue_of(job: JobInfo) -> str | None:
    return job.origin if job.origin_known else None


def _jobs_in(result: Any) -> Iterable[JobInfo]:
    if isinstance(result, JobInfo):
        yield result
    elif isinstance(result, (JobPage, SearchPage)):
        yield from (job for job in result.jobs if job is not None)
    elif isinstance(result, (list, tuple)):
        for item in result:
            yield from _jobs_in(item)
