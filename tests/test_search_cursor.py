"""A search cursor: what a page hands out reads back as the same position, and anything else a
client sends is refused with the one InvalidParameter, never another error."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.errors import InvalidParameter
from gateway.services.reads.search_cursor import SEARCH_STATES, decode_search_cursor, encode_search_cursor
from gateway.services.redis.registry import encode_cursor


def test_the_queue_comes_first_and_rate_limited_jobs_last():
    assert SEARCH_STATES[0] == "queued"
    assert SEARCH_STATES[-1] == "rate_limited"
    assert len(set(SEARCH_STATES)) == len(SEARCH_STATES)


@given(
    queue=st.text(min_size=1, max_size=40),
    state=st.sampled_from([state for state in SEARCH_STATES if state not in ("queued", "rate_limited")]),
    score=st.integers(0, 2**40).map(str),
    member=st.binary(min_size=1, max_size=60),
)
def test_a_registry_position_reads_back_as_itself(queue, state, score, member):
    inner = encode_cursor(score, member)
    assert decode_search_cursor(encode_search_cursor(queue, state, inner)) == (queue, state, inner)


@pytest.mark.parametrize("inner", [None, ""])
@pytest.mark.parametrize("state", SEARCH_STATES)
def test_a_source_not_begun_or_read_to_its_end_reads_back_in_every_state(state, inner):
    assert decode_search_cursor(encode_search_cursor("emails", state, inner)) == ("emails", state, inner)


def _packed(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        _packed(["emails", "no-such-state", None]),
        _packed([7, "failed", None]),
        _packed(["emails", "failed", 7]),
        _packed(["emails", "failed"]),
        _packed({"queue": "emails"}),
        _packed(["emails", "failed", "garbage!"]),
    ],
)
def test_a_cursor_of_the_right_encoding_but_not_ours_is_refused(cursor):
    with pytest.raises(InvalidParameter, match="Invalid cursor"):
        decode_search_cursor(cursor)


@given(st.text(max_size=200))
def test_any_text_sent_as_a_cursor_reads_back_or_is_refused_with_the_one_error(text):
    try:
        queue, state, inner = decode_search_cursor(text)
    except InvalidParameter as refused:
        assert refused.message.startswith("Invalid cursor ")
    else:
        assert isinstance(queue, str) and state in SEARCH_STATES and isinstance(inner, (str, type(None)))
