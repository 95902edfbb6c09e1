"""Every view a viewer has of jobs, on both transports: the bodies the payload tests search for a
secret under --hide-payloads."""

from __future__ import annotations

from collections.abc import Iterable

from fastapi.testclient import TestClient

STATES = ("queued", "failed", "finished")
JOB_FIELDS = (
    "id status funcName args kwargs createdAt enqueuedAt startedAt endedAt result excInfo origin "
    "description isFinished isFailed isStarted isQueued location { queue registry } dependencyIds "
    "dependentIds"
)
GRAPHQL_VIEWS = (
    f"query($q: String) {{ failedJobs(queue: $q) {{ nodes {{ {JOB_FIELDS} }} }} }}",
    *(
        f"query($q: String!) {{ queue(name: $q) {{ jobs(state: {state.upper()}) "
        f"{{ nodes {{ {JOB_FIELDS} }} }} }} }}"
        for state in STATES
    ),
    "query($q: String) { failureGroups(queue: $q) { groups { funcName excType message sampleJobId } } }",
    f'query($q: String) {{ searchJobs(query: "", queue: $q) {{ nodes {{ {JOB_FIELDS} }} }} }}',
)


def viewer_bodies(client: TestClient, queues: Iterable[str], job_ids: Iterable[str]) -> list[str]:
    """The raw response bodies of every job view of `queues` and of each job, REST and GraphQL."""
    bodies = []

    def get(path: str, **params) -> None:
        response = client.get(path, params=params)
        assert response.status_code == 200, (path, response.text)
        bodies.append(response.text)

    def query(document: str, **variables) -> None:
        response = client.post("/graphql", json={"query": document, "variables": variables})
        assert "errors" not in response.json(), response.text
        bodies.append(response.text)

    for queue in queues:
        get("/api/v1/jobs/failed", queue=queue)
        get("/api/v1/jobs/failed/groups", queue=queue)
        for state in STATES:
            get(f"/api/v1/queues/{queue}/jobs", state=state)
        get("/api/v1/search", queue=queue)
        for document in GRAPHQL_VIEWS:
            query(document, q=queue)
    for job_id in job_ids:
        get(f"/api/v1/jobs/status/{job_id}")
        query(f"query($id: ID!) {{ job(id: $id) {{ {JOB_FIELDS} }} }}", id=job_id)
    return bodies
