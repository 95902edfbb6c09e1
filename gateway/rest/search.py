"""GET /api/v1/search: jobs across queues and registries matching a query (README "Search").
A plain `def`: FastAPI runs the scan in its threadpool, never on the event loop."""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeAlias

from fastapi import APIRouter, Query

from gateway.errors import BackendUnavailable, InvalidInput, NotFound
from gateway.rest.deps import ServiceDep
from gateway.rest.errors import error_responses
from gateway.rest.models.search import SearchResult
from gateway.services import DOCUMENTED_QUEUE_NAME_PATTERN, MAX_PAGE_SIZE, STATES

_ERRORS = error_responses(
    (NotFound, "`queue` or a `queue:` term names a queue RQ does not know"),
    (InvalidInput, "A malformed query (the detail says at which position), state, limit or cursor"),
    BackendUnavailable,
)

State: TypeAlias = Literal[STATES]  # pyright: ignore[reportInvalidTypeForm]  -- the states, from the one tuple

router = APIRouter(prefix="/api/v1", tags=["search"])


@router.get("/search", response_model=SearchResult, responses=_ERRORS, name="search_jobs")
def search_jobs(
    service: ServiceDep,
    q: Annotated[
        str,
        Query(
            description="Terms, all of which must hold: `id:`, `func:`, `exc:`, `status:`, "
            "`queue:`, `args:TEXT`, `kwargs.NAME:VALUE`, `meta.NAME:VALUE`, free text; "
            'quote values with spaces ("a b").',
            examples=['func:charge kwargs.customer:4711 "card declined"'],
        ),
    ] = "",
    queue: Annotated[
        str | None,
        Query(
            description="Search this queue only. Without it, every queue the API key may access.",
            json_schema_extra={"pattern": DOCUMENTED_QUEUE_NAME_PATTERN},
        ),
    ] = None,
    state: Annotated[
        State | None,
        Query(description="Search this state only: the queue itself, or one registry. Without it, all."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="At most this many jobs.")] = 100,
    cursor: Annotated[
        str | None, Query(description="A `next_cursor`, to go on where a search stopped.")
    ] = None,
) -> Any:
    """Jobs matching `q`, in scan order: queues by name, each queue's waiting jobs first, then its
    registries; then RQ 3's jobs waiting for a rate-limit slot. One request examines at most
    --search-scan-limit jobs; `complete` says whether it reached the end, and `next_cursor` goes
    on from where it stopped. An `id:` query is one lookup."""
    return SearchResult.of(service.search(q, queue, state, limit, cursor))
