"""Frozen results of the on-call controls (issue 15): worker commands, suspension, enqueue-now
and replay. Kept apart from models.py, whose results are about jobs as they are stored."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WorkerSuspension:
    """Whether `rq suspend` is in force, and until when (None: until `rq resume`)."""

    suspended: bool
    until: str | None = None  # ISO 8601 UTC ending in Z, from the suspension key's TTL


@dataclass(frozen=True)
class CommandOutcome:
    """A command sent to a worker over RQ's pub/sub channel. `worker_name` is the worker that
    received it; RQ's commands are fire-and-forget, so the effect follows shortly after."""

    worker_name: str
    command: str
    message: str
    job_id: str | None = None
    success: bool = True


@dataclass(frozen=True)
class EnqueueNowOutcome:
    """A scheduled or deferred job moved to its queue. `enqueued_by` is "gateway" when the
    gateway pushed it, "scheduler" when a running RQ scheduler holds the queue and was told to
    take it on its next tick (the one way to be sure it is enqueued once, see enqueue_now.lua)."""

    job_id: str
    queue: str
    enqueued_by: str
    message: str
    success: bool = True


@dataclass(frozen=True)
class ReplayOutcome:
    """A new job made from an old one's call; `replay_of` is the old job's id."""

    job_id: str
    replay_of: str
    queue: str
