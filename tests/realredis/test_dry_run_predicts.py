"""A dry run predicts the real run on any data: the same counts, the same done ids and the same
per-job errors, on registries full of damaged entries, and it writes nothing."""

from __future__ import annotations

import dataclasses

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.services import FailedJobFilter, JobService
from gateway.services.domain.outcome import RETRY_ERRORS, Outcome

from .damage import EXPIRED, FAR_FUTURE, KINDS, add_entry, contents
from .helpers import API, restore, snapshot

ORPHAN_RETRY_ERROR = RETRY_ERRORS[Outcome.ORPHAN]
UNREADABLE_RETRY_ERROR = RETRY_ERRORS[Outcome.UNREADABLE]
QUEUE_DAMAGED_RETRY_ERROR = RETRY_ERRORS[Outcome.QUEUE_DAMAGED]

ENTRIES = st.lists(
    st.tuples(st.sampled_from(KINDS), st.sampled_from([FAR_FUTURE, -1, EXPIRED, FAR_FUTURE + 1])),
    max_size=12,
)
FILTERS = [
    FailedJobFilter(exc_type="ValueError"),
    FailedJobFilter(func_name="gateway.demo.jobs.parse_report"),
]


def _outcome(outcome) -> dict:
    fields = dataclasses.asdict(outcome)
    fields.pop("dry_run", None)
    return fields


def _dry_and_real(r, snap, run) -> tuple[dict, dict]:
    """The outcome of run(dry_run=True), then of run(dry_run=False) on the same data."""
    restore(r, snap)
    before = contents(r)
    dry = _outcome(run(True))
    assert contents(r) == before, "the dry run wrote to Redis"
    real = _outcome(run(False))
    return dry, real


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entries=ENTRIES)
def test_dry_runs_predict_real_runs_on_damaged_registries(r, entries):
    r.flushall()
    for index, (kind, score) in enumerate(entries):
        add_entry(r, kind, index, score)
    snap = snapshot(r)
    service = JobService(r)

    runs = {
        "retry_all": lambda dry: service.retry_all(dry_run=dry),
        "clear": lambda dry: service.clear(dry_run=dry),
    }
    for job_filter in FILTERS:
        runs[f"retry_all {job_filter}"] = lambda dry, f=job_filter: service.retry_all(
            job_filter=f, dry_run=dry
        )
        runs[f"clear {job_filter}"] = lambda dry, f=job_filter: service.clear(job_filter=f, dry_run=dry)
    restore(r, snap)
    for group in service.failure_groups().groups:
        gid = group.group_id
        runs[f"retry group {gid}"] = lambda dry, g=gid: service.retry_failure_group(g, dry_run=dry)
        runs[f"delete group {gid}"] = lambda dry, g=gid: service.delete_failure_group(g, dry_run=dry)

    for name, run in runs.items():
        dry, real = _dry_and_real(r, snap, run)
        assert dry == real, name


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entries=ENTRIES, picks=st.lists(st.integers(0, 14), max_size=20))
def test_selected_ids_are_classified_as_the_dry_run_classifies_them(r, entries, picks):
    """Retry of explicit ids (duplicates and unknown ids included) takes the same classification:
    every id the dry run would requeue is requeued, every error is the dry run's error."""
    r.flushall()
    for index, (kind, score) in enumerate(entries):
        add_entry(r, kind, index, score)
    service = JobService(r)
    before = contents(r)
    predicted = service.retry_all(dry_run=True)
    assert contents(r) == before
    picked = [f"j{i}" for i in picks]  # valid ids: listed, absent, expired, damaged alike

    outcome = service.retry_selected(picked)

    unique = list(dict.fromkeys(picked))
    errors = {e.job_id: e.error for e in outcome.errors}
    predicted_errors = {e.job_id: e.error for e in predicted.errors}
    assert outcome.total_failed == len(unique)
    assert outcome.done_jobs == [i for i in unique if i in predicted.done_jobs]
    for job_id in unique:
        if job_id in predicted_errors:
            assert errors[job_id] == predicted_errors[job_id]
        elif job_id not in predicted.done_jobs:
            assert "not found in failed jobs registry" in errors[job_id]


def test_dry_run_of_a_job_key_of_another_type_reports_an_orphan_as_the_real_run_does(client, r):
    """The reported 500: a failed entry whose job key is a plain string."""
    add_entry(r, "healthy", 0, FAR_FUTURE)
    add_entry(r, "string_key", 1, FAR_FUTURE)

    dry = client.post(f"{API}/failed/retry-all", params={"dry_run": "true"})
    real = client.post(f"{API}/failed/retry-all")

    assert dry.status_code == real.status_code == 200
    dry_body, real_body = dry.json(), real.json()
    assert dry_body.pop("dry_run", True) is True
    real_body.pop("dry_run", None)
    assert dry_body == real_body
    assert real_body["requeued_jobs"] == ["j0"]
    assert real_body["errors"] == [{"job_id": "j1", "error": ORPHAN_RETRY_ERROR}]


def test_undecodable_origin_and_damaged_queue_are_refused_per_job_in_both_runs(r):
    add_entry(r, "non_utf8_origin", 0, FAR_FUTURE)
    add_entry(r, "queue_key_damaged", 1, FAR_FUTURE)
    add_entry(r, "healthy", 2, FAR_FUTURE)
    service = JobService(r)

    dry = service.retry_all(dry_run=True)
    real = service.retry_all()

    expected = {"j0": UNREADABLE_RETRY_ERROR, "j1": QUEUE_DAMAGED_RETRY_ERROR}
    assert {e.job_id: e.error for e in dry.errors} == {e.job_id: e.error for e in real.errors} == expected
    assert dry.done_jobs == real.done_jobs == ["j2"]
    assert all(b"\xff" not in member for member in r.smembers("rq:queues"))
    assert r.get("rq:queue:brokenq") == b"not a list"
    assert r.lrange("rq:queue:default", 0, -1) == [b"j2"]
