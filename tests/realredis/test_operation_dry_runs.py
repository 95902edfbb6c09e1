"""A tracked operation's dry run reports what the real operation then reports, field by field,
on the same data: jobs a real worker failed, orphans (registry members whose job hash is gone),
damaged hashes, expired entries and ids that are in no registry, for every selector kind and
both actions (services/operations/dry_run.py)."""

from __future__ import annotations

import dataclasses

import pytest

from gateway.services import JobService

from .damage import EXPIRED, FAR_FUTURE, add_entry, contents
from .helpers import restore, snapshot, wait_until

DAMAGED = ("missing", "string_key", "unreadable_data", "non_utf8_origin", "queue_key_damaged", "healthy")
COMPARED = ("status", "total", "done", "matched", "acted", "error_count", "errors")


@pytest.fixture
def seeded(r, fail_jobs):
    """(the snapshot to restore, the real failures' ids, a failure group's id)."""
    ids = fail_jobs(5)
    for index, kind in enumerate(DAMAGED):
        add_entry(r, kind, index, FAR_FUTURE)
    add_entry(r, "healthy", 90, EXPIRED)  # in the registry, but expired: RQ's cleanup would drop it
    service = JobService(r)
    group = max(service.failure_groups().groups, key=lambda g: g.count)
    return snapshot(r), ids, group.group_id


def _selectors(ids: list[str], group_id: str) -> dict[str, dict]:
    return {
        "all": {"all": True},
        "filter": {"filter": {"func_name": "gateway.demo.jobs.parse_report"}},
        "group_id": {"group_id": group_id},
        "query": {"query": "func:gateway.demo.jobs.parse_report"},
        # Real failures, ids in no registry, an orphan, damaged jobs, an expired entry.
        "job_ids": {"job_ids": [ids[0], ids[1], "nope", "j0", "j1", "j2", "j3", "j4", "j90", ids[2]]},
    }


def _fields(operation) -> dict:
    shown = dataclasses.asdict(operation)
    return {name: shown[name] for name in COMPARED}


@pytest.mark.parametrize("action", ["retry", "delete"])
@pytest.mark.parametrize("kind", ["all", "filter", "group_id", "query", "job_ids"])
def test_a_dry_run_reports_what_the_real_operation_then_reports(r, seeded, action, kind):
    snap, ids, group_id = seeded
    selector = _selectors(ids, group_id)[kind]
    service = JobService(r)
    service.use_operations()
    restore(r, snap)
    before = contents(r)

    dry, _ = service.start_operation(action, selector, dry_run=True)
    assert contents(r) == before, "the dry run wrote to Redis"
    started, _ = service.start_operation(action, selector)
    real = wait_until(
        lambda: (op := service.operation(started.id)).status != "running" and op, 30, "the operation"
    )

    assert _fields(dry) == _fields(real)
    assert real.status == "succeeded" and real.done > 0
    if kind == "job_ids" or (kind == "all" and action == "retry"):
        assert real.error_count > 0  # the seeded ids and damage are reported, and predicted
