"""ServiceCore: what every JobService feature shares. The connection, the default queue and
serializer, Redis health, the request scope a transport binds (JobService.scoped), and the private
helpers the feature mixins call: which queue, is it known, may the caller access it, where a job is."""

from __future__ import annotations

from typing import Any

import redis
from rq.serializers import resolve_serializer

from gateway.errors import BackendUnavailable, Forbidden, GatewayError
from gateway.services.access import public
from gateway.services.domain.failed_job_filter import FailedJobFilter
from gateway.services.domain.models import JobInfo
from gateway.services.domain.validation import validate_job_id, validate_queue_name
from gateway.services.job_access import authorise_job, hidden_jobs, unseen_jobs, visible_links
from gateway.services.principal import Principal, RequestScope
from gateway.services.reads.filtered import FilteredView
from gateway.services.reads.known import ensure_known
from gateway.services.reads.snapshot import SharedRead, read_snapshot
from gateway.services.redis.backend import BackendHealth, backend_call, probe
from gateway.services.redis.origins import linked_ids, read_places
from gateway.services.redis.registry import RegistryReader
from gateway.services.writes.failed_actions import FailedJobActions


class ServiceCore:
    def __init__(
        self,
        connection: redis.Redis,
        default_queue: str = "default",
        serializer: Any = None,
        instance: str | None = None,
    ):
        self.connection = connection
        self.default_queue = validate_queue_name(default_queue)
        self.serializer = resolve_serializer(serializer)
        self._reader = RegistryReader(connection)
        # `instance`: this Redis' name when the gateway serves several (its 503s name it).
        self.health = BackendHealth(instance)
        self._snapshots = SharedRead(lambda: read_snapshot(connection))  # shared by scoped copies

    @public
    def queue_name(self, queue: str | None = None) -> str:
        return validate_queue_name(queue if queue is not None else self.default_queue)

    @public
    @backend_call(probe=True)
    def ping(self) -> bool:
        probe(self.connection)
        return True

    def _actions(self, queue: str | None, dry_run: bool = False) -> FailedJobActions:
        return FailedJobActions(
            self.connection, self.queue_name(queue), self.serializer, dry_run, self._own_jobs_only
        )

    def _view(self, queue_name: str, job_filter: FailedJobFilter) -> FilteredView:
        only_origin = queue_name if self._own_jobs_only else None
        return FilteredView(self.connection, queue_name, job_filter, self.serializer, only_origin)

    def _known_if_empty(self, queue: str | None, empty: bool) -> None:
        """A queue named explicitly whose answer is empty must be one RQ knows, or the answer is
        QueueNotFound rather than zeros (services/reads/known.py). Checked only when empty, so a
        non-empty answer costs no extra round trip; the default queue is never checked."""
        if queue is not None and empty:
            ensure_known(self.connection, self.queue_name(queue))

    scope: RequestScope | None = None

    @public
    def may_access_queue(self, queue: str) -> bool:
        """For operations that list queues: keep only the names the caller's key may access."""
        return self.scope is None or self.scope.principal.may_access_queue(queue)

    @public
    def seen_outage(self, error: BackendUnavailable) -> BackendUnavailable:
        """An outage met outside a guarded call (a live stream's shared read), as the caller
        may read it: the guard does the same for every call (RequestScope.seen_outage)."""
        return error if self.scope is None else self.scope.seen_outage(error)

    @property
    def _principal(self) -> Principal | None:
        return self.scope.principal if self.scope is not None else None

    @property
    def _principal_name(self) -> str:
        return self.scope.principal.name if self.scope is not None else "anonymous"

    def _check_queue(self, queue: str) -> None:
        """Forbidden.queue for a queue outside the caller's patterns: for the queues a call names
        beyond the one its guard checks (a replay's target, a search's `queue:` terms)."""
        if not self.may_access_queue(queue):
            raise Forbidden.queue(self._principal_name, queue)

    def _job_queue(
        self, job_id: str, queue: str | None = None, registry: bool = False, needs_queue: bool = True
    ) -> str:
        """The queue an operation on one job acts on, once job_access.authorise_job allows it.
        Where the job is is read here, once, and only when the check or the operation needs it.
        `registry`: the operation acts on a failed registry (retry, delete)."""
        named = self.queue_name(queue) if queue is not None else None
        place = read_places(self.connection, [job_id])[0] if needs_queue or self._restricted else None
        return authorise_job(self._principal, job_id, place, named, self.default_queue, registry)

    def _visible_links(self, job: JobInfo) -> JobInfo:
        """The job with only the dependencies and dependents the caller may see (one more round
        trip, for a queue-limited key reading a job that links to others)."""
        linked = linked_ids(job) if self._restricted else []
        return visible_links(self._principal, job, read_places(self.connection, linked)) if linked else job

    def _unseen(self, job_ids: list[str]) -> set[str]:
        """Of ids shown in a record (an audit entry, an operation), those of jobs the caller may
        not see (job_access.unseen_jobs): one round trip, for a queue-limited key only."""
        principal = self._principal
        if principal is None or not principal.queues or not job_ids:
            return set()
        return unseen_jobs(principal, read_places(self.connection, list(dict.fromkeys(job_ids))))

    def _recorded_queue(self, job_id: str) -> str | None:
        """The job's queue for the audit record of a call refused before its job was checked."""
        try:
            validate_job_id(job_id)
            return read_places(self.connection, [job_id])[0].queue
        except (GatewayError, redis.RedisError):
            return None  # the refusal is answered and recorded all the same

    @property
    def _restricted(self) -> bool:
        """Whether the caller's key is limited to queue patterns."""
        principal = self._principal
        return principal is not None and bool(principal.queues)

    @property
    def _own_jobs_only(self) -> bool:
        """Whether bulk actions take only a queue's own jobs: for a queue-limited key, a job in
        the queue's failed registry whose origin is another queue is as absent as anywhere else."""
        return self._restricted

    def _hidden_jobs(self, job_ids: list[str]) -> set[str]:
        places = read_places(self.connection, job_ids) if self._restricted else []
        return hidden_jobs(self._principal, places)
