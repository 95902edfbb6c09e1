"""The contract's retry-all and clear over a whole failed registry (no filter), with Redis kept
busy: run_bulk's walk, but the calls are queued (redis/queued.py). The next chunk is read on one
connection while the chunk before is acted on, on another, and each action is sent before the
reply of the one before it is read. Redis runs the same scripts on the same chunks in the same
order as run_bulk's walk; it only stops waiting for the gateway between them.

Reading ahead is safe: a chunk's read takes the entries strictly after the last entry of the
chunk before, which the action on that chunk only removes. A job acted on and failing again
meanwhile re-enters the registry after the cursor, and is met again but not acted on twice: every
member read is kept in `seen`, as once_each does for run_bulk."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from redis import Redis

from gateway.services.domain.models import BulkOutcome
from gateway.services.domain.outcome import Outcome
from gateway.services.domain.tally import Tally
from gateway.services.redis import scripts
from gateway.services.redis.queued import QueuedCalls
from gateway.services.redis.registry import Entry, RegistryReader, entries_of, now_timestamp, unseen, up_to
from gateway.services.writes import failed_actions
from gateway.services.writes.failed_actions import FailedJobActions, Member

# Actions queued at once: Redis runs one while the gateway sends the next (another client's
# command waits at most for both, each a chunk of BULK_CHUNK jobs: a few milliseconds).
QUEUED_ACTIONS = 2


def act_on_all(
    connection: Redis,
    actions: FailedJobActions,
    retry: bool,
    errors_for: dict[int, str],
    done_code: Outcome,
) -> BulkOutcome:
    """run_bulk(actions, actions.requeue or actions.delete, ...) with the calls queued."""
    chunk = failed_actions.BULK_CHUNK
    key = actions.registry_key
    total, last = RegistryReader(connection).last(key)
    tally = Tally(done_code, errors_for)
    if last is None:
        return BulkOutcome(total, tally.done, tally.errors)
    script, args_of, outcomes_of = _action(actions, retry)
    reads = QueuedCalls(connection, scripts.LIVE_AFTER)
    acts = QueuedCalls(connection, script)
    acting: deque[list[Entry]] = deque()  # chunks whose action is queued, oldest first
    seen: set[Member] = set()
    try:
        reads.send([key], [now_timestamp(), chunk])
        reading = True
        while reading or acting:
            if reading:
                _, (_, flat) = reads.read()
                entries = entries_of(flat, key)
                in_bound = up_to(entries, last.position)
                # Fewer than asked: the registry's end; one beyond the bound: the walk's end.
                reading = len(in_bound) == len(entries) == chunk
                if reading:
                    reads.send([key], [now_timestamp(), chunk, in_bound[-1].score, in_bound[-1].raw])
                fresh = unseen(in_bound, seen)
                if fresh:
                    acts.send(actions.keys, args_of([e.member for e in fresh]))
                    acting.append(fresh)
            while acting and (len(acting) >= QUEUED_ACTIONS or not reading):
                done = acting.popleft()
                _, codes = acts.read()
                members = [e.member for e in done]
                tally.add([e.job_id for e in done], outcomes_of(members, codes))
    finally:
        reads.close()
        acts.close()
    return BulkOutcome(total, tally.done, tally.errors)


def _action(
    actions: FailedJobActions, retry: bool
) -> tuple[
    str, Callable[[Sequence[Member]], list[Any]], Callable[[Sequence[Member], list[int]], list[Outcome]]
]:
    if retry:
        return actions.requeue_script, actions.requeue_args, actions.requeued
    return actions.delete_script, actions.delete_args, actions.deleted
