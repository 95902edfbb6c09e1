"""One body, two transports: each helper does an operation through REST or GraphQL and returns
the answer in REST's snake_case shape, so parity tests can compare them directly."""

from __future__ import annotations

import re
from typing import Any

JOB_FIELDS = (
    "id status funcName args kwargs createdAt enqueuedAt startedAt endedAt result excInfo origin "
    "description isFinished isFailed isStarted isQueued"
)
BULK_FIELDS = "success totalFailed errorCount errors { jobId error }"


def snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def to_rest_shape(value: Any) -> Any:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            key = "job_id" if key == "id" else snake(key)
            out[key] = item.lower() if key == "status" and isinstance(item, str) else to_rest_shape(item)
        return out
    if isinstance(value, list):
        return [to_rest_shape(item) for item in value]
    return value


class GraphQLError(Exception):
    def __init__(self, errors: list[dict]):
        super().__init__(errors[0]["message"])
        self.errors = errors
        self.code = errors[0]["extensions"]["code"]


class Rest:
    name = "rest"

    def __init__(self, client):
        self.client = client

    def _json(self, response):
        if response.status_code != 200:
            raise AssertionError(f"{response.status_code}: {response.text}")
        return response.json()

    def failed(self, queue=None):
        return self._json(self.client.get("/api/v1/jobs/failed", params=_q(queue)))

    def status(self, job_id):
        return self._json(self.client.get(f"/api/v1/jobs/status/{job_id}"))

    def stats(self, queue=None):
        return self._json(self.client.get("/api/v1/jobs/stats", params=_q(queue)))

    def retry(self, job_id, queue=None):
        return self._json(self.client.post(f"/api/v1/jobs/failed/{job_id}/retry", params=_q(queue)))

    def delete(self, job_id, queue=None):
        return self._json(self.client.delete(f"/api/v1/jobs/failed/{job_id}", params=_q(queue)))

    def retry_all(self, queue=None):
        return self._json(self.client.post("/api/v1/jobs/failed/retry-all", params=_q(queue)))

    def clear(self, queue=None):
        return self._json(self.client.delete("/api/v1/jobs/failed/clear", params=_q(queue)))


class GraphQL:
    name = "graphql"

    def __init__(self, client):
        self.client = client

    def run(self, query: str, **variables):
        body = self.client.post("/graphql", json={"query": query, "variables": variables}).json()
        if body.get("errors"):
            raise GraphQLError(body["errors"])
        return to_rest_shape(body["data"])

    def failed(self, queue=None):
        query = f"query($q: String) {{ failedJobs(queue: $q, first: 1000) {{ nodes {{ {JOB_FIELDS} }} }} }}"
        return self.run(query, q=queue)["failed_jobs"]["nodes"]

    def status(self, job_id):
        return self.run(f"query($id: ID!) {{ job(id: $id) {{ {JOB_FIELDS} }} }}", id=job_id)["job"]

    def stats(self, queue=None):
        query = (
            "query($q: String) { queueStats(queue: $q) { queueName queuedCount failedCount startedCount "
            "finishedCount deferredCount scheduledCount canceledCount } }"
        )
        return self.run(query, q=queue)["queue_stats"]

    def retry(self, job_id, queue=None):
        query = (
            "mutation($id: ID!, $q: String) { retryFailedJob(id: $id, queue: $q) { success jobId message } }"
        )
        return self.run(query, id=job_id, q=queue)["retry_failed_job"]

    def delete(self, job_id, queue=None):
        query = (
            "mutation($id: ID!, $q: String) { deleteFailedJob(id: $id, queue: $q) { success jobId message } }"
        )
        return self.run(query, id=job_id, q=queue)["delete_failed_job"]

    def retry_all(self, queue=None):
        fields = f"{BULK_FIELDS} requeuedCount requeuedJobs"
        query = f"mutation($q: String) {{ retryAllFailedJobs(queue: $q) {{ {fields} }} }}"
        return self.run(query, q=queue)["retry_all_failed_jobs"]

    def clear(self, queue=None):
        fields = f"{BULK_FIELDS} deletedCount deletedJobs"
        query = f"mutation($q: String) {{ clearFailedJobs(queue: $q) {{ {fields} }} }}"
        return self.run(query, q=queue)["clear_failed_jobs"]


def _q(queue):
    return {"queue": queue} if queue is not None else None
