"""The one bulk-answer mapping of each transport (rest/models/bulk.py, graphql/types/bulk.py): every
bulk outcome, group outcomes included, gives the same values in REST's keys and GraphQL's fields."""

from __future__ import annotations

import dataclasses

from hypothesis import given
from hypothesis import strategies as st

from gateway.graphql import types
from gateway.rest import models
from gateway.services import BulkOutcome, GroupOutcome, JobError

ids = st.lists(st.from_regex(r"[a-z0-9-]{1,12}", fullmatch=True), max_size=5, unique=True)
errors = st.lists(st.builds(JobError, job_id=st.text(max_size=8), error=st.text(max_size=20)), max_size=3)
bulk = st.builds(BulkOutcome, total_failed=st.integers(0, 10**6), done_jobs=ids, errors=errors)
group = st.builds(
    GroupOutcome,
    total_failed=st.integers(0, 10**6),
    done_jobs=ids,
    errors=errors,
    group_id=st.from_regex(r"[0-9a-f]{16}", fullmatch=True),
    dry_run=st.booleans(),
    matched_count=st.integers(0, 1000),
)

PAIRS = {
    "requeued": [(models.RetryAll, types.RetryAllResult), (models.GroupRetry, types.RetryFailureGroupResult)],
    "deleted": [(models.Clear, types.ClearResult), (models.GroupDelete, types.DeleteFailureGroupResult)],
}


def _graphql_values(result) -> dict:
    values = {field.name: getattr(result, field.name) for field in dataclasses.fields(result)}
    values["errors"] = [{"job_id": e.job_id, "error": e.error} for e in values["errors"]]
    return values


def _expected(outcome: BulkOutcome, verb: str) -> dict:
    expected = {
        "success": not outcome.errors,
        "total_failed": outcome.total_failed,
        f"{verb}_count": len(outcome.done_jobs),
        "error_count": len(outcome.errors),
        f"{verb}_jobs": outcome.done_jobs,
        "errors": [{"job_id": e.job_id, "error": e.error} for e in outcome.errors],
    }
    if isinstance(outcome, GroupOutcome):
        expected.update(
            group_id=outcome.group_id, dry_run=outcome.dry_run, matched_count=outcome.matched_count
        )
    return expected


@given(bulk, group)
def test_both_transports_give_every_bulk_outcome_the_same_values(outcome, group_outcome):
    for verb, ((rest_bulk, graphql_bulk), (rest_group, graphql_group)) in PAIRS.items():
        for rest, graphql, given_outcome in (
            (rest_bulk, graphql_bulk, outcome),
            (rest_group, graphql_group, group_outcome),
        ):
            expected = _expected(given_outcome, verb)
            assert rest.of(given_outcome).model_dump() == expected
            assert _graphql_values(graphql.of(given_outcome)) == expected
