"""Search across jobs (issue 13 item 3): the caller's search scope and a page of matches
(services/reads/search.py, search_page.py)."""

from __future__ import annotations

from gateway.errors import Forbidden
from gateway.services.access import public, read
from gateway.services.domain.models import SearchPage
from gateway.services.domain.search_query import SearchQuery, parse_query
from gateway.services.facade.core import ServiceCore
from gateway.services.payloads import hide_payloads
from gateway.services.reads.search import SearchScope
from gateway.services.reads.search_cursor import check_cursor_fits
from gateway.services.reads.search_page import DEFAULT_SCAN_LIMIT, lookup_page, search_page, search_scope
from gateway.services.redis.backend import backend_call


class Search(ServiceCore):
    search_scan_limit: int = DEFAULT_SCAN_LIMIT  # --search-scan-limit, set by the app

    @public
    def search_scope(
        self, query: SearchQuery, queue: str | None = None, state: str | None = None
    ) -> SearchScope:
        """Where a search by this service's caller looks, and what it may match: every queue the
        key may access (or the named one), and jobs as the caller sees them. Under
        --hide-payloads a viewer may not search args, kwargs or meta (Forbidden)."""
        hides = self.scope is not None and self.scope.hides_payloads
        if hides and query.reads_payload:
            raise Forbidden(
                "Job payloads are hidden from this API key (--hide-payloads): args:, kwargs. and "
                "meta. terms are not allowed, and free text matches only the bare call"
            )
        return search_scope(
            self.connection,
            query,
            queue,
            state,
            self.may_access_queue,
            self._check_queue,
            hide_payloads if hides else None,
            self._own_jobs_only,
        )

    @read(queue_arg="")  # not one queue: search_scope checks the named one, or keeps the allowed ones
    @backend_call()
    def search(
        self,
        query: str,
        queue: str | None = None,
        state: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
        scan_limit: int | None = None,
    ) -> SearchPage:
        """A page of the jobs matching `query` (services/domain/search_query.py), examining at
        most search_scan_limit entries, or `scan_limit` when less (what a GraphQL request's
        earlier searches left of it); `cursor` resumes where the last page stopped."""
        parsed = parse_query(query)
        bound = self.search_scan_limit if scan_limit is None else min(scan_limit, self.search_scan_limit)
        scope = self.search_scope(parsed, queue, state)
        if cursor:
            named = _named_queue(parsed, queue) is not None
            check_cursor_fits(cursor, scope.states, scope.queues if named else None)
        if parsed.values("id"):
            page = lookup_page(
                self.connection, self.serializer, parsed, scope, self.default_queue, limit, cursor
            )
        else:
            page = search_page(self.connection, self.serializer, parsed, scope, limit, cursor, bound)
        self._known_if_empty(_named_queue(parsed, queue), not page.jobs and page.complete)
        return page


def _named_queue(query: SearchQuery, queue: str | None) -> str | None:
    """The one queue a search names, by `?queue=` or by `queue:` terms (all the same name): an
    empty answer from a queue RQ does not know is QueueNotFound either way, as everywhere."""
    named = set(query.values("queue"))
    if queue is not None:
        return queue
    return named.pop() if len(named) == 1 else None
