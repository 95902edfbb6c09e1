"""The search query language (services/domain/search_query.py): what parses to what, where a
malformed query is said to fail, and two properties over generated input: a printed query parses
back equal, and any text gives a query or a positioned InvalidQuery, never another exception."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from gateway.errors import InvalidQuery
from gateway.services.domain.models import JOB_STATUSES
from gateway.services.domain.search_query import (
    FREE,
    MAX_QUERY_LENGTH,
    NAMED,
    SIMPLE,
    SearchQuery,
    Term,
    parse_query,
    print_query,
)


def test_every_qualifier_and_free_text_parse_into_anded_terms() -> None:
    query = parse_query(
        "id:abc func:app.charge exc:ValueError status:failed queue:payments args:4711 "
        'kwargs.customer:"ACME Corp" meta.region:eu-1 "connection refused" timeout'
    )
    assert query.terms == (
        Term("id", "abc"),
        Term("func", "app.charge"),
        Term("exc", "ValueError"),
        Term("status", "failed"),
        Term("queue", "payments"),
        Term("args", "4711"),
        Term("kwargs", "ACME Corp", "customer"),
        Term("meta", "eu-1", "region"),
        Term(FREE, "connection refused"),
        Term(FREE, "timeout"),
    )


def test_quotes_escape_only_quote_and_backslash_and_a_bare_value_may_hold_colons() -> None:
    assert parse_query(r'args:"say \"hi\" \\ bye"').terms == (Term("args", 'say "hi" \\ bye'),)
    assert parse_query("func:mod:fn").terms == (Term("func", "mod:fn"),)
    assert parse_query("  ").terms == ()


@pytest.mark.parametrize(
    ("text", "position", "says"),
    [
        ("fucn:charge", 0, "unknown qualifier 'fucn'"),
        ("args:4711 http://x", 10, "unknown qualifier 'http'"),
        ("func:", 5, "func: needs a value"),
        ("status:lost", 7, "unknown status 'lost'"),
        ('args:"open', 5, "unterminated quote"),
        ('"a"b', 3, "expected a space"),
        (r'"a\n"', 2, "escapes only"),
        ("kwargs.:1", 7, "kwargs. needs a name"),
        ("meta.9x:1", 5, "meta. needs a name"),
        ("x" * (MAX_QUERY_LENGTH + 1), MAX_QUERY_LENGTH, "at most"),
        # Empty quoted free text matched every job, as no term does: an operation's guard
        # against a query with no term took it as a criterion.
        ('""', 0, "free text needs a value"),
        ('func:x ""', 7, "free text needs a value"),
    ],
)
def test_a_malformed_query_says_where(text: str, position: int, says: str) -> None:
    with pytest.raises(InvalidQuery) as raised:
        parse_query(text)
    assert raised.value.position == position
    assert f"at position {position}: " in raised.value.message
    assert says in raised.value.message


_values = st.text(min_size=1, max_size=30)
_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_-]{0,10}", fullmatch=True)
_simple = st.builds(
    Term,
    st.sampled_from([field for field in SIMPLE if field != "status"]),
    _values,
)
_status = st.builds(Term, st.just("status"), st.sampled_from(JOB_STATUSES))
_named = st.builds(Term, st.sampled_from(NAMED), _values, _names)
_free = st.builds(Term, st.just(FREE), st.text(min_size=1, max_size=30))
_queries = st.builds(
    SearchQuery,
    st.lists(st.one_of(_simple, _status, _named, _free), max_size=6).map(tuple),
)


@given(_queries)
@example(SearchQuery((Term(FREE, 'a"b'), Term(FREE, " "), Term("args", '"x'), Term(FREE, "a:b"))))
def test_a_printed_query_parses_back_equal(query: SearchQuery) -> None:
    assert parse_query(print_query(query)) == query


@given(st.text(max_size=60) | st.from_regex(r'(\w+[.:]?\w*:?"?[\w \\"]*"?\s?){0,4}', fullmatch=True))
def test_any_text_is_a_query_or_a_positioned_error(text: str) -> None:
    try:
        query = parse_query(text)
    except InvalidQuery as error:
        assert 0 <= error.position <= len(text)
    else:
        assert parse_query(print_query(query)) == query
