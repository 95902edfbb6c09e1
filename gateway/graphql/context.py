"""What every resolver reads from its request: the caller's service and the selection."""

from __future__ import annotations

from strawberry.types import Info

from gateway.services import JobService

# Job fields read from the results stream: fetched for a whole page in its one pipeline, and
# only when the query asks for one of them.
_RESULT_FIELDS = frozenset({"excInfo", "result"})


def service_of(info: Info) -> JobService:
    """The request's service, bound to its API key (see graphql/router.py)."""
    return info.context["service"]


def asks_for_results(selections) -> bool:
    return any(
        getattr(selection, "name", None) in _RESULT_FIELDS
        or asks_for_results(getattr(selection, "selections", ()))
        for selection in selections
    )
