"""rq_gateway_jobs_acted_total{action,outcome}: the jobs each mutation acted on, counted in the
one place every mutation passes through whichever transport called it (access.py's guard), from
the audit record it writes.

A record lists the jobs a call addressed (`job_id`, `job_ids`) or, for bulk calls, the jobs it
acted on (`ids_from_result`), so a retry-all that requeued 500 jobs counts 500 `ok`, and a retry
of a job that is not in the failed registry counts one `error`. A tracked operation counts the
jobs it acted on once, when it ends (`operation_retry.finish`, `operation_delete.finish`), in the
process that ran its last chunk. Dry runs and idempotent replays act on nothing and are not
counted. `action` takes only the declared action names and `outcome` only ok, refused and error,
so the series stay bounded."""

from __future__ import annotations

from prometheus_client import Counter

from gateway.services.audit import DRY_RUN_SUFFIX, REPLAY_SUFFIX, AuditRecord

JOBS_ACTED = Counter(
    "rq_gateway_jobs_acted",
    "Jobs the gateway's mutations acted on (retried, deleted, canceled, requeued...), by outcome.",
    ["action", "outcome"],
)


def count_acted(record: AuditRecord, acted: int | None = None) -> None:
    """`acted`, when given, is the jobs acted on where the record lists others too (a replay
    lists the job it made)."""
    if record.action.endswith((DRY_RUN_SUFFIX, REPLAY_SUFFIX)):  # acted on nothing
        return
    if acted is None:
        acted = len(record.job_ids) if record.acted is None else record.acted
    JOBS_ACTED.labels(action=record.action, outcome=record.outcome).inc(acted)
