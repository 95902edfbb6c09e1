"""Worker control (issue 15): stop a running job, shut a worker down, suspend and resume.

Stop and shutdown are RQ's own pub/sub commands, published on the worker's channel with the
payload RQ's rq.command.send_command writes. The gateway publishes them itself, not through
send_command, for one reason: PUBLISH answers how many subscribers received the message, so a
command to a worker that died without unregistering is a 409, not a silent no-op.

Suspend and resume are RQ's rq.suspension.suspend/resume, exactly what `rq suspend` and
`rq resume` call: one flag for every worker of the Redis server.
"""

from __future__ import annotations

import json
from typing import cast

from redis import Redis
from rq import suspension

from gateway.errors import (
    Conflict,
    InvalidParameter,
    JobNotFound,
    WorkerNotFound,
    WorkerNotListening,
    WorkerRunsOtherWork,
)
from gateway.services.domain.control import CommandOutcome, WorkerSuspension
from gateway.services.domain.validation import validate_name
from gateway.services.reads.suspension import read_suspension
from gateway.services.redis import damaged, keys

# The longest suspension accepted: GraphQL's Int bound, and far beyond any incident.
MAX_SUSPEND_SECONDS = 2**31 - 1


def _publish(connection: Redis, worker_name: str, command: str, **fields: str) -> int:
    """RQ's send_command, answering how many listeners received it."""
    payload = json.dumps({"command": command, **fields})
    return cast(int, connection.publish(keys.worker_channel(worker_name), payload))


def validate_worker_name(name: str) -> str:
    return validate_name(name, "worker")


def stop_job(connection: Redis, job_id: str) -> CommandOutcome:
    """Send RQ's stop-job command to the worker running the job. The worker kills its work
    horse and the job ends in RQ's stopped state (in the failed registry, requeueable)."""
    status, worker = cast(
        "list[bytes | None]", connection.hmget(keys.job_key(job_id), "status", "worker_name")
    )
    if status is None and not connection.exists(keys.job_key(job_id)):
        raise JobNotFound(job_id)
    state = damaged.shown(status) if status else "in no known state"
    if state != "started":
        raise Conflict(job_id, f"Job {job_id} is {state}; only started (running) jobs can be stopped")
    if not worker:
        raise Conflict(job_id, f"Job {job_id} is started but names no worker; it cannot be sent a stop")
    worker_name = damaged.shown(worker)
    if _not_running(connection, worker_name, job_id):
        raise WorkerRunsOtherWork(worker_name, job_id)
    if not _publish(connection, worker_name, "stop-job", job_id=job_id):
        raise WorkerNotListening(worker_name, job_id)
    return CommandOutcome(
        worker_name=worker_name,
        command="stop-job",
        job_id=job_id,
        message=f"Job {job_id}: stop sent to worker {worker_name}; it ends as stopped",
    )


def _not_running(connection: Redis, worker_name: str, job_id: str) -> bool:
    """Whether the worker is known not to run the job. RQ 2 and later index a worker's running
    jobs as executions (`job_id:execution_id`), and its stop-job handler ignores a job it is not
    running; a worker of an older RQ, or a hash that is gone, says nothing either way."""
    with connection.pipeline(transaction=False) as pipe:
        pipe.hget(damaged.key_bytes(keys.worker_key(worker_name)), "version")
        pipe.smembers(damaged.key_bytes(keys.worker_executions_key(worker_name)))
        version, executions = damaged.execute(pipe)
    major = version.split(b".", 1)[0] if isinstance(version, bytes) else b""
    if not (major.isdigit() and int(major) >= 2):
        return False
    prefix = f"{job_id}:".encode()
    return not any(member.startswith(prefix) for member in executions or ())


def shutdown_worker(connection: Redis, worker_name: str, kill_horse: bool) -> CommandOutcome:
    """RQ's shutdown command: a warm shutdown, the worker finishes its current job and exits.
    With `kill_horse`, RQ's kill-horse command follows, so the current job is killed (it fails)
    and the worker, already shutting down, exits at once. Shutdown goes first: a horse killed
    before it would leave the worker free to take one more job."""
    validate_worker_name(worker_name)
    # RQ's Worker.all: a worker is live while it is in the workers set. A worker that exited keeps
    # its hash a minute longer, marked dead, and is no longer in the set.
    if not connection.sismember(keys.WORKERS_SET, keys.worker_key(worker_name)):
        raise WorkerNotFound(worker_name)
    if not _publish(connection, worker_name, "shutdown"):
        raise WorkerNotListening(worker_name)
    command = "shutdown"
    message = f"Worker {worker_name}: warm shutdown sent; it exits after its current job"
    if kill_horse:
        _publish(connection, worker_name, "kill-horse")
        command = "shutdown+kill-horse"
        message = f"Worker {worker_name}: shutdown and kill-horse sent; its current job is killed"
    return CommandOutcome(worker_name=worker_name, command=command, message=message)


def suspend(connection: Redis, duration: int | None) -> WorkerSuspension:
    """`rq suspend [--duration SECONDS]`: no worker starts a new job until resumed or expired."""
    if duration is not None and not 1 <= duration <= MAX_SUSPEND_SECONDS:
        raise InvalidParameter(f"duration must be a whole number of seconds from 1 to {MAX_SUSPEND_SECONDS}")
    suspension.suspend(connection, duration)
    return read_suspension(connection)


def resume(connection: Redis) -> WorkerSuspension:
    """`rq resume`: workers take jobs again at their next check (RQ checks once a second)."""
    suspension.resume(connection)
    return read_suspension(connection)
