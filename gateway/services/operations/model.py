"""What a tracked operation is: its request (action, queue, selector) and its state, with no
Redis in sight. The store (store.py) keeps the state in Redis; the runner (runner.py) moves it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, cast

from gateway.errors import InvalidParameter
from gateway.services.domain.failed_job_filter import FailedJobFilter
from gateway.services.domain.models import JobError
from gateway.services.domain.search_query import SearchQuery, parse_query
from gateway.services.domain.validation import validate_job_id
from gateway.services.redis.origins import JobPlace
from gateway.services.writes.groups import validate_group_id

ACTIONS = ("retry", "delete")
STATUSES = ("running", "succeeded", "failed", "canceled")
SELECTOR_KINDS = ("all", "filter", "group_id", "job_ids", "query")
FILTER_FIELDS = ("func_name", "exc_type", "search", "failed_after", "failed_before")
# Ids a job_ids selector may name: they are kept in the operation's state, so it stays small.
MAX_OPERATION_IDS = 10_000
ERRORS_SHOWN = 100
# Errors an operation keeps (it lists the first ERRORS_SHOWN): a limited reader's view leaves the
# ids it may not see out of `error_count` too (operations/seen.py), which needs each error's id.
# As many as named ids may have, so a job_ids operation keeps every one.
ERRORS_KEPT = MAX_OPERATION_IDS
_USE_ALL = 'to select every failed job, use {"all": true}'


@dataclass(frozen=True)
class Selector:
    """Which failed jobs of the queue an operation takes: exactly one kind, checked on parse."""

    kind: str
    value: Any

    @classmethod
    def parse(cls, raw: Any) -> Selector:
        if isinstance(raw, dict):  # a null field is absent, as in GraphQL's input and in a filter
            raw = {kind: value for kind, value in cast("dict[Any, Any]", raw).items() if value is not None}
        if not isinstance(raw, dict) or len(raw) != 1:
            unknown = _unknown(raw, SELECTOR_KINDS)
            raise InvalidParameter(f"selector must hold exactly one of {', '.join(SELECTOR_KINDS)}{unknown}")
        ((kind, value),) = raw.items()
        if kind == "all":
            if value is not True:
                raise InvalidParameter('selector "all" must be true')
        elif kind == "filter":
            value = _filter(value)
        elif kind == "group_id":
            if not isinstance(value, str):
                raise InvalidParameter("selector group_id must be a string")
            validate_group_id(value)  # an empty or oversized one too
        elif kind == "job_ids":
            value = _job_ids(value)
        elif kind == "query":
            if not isinstance(value, str):
                raise InvalidParameter("selector query must be a search query string")
            query = parse_query(value)  # a malformed query is refused now, saying where
            if not query.terms:
                raise InvalidParameter(
                    f"selector query is empty: it would select every failed job; {_USE_ALL}"
                )
            if query.values("id"):
                raise InvalidParameter("selector query cannot use id: terms; use job_ids")
        else:
            raise InvalidParameter(f"unknown selector {_shown(kind)}: use one of {', '.join(SELECTOR_KINDS)}")
        return cls(kind, value)

    @property
    def as_dict(self) -> dict[str, Any]:
        return {self.kind: self.value}

    def to_json(self) -> str:
        return json.dumps(self.as_dict, sort_keys=True, separators=(",", ":"))

    @property
    def query(self) -> SearchQuery:
        return parse_query(self.value)

    @property
    def job_filter(self) -> FailedJobFilter:
        return FailedJobFilter.parse(**self.value)


def _unknown(raw: Any, known: tuple[str, ...]) -> str:
    """The fields of `raw` not `known`, as "; unknown field 'x'" (names cut short, as a client
    may send anything), so a misspelt one (GraphQL's `jobIds` in a REST body) is named."""
    if not isinstance(raw, dict):
        return ""
    unknown = [_shown(name) for name in cast("dict[Any, Any]", raw) if name not in known]
    if not unknown:
        return ""
    shown = ", ".join(unknown[:_NAMES_SHOWN]) + (", ..." if len(unknown) > _NAMES_SHOWN else "")
    return f"; unknown field{'s' if len(unknown) > 1 else ''} {shown}"


def _shown(name: Any) -> str:
    text = str(name)
    return repr(text if len(text) <= _NAME_SHOWN else text[:_NAME_SHOWN] + "...")


_NAME_SHOWN, _NAMES_SHOWN = 64, 5


def _filter(value: Any) -> dict[str, str]:
    """The filter's criteria, blank ones (empty or spaces only) left out as absent, as REST's
    filter parameters leave out an empty one; a filter with none left would select every
    failed job, which only {"all": true} may ask for (an empty shell variable must not clear a
    queue)."""
    if not isinstance(value, dict) or set(value) - set(FILTER_FIELDS):
        raise InvalidParameter(
            f"selector filter takes only {', '.join(FILTER_FIELDS)}{_unknown(value, FILTER_FIELDS)}"
        )
    if any(v is not None and not isinstance(v, str) for v in value.values()):
        raise InvalidParameter("selector filter values must be strings")
    given = {name: text for name, text in value.items() if text is not None and text.strip()}
    if not given:
        raise InvalidParameter(
            f"selector filter has no criterion: it would select every failed job; {_USE_ALL}"
        )
    FailedJobFilter.parse(**given)  # refuses bad dates now, not in the runner
    return given


def _job_ids(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidParameter("selector job_ids must be a list of job ids")
    if not value or len(value) > MAX_OPERATION_IDS:
        raise InvalidParameter(f"selector job_ids must hold 1 to {MAX_OPERATION_IDS} ids, got {len(value)}")
    for job_id in value:
        validate_job_id(job_id)
    return list(dict.fromkeys(value))


def validate_action(action: str) -> str:
    if action not in ACTIONS:
        raise InvalidParameter(f"action must be one of {', '.join(ACTIONS)}, got {action!r}")
    return action


@dataclass(frozen=True)
class Operation:
    """A tracked bulk operation as any process reads it from Redis. `total` jobs are examined
    (the registry's entries when it started, or the ids named); `done` of them so far, of which
    `matched` were selected and `acted` retried or deleted; `errors` lists the first 100 of
    `error_count`. A dry run acts on nothing: every count is what the operation would report if it
    ran now on the same data (`acted`: the jobs it would retry or delete)."""

    id: str
    action: str
    queue: str
    selector: dict[str, Any]
    status: str
    total: int
    done: int
    matched: int
    acted: int
    error_count: int
    started_at: str
    finished_at: str | None
    key: str
    dry_run: bool = False
    errors: list[JobError] = field(default_factory=list)


def named_ids(operation: Operation) -> list[str]:
    """The job ids an operation shows besides its counts: its selector's, and its errors'."""
    selected = operation.selector.get("job_ids")
    ids = [job_id for job_id in selected if isinstance(job_id, str)] if isinstance(selected, list) else []
    return list(dict.fromkeys([*ids, *(error.job_id for error in operation.errors)]))


@dataclass(frozen=True)
class OperationSighting:
    """An operation and where each job it names is (named_ids), read once for every subscriber
    of its live stream: each sees it through its own key (JobService.view_operation)."""

    operation: Operation
    places: tuple[JobPlace, ...] = ()
    # Every error it kept, when it lists fewer than it counts (seen.py needs them; None: not read).
    every_error: tuple[JobError, ...] | None = None
