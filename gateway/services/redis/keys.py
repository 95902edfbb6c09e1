"""Redis key names, taken from RQ's own classes so a custom RQ_KEY_PREFIX is honoured."""

from __future__ import annotations

from rq import command, cron, cron_scheduler_registry, executions, registry, suspension, worker_registration
from rq.defaults import RQ_KEY_PREFIX
from rq.executions import Execution, ExecutionRegistry
from rq.group import Group
from rq.job import Job
from rq.queue import Queue
from rq.rate_limit import RateLimitRegistry
from rq.registry import (
    CanceledJobRegistry,
    DeferredJobRegistry,
    FailedJobRegistry,
    FinishedJobRegistry,
    ScheduledJobRegistry,
    StartedJobRegistry,
)
from rq.results import Result
from rq.scheduler import RQScheduler
from rq.worker import Worker

from gateway.services.redis import damaged

_MARK = "\x00"


def _split_template(key: str) -> tuple[str, str]:
    prefix, _, suffix = key.partition(_MARK)
    return prefix, suffix


def job_key(job_id: str) -> str:
    return Job.key_for(job_id)


def results_key(job_id: str) -> str:
    return Result.get_key(job_id)  # pyright: ignore[reportUnknownMemberType]  -- rq leaves job_id unannotated


def queue_key(queue_name: str) -> str:
    return Queue.redis_queue_namespace_prefix + queue_name


QUEUES_SET = Queue.redis_queues_keys
JOB_PREFIX = Job.redis_job_namespace_prefix
QUEUE_PREFIX = Queue.redis_queue_namespace_prefix


class _IdOnly:
    """All that Job.dependencies_key reads of a job."""

    id = _MARK
    redis_job_namespace_prefix = JOB_PREFIX


# Keys RQ keeps beside a job hash, as (prefix, suffix) around the job id. RQ's own
# `dependencies_key` has a doubled colon; using its property keeps us deleting the real key.
RESULTS_KEY_PARTS = _split_template(Result.get_key(_MARK))  # pyright: ignore[reportUnknownMemberType]  -- rq leaves job_id unannotated
DEPENDENTS_KEY_PARTS = _split_template(Job.dependents_key_for(_MARK))
_dependencies_key = Job.dependencies_key.fget
assert _dependencies_key is not None  # a property always has its getter
DEPENDENCIES_KEY_PARTS = _split_template(_dependencies_key(_IdOnly()))

EXECUTIONS_KEY_PARTS = _split_template(ExecutionRegistry.key_template.format(_MARK))
GROUP_PREFIX = Group.REDIS_GROUP_NAME_PREFIX

# Everything Job.delete removes per job, the job hash first.
JOB_KEY_PARTS = (
    (JOB_PREFIX, ""),
    RESULTS_KEY_PARTS,
    DEPENDENTS_KEY_PARTS,
    DEPENDENCIES_KEY_PARTS,
    EXECUTIONS_KEY_PARTS,
)

_REGISTRY_CLASSES = {
    "failed": FailedJobRegistry,
    "started": StartedJobRegistry,
    "finished": FinishedJobRegistry,
    "deferred": DeferredJobRegistry,
    "scheduled": ScheduledJobRegistry,
    "canceled": CanceledJobRegistry,
}


def registry_key(state: str, queue_name: str) -> str:
    return _REGISTRY_CLASSES[state].key_template.format(queue_name)


# RQ 3's seventh registry: dependents whose dependencies are met, between deferred and queued
# (status ready_to_enqueue). RQ 2 has none: its key is then simply absent (a count of 0).
_READY_KEY_TEMPLATE: str = getattr(
    getattr(registry, "ReadyJobRegistry", None), "key_template", "rq:ready:{0}"
)


def ready_registry_key(queue_name: str) -> str:
    return _READY_KEY_TEMPLATE.format(queue_name)


# Workers: the set of all worker keys, each worker's hash, the per-queue sets of listening
# workers, and each worker's set of active executions ("job_id:execution_id").
WORKERS_SET = worker_registration.REDIS_WORKER_KEYS
WORKER_PREFIX = Worker.redis_worker_namespace_prefix


def workers_of_queue_key(queue_name: str) -> str:
    return worker_registration.WORKERS_BY_QUEUE_KEY % queue_name


# RQ < 3 keeps no per-worker executions set: the key is then simply absent.
WORKER_EXECUTIONS_KEY_TEMPLATE: str = getattr(
    executions, "WORKER_EXECUTIONS_KEY_TEMPLATE", "rq:worker:{0}:executions"
)


def worker_executions_key(worker_name: str) -> str:
    return WORKER_EXECUTIONS_KEY_TEMPLATE.format(worker_name)


def execution_key(composite_key: str) -> str:
    return Execution.from_composite_key(composite_key, connection=None).key  # pyright: ignore[reportArgumentType]  -- .key never reads the connection


# Worker control (issue 15): `rq suspend`'s flag, each worker's command channel, and the lock a
# running RQ scheduler holds on each queue it moves scheduled jobs for.
WORKERS_SUSPENDED = suspension.WORKERS_SUSPENDED


def worker_channel(worker_name: str) -> str:
    return command.PUBSUB_CHANNEL_TEMPLATE % worker_name


def worker_key(worker_name: str) -> str:
    return WORKER_PREFIX + worker_name


def scheduler_lock_key(queue_name: str) -> str:
    return RQScheduler.get_locking_key(queue_name)


# RQ's CronScheduler (RQ >= 2.4, so every RQ the gateway supports): the registry of running
# schedulers (name -> last heartbeat), each one's hash, and each cron job's history (job id ->
# enqueue time).
CRON_SCHEDULERS = cron_scheduler_registry.get_registry_key()
_CRON_HISTORY_PARTS = _split_template(cron.get_cron_job_history_key(_MARK))


def cron_scheduler_key(name: str) -> str:
    # As CronScheduler.key builds it (a property of an instance, whose constructor reads the host).
    return f"{RQ_KEY_PREFIX}:cron_scheduler:{name}"


def cron_history_key(name: str) -> str:
    return _CRON_HISTORY_PARTS[0] + name + _CRON_HISTORY_PARTS[1]


# rq-scheduler (a separate package, not installed here): its one sorted set, job id -> the unix
# time of the next run (rq_scheduler.Scheduler.scheduled_jobs_key).
RQ_SCHEDULER_JOBS = "rq:scheduler:scheduled_jobs"


# RQ 3's concurrency rate limits: the set of rate-limit keys, and per key its config hash and
# its allowed and rate_limited (waiting) sorted sets (rq.rate_limit.RateLimitRegistry). Job
# groups: the set of group names, each group a set of job ids (rq.group.Group).
RATE_LIMIT_KEYS = RateLimitRegistry.rl_keys_key
GROUPS_SET = Group.REDIS_GROUP_KEY


class _KeyOnly:
    """All that RateLimitRegistry's key properties read of it (its constructor needs a client)."""

    key = _MARK


def _property_parts(prop: property) -> tuple[str, str]:
    assert prop.fget is not None  # a property always has its getter
    return _split_template(prop.fget(_KeyOnly()))


_RATE_LIMIT_PARTS = tuple(
    _property_parts(prop)
    for prop in (
        RateLimitRegistry.config_key,
        RateLimitRegistry.allowed_key,
        RateLimitRegistry.rate_limited_key,
    )
)


def rate_limit_keys(key: str) -> tuple[str, str, str]:
    """The rate-limit key's config hash, allowed set and rate_limited (waiting) set."""
    config, allowed, waiting = (prefix + key + suffix for prefix, suffix in _RATE_LIMIT_PARTS)
    return config, allowed, waiting


# The queue history's keys (services/history/layout.py). The seen set of a registry lives here
# too: the failed-job scripts (lua/requeue.lua, lua/delete.lua) forget the ids they remove from
# it, in the same step, so a job retried and failed again counts again.
HISTORY_PREFIX = "rq-gateway:history:"


def history_seen_key(registry: str, queue_name: str) -> bytes:
    """The ids of a queue's failed or finished registry the history writer has looked at. Any
    queue name, bytes that are not UTF-8 included (damaged.internal text), keeps its exact key."""
    return f"{HISTORY_PREFIX}seen:{registry}:".encode() + damaged.key_bytes(queue_name)
