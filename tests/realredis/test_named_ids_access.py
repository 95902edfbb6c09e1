"""Job ids a caller named on a queue's records: an unrestricted admin's selected retry and job_ids
operation on billing-eu that name reports jobs. The audit record and the operation (its selector
and errors) belong to billing-eu, so billing-* keys read them; they must not read the reports
jobs' ids there (status/{id} answers 404 for them), while an id that names no job at all, or a
billing job, stays (a deleted job's id is the trail's whole point)."""

from __future__ import annotations

from rq import Queue

from gateway.demo import jobs
from tests.live_session import Session, connect

from .helpers import API, wait_until
from .job_access import _secret, bearer, keyed_app_client

LIVE = "subscription($id: ID!) { operation(id: $id, intervalMs: 500) { selector errors { jobId } } }"


def _read_by(r, client, key: str, operation_id: str, subscription: str) -> tuple[dict, dict]:
    """The ended operation as `key` reads it over REST (the same in the list of operations) and
    in a subscription's first payload."""
    found = client.get(f"/api/v1/operations/{operation_id}", headers=bearer(key)).json()
    assert found["status"] != "running", key
    (listed,) = client.get("/api/v1/operations", headers=bearer(key)).json()["operations"]
    assert listed == found, key
    with connect(keyed_app_client(r)) as ws:
        live = Session(ws)
        live.init(_secret(key))
        live.subscribe("1", subscription, id=operation_id)
        streamed = live.payload("1")["data"]["operation"]
    return found, streamed


def test_ids_of_other_queues_jobs_named_on_a_queue_are_hidden_from_its_limited_readers(r, fail_jobs):
    (foreign,) = fail_jobs(1, "reports")
    (own,) = fail_jobs(1, "billing-eu")
    waiting = Queue("billing-eu", connection=r).enqueue(jobs.add, 1, 2).id  # a billing job, not failed
    named = [foreign, own, waiting, "no-such-job"]
    client = keyed_app_client(r)
    admin = bearer("admin-all")
    body = {"job_ids": named}
    assert client.post(f"{API}/failed/delete?queue=billing-eu", json=body, headers=admin).status_code == 200
    started = client.post(
        "/api/v1/operations",
        json={"action": "retry", "queue": "billing-eu", "selector": {"job_ids": named}},
        headers=admin,
    ).json()

    def ended(key: str) -> dict | None:
        found = client.get(f"/api/v1/operations/{started['id']}", headers=bearer(key)).json()
        return found if found["status"] != "running" else None

    everyone = [foreign, waiting, "no-such-job"]  # `own` was deleted by the selected delete
    seen = [waiting, "no-such-job"]
    whole = wait_until(lambda: ended("admin-all"), 30, "the operation to end")
    assert whole["selector"]["job_ids"] == named
    assert [error["job_id"] for error in whole["errors"]] == [*everyone[:1], own, *everyone[1:]]
    for key in ("viewer-billing", "admin-billing"):
        limited, streamed = _read_by(r, client, key, started["id"], LIVE)
        assert limited["selector"]["job_ids"] == [own, *seen], key
        assert [error["job_id"] for error in limited["errors"]] == [own, *seen], key
        assert streamed["selector"]["job_ids"] == [own, *seen], key
        assert [error["jobId"] for error in streamed["errors"]] == [own, *seen], key
    trail = client.get("/api/v1/audit", headers=bearer("admin-billing")).json()["entries"]
    deleted = next(entry for entry in trail if entry["action"] == "delete_selected")
    assert deleted["job_ids"] == [own, *seen]
    assert deleted["job_count"] == 3  # the reports job is not counted either
    trail = client.get("/api/v1/audit", headers=admin).json()["entries"]
    whole_record = next(entry for entry in trail if entry["action"] == "delete_selected")
    assert (whole_record["job_ids"], whole_record["job_count"]) == (named, 4)


COUNTS = ("total", "done", "matched", "acted", "error_count")
LIVE_COUNTS = """subscription($id: ID!) { operation(id: $id, intervalMs: 500) {
  status total done matched acted errorCount errors { jobId } } }"""


def test_a_limited_reader_counts_another_keys_operation_as_if_it_named_only_the_ids_it_may_see(r, fail_jobs):
    """The ids of other queues' jobs were left out of the operation's selector and errors, but
    its counts (total, done, matched, acted, error_count) still counted them: their difference
    from the ids shown told a billing-* reader how many jobs of other queues were named. It now
    reads exactly what an operation naming only the ids it may see reports (the admin's dry run
    of them, before), with more errors than the 100 an operation lists too."""
    own = fail_jobs(2, "billing-eu")
    reports = Queue("reports", connection=r)
    foreign = [reports.enqueue(jobs.add, 1, i).id for i in range(110)]  # jobs of reports: hidden
    missing = [f"no-such-job-{i}" for i in range(110)]  # ids of no job: seen by everyone
    named = [own[0], *(job_id for pair in zip(foreign, missing, strict=True) for job_id in pair), own[1]]
    client = keyed_app_client(r)
    admin = bearer("admin-all")

    def start(ids: list[str], dry_run: bool) -> dict:
        body = {"action": "retry", "queue": "billing-eu", "selector": {"job_ids": ids}, "dry_run": dry_run}
        return client.post("/api/v1/operations", json=body, headers=admin).json()

    expected = start([own[0], *missing, own[1]], dry_run=True)
    started = start(named, dry_run=False)

    def ended(key: str) -> dict | None:
        found = client.get(f"/api/v1/operations/{started['id']}", headers=bearer(key)).json()
        return found if found["status"] != "running" else None

    whole = wait_until(lambda: ended("admin-all"), 30, "the operation to end")
    assert [whole[name] for name in COUNTS] == [222, 222, 222, 2, 220]
    assert [expected[name] for name in COUNTS] == [112, 112, 112, 2, 110]
    for key in ("viewer-billing", "admin-billing"):
        limited, streamed = _read_by(r, client, key, started["id"], LIVE_COUNTS)
        assert [limited[name] for name in COUNTS] == [expected[name] for name in COUNTS], key
        assert [e["job_id"] for e in limited["errors"]] == [e["job_id"] for e in expected["errors"]], key
        assert [streamed[name] for name in ("total", "done", "matched", "acted", "errorCount")] == [
            expected[name] for name in COUNTS
        ], key
        assert [e["jobId"] for e in streamed["errors"]] == [e["job_id"] for e in expected["errors"]], key


def test_a_search_selector_naming_another_queue_is_hidden_from_its_limited_readers(r, fail_jobs):
    """An unrestricted admin may retry the entries of billing-eu's failed registry that belong to
    reports (`queue:reports`): the operation is billing-eu's, and its query names reports."""
    fail_jobs(1, "billing-eu")
    Queue("reports", connection=r)  # a queue RQ knows
    client = keyed_app_client(r)
    started = {}
    for query in ("queue:reports", "queue:billing-eu parse_report"):
        body = {"action": "retry", "queue": "billing-eu", "selector": {"query": query}}
        started[query] = client.post("/api/v1/operations", json=body, headers=bearer("admin-all")).json()[
            "id"
        ]

    def selectors(key: str) -> dict[str, object]:
        return {
            query: client.get(f"/api/v1/operations/{op}", headers=bearer(key)).json()["selector"]["query"]
            for query, op in started.items()
        }

    assert selectors("admin-all") == {query: query for query in started}
    for key in ("viewer-billing", "operator-billing"):
        assert selectors(key) == {
            "queue:reports": None,
            "queue:billing-eu parse_report": "queue:billing-eu parse_report",
        }
        listed = client.get("/api/v1/operations", headers=bearer(key)).json()["operations"]
        assert {op["id"]: op["selector"]["query"] for op in listed} == {
            started["queue:reports"]: None,
            started["queue:billing-eu parse_report"]: "queue:billing-eu parse_report",
        }


def test_the_ids_a_limited_key_named_itself_stay_in_its_records(r, fail_jobs):
    """Its own selected delete and job_ids operation naming a reports job answered that id as
    a missing one ("not found in failed jobs registry"); leaving it out of its own records would
    set it apart from a missing one."""
    (foreign,) = fail_jobs(1, "reports")
    fail_jobs(1, "billing-eu")
    client = keyed_app_client(r)
    key = bearer("admin-billing")
    named = [foreign, "no-such-job"]
    assert (
        client.post(f"{API}/failed/delete?queue=billing-eu", json={"job_ids": named}, headers=key).status_code
        == 200
    )
    body = {"action": "delete", "queue": "billing-eu", "selector": {"job_ids": named}}
    started = client.post("/api/v1/operations", json=body, headers=key).json()
    done = wait_until(
        lambda: (
            (found := client.get(f"/api/v1/operations/{started['id']}", headers=key).json())["status"]
            != "running"
            and found
        ),
        30,
        "the operation to end",
    )
    assert done["selector"]["job_ids"] == named and [e["job_id"] for e in done["errors"]] == named
    (entry,) = [
        e
        for e in client.get("/api/v1/audit", headers=key).json()["entries"]
        if e["action"] == "delete_selected"
    ]
    assert entry["job_ids"] == named
