"""A hypothesis state machine over JobService on a real redis-server: random sequences of enqueue,
fail (a real RQ SimpleWorker), retry, retry-all, delete, clear, and concurrent pairs of these on
two threads. After every step each job is in exactly the place a model says, and the service's
counts equal what RQ itself reports.

Real Redis rather than fakeredis: the retry and delete Lua scripts run in Redis's own Lua, and
the concurrent pairs really interleave on the server from two connections (fakeredis runs every
command under one lock). Bounded (HYPOTHESIS_EXAMPLES, default 15 sequences of up to 12 steps)
so it runs in seconds; set HYPOTHESIS_EXAMPLES=500 for a long hunt."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

import redis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from rq import Queue, SimpleWorker
from rq.registry import FailedJobRegistry, FinishedJobRegistry, StartedJobRegistry

from gateway.demo import jobs
from gateway.demo.seed import run_worker_quietly
from gateway.errors import FailedJobNotFound
from gateway.services import JobService

from .helpers import RedisServer
from .processes import places, statuses

QUEUE = "default"
EXAMPLES = int(os.environ.get("HYPOTHESIS_EXAMPLES", "15"))

# One side of a concurrent pair: ("retry", id), ("delete", id), ("retry_all",) or ("clear",).
Op = tuple


class JobsMachine(RuleBasedStateMachine):
    url: str = ""

    def __init__(self) -> None:
        super().__init__()
        self.r = redis.Redis.from_url(self.url)
        self.r.flushall()
        self.service = JobService(self.r)
        self.queue = Queue(QUEUE, connection=self.r)
        self.model: dict[str, str] = {}  # id -> queued | failed | finished | deleted
        self.fails: dict[str, bool] = {}  # id -> does the job raise when run

    def teardown(self) -> None:
        self.r.close()

    # -- helpers ------------------------------------------------------------------------------

    def _in(self, state: str) -> set[str]:
        return {job_id for job_id, s in self.model.items() if s == state}

    def _pick(self, data: st.DataObject) -> str:
        """Usually a known job (in any state), sometimes one that never existed."""
        known = sorted(self.model)
        return data.draw(st.sampled_from([*known, "never-enqueued"]) if known else st.just("never-enqueued"))

    def _run(self, op: Op) -> tuple[str, set[str]]:
        """Run one operation; ("requeued" | "deleted", ids it acted on)."""
        kind = op[0]
        if kind in ("retry", "delete"):
            call: Callable = self.service.retry if kind == "retry" else self.service.delete
            try:
                call(op[1])
            except FailedJobNotFound:
                return ("requeued" if kind == "retry" else "deleted"), set()
            return ("requeued" if kind == "retry" else "deleted"), {op[1]}
        outcome = self.service.retry_all() if kind == "retry_all" else self.service.clear()
        assert outcome.errors == []
        assert len(set(outcome.done_jobs)) == len(outcome.done_jobs), "an id acted on twice"
        return ("requeued" if kind == "retry_all" else "deleted"), set(outcome.done_jobs)

    def _targets(self, op: Op, failed: set[str]) -> set[str]:
        return failed if op[0] in ("retry_all", "clear") else {op[1]} & failed

    def _apply(self, effect: str, ids: set[str]) -> None:
        for job_id in ids:
            self.model[job_id] = "queued" if effect == "requeued" else "deleted"

    # -- rules --------------------------------------------------------------------------------

    @rule(failing=st.booleans(), count=st.integers(1, 3))
    def enqueue(self, failing: bool, count: int) -> None:
        for i in range(count):
            job = (
                self.queue.enqueue(jobs.parse_report, f"bad-{i}")
                if failing
                else self.queue.enqueue(jobs.add, i, 1)
            )
            self.model[job.id] = "queued"
            self.fails[job.id] = failing

    @rule()
    def work(self) -> None:
        """A real SimpleWorker runs every queued job: each fails or finishes as it should."""
        run_worker_quietly(SimpleWorker([self.queue], connection=self.r))
        for job_id in self._in("queued"):
            self.model[job_id] = "failed" if self.fails[job_id] else "finished"

    @rule(data=st.data(), kind=st.sampled_from(["retry", "delete"]))
    def one_job(self, data: st.DataObject, kind: str) -> None:
        job_id = self._pick(data)
        was_failed = self.model.get(job_id) == "failed"
        effect, acted = self._run((kind, job_id))
        assert acted == ({job_id} if was_failed else set()), (kind, job_id, self.model.get(job_id))
        self._apply(effect, acted)

    @rule(kind=st.sampled_from(["retry_all", "clear"]))
    def bulk(self, kind: str) -> None:
        failed = self._in("failed")
        effect, acted = self._run((kind,))
        assert acted == failed
        self._apply(effect, acted)

    @rule(data=st.data())
    def concurrent_pair(self, data: st.DataObject) -> None:
        """Two operations started together on two threads: every failed job either targets is
        acted on by exactly one of them, and nothing else is touched."""
        ops = [self._draw_op(data), self._draw_op(data)]
        failed = self._in("failed")
        barrier = threading.Barrier(2)
        results: list = [None, None]

        def run(index: int) -> None:
            barrier.wait(timeout=10)
            try:
                results[index] = self._run(ops[index])
            except Exception as error:  # surfaced below, on the test's thread
                results[index] = error

        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        for result in results:
            assert not isinstance(result, Exception), result
        (effect_a, acted_a), (effect_b, acted_b) = results
        assert not acted_a & acted_b, f"{ops}: both acted on {acted_a & acted_b}"
        assert acted_a | acted_b == self._targets(ops[0], failed) | self._targets(ops[1], failed), ops
        self._apply(effect_a, acted_a)
        self._apply(effect_b, acted_b)

    def _draw_op(self, data: st.DataObject) -> Op:
        kind = data.draw(st.sampled_from(["retry", "delete", "retry_all", "clear"]))
        return (kind, self._pick(data)) if kind in ("retry", "delete") else (kind,)

    # -- invariants ---------------------------------------------------------------------------

    @invariant()
    def each_job_in_its_one_place(self) -> None:
        ids = sorted(self.model)
        where = places(self.r, ids, QUEUE)
        status = statuses(self.r, ids)
        expected_place = {"queued": ["queue"], "failed": ["failed"], "finished": ["finished"], "deleted": []}
        for job_id, state in self.model.items():
            assert where[job_id] == expected_place[state], (job_id, state, where[job_id])
            assert status[job_id] == (None if state == "deleted" else state), (job_id, state, status[job_id])
        assert self.r.llen(self.queue.key) == len(self._in("queued"))

    @invariant()
    def counts_match_rq(self) -> None:
        stats = self.service.stats()
        rq_counts = (
            self.queue.count,
            FailedJobRegistry(queue=self.queue).get_job_count(cleanup=False),
            StartedJobRegistry(queue=self.queue).get_job_count(cleanup=False),
            FinishedJobRegistry(queue=self.queue).get_job_count(cleanup=False),
        )
        ours = (stats.queued_count, stats.failed_count, stats.started_count, stats.finished_count)
        assert ours == rq_counts
        model = (len(self._in("queued")), len(self._in("failed")), 0, len(self._in("finished")))
        assert ours == model


def test_service_keeps_jobs_in_one_place_under_random_and_concurrent_operations(redis_server: RedisServer):
    JobsMachine.url = redis_server.url
    run_state_machine_as_test(
        JobsMachine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=12,
            deadline=None,
            database=None,  # no .hypothesis/ directory in the work tree
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
