"""The one check of every operation addressed by job id (status, retry, delete, cancel, requeue)
and of the ids a selected-jobs action names, whichever transport made the call.

A job's queue is its origin (origins.read_places). A queue-limited key acts on or sees a job only
if that queue matches one of its patterns; a job whose queue is unknown is in no pattern. For a
limited key, a job outside its patterns is indistinguishable from one that does not exist: the
same error, so the same 404 and message (GraphQL: NOT_FOUND and null), and the same audit record.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from gateway.errors import FailedJobNotFound, JobInOtherQueue, JobNotFound, NotFound
from gateway.services.access import current_request_id, note_jobs_checked
from gateway.services.domain.models import JobInfo
from gateway.services.principal import Principal
from gateway.services.redis.origins import JobPlace

log = logging.getLogger("rq_gateway.access")


def authorise_job(
    principal: Principal | None,
    job_id: str,
    place: JobPlace | None,
    named: str | None,
    default: str,
    registry: bool = False,
) -> str:
    """The one check of every operation addressed by job id; returns the queue to act on.

    `place` is where the job is (origins.read_places), or None when the key is unrestricted and
    the operation needs no queue (a read); `named` is the queue the call names, if any.
    `registry`: the operation acts on a failed registry (retry, delete), so a missing job is
    FailedJobNotFound there, JobNotFound elsewhere: what the operation itself would answer.
    - The job's queue is its origin. A queue-limited key may act on or see the job only if that
      queue matches a pattern: otherwise the not-found error, exactly what a missing job answers.
    - `named` must be the job's queue: otherwise JobInOtherQueue, which names the job's queue;
      a key that may not see that queue gets the plain not-found instead.
    - A job whose queue is unknown (no, an empty or an unreadable origin) is in no pattern:
      only unrestricted keys may act on it, in `named` or else the `default` queue.
    - An id with no job at all is not found, except by an operation on a failed `registry`,
      which may hold an entry without job data (an orphan): it looks in `named` or `default`,
      and a limited key may look there only if its patterns allow.
    So authorisation never falls back to the default queue: only the search for a missing job
    or the target of an unrestricted key's call does.
    """
    not_found: type[NotFound] = FailedJobNotFound if registry else JobNotFound
    # The principal when its key is limited to some queues, else None.
    restricted = principal if principal is not None and principal.queues else None
    if place is None:
        assert restricted is None, "a queue-limited key is always checked on where the job is"
        target = named if named is not None else default
    elif place.queue is not None:
        if restricted is not None and not restricted.may_access_queue(place.queue):
            raise _hidden(restricted, place, not_found)
        if named is not None and named != place.queue:
            # The audit record names the queue the job was found in, as for a call that acts on
            # it: a reader of the named queue's records must not learn that it exists elsewhere.
            note_jobs_checked(job_id, place.queue)
            raise JobInOtherQueue(job_id, named, place.queue)
        target = place.queue
    elif place.exists:
        if restricted is not None:
            raise _hidden(restricted, place, not_found)
        target = named if named is not None else default
    elif registry:
        target = named if named is not None else default
        if restricted is not None and not restricted.may_access_queue(target):
            raise not_found(job_id)
    else:
        raise not_found(job_id)
    note_jobs_checked(job_id, target)
    return target


def hidden_jobs(principal: Principal | None, places: list[JobPlace]) -> set[str]:
    """Of the ids an operation names together (in a queue the guard let the key access), those
    of jobs the key may not see: the operation answers for them as for ids that are not there."""
    note_jobs_checked()
    return unseen_jobs(principal, places)


def unseen_jobs(principal: Principal | None, places: list[JobPlace]) -> set[str]:
    """Of named ids (`places`: where each job is), those of jobs the key may not see: they exist,
    in a queue outside its patterns or in none it can name. An id of no job names nothing of any
    queue, so it is not among them (a deleted job's id stays in the record of its deletion)."""
    if principal is None or not principal.queues:
        return set()
    return {place.job_id for place in places if place.exists and not principal.may_see_job(place)}


def visible_links(principal: Principal | None, job: JobInfo, places: list[JobPlace]) -> JobInfo:
    """`job` with only the dependencies and dependents the key may see (`places`: where each of
    origins.linked_ids is). For a limited key a linked job of another queue, or of none (a
    dependency since deleted, which RQ's hash still names), is left out, as a missing job would
    be: so a job's links name no job id of another queue."""
    if principal is None or not principal.queues or (not job.dependency_ids and not job.dependent_ids):
        return job
    seen = {place.job_id for place in places if principal.may_see_job(place)}

    def kept(ids: list[str] | None) -> list[str] | None:
        return None if ids is None else [job_id for job_id in ids if job_id in seen]

    return replace(job, dependency_ids=kept(job.dependency_ids), dependent_ids=kept(job.dependent_ids))


def _hidden(principal: Principal, place: JobPlace, not_found: type[NotFound]) -> NotFound:
    # The client and the audit trail see a missing job; the operator's log says what happened.
    log.warning(
        "API key %r addressed job %s in %s, outside its queue patterns; answered as not found (request %s)",
        principal.name,
        place.job_id,
        repr(place.queue) if place.queue is not None else "an unknown queue",
        current_request_id(),
    )
    return not_found(place.job_id)
