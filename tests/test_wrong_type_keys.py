"""RQ's keys holding the wrong Redis type (a job hash that is a string or a list, the workers set
that is a string) on the calls that read them with a single command or a script, not a read
pipeline: never a 500. Worker controls and job actions answer 409 CONFLICT naming the damage, and
/readyz reads the damaged sets as absent, as every listing does."""

from __future__ import annotations

import pytest

DAMAGED = "Redis holds data of the wrong type where this request needs RQ's (damaged data); inspect it"


@pytest.mark.parametrize("damage", ["string", "list"])
@pytest.mark.parametrize("action", ["stop", "enqueue-now", "cancel", "requeue"])
def test_an_action_on_a_job_key_of_the_wrong_type_is_a_conflict_not_a_500(client, conn, damage, action):
    if damage == "string":
        conn.set("rq:job:damaged", "x")
    else:
        conn.rpush("rq:job:damaged", "x")
    response = client.post(f"/api/v1/jobs/damaged/{action}")
    assert (response.status_code, response.json()["detail"]) == (409, DAMAGED), response.text


def test_graphql_says_the_same_with_conflict(client, conn):
    conn.set("rq:job:damaged", "x")
    mutation = 'mutation { stopJob(id: "damaged") { workerName } }'
    body = client.post("/graphql", json={"query": mutation}).json()
    (error,) = body["errors"]
    assert (error["extensions"]["code"], error["message"]) == ("CONFLICT", DAMAGED)


def test_a_damaged_workers_set(client, conn):
    conn.set("rq:workers", "x")
    conn.set("rq:queues", "y")
    assert client.get("/readyz").json() == {"status": "ready"}
    response = client.post("/api/v1/workers/w1/shutdown")
    assert (response.status_code, response.json()["detail"]) == (409, DAMAGED)
