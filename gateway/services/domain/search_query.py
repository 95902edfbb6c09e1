"""The search query language: parse a query into terms, and print terms back as a query.

A query is terms separated by spaces, all of which must hold (AND):

    id:ID  func:NAME  exc:TYPE  status:STATUS  queue:NAME  args:TEXT
    kwargs.NAME:VALUE  meta.NAME:VALUE  TEXT

A value runs to the next space, or is quoted: "two words", with \\" and \\\\ as the only escapes;
no value is empty (`args:""`, `""`: an empty text is inside every text).
A bare word is free text; a bare word with a ':' must start with a known qualifier, so a typo
such as `fucn:charge` is an error rather than free text that never matches (quote free text
that holds a ':'). Errors say where: InvalidQuery carries the 0-based position of the problem.
`print_query(parse_query(text))` is canonical, and `parse_query(print_query(q)) == q` for every
query (tests/test_search_query.py checks it over generated queries).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gateway.errors import InvalidQuery
from gateway.services.domain.models import JOB_STATUSES

MAX_QUERY_LENGTH = 1000
# Qualifiers taking a value as is; `kwargs.` and `meta.` take a name first.
SIMPLE = ("id", "func", "exc", "status", "queue", "args")
NAMED = ("kwargs", "meta")
FREE = "text"  # the field of a free-text term
# What follows `kwargs.` or `meta.`: a Python identifier (kwargs), or a meta key written the same way.
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_QUOTE = '"'
_HELP = "use id:, func:, exc:, status:, queue:, args:, kwargs.NAME:, meta.NAME:, or quote free text"


@dataclass(frozen=True)
class Term:
    """One condition. `field` is a qualifier (SIMPLE), `kwargs`/`meta` with `name`, or FREE."""

    field: str
    value: str
    name: str = ""


@dataclass(frozen=True)
class SearchQuery:
    terms: tuple[Term, ...] = ()

    def values(self, field: str) -> list[str]:
        return [term.value for term in self.terms if term.field == field]

    @property
    def reads_payload(self) -> bool:
        """Whether a term looks inside args, kwargs or meta (hidden under --hide-payloads)."""
        return any(term.field in ("args", *NAMED) for term in self.terms)


def parse_query(text: str) -> SearchQuery:
    """The query `text` says; InvalidQuery, with the position, when it is malformed."""
    if len(text) > MAX_QUERY_LENGTH:
        raise InvalidQuery(MAX_QUERY_LENGTH, f"a query is at most {MAX_QUERY_LENGTH} characters")
    terms: list[Term] = []
    position = _skip_space(text, 0)
    while position < len(text):
        term, position = _term(text, position)
        terms.append(term)
        if position < len(text) and not text[position].isspace():
            raise InvalidQuery(position, "expected a space after the closing quote")
        position = _skip_space(text, position)
    return SearchQuery(tuple(terms))


def print_query(query: SearchQuery) -> str:
    return " ".join(_print_term(term) for term in query.terms)


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position].isspace():
        position += 1
    return position


def _term(text: str, start: int) -> tuple[Term, int]:
    if text[start] == _QUOTE:
        value, end = _quoted(text, start)
        if value == "":  # it would match every job, as no term does
            raise InvalidQuery(start, "free text needs a value")
        return Term(FREE, value), end
    end = _word_end(text, start)
    word = text[start:end]
    qualifier, colon, _ = word.partition(":")
    if not colon:
        return Term(FREE, word), end
    field, name = _qualifier(qualifier, start)
    value_start = start + len(qualifier) + 1
    if value_start < len(text) and text[value_start] == _QUOTE:
        value, end = _quoted(text, value_start)
    else:
        value = text[value_start:end]
    if value == "":
        raise InvalidQuery(value_start, f"{qualifier}: needs a value")
    if field == "status" and value not in JOB_STATUSES:
        raise InvalidQuery(
            value_start, f"unknown status {value[:40]!r}: use one of {', '.join(JOB_STATUSES)}"
        )
    return Term(field, value, name), end


def _word_end(text: str, start: int) -> int:
    end = start
    while end < len(text) and not text[end].isspace():
        end += 1
    return end


def _qualifier(qualifier: str, start: int) -> tuple[str, str]:
    if qualifier in SIMPLE:
        return qualifier, ""
    field, dot, name = qualifier.partition(".")
    if field in NAMED and dot:
        if not _NAME.fullmatch(name):
            raise InvalidQuery(start + len(field) + 1, f"{field}. needs a name (letters, digits, '_', '-')")
        return field, name
    raise InvalidQuery(start, f"unknown qualifier {qualifier[:40]!r}: {_HELP}")


def _quoted(text: str, start: int) -> tuple[str, int]:
    """The value of the quoted string opening at `start`, and the position after its close."""
    chars: list[str] = []
    position = start + 1
    while position < len(text):
        char = text[position]
        if char == _QUOTE:
            return "".join(chars), position + 1
        if char == "\\":
            if position + 1 >= len(text) or text[position + 1] not in '"\\':
                raise InvalidQuery(position, 'a backslash in quotes escapes only " or \\')
            char = text[position + 1]
            position += 1
        chars.append(char)
        position += 1
    raise InvalidQuery(start, "unterminated quote")


def _print_term(term: Term) -> str:
    if term.field == FREE:
        bare = term.value and ":" not in term.value and not term.value.startswith(_QUOTE)
        return term.value if bare and _no_space(term.value) else _quote(term.value)
    head = f"{term.field}.{term.name}:" if term.field in NAMED else f"{term.field}:"
    bare = _no_space(term.value) and not term.value.startswith(_QUOTE)
    return head + (term.value if bare else _quote(term.value))


def _no_space(value: str) -> bool:
    return not any(char.isspace() for char in value)


def _quote(value: str) -> str:
    return _QUOTE + value.replace("\\", "\\\\").replace(_QUOTE, '\\"') + _QUOTE
