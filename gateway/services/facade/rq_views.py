"""Read-only views of RQ's schedulers and RQ 3 features: CronSchedulers, rq-scheduler's jobs,
rate-limit keys and job groups, each narrowed to the queues the caller may see."""

from __future__ import annotations

from gateway.services.access import read
from gateway.services.domain.rq3 import JobGroupInfo, JobGroupSummary, RateLimitInfo
from gateway.services.domain.schedules import CronView, RqSchedulerView
from gateway.services.domain.validation import validate_name, validate_page_size
from gateway.services.facade.core import ServiceCore
from gateway.services.reads.cron import read_cron
from gateway.services.reads.rq3 import read_job_group, read_job_groups, read_rate_limits
from gateway.services.reads.rq_scheduler import read_rq_scheduler
from gateway.services.redis.backend import backend_call


class RqViews(ServiceCore):
    @read()
    @backend_call()
    def cron(self) -> CronView:
        """RQ's CronSchedulers and their cron jobs (of the queues the key may access; a limited
        key sees no scheduler without one), with each cron job's newest runs; empty without a
        CronScheduler (or with RQ < 2.4)."""
        return read_cron(self.connection, self.may_access_queue, self._restricted)

    @read()
    @backend_call()
    def rq_scheduler(self, limit: int = 100) -> RqSchedulerView:
        """rq-scheduler's scheduled jobs by next run; empty when its key does not exist. A limited
        key's total and page count only its queues' jobs."""
        validate_page_size(limit)
        return read_rq_scheduler(
            self.connection, self.serializer, limit, self._may_see_queue, self._restricted
        )

    def _may_see_queue(self, queue: str | None) -> bool:
        """A job's queue, for reads that list jobs of many queues: a job whose queue is unknown
        is in no pattern, so only keys without patterns see it (as job_access.py rules)."""
        principal = self._principal
        if principal is None or not principal.queues:
            return True
        return queue is not None and principal.may_access_queue(queue)

    @read()
    @backend_call()
    def rate_limits(self) -> list[RateLimitInfo]:
        """RQ 3's rate-limit keys: concurrency, the jobs holding a slot and those waiting."""
        return read_rate_limits(self.connection, self._may_see_queue, self._restricted)

    @read()
    @backend_call()
    def job_groups(self) -> list[JobGroupSummary]:
        """RQ's job groups with their sizes; a queue-limited key lists none (a group spans
        queues: it reads one group by name, and sees only its queues' jobs)."""
        return [] if self._restricted else read_job_groups(self.connection)

    @read()
    @backend_call()
    def job_group(self, name: str) -> JobGroupInfo:
        """One RQ job group's jobs with their statuses (JobGroupNotFound when it has none)."""
        validate_name(name, "job group")
        return read_job_group(self.connection, name, self._may_see_queue, self._restricted)
