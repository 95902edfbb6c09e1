"""Whether a job matches a search query (search_query.py): every term must hold.

- `id:`, `status:`, `queue:` (the job's origin) are exact.
- `func:` and `exc:` are exact, or name the last dotted part: `func:charge` matches
  `billing.charge`, `exc:Timeout` matches `requests.exceptions.Timeout`.
- `args:TEXT` is a case-insensitive substring of the args' JSON rendering: compact, as the list
  shows them (`["cust-4711",2]`), or spaced as json.dumps writes them (`["cust-4711", 2]`). Args
  the gateway cannot decode (a pickled object of a class it cannot import) are None, and no
  `args:` term matches them; the job's other terms still can.
- `kwargs.NAME:VALUE` and `meta.NAME:VALUE` hold when the value under NAME renders exactly as
  VALUE: a string as itself, anything else as JSON (`4711`, `true`, `null`), compared as JSON so
  spacing and key order do not matter (`{"a":1,"b":2}` is `{"b": 2, "a": 1}`), and `true` is
  never `1`.
- Free text is a case-insensitive substring of the description or of the exception line.

The job is matched as the caller sees it: under --hide-payloads a viewer's job has its
description reduced to the bare call, so free text never matches the arguments it hides.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from gateway.services.domain import json_text
from gateway.services.domain.models import JobInfo
from gateway.services.domain.search_query import FREE, SearchQuery, Term
from gateway.services.domain.tracebacks import exception_line, exception_type

Test = Callable[[JobInfo, Any], bool]  # (job, its decoded meta or None) -> whether it matches


def matches(query: SearchQuery, job: JobInfo, meta: dict[str, Any] | None = None) -> bool:
    return predicate(query)(job, meta)


@lru_cache(maxsize=64)
def predicate(query: SearchQuery) -> Test:
    """The query as one test, built once: a scan calls it for every job it examines, so each
    term's needle is folded and its rendering chosen here, not per job."""
    tests = tuple(_TESTS[term.field](term) for term in query.terms)
    if len(tests) == 1:
        return tests[0]
    return lambda job, meta: all(test(job, meta) for test in tests)


def needs_exception(query: SearchQuery) -> bool:
    """Whether matching reads the traceback (from the job's results stream)."""
    return any(term.field in ("exc", FREE) for term in query.terms)


def needs_meta(query: SearchQuery) -> bool:
    return any(term.field == "meta" for term in query.terms)


def _qualified(actual: str | None, wanted: str) -> bool:
    """Exact, or the last dotted part(s) of a qualified name."""
    return actual is not None and (actual == wanted or actual.endswith("." + wanted))


# One encoder each, built once: json.dumps with any argument builds a new JSONEncoder per call,
# which a scan over 100,000 jobs pays 100,000 times (json.dumps(x, **kw) is encoder.encode(x)).
_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))
_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_SPACED = json.JSONEncoder(ensure_ascii=False)


def _canonical_json(value: Any) -> str:
    return _CANONICAL.encode(value)


@lru_cache(maxsize=256)
def _as_json(text: str) -> str | None:
    """A term's value in canonical JSON, or None when it is not JSON (then only a string matches)."""
    try:
        return _canonical_json(json_text.loads(text))
    except ValueError:
        return None


def _equals(value: Any, wanted: str) -> bool:
    if isinstance(value, str):
        return value == wanted
    # Canonical renderings, not Python's ==, which holds 1 == 1.0 == True.
    return _canonical_json(value) == _as_json(wanted)


def _in_mapping(mapping: Any, term: Term) -> bool:
    return isinstance(mapping, dict) and term.name in mapping and _equals(mapping[term.name], term.value)


def _args(term: Term) -> Test:
    """The args as the list and GraphQL show them (compact), then as json.dumps spaces them, when
    that can hold the needle where the compact one does not. The spaced rendering is the compact
    one with a space after each `,` and `:` between values: a needle that holds no such space
    (neither `, ` nor `: `, and no leading space) found in it is found in the compact one too, so
    a scan renders the args once for most needles, as it did before both were searched."""
    needle = term.value.casefold()
    spaced = needle.startswith(" ") or ", " in needle or ": " in needle

    def test(job: JobInfo, _meta: Any) -> bool:
        args = job.args
        if args is None:
            return False
        return needle in _COMPACT.encode(args).casefold() or (
            spaced and needle in _SPACED.encode(args).casefold()
        )

    return test


def _free(term: Term) -> Test:
    needle = term.value.casefold()

    def test(job: JobInfo, _meta: Any) -> bool:
        texts = (job.description, exception_line(job.exc_info))
        return any(text is not None and needle in text.casefold() for text in texts)

    return test


def _exact(read: Callable[[JobInfo], str | None]) -> Callable[[Term], Test]:
    return lambda term: lambda job, _meta: read(job) == term.value


def _named(read: Callable[[JobInfo], str | None]) -> Callable[[Term], Test]:
    return lambda term: lambda job, _meta: _qualified(read(job), term.value)


_TESTS: dict[str, Callable[[Term], Test]] = {
    "id": _exact(lambda job: job.job_id),
    "status": _exact(lambda job: job.status),
    "queue": _exact(lambda job: job.origin),
    "func": _named(lambda job: job.func_name),
    "exc": _named(lambda job: exception_type(job.exc_info)),
    "args": _args,
    "kwargs": lambda term: lambda job, _meta: _in_mapping(job.kwargs, term),
    "meta": lambda term: lambda _job, meta: _in_mapping(meta, term),
    FREE: _free,
}
