"""Failure groups: a queue's failed jobs grouped by cause, and retry or delete of one group.

A job's cause is (function, exception type, cause line: see causes.py), read as cheaply as
possible: the few hash fields needed plus the newest results-stream entry's traceback, read by
one read-only Lua call per chunk of the registry. Memory is one chunk plus the group table.

group_id = the first 16 hex digits of SHA-256 over "v1", kind, func_name, exc_type and message
(missing parts as ""), joined by U+001F. It depends only on the cause, so the same group has the
same id across calls, processes and restarts (Python's own hash() is salted per process).
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from typing import Any

from redis import Redis

from gateway.errors import FailureGroupNotFound, InvalidParameter
from gateway.services.domain.causes import cause_message
from gateway.services.domain.models import FailureGroup, FailureGroups, GroupOutcome
from gateway.services.domain.outcome import RETRY_ERRORS, Outcome
from gateway.services.domain.tally import Tally
from gateway.services.domain.tracebacks import read_raised
from gateway.services.reads.read_ahead import read_ahead
from gateway.services.redis import keys
from gateway.services.redis.failure_facts import FailureFacts, decode_facts, read_cause_fields, read_facts
from gateway.services.redis.registry import Entry, RegistryReader, walk_registry
from gateway.services.writes.failed_actions import FailedJobActions

GROUP_ID_PATTERN = re.compile(r"[0-9a-f]{16}")

FAILURE, ORPHAN_KIND, UNREADABLE_KIND = "failure", "orphan", "unreadable"
ORPHAN_MESSAGE = "Job data is gone (expired or deleted)"

# Registry entries per read script call: bounds one Redis reply and the memory of one step.
READ_CHUNK = 1000

Cause = tuple[str, str | None, str | None, str | None]  # (kind, func_name, exc_type, message)


@functools.lru_cache(maxsize=4096)  # a group action hashes per distinct cause, not per job
def group_id_of(cause: Cause) -> str:
    text = "\x1f".join(("v1", *(part or "" for part in cause)))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def validate_group_id(group_id: str) -> str:
    if not GROUP_ID_PATTERN.fullmatch(group_id):
        shown = group_id if len(group_id) <= 64 else group_id[:64] + "..."
        raise InvalidParameter(
            f"Invalid group id {shown!r}: group ids are 16 lowercase hex digits, "
            "as GET /api/v1/jobs/failed/groups gives them"
        )
    return group_id


@dataclass(frozen=True)
class _Member:
    entry: Entry
    cause: Cause
    failed_at: str | None

    @property
    def job_id(self) -> str:
        return self.entry.job_id


def _members(
    connection: Redis, entries: list[Entry], serializer: Any, only_origin: str = ""
) -> list[_Member]:
    """The cause of each entry's job, in one read-only script call (`only_origin`: _members_of)."""
    return _members_of(entries, read_facts(connection, [e.member for e in entries], serializer), only_origin)


def _members_of(entries: list[Entry], facts: list[FailureFacts], only_origin: str = "") -> list[_Member]:
    """The entries' jobs with their causes. `only_origin` (a queue-limited key's queue): only
    the jobs whose origin is that queue, in its groups' listing and its group actions alike; a
    job of another queue, an orphan or a job of no known queue is in none of its groups."""
    members = []
    for entry, fact in zip(entries, facts, strict=True):
        if only_origin and not fact.of_queue(only_origin):
            continue
        if fact.orphan:  # as the failed list shows it
            members.append(_Member(entry, (ORPHAN_KIND, None, None, ORPHAN_MESSAGE), None))
            continue
        kind = FAILURE if fact.func_name is not None else UNREADABLE_KIND
        raised = read_raised(fact.traceback)
        cause = (kind, fact.func_name, raised.type if raised else None, cause_message(raised))
        members.append(_Member(entry, cause, fact.ended_at))
    return members


def failure_groups(
    connection: Redis, queue_name: str, serializer: Any, own_jobs_only: bool = False
) -> FailureGroups:
    """Every failed job of the queue in exactly one group; sorted by count (largest first),
    then group_id. Times are the jobs' ended_at; orphans have none. `own_jobs_only` (a
    queue-limited key): only the jobs whose origin is the queue, the ones its group actions take;
    another queue's job, an orphan or a job of no known queue is in no group, nor in the total."""
    table: dict[Cause, list[Any]] = {}  # cause -> [count, first, last, sample id]
    total = 0
    registry = keys.registry_key("failed", queue_name)
    # Redis reads the next chunk's fields while this one is decoded (the larger share).
    reads = (
        (seen_at_start, entries, read_cause_fields(connection, [e.member for e in entries]))
        for seen_at_start, entries in walk_registry(RegistryReader(connection), registry, READ_CHUNK)
    )
    own = 0
    only_origin = queue_name if own_jobs_only else ""
    for seen_at_start, entries, fields in read_ahead(reads, "failure-groups"):
        total = seen_at_start
        members = _members_of(entries, decode_facts(fields, serializer), only_origin)
        own += len(members)
        for member in members:
            row = table.get(member.cause)
            at = member.failed_at
            if row is None:
                table[member.cause] = [1, at, at, member.job_id]
                continue
            row[0] += 1
            if at is not None:
                if row[1] is None or at < row[1]:
                    row[1] = at
                if row[2] is None or at >= row[2]:  # the sample is the latest failure
                    row[2], row[3] = at, member.job_id
    groups = [
        FailureGroup(
            group_id=group_id_of(cause),
            kind=cause[0],
            func_name=cause[1],
            exc_type=cause[2],
            message=cause[3],
            count=count,
            first_failed_at=first,
            last_failed_at=last,
            sample_job_id=sample,
        )
        for cause, (count, first, last, sample) in table.items()
    ]
    groups.sort(key=lambda g: (-g.count, g.group_id))
    return FailureGroups(groups=groups, total_failed=own if own_jobs_only else total)


def act_on_group(
    actions: FailedJobActions,
    connection: Redis,
    serializer: Any,
    queue_name: str,
    group_id: str,
    retry: bool,
    dry_run: bool,
) -> GroupOutcome:
    """Retry (or delete) every current member of the group. Membership is read chunk by chunk
    just before acting; each job's claim and action is one Lua call, so concurrent callers act on
    each job once. A dry run reads the same members and changes nothing. `total_failed` is what
    the caller's failure_groups counts: for a queue-limited caller (`actions.only_origin`), the
    queue's own jobs the walk met, not the registry's size, which would tell it how many entries
    of other queues' jobs the registry holds."""
    total, own, matched = 0, 0, 0
    # Any code but done or a retry error: another caller took the job first; in neither list.
    tally = Tally(Outcome.DONE, RETRY_ERRORS if retry else {})
    for seen_at_start, entries in actions.chunks():
        total = seen_at_start
        members = _members(connection, entries, serializer, actions.only_origin)
        own += len(members)
        members = [m for m in members if group_id_of(m.cause) == group_id]
        if not members:
            continue
        matched += len(members)
        # `actions` is a dry-run FailedJobActions for a dry run: the same scripts, no writes.
        raw = [m.entry.member for m in members]
        tally.add([m.job_id for m in members], actions.requeue(raw) if retry else actions.delete(raw))
    if not matched:
        raise FailureGroupNotFound(group_id, queue_name)
    counted = own if actions.only_origin else total
    return GroupOutcome(
        counted, tally.done, tally.errors, group_id=group_id, dry_run=dry_run, matched_count=matched
    )


def in_group(connection: Redis, entries: list[Entry], serializer: Any, group_id: str) -> list[Entry]:
    """The entries whose job is in the failure group now (a tracked operation's group selector)."""
    return [m.entry for m in _members(connection, entries, serializer) if group_id_of(m.cause) == group_id]
