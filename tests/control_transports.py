"""The on-call controls (issue 15) through REST and GraphQL, answering alike: (None, the result in
REST's snake_case shape) or (the GraphQL error code, the message), so parity tests compare them."""

from __future__ import annotations

from typing import Any

from tests.transports import to_rest_shape

CODES = {403: "FORBIDDEN", 404: "NOT_FOUND", 409: "CONFLICT", 422: "BAD_REQUEST", 401: "UNAUTHENTICATED"}
SUSPENSION = "suspended until"
COMMAND = "success workerName command jobId message"
ENQUEUE_NOW = "success jobId queue enqueuedBy message"
REPLAY = "jobId replayOf queue"
Answer = tuple[str | None, Any]


class RestControl:
    name = "rest"

    def __init__(self, client, headers: dict | None = None):
        self.client = client
        self.headers = headers

    def _answer(self, response) -> Answer:
        if response.status_code == 200:
            return None, response.json()
        return CODES[response.status_code], response.json()["detail"]

    def _post(self, path: str, **params: Any) -> Answer:
        params = {k: v for k, v in params.items() if v is not None}
        return self._answer(self.client.post(path, params=params, headers=self.headers))

    def stop(self, job_id: str) -> Answer:
        return self._post(f"/api/v1/jobs/{job_id}/stop")

    def enqueue_now(self, job_id: str, force: bool = False) -> Answer:
        return self._post(f"/api/v1/jobs/{job_id}/enqueue-now", force=str(force).lower())

    def replay(self, job_id: str, queue: str | None = None) -> Answer:
        return self._post(f"/api/v1/jobs/{job_id}/replay", queue=queue)

    def suspend(self, duration: int | None = None) -> Answer:
        return self._post("/api/v1/workers/suspend", duration=duration)

    def resume(self) -> Answer:
        return self._post("/api/v1/workers/resume")

    def suspension(self) -> Answer:
        return self._answer(self.client.get("/api/v1/workers/suspension", headers=self.headers))

    def shutdown(self, name: str, kill_horse: bool = False) -> Answer:
        return self._post(f"/api/v1/workers/{name}/shutdown", kill_horse=str(kill_horse).lower())


class GraphQLControl:
    name = "graphql"

    def __init__(self, client, headers: dict | None = None):
        self.client = client
        self.headers = headers

    def _run(self, document: str, field: str, **variables: Any) -> Answer:
        response = self.client.post(
            "/graphql", json={"query": document, "variables": variables}, headers=self.headers
        )
        body = response.json()
        if body.get("errors"):
            error = body["errors"][0]
            return error["extensions"]["code"], error["message"]
        return None, to_rest_shape(body["data"][field])

    def stop(self, job_id: str) -> Answer:
        document = f"mutation($id: ID!) {{ stopJob(id: $id) {{ {COMMAND} }} }}"
        return self._run(document, "stopJob", id=job_id)

    def enqueue_now(self, job_id: str, force: bool = False) -> Answer:
        document = (
            "mutation($id: ID!, $force: Boolean!) "
            f"{{ enqueueJobNow(id: $id, force: $force) {{ {ENQUEUE_NOW} }} }}"
        )
        return self._run(document, "enqueueJobNow", id=job_id, force=force)

    def replay(self, job_id: str, queue: str | None = None) -> Answer:
        document = (
            f"mutation($id: ID!, $queue: String) {{ replayJob(id: $id, queue: $queue) {{ {REPLAY} }} }}"
        )
        return self._run(document, "replayJob", id=job_id, queue=queue)

    def suspend(self, duration: int | None = None) -> Answer:
        document = f"mutation($d: Int) {{ suspendWorkers(duration: $d) {{ {SUSPENSION} }} }}"
        return self._run(document, "suspendWorkers", d=duration)

    def resume(self) -> Answer:
        return self._run(f"mutation {{ resumeWorkers {{ {SUSPENSION} }} }}", "resumeWorkers")

    def suspension(self) -> Answer:
        return self._run(f"{{ workerSuspension {{ {SUSPENSION} }} }}", "workerSuspension")

    def shutdown(self, name: str, kill_horse: bool = False) -> Answer:
        document = (
            "mutation($n: String!, $k: Boolean!) "
            f"{{ shutdownWorker(name: $n, killHorse: $k) {{ {COMMAND} }} }}"
        )
        return self._run(document, "shutdownWorker", n=name, k=kill_horse)
