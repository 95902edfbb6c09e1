"""Input checks done before Redis is touched (services/domain/validation.py)."""

from __future__ import annotations

import pytest

from gateway.errors import InvalidJobId, InvalidParameter
from gateway.services import FailedJobFilter
from gateway.services.domain.validation import MAX_PAGE_SIZE, validate_job_id, validate_page_size


@pytest.mark.parametrize("first", [0, 1, MAX_PAGE_SIZE])
def test_page_sizes_from_zero_to_the_maximum_are_accepted(first):
    assert validate_page_size(first) == first


@pytest.mark.parametrize("first", [-1, MAX_PAGE_SIZE + 1])
def test_a_page_size_out_of_bounds_is_refused_naming_the_bounds(first):
    with pytest.raises(InvalidParameter, match=f"first must be between 0 and {MAX_PAGE_SIZE}"):
        validate_page_size(first)


def test_every_page_read_uses_the_same_bound(service):
    for read in (
        lambda: service.queue_jobs(first=MAX_PAGE_SIZE + 1),
        lambda: service.audit_log(first=MAX_PAGE_SIZE + 1),
        lambda: service.failed_page(first=MAX_PAGE_SIZE + 1, job_filter=FailedJobFilter(func_name="x")),
    ):
        with pytest.raises(InvalidParameter, match=str(MAX_PAGE_SIZE)):
            read()


def test_a_job_id_outside_rqs_pattern_is_refused():
    assert validate_job_id("a-b_C9") == "a-b_C9"
    with pytest.raises(InvalidJobId):
        validate_job_id("a:b")
