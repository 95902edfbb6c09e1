"""Live views (issue 11, subscriptions): gateway/live reads once for every subscriber with the
unbound service; each subscriber sees that read through its own key with these methods."""

from __future__ import annotations

from gateway.errors import JobNotFound
from gateway.services.access import read
from gateway.services.domain.models import JobInfo, QueueInfo
from gateway.services.domain.validation import validate_job_id
from gateway.services.facade.core import ServiceCore
from gateway.services.job_access import authorise_job, visible_links
from gateway.services.reads.sighting import JobSighting, read_sighting
from gateway.services.redis.backend import backend_call


class LiveViews(ServiceCore):
    @read()
    def live_queue(self, queue: str | None = None) -> str:
        """The queue whose counts a live stream watches (the default queue when None), once the
        caller's key may access it: the guard checks the role and the queue patterns."""
        return self.queue_name(queue)

    @read()
    def view_queues(self, queues: list[QueueInfo]) -> list[QueueInfo]:
        """A shared `queues` read as this caller sees it: only the queues its key may access."""
        return [queue for queue in queues if self.may_access_queue(queue.name)]

    @read()
    @backend_call()
    def sight_job(self, job_id: str) -> JobSighting:
        """The job and its place, read once for every subscriber of its live stream; JobNotFound
        when it is gone (or, for a bound service, hidden from the key)."""
        validate_job_id(job_id)
        sighting = read_sighting(self.connection, job_id, self.serializer, self.default_queue)
        self.view_job(job_id, sighting)  # gone, or hidden from a bound key: JobNotFound
        return sighting

    @read()
    def view_job(self, job_id: str, sighting: JobSighting) -> JobInfo:
        """A shared sighting as this caller sees it: the job, if its key may see the job's queue
        (else JobNotFound, as for a missing job), its payloads hidden if configured."""
        authorise_job(self._principal, job_id, sighting.place, None, self.default_queue)
        if sighting.job is None:
            raise JobNotFound(job_id)
        return visible_links(self._principal, sighting.job, list(sighting.links))
