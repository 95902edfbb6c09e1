"""An operation's state read back (operations/readback.py): what a runner or a reader gets from the
hash and the errors list, and what it refuses rather than guesses at."""

from __future__ import annotations

import pytest

from gateway.errors import InvalidInput
from gateway.services.domain.outcome import Outcome
from gateway.services.operations.readback import (
    NOT_IN_REGISTRY_MESSAGE,
    error_entry,
    operation_from_state,
    recorded_error,
    stored_request,
)

STATE = {
    "id": "op1",
    "action": "retry",
    "queue": "default",
    "selector": '{"all":true}',
    "status": "running",
    "total": "5",
    "done": "3",
    "matched": "3",
    "acted": "2",
    "error_count": "1",
    "started_at": "2026-12-01T00:00:00Z",
    "key": "admin",
}


def test_a_state_reads_back_as_the_operation_with_its_counts_and_errors():
    operation = operation_from_state("op1", STATE, [b"%d job-9" % Outcome.NOT_IN_REGISTRY])
    assert (operation.total, operation.done, operation.matched, operation.acted) == (5, 3, 3, 2)
    assert operation.selector == {"all": True} and operation.finished_at is None
    assert [(e.job_id, e.error) for e in operation.errors] == [("job-9", NOT_IN_REGISTRY_MESSAGE)]
    assert stored_request(STATE)[0] == "retry"


@pytest.mark.parametrize(
    "damage",
    [
        {"id": "op2"},
        {"status": "paused"},
        {"done": "-1"},
        {"done": "three"},
        {"selector": '{"all":true,"group_id":"g"}'},
        {"selector": '{"everything":true}'},
        {"selector": "[]"},
    ],
)
def test_a_damaged_state_is_refused_not_guessed_at(damage):
    with pytest.raises((KeyError, ValueError, TypeError, InvalidInput)):
        operation_from_state("op1", {**STATE, **damage}, [])


def test_a_damaged_request_is_a_value_error_for_the_runner():
    with pytest.raises(ValueError):
        stored_request({**STATE, "selector": '{"everything":true}'})
    with pytest.raises(ValueError):
        stored_request({k: v for k, v in STATE.items() if k != "action"})


def test_error_entries_read_back_as_recorded_and_damaged_ones_as_they_are():
    assert error_entry("not-a-code job-1").job_id == "not-a-code job-1"
    assert error_entry("999 job-1").error == "failed"
    recorded = recorded_error(Outcome.NOT_IN_REGISTRY, b"caf\xc3\xa9")
    assert (recorded.job_id, recorded.error) == ("café", NOT_IN_REGISTRY_MESSAGE)
