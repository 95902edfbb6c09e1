"""On-call controls (issue 15): stop a job, suspend or resume the workers, shut a worker down,
enqueue a scheduled job now, replay a finished or failed job."""

from __future__ import annotations

from gateway.services.access import action, note_queue, read
from gateway.services.domain.control import CommandOutcome, EnqueueNowOutcome, ReplayOutcome, WorkerSuspension
from gateway.services.domain.validation import validate_job_id, validate_queue_name
from gateway.services.facade.core import ServiceCore
from gateway.services.principal import Role
from gateway.services.reads.suspension import read_suspension
from gateway.services.redis.backend import backend_call
from gateway.services.writes import worker_control
from gateway.services.writes.enqueue_now import EnqueueNow
from gateway.services.writes.replay import replay as replay_job


def _replay_ids(outcome: ReplayOutcome) -> list[str]:
    return [outcome.replay_of, outcome.job_id]


class OnCallControls(ServiceCore):
    @action("stop", Role.OPERATOR)
    @backend_call()
    def stop_job(self, job_id: str) -> CommandOutcome:
        """Send RQ's stop-job command to the worker running the job (409 when it is not running)."""
        validate_job_id(job_id)
        self._job_queue(job_id)
        return worker_control.stop_job(self.connection, job_id)

    @read()
    @backend_call()
    def worker_suspension(self) -> WorkerSuspension:
        return read_suspension(self.connection)

    @action("suspend_workers", Role.ADMIN)
    @backend_call()
    def suspend_workers(self, duration: int | None = None) -> WorkerSuspension:
        """`rq suspend [--duration SECONDS]`: no worker starts a new job meanwhile."""
        return worker_control.suspend(self.connection, duration)

    @action("resume_workers", Role.ADMIN)
    @backend_call()
    def resume_workers(self) -> WorkerSuspension:
        """`rq resume`."""
        return worker_control.resume(self.connection)

    @action("shutdown_worker", Role.ADMIN)
    @backend_call()
    def shutdown_worker(self, worker_name: str, kill_horse: bool = False) -> CommandOutcome:
        """RQ's shutdown command (warm: after the current job); `kill_horse` kills that job too."""
        return worker_control.shutdown_worker(self.connection, worker_name, kill_horse)

    @action("enqueue_now", Role.OPERATOR)
    @backend_call()
    def enqueue_now(self, job_id: str, force: bool = False) -> EnqueueNowOutcome:
        """Move a scheduled job to its queue now, exactly once against RQ's scheduler; a deferred
        job only with `force` (it then runs without waiting for its dependencies)."""
        validate_job_id(job_id)
        name = self._job_queue(job_id)
        return EnqueueNow(self.connection, self.default_queue, self.serializer).run(job_id, name, force)

    @action("replay", Role.OPERATOR, ids_from_result=_replay_ids, result_ids_acted=False)
    @backend_call()
    def replay(self, job_id: str, target_queue: str | None = None) -> ReplayOutcome:
        """A new job with a finished or failed job's call, on its queue or `target_queue`."""
        validate_job_id(job_id)
        origin = self._job_queue(job_id)
        target = validate_queue_name(target_queue) if target_queue is not None else origin
        self._check_queue(target)
        note_queue(target)
        return replay_job(self.connection, job_id, target, self.serializer)
