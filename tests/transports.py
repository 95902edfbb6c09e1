"""One body, two transports: each helper does an operation through REST or GraphQL and returns
the answer in REST's snake_case shape, so parity tests can compare them directly."""

from __future__ import annotations

import re
from typing import Any

JOB_FIELDS = (
    "id status funcName args kwargs createdAt enqueuedAt startedAt endedAt result excInfo origin "
    "description isFinished isFailed isStarted isQueued"
)
# job(id) also says where the job is and what it depends on.
STATUS_FIELDS = f"{JOB_FIELDS} location {{ queue registry }} dependencyIds dependentIds"
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

    def failed_filtered(self, queue=None, **criteria):
        return self._json(self.client.get("/api/v1/jobs/failed", params={**(_q(queue) or {}), **criteria}))

    def retry_all_filtered(self, queue=None, dry_run=False, **criteria):
        params = {**(_q(queue) or {}), **criteria, "dry_run": str(dry_run).lower()}
        return self._json(self.client.post("/api/v1/jobs/failed/retry-all", params=params))

    def clear_filtered(self, queue=None, dry_run=False, **criteria):
        params = {**(_q(queue) or {}), **criteria, "dry_run": str(dry_run).lower()}
        return self._json(self.client.delete("/api/v1/jobs/failed/clear", params=params))

    def retry_selected(self, job_ids, queue=None):
        body = {"job_ids": job_ids}
        return self._json(self.client.post("/api/v1/jobs/failed/retry", params=_q(queue), json=body))

    def delete_selected(self, job_ids, queue=None):
        body = {"job_ids": job_ids}
        return self._json(self.client.post("/api/v1/jobs/failed/delete", params=_q(queue), json=body))

    def cancel(self, job_id):
        return self._json(self.client.post(f"/api/v1/jobs/{job_id}/cancel"))

    def requeue(self, job_id):
        return self._json(self.client.post(f"/api/v1/jobs/{job_id}/requeue"))


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
        return self.run(f"query($id: ID!) {{ job(id: $id) {{ {STATUS_FIELDS} }} }}", id=job_id)["job"]

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

    def failed_filtered(self, queue=None, **criteria):
        query = (
            "query($q: String, $f: FailedJobFilter) { failedJobs(queue: $q, first: 1000, filter: $f) "
            f"{{ nodes {{ {JOB_FIELDS} }} }} }}"
        )
        return self.run(query, q=queue, f=_camel(criteria))["failed_jobs"]["nodes"]

    def retry_all_filtered(self, queue=None, dry_run=False, **criteria):
        fields = f"{BULK_FIELDS} requeuedCount requeuedJobs"
        query = (
            "mutation($q: String, $f: FailedJobFilter, $d: Boolean!) "
            f"{{ retryAllFailedJobs(queue: $q, filter: $f, dryRun: $d) {{ {fields} }} }}"
        )
        return self.run(query, q=queue, f=_camel(criteria), d=dry_run)["retry_all_failed_jobs"]

    def clear_filtered(self, queue=None, dry_run=False, **criteria):
        fields = f"{BULK_FIELDS} deletedCount deletedJobs"
        query = (
            "mutation($q: String, $f: FailedJobFilter, $d: Boolean!) "
            f"{{ clearFailedJobs(queue: $q, filter: $f, dryRun: $d) {{ {fields} }} }}"
        )
        return self.run(query, q=queue, f=_camel(criteria), d=dry_run)["clear_failed_jobs"]

    def retry_selected(self, job_ids, queue=None):
        fields = f"{BULK_FIELDS} requeuedCount requeuedJobs"
        query = (
            f"mutation($ids: [ID!]!, $q: String) {{ retryFailedJobs(ids: $ids, queue: $q) {{ {fields} }} }}"
        )
        return self.run(query, ids=job_ids, q=queue)["retry_failed_jobs"]

    def delete_selected(self, job_ids, queue=None):
        fields = f"{BULK_FIELDS} deletedCount deletedJobs"
        query = (
            f"mutation($ids: [ID!]!, $q: String) {{ deleteFailedJobs(ids: $ids, queue: $q) {{ {fields} }} }}"
        )
        return self.run(query, ids=job_ids, q=queue)["delete_failed_jobs"]

    def cancel(self, job_id):
        query = "mutation($id: ID!) { cancelJob(id: $id) { success jobId message } }"
        return self.run(query, id=job_id)["cancel_job"]

    def requeue(self, job_id):
        query = "mutation($id: ID!) { requeueJob(id: $id) { success jobId message } }"
        return self.run(query, id=job_id)["requeue_job"]


def _q(queue):
    return {"queue": queue} if queue is not None else None


def _camel(criteria: dict) -> dict | None:
    return {re.sub(r"_([a-z])", lambda m: m.group(1).upper(), k): v for k, v in criteria.items()} or None
