"""Reads of jobs: failed jobs as a list, a stream or a cursor page (filtered or not), a queue's
jobs in one state, and one job by id."""

from __future__ import annotations

import dataclasses
from functools import cached_property

from gateway.errors import InvalidParameter, JobNotFound
from gateway.services.access import read
from gateway.services.domain.failed_job_filter import FailedJobFilter
from gateway.services.domain.models import JobInfo, JobPage
from gateway.services.domain.validation import validate_job_id, validate_page_size
from gateway.services.facade.core import ServiceCore
from gateway.services.reads.browse import Browser, check_page_args
from gateway.services.reads.filtered import filtered_page
from gateway.services.reads.known import ensure_known
from gateway.services.reads.locate import fetch_located_job
from gateway.services.reads.streams import JobStream, filtered_chunks, registry_chunks
from gateway.services.redis.backend import backend_call, backend_steps
from gateway.services.redis.registry import decode_cursor


def _sized(page: JobPage, first: int) -> JobPage:
    """`first` 0 asks for the total alone: an empty page that has no next page, in both
    transports (GraphQL's endCursor would be null, and following it would start over)."""
    return dataclasses.replace(page, has_next_page=False) if first == 0 else page


class JobReads(ServiceCore):
    @read()
    @backend_call()
    def list_failed(
        self,
        queue: str | None = None,
        offset: int = 0,
        limit: int | None = None,
        job_filter: FailedJobFilter | None = None,
    ) -> list[JobInfo]:
        """Failed jobs in registry order (ascending score, ties by id), orphans included.
        With a filter, offset and limit count matching jobs."""
        return [job for chunk in self.stream_failed(queue, offset, limit, job_filter) for job in chunk]

    @read()
    @backend_call()
    def stream_failed(
        self,
        queue: str | None = None,
        offset: int = 0,
        limit: int | None = None,
        job_filter: FailedJobFilter | None = None,
        chunk: int | None = None,
    ) -> JobStream:
        """list_failed's jobs, read as the stream is consumed: `chunk` jobs (default STREAM_CHUNK)
        per Redis round trip, or a filter's walk chunks. Input, access and the first chunk are
        checked now; a Redis failure later is BackendUnavailable raised from the iteration."""
        if offset < 0:
            raise InvalidParameter("offset must be 0 or more")
        if limit is not None and limit < 0:
            raise InvalidParameter("limit must be 0 or more")
        name = self.queue_name(queue)
        if job_filter is not None and not job_filter.is_empty:
            chunks = filtered_chunks(self._view(name, job_filter), offset, limit)
        else:
            chunks = registry_chunks(
                self.connection, self._reader, self.serializer, name, offset, limit, chunk
            )
        stream = JobStream(backend_steps(self.health, chunks, "stream_failed")).prefetched()
        self._known_if_empty(queue, stream.empty)
        return stream

    @read()
    @backend_call()
    def failed_page(
        self,
        queue: str | None = None,
        first: int = 100,
        after: str | None = None,
        with_results: bool = True,
        job_filter: FailedJobFilter | None = None,
        with_total: bool = True,
    ) -> JobPage:
        """A cursor page of failed jobs: the cursor is the last entry's (score, id), so a page
        continues exactly after it even when earlier entries were retried or deleted meanwhile."""
        if job_filter is not None and not job_filter.is_empty:
            validate_page_size(first)
            cursor = decode_cursor(after) if after else None
            view = self._view(self.queue_name(queue), job_filter)
            page = filtered_page(view, first, cursor, with_results, with_total)
            self._known_if_empty(queue, not page.jobs and page.total <= 0)
            return _sized(page, first)
        return self.queue_jobs(queue, "failed", first, after, "asc", with_results)

    @read()
    @backend_call()
    def known_queue(self, queue: str) -> str:
        """A queue named beside a job id (GET /jobs/status/{id}?queue=), checked as every read
        checks the queue it names: outside the key's patterns a 403 (the guard), unknown to RQ a
        404. The job itself is found wherever it is."""
        name = self.queue_name(queue)
        ensure_known(self.connection, name)
        return name

    @read()
    @backend_call()
    def get_job(self, job_id: str, with_results: bool = True) -> JobInfo:
        validate_job_id(job_id)
        self._job_queue(job_id, needs_queue=False)
        job = fetch_located_job(
            self.connection, job_id, self.serializer, self.default_queue, with_results=with_results
        )
        if job is None:
            raise JobNotFound(job_id)
        return self._visible_links(job)

    @cached_property
    def _browser(self) -> Browser:
        return Browser(self.connection, self._reader, self.serializer)

    @read()
    @backend_call()
    def queue_jobs(
        self,
        queue: str | None = None,
        state: str = "queued",
        first: int = 100,
        after: str | None = None,
        order: str = "asc",
        with_results: bool = True,
    ) -> JobPage:
        """A cursor page of a queue's jobs in one state (the queue itself for "queued"), oldest
        first with order "asc". See services/reads/browse.py for how cursors stay stable."""
        check_page_args(state, order, first)
        page = self._browser.page(self.queue_name(queue), state, first, after, order, with_results)
        self._known_if_empty(queue, not page.total)
        return _sized(page, first)
