"""One tick of the history: take or renew the lease, and if this process is the writer, count
the failed and finished jobs it has not looked at yet, sample every queue, and move the
watermark. Every Redis call is bounded, whatever the sizes of the registries and their mirrors:
the registries are walked in slices (walk.py) and written in batches (batch.py), so no command
or script holds Redis for more than a few milliseconds and RQ's workers never stall behind it.

Round trips in steady state with small registries: (1) the clock, the lease, the watermark and
the queue names; (2) the lengths, head jobs and the walks' slices (four walks per queue, up to
100 a round trip, so one more round per 25 queues or so); (3) the job fields of the heads and
of the new entries; (4) one commit. Larger registries take one more round of (2) and (3) per
walk.BUDGET entries walked, and one commit per batch of new or gone ids.

Measured Redis time per tick (`python -m bench.history_tick`: redis-server 7.0 on the shared
2-core machine, INFO commandstats; the slowest single script is the machine's scheduling noise
at worst, ~1 ms when calm):

| failed jobs | first tick | steady tick | after N/10 new failures | after N/10 retried away |
|---|---|---|---|---|
| 100,000 | 0.39 s (3.6 s wall) | 0.16 s (0.23 s wall) | 0.23 s | 0.27 s |
| 1,000,000 | 6.0 s (73 s wall) | 2.2 s (3.1 s wall) | 4.0 s | 3.3 s |

Linear: every entry is looked up once against its mirror and once back, every tick, in some 400
scripts per 100,000 entries. The first tick's wall time is reading every job's times once.

No job is counted twice. The counts of a batch of jobs and their ids in the mirrors land in the
same script (lua/commit.lua), so a job is counted exactly when it enters its mirror, and a walk
only finds jobs outside it. Each commit checks that the lease is still this process's and that
the watermark is the one its previous commit left (every commit writes a new nonce into it), so
the commits of a tick form a chain nobody else's commit can enter: a writer that lost its lease,
or a second one racing it, writes nothing more. A writer that dies mid-tick leaves a consistent
state; the next one walks again and finds the rest.

The watermark, and the window of time one tick counts from it: window.py.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

from redis import Redis

from gateway.services.history import scripts
from gateway.services.history.batch import BATCH_IDS, Batch
from gateway.services.history.layout import LEASE_KEY, WATERMARK_KEY, minute_of, parse_rq_time
from gateway.services.history.lease import Lease
from gateway.services.history.sample import queue_commands, queue_samples, read_job_fields
from gateway.services.history.walk import BUDGET, Walk, walk_round, walks_for
from gateway.services.history.window import Chain, Window, covered, window_of
from gateway.services.redis import damaged, keys

log = logging.getLogger(__name__)


class HistoryWriter:
    """Call `tick()` in every gateway process, then wait (runner.pause_after). `clock` replaces
    Redis's TIME (tests drive time by hand); `budget` the entries walked per round trip."""

    def __init__(
        self,
        connection: Redis,
        retention: int,
        lease_seconds: float,
        interval: float,
        clock: Callable[[], float] | None = None,
        budget: int = BUDGET,
        batch_ids: int = BATCH_IDS,
    ):
        self.connection = connection
        self.retention = retention
        # How its log lines start: "history", or with several instances "history (instance 'b')".
        self.label = "history"
        self.lease = Lease(connection, lease_seconds)
        self.tick_period = min(interval, lease_seconds / 3)
        self.catch_up = 2 * lease_seconds + 120
        self.clock = clock
        self.budget = budget
        self.batch_ids = batch_ids
        self._commit = connection.register_script(scripts.COMMIT)
        self._unseen = connection.register_script(scripts.UNSEEN)
        self.is_writer = False
        # Set from the event loop when the app stops: a tick over a large registry (a minute
        # at 1,000,000 entries on its first tick) ends at its next round instead of finishing.
        self.interrupted = threading.Event()

    def tick(self) -> bool:
        """One tick; True when this process wrote the history."""
        wrote = False
        for args in self.steps():
            if not self.commit(args):
                return False
            wrote = True
        return wrote

    def steps(self) -> Iterator[list[Any]]:
        """The tick's commits, in order: each is computed when asked for, after the previous one
        was committed (the caller stops at the first that fails). Nothing when this process is
        not the writer. A generator so a test can interleave several writers' steps."""
        begun = self._begin()
        if begun is None:
            return
        window, names, mark = begun
        chain = Chain(mark, window, self.lease, self.retention, self.batch_ids)
        walks = walks_for(names)
        before: list[Any] | None = queue_commands(names)
        pending = Batch()
        samples = Batch()
        while not all(walk.done for walk in walks):
            if self.interrupted.is_set():
                return  # what was committed is consistent; the next writer walks the rest
            replies, found = walk_round(self.connection, self._unseen, walks, self.budget, before)
            heads: list[tuple[str, bytes]] = []
            if before is not None:
                samples, heads = queue_samples(names, replies, window.now)
                before = None
            new = _not_pending(
                [(walk, job_id) for walk, ids in found if not walk.gone for job_id in ids], pending
            )
            enqueued, times = read_job_fields(self.connection, [h for _, h in heads], [i for _, i in new])
            for (name, _), at in zip(heads, enqueued, strict=True):
                enqueued_at = parse_rq_time(at)
                if enqueued_at is not None:
                    samples.minutes[minute_of(window.now), name].latency = round(
                        max(0.0, window.now - enqueued_at), 3
                    )
            for begin in range(0, len(new), self.batch_ids):
                end = begin + self.batch_ids
                part = self._counted(new[begin:end], times[begin:end], window)
                pending = yield from chain.add(pending, part)
            for walk, ids in found:
                for begin in range(0, len(ids) if walk.gone else 0, self.batch_ids):
                    part = Batch()
                    part.forget(walk.mirror, walk.registry_key, ids[begin : begin + self.batch_ids])
                    pending = yield from chain.add(pending, part)
        for walk in walks:
            if not walk.gone:
                samples.renew(walk.mirror, walk.registry_key)
        for part in samples.pieces(self.batch_ids) + covered(names, window).pieces(self.batch_ids):
            pending = yield from chain.add(pending, part)
        yield chain.args(pending, final=True)

    def keep_lease(self) -> None:
        """Renew the lease between ticks (a long pause): a writer whose renewal fails is no longer
        the writer; another process holding it is left alone."""
        if self.is_writer:
            self._note_role(self.lease.hold())

    def commit(self, args: list[Any]) -> bool:
        """Write one batch, if the lease and the watermark are still the ones this tick left."""
        outcome = self._commit(keys=[LEASE_KEY, WATERMARK_KEY], args=args)
        if outcome != 1:
            log.info(
                "%s: tick not written (%s)", self.label, "lease lost" if outcome == 0 else "watermark moved"
            )
        return outcome == 1

    def _begin(self) -> tuple[Window, list[str], bytes] | None:
        """Round trip 1: the window, the queue names and the watermark, or None when this process
        is not the writer."""
        with self.connection.pipeline(transaction=False) as pipe:
            pipe.time()
            self.lease.hold_command(pipe)
            pipe.get(WATERMARK_KEY)
            pipe.smembers(keys.QUEUES_SET)
            clock, held, mark, members = damaged.execute(pipe)
        self._note_role(held == 1)
        if not self.is_writer:
            return None
        now = self.clock() if self.clock else clock[0] + clock[1] / 1_000_000
        prefix = keys.QUEUE_PREFIX
        texts = (damaged.internal(member) for member in members or ())
        names = sorted(text[len(prefix) :] for text in texts if text.startswith(prefix))
        return window_of(now, mark, self.catch_up), names, mark or b""

    def _counted(self, new: list[tuple[Walk, bytes]], times: list[Any], window: Window) -> Batch:
        """The batch that counts these new entries and adds them to their mirrors. One that ended
        at or after the window's end is left for a later tick; one that ended before the origin
        (or unreadable) is marked seen, not counted."""
        part = Batch()
        count_from = window.count_from(self.catch_up)
        for (walk, job_id), (ended_text, started_text) in zip(new, times, strict=True):
            ended = parse_rq_time(ended_text)
            if ended is not None and ended >= window.end:
                continue  # not settled: the next tick looks again
            part.add(walk.mirror, walk.registry_key, job_id)
            if ended is None or ended < count_from:
                continue
            minute = part.minutes[minute_of(ended), walk.queue]
            minute.count(walk.registry)
            started = parse_rq_time(started_text)
            if started is not None:
                minute.time(max(0.0, ended - started))
        return part

    def _note_role(self, held: bool) -> None:
        if held != self.is_writer:
            log.info("%s: this process %s the writer", self.label, "is now" if held else "is no longer")
        self.is_writer = held

    def release(self) -> None:
        """Give up the lease (on shutdown) so another process takes over on its next tick."""
        if self.is_writer:
            self.lease.release()
            self.is_writer = False


def _not_pending(new: list[tuple[Any, bytes]], pending: Batch) -> list[tuple[Any, bytes]]:
    """`new` without the ids already counted in `pending`. The walk goes by rank, so an entry RQ
    adds before the walk's position between two rounds makes the next slice read some entries
    again; those found new in the last round and not committed yet are not in the mirror, so
    Redis reports them new once more. (Committed ones are in the mirror; `pending` is at most one
    batch, so this costs a set of a few hundred ids.)"""
    waiting = {
        (mirror, job_id) for (kind, mirror, _), ids in pending.ids.items() if kind == "add" for job_id in ids
    }
    return [(walk, job_id) for walk, job_id in new if (walk.mirror, job_id) not in waiting]
