"""Whether a job matches a query, term by term (services/domain/search_match.py)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.services.domain.models import JobInfo
from gateway.services.domain.search_match import matches, needs_exception, needs_meta
from gateway.services.domain.search_query import SearchQuery, Term, parse_query

TRACEBACK = (
    'Traceback (most recent call last):\n  File "x.py", line 1, in f\n'
    "requests.exceptions.Timeout: upstream took 30s\n"
)
JOB = JobInfo(
    job_id="j1",
    status="failed",
    origin="billing",
    func_name="shop.billing.charge",
    args=["cust-4711", {"amount": 12.5}],
    kwargs={"customer": 4711, "urgent": True, "note": "ACME Corp", "opts": {"strict": True, "depth": 3}},
    description="shop.billing.charge('cust-4711')",
    exc_info=TRACEBACK,
)


@pytest.mark.parametrize(
    "query",
    [
        "id:j1",
        "status:failed queue:billing",
        "func:charge",
        "func:billing.charge",
        "func:shop.billing.charge",
        "exc:Timeout",
        "exc:requests.exceptions.Timeout",
        "args:CUST-4711",
        'args:"\\"amount\\": 12.5"',
        "kwargs.customer:4711",
        "kwargs.urgent:true",
        'kwargs.note:"ACME Corp"',
        # JSON whatever its spacing or key order: as the list renders it, compact, reordered
        'kwargs.opts:"{\\"strict\\": true, \\"depth\\": 3}"',
        'kwargs.opts:{"strict":true,"depth":3}',
        'kwargs.opts:{"depth":3,"strict":true}',
        "meta.region:eu",
        "UPSTREAM",
        "'cust-4711'",
        "",
    ],
)
def test_each_term_that_holds(query: str) -> None:
    assert matches(parse_query(query), JOB, {"region": "eu"})


@pytest.mark.parametrize(
    "query",
    [
        "id:j2",
        "status:finished",
        "queue:other",
        "func:arge",
        "exc:TimeoutError",
        "args:4712",
        "kwargs.customer:471",
        "kwargs.note:acme",
        "kwargs.missing:1",
        "kwargs.urgent:1",  # true is not 1, though Python holds True == 1
        "kwargs.customer:4711.0",
        'kwargs.opts:{"depth":3}',
        "meta.region:us",
        "func:charge status:queued",
    ],
)
def test_each_term_that_does_not(query: str) -> None:
    assert not matches(parse_query(query), JOB, {"region": "eu"})


@pytest.mark.parametrize(
    "query",
    [
        'args:"[\\"cust-4711\\",{\\"amount\\":12.5}]"',  # the args exactly as the list shows them
        'args:"\\"amount\\":12.5"',
        'args:"[\\"cust-4711\\", {\\"amount\\": 12.5}]"',  # as json.dumps and json.tool space them
    ],
)
def test_args_text_is_found_as_the_list_renders_the_args_and_as_json_dumps_spaces_them(query: str) -> None:
    """`args:` looked only in json.dumps's rendering, with a space after each `,` and `:`, while
    the list and GraphQL show args compact (`["cust-4711",{"amount":12.5}]`): text copied from an
    answer found nothing. Either rendering holds it now."""
    assert matches(parse_query(query), JOB, None)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(', :ab1"', max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(", :ab", max_size=3), inner, max_size=3)
    ),
    max_leaves=8,
)


@given(args=st.lists(_json, max_size=3), needle=st.text(', :ab1"[]{}', min_size=1, max_size=6))
def test_args_text_is_found_exactly_when_either_rendering_holds_it(args, needle) -> None:
    """The spaced rendering is only made when it can hold what the compact one does not: the
    answer is the same as searching both."""
    job = JobInfo(job_id="j", status="failed", origin="q", args=args, kwargs=None)
    both = (json.dumps(args, ensure_ascii=False, separators=(",", ":")), json.dumps(args, ensure_ascii=False))
    expected = any(needle.casefold() in rendering.casefold() for rendering in both)
    query = SearchQuery((Term("args", needle),))
    assert matches(query, job, None) == expected


def test_undecodable_args_and_absent_meta_match_no_payload_term() -> None:
    undecodable = JobInfo(job_id="j", status="failed", origin="q", args=None, kwargs=None)
    for query in ("args:x", "args:null", "kwargs.a:1", "meta.a:1"):
        assert not matches(parse_query(query), undecodable, None)


def test_what_a_query_needs_read() -> None:
    assert needs_exception(parse_query("exc:E")) and needs_exception(parse_query("text"))
    assert not needs_exception(parse_query("args:x func:f"))
    assert needs_meta(parse_query("meta.a:1")) and not needs_meta(parse_query("kwargs.a:1"))
