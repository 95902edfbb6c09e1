"""Selective and filtered bulk actions (services/writes/selection.py): named ids each answered once, hidden
ids answered as absent, and a filtered walk that counts what the filter selected."""

from __future__ import annotations

import pytest
from rq import Queue
from rq.registry import FailedJobRegistry
from rq.serializers import resolve_serializer

from gateway.demo import jobs
from gateway.errors import FailedJobNotFound, InvalidJobId, InvalidParameter
from gateway.services.domain.failed_job_filter import FailedJobFilter
from gateway.services.domain.models import JobError
from gateway.services.domain.outcome import RETRY_ERRORS, Outcome
from gateway.services.reads.filtered import FilteredView
from gateway.services.writes.failed_actions import FailedJobActions
from gateway.services.writes.selection import MAX_SELECTED_IDS, FilteredChunks, run_selected, selected_ids
from tests.conftest import run_worker


def test_selected_ids_are_validated_and_kept_once_in_the_order_given():
    assert selected_ids(["b", "a", "b"]) == ["b", "a"]
    with pytest.raises(InvalidJobId):
        selected_ids(["ok", "not:an:id"])
    with pytest.raises(InvalidParameter, match=str(MAX_SELECTED_IDS)):
        selected_ids([f"j{i}" for i in range(MAX_SELECTED_IDS + 1)])


def test_every_named_id_ends_in_exactly_one_list(conn, factory):
    a, b = factory.failed(2)
    actions = FailedJobActions(conn, "default", None)
    outcome = run_selected([a, "missing", b, a], actions.requeue, RETRY_ERRORS, Outcome.REQUEUED)
    assert outcome.total_failed == 3 and outcome.done_jobs == [a, b]
    assert outcome.errors == [JobError("missing", FailedJobNotFound("missing").message)]


def test_hidden_ids_are_not_acted_on_and_answer_as_absent(conn, factory):
    a, b = factory.failed(2)
    acted: list[list[str]] = []

    def act(ids):
        acted.append(ids)
        return FailedJobActions(conn, "default", None).delete(ids)

    outcome = run_selected([a, b], act, {}, Outcome.DELETED, hidden={b})
    assert acted == [[a]]
    assert outcome.done_jobs == [a]
    assert outcome.errors == [JobError(b, FailedJobNotFound(b).message)]


def test_ids_are_acted_on_in_bulk_chunks(monkeypatch):
    monkeypatch.setattr("gateway.services.writes.selection.BULK_CHUNK", 2)
    sizes: list[int] = []

    def act(ids):
        sizes.append(len(ids))
        return [Outcome.DELETED] * len(ids)

    outcome = run_selected(["a", "b", "c", "d", "e"], act, {}, Outcome.DELETED)
    assert sizes == [2, 2, 1] and outcome.done_jobs == ["a", "b", "c", "d", "e"]


def test_a_filtered_walk_counts_the_jobs_the_filter_selected(conn, factory):
    failed = set(factory.failed(3))
    queue = Queue(connection=conn)
    other = {queue.enqueue(jobs.fail_with, "KeyError", "k").id for _ in range(2)}
    run_worker(conn, "default")
    assert other <= set(FailedJobRegistry("default", connection=conn).get_job_ids())
    job_filter = FailedJobFilter(func_name="gateway.demo.jobs.parse_report")
    view = FilteredView(conn, "default", job_filter, resolve_serializer(None))
    chunks = list(FilteredChunks(view).chunks())
    selected = [e.job_id for _, entries in chunks for e in entries]
    assert set(selected) == failed and not set(selected) & other
    assert chunks[-1][0] == len(failed)


def test_a_filtered_walk_of_an_empty_registry_yields_nothing(conn):
    view = FilteredView(conn, "default", FailedJobFilter(func_name="x"), None)
    assert list(FilteredChunks(view).chunks()) == []
