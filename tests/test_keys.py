"""Redis key names (services/redis/keys.py) are RQ's own, so the gateway reads and deletes exactly the
keys RQ writes, with RQ's prefixes."""

from __future__ import annotations

import pytest
from rq import Queue
from rq.job import Job
from rq.registry import (
    CanceledJobRegistry,
    DeferredJobRegistry,
    FailedJobRegistry,
    FinishedJobRegistry,
    ScheduledJobRegistry,
    StartedJobRegistry,
)

from gateway.demo import jobs
from gateway.services.redis import keys


def _around(parts: tuple[str, str], job_id: str) -> str:
    prefix, suffix = parts
    return prefix + job_id + suffix


def test_job_keys_are_those_of_an_rq_job(conn):
    job = Queue("emails", connection=conn).enqueue(jobs.add, 1, 2)
    assert keys.job_key(job.id) == job.key == keys.JOB_PREFIX + job.id
    assert _around(keys.DEPENDENTS_KEY_PARTS, job.id) == job.dependents_key
    assert _around(keys.DEPENDENCIES_KEY_PARTS, job.id) == job.dependencies_key
    assert conn.exists(keys.job_key(job.id))


def test_everything_job_delete_removes_is_listed_with_the_hash_first():
    job_id = "abc"
    listed = [_around(parts, job_id) for parts in keys.JOB_KEY_PARTS]
    assert (
        listed[0] == Job.key_for(job_id).decode()
        if isinstance(Job.key_for(job_id), bytes)
        else Job.key_for(job_id)
    )
    assert keys.results_key(job_id) in listed
    assert len(set(listed)) == len(listed)


def test_queue_keys_and_the_queues_set_are_rqs(conn):
    queue = Queue("emails", connection=conn)
    queue.enqueue(jobs.add, 1, 2)
    assert keys.queue_key("emails") == queue.key
    assert conn.smembers(keys.QUEUES_SET) == {queue.key.encode()}
    assert keys.queue_key("emails").startswith(keys.QUEUE_PREFIX)


@pytest.mark.parametrize(
    ("state", "registry_class"),
    [
        ("failed", FailedJobRegistry),
        ("started", StartedJobRegistry),
        ("finished", FinishedJobRegistry),
        ("deferred", DeferredJobRegistry),
        ("scheduled", ScheduledJobRegistry),
        ("canceled", CanceledJobRegistry),
    ],
)
def test_registry_keys_are_those_of_rqs_registries(conn, state, registry_class):
    assert keys.registry_key(state, "emails") == registry_class("emails", connection=conn).key


def test_an_unknown_state_has_no_registry_key():
    with pytest.raises(KeyError):
        keys.registry_key("lost", "emails")


def test_workers_of_a_queue_key_names_the_queue():
    assert keys.workers_of_queue_key("emails").endswith("emails")
    assert keys.workers_of_queue_key("emails") != keys.workers_of_queue_key("email")
