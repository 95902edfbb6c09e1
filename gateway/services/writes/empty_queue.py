"""Emptying a queue, as `rq empty QUEUE` does (RQ's Queue.empty): every job waiting in the queue
is deleted with its keys. RQ does it in one Lua call, which holds Redis for as long as the queue
is long; here each call takes at most BULK_CHUNK ids, so workers and other clients are served
between chunks. It goes on until the list is empty, so jobs enqueued while it runs may go too,
as with `rq empty`; but it stops once it has deleted as many jobs as the queue held when it
began, which RQ's single call never needs to."""

from __future__ import annotations

from collections.abc import Callable

from redis import Redis

from gateway.services.domain.models import EmptyOutcome
from gateway.services.redis import keys, scripts
from gateway.services.writes.failed_actions import BULK_CHUNK


def empty_args(chunk: int) -> list[str | int]:
    """ARGV of scripts.EMPTY: the chunk size, the groups' keys, then the keys of each job."""
    args: list[str | int] = [chunk, keys.GROUP_PREFIX, keys.GROUPS_SET]
    for prefix, suffix in keys.JOB_KEY_PARTS:
        args.extend((prefix, suffix))
    return args


def empty_queue(
    connection: Redis,
    queue_name: str,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> EmptyOutcome:
    """Delete every job waiting in the queue; a dry run counts them and writes nothing.
    `progress(deleted)` is told the jobs deleted so far after each chunk, so that a chunk failing
    later still leaves the earlier ones counted (in the audit record); a dry run tells it the
    jobs it would delete."""
    queue_key = keys.queue_key(queue_name)
    if dry_run:
        waiting = int(connection.llen(queue_key))
        if progress is not None:
            progress(waiting)
        return EmptyOutcome(queue_name, waiting, dry_run=True)
    script = connection.register_script(scripts.EMPTY)
    args = empty_args(BULK_CHUNK)
    deleted = 0
    most: int | None = None  # the queue's length when the empty began
    while True:
        taken, left = (int(count) for count in script(keys=[queue_key], args=args))
        if most is None:
            most = taken + left
        deleted += taken
        if progress is not None:
            progress(deleted)
        # Empty now; or as many deleted as the queue held at first, so that producers enqueuing
        # faster than it deletes cannot keep the request going for ever.
        if left == 0 or deleted >= most:
            return EmptyOutcome(queue_name, deleted, dry_run=False)
