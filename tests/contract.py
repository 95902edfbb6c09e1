"""Key sets documented by ../shared/api/job-management-api.md; responses may add keys, never drop these."""

CONTRACT_JOB_KEYS = {"job_id", "func_name", "args", "kwargs", "created_at", "ended_at", "exc_info", "result"}
CONTRACT_STATUS_KEYS = CONTRACT_JOB_KEYS | {
    "status",
    "started_at",
    "is_finished",
    "is_failed",
    "is_started",
    "is_queued",
}
