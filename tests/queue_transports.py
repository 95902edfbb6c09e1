"""Queue, worker and cleanup operations through REST and GraphQL, in REST's snake_case shape (see
tests/transports.py)."""

from __future__ import annotations

from tests.transports import JOB_FIELDS, GraphQL, Rest

QUEUE_FIELDS = (
    "queueName queuedCount failedCount startedCount finishedCount deferredCount scheduledCount "
    "canceledCount latencySeconds workerCount"
)
WORKER_FIELDS = (
    "name state queues currentJobId successfulJobCount failedJobCount totalWorkingTime lastHeartbeat "
    "birthDate hostname pid suspended suspendedUntil"
)
CLEANUP_FIELDS = "queueName totalRemoved removed { started finished failed deferred scheduled canceled }"


class QueueRest(Rest):
    def queues(self):
        return self._json(self.client.get("/api/v1/queues"))

    def queue(self, name):
        return self._json(self.client.get(f"/api/v1/queues/{name}"))

    def jobs_page(self, name, state, limit=100, cursor=None, order="asc"):
        params = {"state": state, "limit": limit, "order": order}
        if cursor:
            params["cursor"] = cursor
        return self._json(self.client.get(f"/api/v1/queues/{name}/jobs", params=params))

    def workers(self):
        return self._json(self.client.get("/api/v1/workers"))

    def cleanup(self, name):
        return self._json(self.client.post(f"/api/v1/queues/{name}/cleanup"))


class QueueGraphQL(GraphQL):
    def queues(self):
        return self.run(f"{{ queues {{ {QUEUE_FIELDS} }} }}")["queues"]

    def queue(self, name):
        return self.run(f"query($n: String!) {{ queue(name: $n) {{ {QUEUE_FIELDS} }} }}", n=name)["queue"]

    def jobs_page(self, name, state, limit=100, cursor=None, order="asc"):
        """The connection in REST's {"jobs", "total", "next_cursor"} shape."""
        query = (
            "query($n: String!, $s: JobState!, $f: Int, $a: String, $o: SortOrder!) { queue(name: $n) { "
            f"jobs(state: $s, first: $f, after: $a, order: $o) {{ totalCount nodes {{ {JOB_FIELDS} }} "
            "edges { cursor } pageInfo { hasNextPage endCursor } } } }"
        )
        variables = {"n": name, "s": state.upper(), "f": limit, "a": cursor, "o": order.upper()}
        page = self.run(query, **variables)["queue"]["jobs"]
        assert [edge["cursor"] for edge in page["edges"]][-1:] == [page["page_info"]["end_cursor"]][
            : len(page["edges"])
        ]
        info = page["page_info"]
        return {
            "jobs": page["nodes"],
            "total": page["total_count"],
            "next_cursor": info["end_cursor"] if info["has_next_page"] else None,
        }

    def workers(self):
        return self.run(f"{{ workers {{ {WORKER_FIELDS} }} }}")["workers"]

    def cleanup(self, name):
        query = f"mutation($n: String!) {{ cleanupQueue(name: $n) {{ {CLEANUP_FIELDS} }} }}"
        return self.run(query, n=name)["cleanup_queue"]


def walk(api, name, state, order="asc", limit=2):
    """Every job of a state, page by page: (total of the first page, jobs)."""
    page = api.jobs_page(name, state, limit, None, order)
    total, found = page["total"], page["jobs"]
    while page["next_cursor"]:
        page = api.jobs_page(name, state, limit, page["next_cursor"], order)
        found += page["jobs"]
    return total, found
