"""Runs operations in background threads, and takes over those whose runner died.

Each running operation has one runner at a time: the holder of its lease (store.py). The runner
renews the lease with every chunk, inside the chunk's own Lua call, and that call acts only
while the lease is still its own, so a runner that stalled past its lease and woke up again
cannot act beside the one that took over. Every gateway process polls the running set
(`resume_forever`) and claims any operation whose lease lapsed: a killed process's operation is
resumed by another within LEASE_MS + RESUME_POLL_SECONDS, exactly where its last chunk ended.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from typing import Any

import redis
from redis import Redis

from gateway.services.acted import count_acted
from gateway.services.audit import AuditRecord, AuditTrail
from gateway.services.domain.outcome import Outcome
from gateway.services.operations import store as stored
from gateway.services.operations.chunks import steps_for
from gateway.services.operations.pacing import MOST_CHUNK, ChunkSizer, Pace
from gateway.services.operations.readback import stored_request
from gateway.services.operations.steps import Rewound
from gateway.services.operations.store import RESUME_POLL_SECONDS, OperationStore
from gateway.services.writes.failed_actions import FailedJobActions

log = logging.getLogger(__name__)

REWINDS_PER_RUN = 5


def fails_again(error: redis.RedisError) -> bool:
    """Whether a chunk's script failed on itself or on the data: a Lua error (ERR user_script:...)
    or a command on a key of another type (WRONGTYPE), which the same chunk would raise again, so
    a resumed operation would fail the same way every lease. Every other error passes (memory,
    a failover, a busy or lost server: subclasses, or replies from outside a script), and the
    operation is resumed once Redis answers again."""
    text = str(error)  # redis-py strips a leading "ERR "
    if type(error) is not redis.ResponseError:
        return False
    if "@user_script:" not in text:
        return text.startswith("WRONGTYPE ")  # a plain command on a key of another type
    return text.startswith(("user_script:", "ERR ", "WRONGTYPE "))


class OperationRunner:
    def __init__(
        self,
        connection: Redis,
        serializer: Any,
        health: Any,
        audit: AuditTrail | None = None,
        max_rate: float = 0.0,
    ) -> None:
        self._connection = connection
        self._serializer = serializer
        self._health = health
        self._audit = audit
        self.max_rate = max_rate
        self.store = OperationStore(connection)
        self._threads: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._resumer: threading.Thread | None = None

    @staticmethod
    def new_token() -> str:
        return uuid.uuid4().hex

    def run_in_background(self, operation_id: str, token: str) -> None:
        with self._lock:
            running = self._threads.get(operation_id)
            if running is not None and running.is_alive():
                return
            thread = threading.Thread(
                target=self.run, args=(operation_id, token), name=f"operation-{operation_id}", daemon=True
            )
            self._threads[operation_id] = thread
        thread.start()

    def run(self, operation_id: str, token: str) -> None:
        """Drive one operation to its end while this token holds its lease."""
        try:
            ended = self._drive_recorded(operation_id, token)
        except redis.RedisError as error:
            if not fails_again(error):
                # Nothing can be recorded without Redis: the lease lapses and any process resumes.
                log.warning("Operation %s paused: Redis failed (%s)", operation_id, type(error).__name__)
                return
            log.error("Operation %s failed: a chunk's script failed in Redis (%s)", operation_id, error)
            status = "failed"
        except Exception:
            log.exception("Operation %s failed", operation_id)
            status = "failed"
        else:
            if ended:
                self._audit_end(operation_id, "succeeded")
            else:
                self._audit_if_canceled(operation_id)
            return
        if self.store.finish(operation_id, token, status):
            self._audit_end(operation_id, status)

    def _drive_recorded(self, operation_id: str, token: str) -> bool:
        """_drive, and the operation ended 'succeeded' where its walk's end is recorded (True
        when this call ended it); again from the recorded position when Redis rewound the walk
        under it (steps.Rewound), its last chunks or its end lost; a few times at most in one
        run, else the lease lapses and a resumer takes the operation over."""
        for _ in range(REWINDS_PER_RUN):
            try:
                walked = self._drive(operation_id, token)
                return walked is not None and self.store.finish(operation_id, token, "succeeded", walked)
            except Rewound:
                log.warning(
                    "Operation %s: Redis lost its last chunks (a restore or a failover); "
                    "walking again from the position it recorded",
                    operation_id,
                )
        return False

    def _drive(self, operation_id: str, token: str) -> tuple[str, str] | None:
        """The walk's end mark (Steps.walked) when it ended, None when this runner must stop
        (lease lost, canceled)."""
        state = self.store.state(operation_id)
        if state.get("status") != "running":
            return None
        _, selector = stored_request(state)  # damaged: ValueError, the operation fails
        self._finish_rate_limited(operation_id, state["queue"])  # left by a runner that died
        # Under a rate cap, one call at a time keeps the pace smooth (Pace.cap sizes one call).
        depth = 1 if self.max_rate > 0 else 2
        steps = steps_for(self._connection, self._serializer, state, selector, operation_id, token, depth)
        sizer, pace = ChunkSizer(), Pace(self.max_rate)
        try:
            while not self._stopping.is_set():  # else shutting down: another process resumes it
                # The sizer bounds the jobs one call acts on; a selective walk (a query, a filter)
                # reads up to MOST_CHUNK entries for them, as sizing its reads by the jobs it
                # acted on shrank them to a few entries a round trip when matches were sparse.
                step = steps.step(pace.cap(sizer.size), pace.cap(MOST_CHUNK))
                if step is None:
                    return None
                sizer.observe(step.jobs, step.seconds)
                if step.rate_limited:
                    self._finish_rate_limited(operation_id, state["queue"])
                if step.ended:
                    steps.close()
                    # Calls queued behind the last one may have listed rate-limited jobs too.
                    self._finish_rate_limited(operation_id, state["queue"])
                    return steps.walked()
                wait = pace.wait_after(step.examined)
                # Between chunks the thread lets go (time.sleep(0) too): other requests run.
                self._stopping.wait(min(wait, stored.LEASE_MS / 2000)) if wait else time.sleep(0)
            return None
        finally:
            steps.close()

    def _finish_rate_limited(self, operation_id: str, queue: str) -> None:
        """RQ 3 rate-limited jobs go through RQ's own requeue, as retry-all does. The chunk's Lua
        call listed them in the operation (store.limited) in the same step as its progress, so a
        runner that dies before handing them over leaves them to the one that resumes: none is
        left failed because its runner died, and RQ's requeue takes each at most once."""
        pending = self.store.limited(operation_id)
        if not pending:
            return
        actions = FailedJobActions(self._connection, queue, self._serializer)
        for member in pending:
            outcome = actions._finish_rate_limited(member, Outcome.RATE_LIMITED)
            self.store.handed_over(operation_id, member, outcome == Outcome.DONE)

    def _audit_if_canceled(self, operation_id: str) -> None:
        """This runner stopped: when on a cancel, its finish record, written after the calls it
        had queued came back, so it counts every job the operation acted on."""
        try:
            if self.store.state(operation_id).get("status") == "canceled":
                self._audit_end(operation_id, "canceled")
                self.store.release_ended(operation_id)
        except redis.RedisError as error:
            log.warning("Operation %s: its finish record was not written (%s)", operation_id, error)

    def audit_canceled_unheld(self, operation_id: str) -> None:
        """A cancel's process: the finish record, when no runner holds the lease to write it."""
        if not self.store.holds_lease(operation_id):
            self._audit_end(operation_id, "canceled")

    def _audit_end(self, operation_id: str, status: str) -> None:
        """The finish record, once per operation (store.take_finish_record): audited when the
        trail is on, and counted in rq_gateway_jobs_acted_total either way, as every mutation's
        record is (access.py). A canceled operation's is `ok` too: it counts what was acted on."""
        if not self.store.take_finish_record(operation_id):
            return
        state = self.store.state(operation_id)
        record = AuditRecord(
            request_id=f"operation-{operation_id}",
            key=state.get("key", "-"),
            action=f"operation_{state.get('action', '?')}.finish",
            queue=state.get("queue"),
            outcome="error" if status == "failed" else "ok",
            error="InternalError" if status == "failed" else None,
            instance=getattr(self._health, "instance", None),
            operation_id=operation_id,
            acted=int(state.get("acted", "0")),  # job_count: the jobs it retried or deleted
            selector_kind=_kind_of(state),
        )
        count_acted(record)
        if self._audit is not None:
            self._audit.write(record, self._health)

    # --- Taking over operations whose runner died ---

    def resume_orphans(self) -> list[str]:
        """Claim every running operation whose lease lapsed, and run it here; the ids taken."""
        taken = []
        for operation_id in self.store.running_ids():
            with self._lock:
                mine = self._threads.get(operation_id)
                if mine is not None and mine.is_alive():
                    continue
            token = self.new_token()
            claimed = self.store.claim(operation_id, token)
            if claimed == "held":
                log.warning("Resuming operation %s: its runner's lease lapsed", operation_id)
                self.run_in_background(operation_id, token)
                taken.append(operation_id)
            elif claimed == "ended":
                # Canceled while a runner held its lease, which lapsed: the runner died before the
                # chunk that would have stopped it and written the finish record. Written here.
                self._audit_if_canceled(operation_id)
        return taken

    def start_resuming(self) -> None:
        if self._resumer is None:
            self._resumer = threading.Thread(
                target=self._resume_forever, name="operation-resumer", daemon=True
            )
            self._resumer.start()

    def _resume_forever(self) -> None:
        """Poll the running set while operations run; while none does, wait for a start on a
        pub/sub channel instead, so an idle gateway sends Redis no command at all (as the live
        pollers stop with their last subscriber). Subscribed before the first look, so a start
        between the look and the wait is not missed."""
        listener: Any = None
        while not self._stopping.is_set():
            try:
                if listener is None:  # (again) after Redis failed: a process may start in an outage
                    listener = self._listener()
                if not self.store.running_ids():
                    if not self._wait_for_start(listener, _master_of(self._connection)):
                        listener.close()  # subscribe again, on the new master
                        listener = None
                    continue
                self.resume_orphans()
            except redis.RedisError:
                # Redis down: so is every runner; subscribe and look again at the next poll.
                if listener is not None:
                    with contextlib.suppress(redis.RedisError):
                        listener.close()
                listener = None
            self._stopping.wait(RESUME_POLL_SECONDS)
        if listener is not None:
            listener.close()

    def _wait_for_start(self, listener: Any, master: object) -> bool:
        """Wait for a start on the channel (True), or until the process stops. False when the
        master has moved (a Sentinel failover the old master lived through, so nothing broke the
        subscription): an operation whose last chunks and end the old master took is running
        again on the new one, and no start will announce it. Checked locally, sending nothing."""
        while not self._stopping.is_set():
            if listener.get_message(timeout=1.0) is not None:
                return True
            if _master_of(self._connection) != master:
                return False
        return True

    def _listener(self) -> Any:
        # Its own client without health checks: an idle subscriber sends no PING either.
        pool = self._connection.connection_pool
        kwargs = {**pool.connection_kwargs, "health_check_interval": 0}
        # The pool's own connection class: the demo's in-memory Redis has its own.
        client = redis.Redis(
            connection_pool=redis.ConnectionPool(connection_class=pool.connection_class, **kwargs)
        )
        listener = client.pubsub(ignore_subscribe_messages=True)
        listener.subscribe(stored.STARTED_CHANNEL)
        return listener

    def stop(self, wait: float = 0.0) -> None:
        """Stop after the current chunks; unfinished operations are resumed by another process
        (or this one, restarted) once their leases lapse. `wait`: seconds to wait for the runners
        to get there (and write their ends), so the client can be closed behind them."""
        self._stopping.set()
        deadline = time.monotonic() + wait
        with self._lock:
            threads = list(self._threads.values())
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))


def _master_of(connection: Redis) -> object:
    """Where a Sentinel client's pool last found the master (None for a plain URL, whose server
    cannot move under a live subscription without breaking it)."""
    return getattr(connection.connection_pool, "master_address", None)


def _kind_of(state: dict[str, str]) -> str | None:
    """The kind of the operation's selector, None when its request does not read back."""
    try:
        return stored_request(state)[1].kind
    except ValueError:
        return None
