"""Per-job codes into a bulk answer's lists: done, per-job errors, or neither."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.services.domain.models import JobError
from gateway.services.domain.outcome import RETRY_ERRORS, Outcome
from gateway.services.domain.tally import Tally


def test_done_errors_and_taken_ids_each_go_where_they_belong():
    tally = Tally(Outcome.REQUEUED, RETRY_ERRORS)
    tally.add(["a", "b", "c"], [Outcome.REQUEUED, Outcome.ORPHAN, Outcome.NOT_IN_REGISTRY])
    tally.add(["d"], [Outcome.QUEUE_DAMAGED])
    assert tally.done == ["a"]
    assert tally.errors == [
        JobError("b", RETRY_ERRORS[Outcome.ORPHAN]),
        JobError("d", RETRY_ERRORS[Outcome.QUEUE_DAMAGED]),
    ]  # "c" was taken by another caller: in neither list


def test_a_named_id_that_was_not_there_is_an_error():
    tally = Tally(Outcome.DELETED, {}, missing=lambda job_id: f"{job_id} is not failed")
    tally.add(["a", "b"], [Outcome.NOT_IN_REGISTRY, Outcome.DELETED])
    assert tally.done == ["b"]
    assert tally.errors == [JobError("a", "a is not failed")]


def test_ids_and_codes_must_pair_up():
    with pytest.raises(ValueError):  # a code missing for an id must not pass silently
        Tally(Outcome.DONE, {}).add(["a", "b"], [Outcome.DONE])


@given(st.lists(st.sampled_from(list(Outcome)), max_size=30), st.booleans())
def test_every_id_lands_at_most_once_and_named_ids_exactly_once(codes, named):
    ids = [f"j{i}" for i in range(len(codes))]
    tally = Tally(Outcome.REQUEUED, RETRY_ERRORS, missing=(lambda j: "gone") if named else None)
    tally.add(ids, codes)
    placed = tally.done + [e.job_id for e in tally.errors]
    assert len(placed) == len(set(placed))
    assert set(tally.done) == {i for i, c in zip(ids, codes, strict=True) if c == Outcome.REQUEUED}
    if named:
        assert sorted(placed) == sorted(ids)
