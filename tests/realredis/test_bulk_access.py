"""Bulk actions of a queue-limited key take only the queue's own jobs. A failed registry may hold
an entry whose job hash names another queue as its origin, or none (an orphan, an emptied origin):
retrying it pushes into that other queue, deleting it deletes another queue's job. For one job
addressed by id, such a job answers a limited key exactly like a missing one (job_access.py);
retry-all, clear, failure groups and tracked operations over the queue leave it alone the same
way, and an unrestricted key still acts on it."""

from __future__ import annotations

import pytest

from .helpers import failed_ids, queued_ids, wait_until
from .job_access import bearer, keyed_app_client

QUEUE = "billing-eu"
REGISTRY = f"rq:failed:{QUEUE}"


@pytest.fixture
def odd(r, fail_on) -> dict[str, list[str]]:
    """The queue's own failed jobs, and three entries in its registry that are not known to be its
    own: a copy of a `reports` job, an orphan, and one of its jobs with its origin emptied."""
    failed = fail_on({QUEUE: 3, "reports": 1})
    *mine, emptied = failed[QUEUE]
    (reports,) = failed["reports"]
    r.hset(f"rq:job:{emptied}", "origin", "")
    r.copy(f"rq:job:{reports}", "rq:job:foreign")
    r.copy(f"rq:results:{reports}", "rq:results:foreign")  # its traceback, as RQ 3 keeps it
    score = r.zscore(REGISTRY, mine[0])
    r.zadd(REGISTRY, {"foreign": score, "orphan": score})
    return {"mine": mine, "others": ["foreign", "orphan", emptied]}


def _left_alone(r, odd, mine_too: bool = False) -> None:
    """The entries not known to be the queue's are where they were (and the queue's own, when
    the action did not name them)."""
    assert sorted(failed_ids(r, QUEUE)) == sorted(odd["others"] + (odd["mine"] if mine_too else []))
    assert queued_ids(r, "reports") == [] and sorted(queued_ids(r, QUEUE)) in ([], sorted(odd["mine"]))
    assert r.hget("rq:job:foreign", "status") == b"failed"


def test_retry_all_and_clear_of_a_limited_key_take_only_the_queues_own_jobs(r, odd):
    client = keyed_app_client(r)
    dry = client.post(
        f"/api/v1/jobs/failed/retry-all?queue={QUEUE}&dry_run=true", headers=bearer("operator-billing")
    ).json()
    retried = client.post(f"/api/v1/jobs/failed/retry-all?queue={QUEUE}", headers=bearer("operator-billing"))
    assert retried.status_code == 200, retried.text
    body = retried.json()
    assert sorted(body["requeued_jobs"]) == sorted(odd["mine"]) == sorted(dry["requeued_jobs"])
    assert body["errors"] == [] and body["error_count"] == 0
    assert sorted(queued_ids(r, QUEUE)) == sorted(odd["mine"])
    _left_alone(r, odd)

    cleared = client.delete(f"/api/v1/jobs/failed/clear?queue={QUEUE}", headers=bearer("admin-billing"))
    assert cleared.status_code == 200 and cleared.json()["deleted_count"] == 0, cleared.text
    _left_alone(r, odd)

    everything = client.delete(f"/api/v1/jobs/failed/clear?queue={QUEUE}", headers=bearer("admin-all"))
    assert everything.json()["deleted_count"] == 3
    assert failed_ids(r, QUEUE) == [] and not r.exists("rq:job:foreign")


def _operation(client, key: str, action: str, selector: dict) -> dict:
    body = {"action": action, "queue": QUEUE, "selector": selector}
    started = client.post("/api/v1/operations", json=body, headers=bearer(key))
    assert started.status_code == 202, started.text

    def ended():
        body = client.get(f"/api/v1/operations/{started.json()['id']}", headers=bearer(key)).json()
        return body if body["status"] != "running" else None

    return wait_until(ended, 30, "the operation to end")


@pytest.mark.parametrize(
    "selector",
    [
        {"all": True},
        {"filter": {"func_name": "gateway.demo.jobs.parse_report"}},
        {"job_ids": ["foreign", "orphan"]},
    ],
    ids=["all", "filter", "job_ids"],
)
def test_an_operation_of_a_limited_key_takes_only_the_queues_own_jobs(r, odd, selector):
    client = keyed_app_client(r)
    named = "job_ids" in selector
    body = {"action": "retry", "queue": QUEUE, "selector": selector, "dry_run": True}
    dry = client.post("/api/v1/operations", json=body, headers=bearer("operator-billing")).json()
    retried = _operation(client, "operator-billing", "retry", selector)
    fields = ("total", "done", "matched", "acted", "error_count")
    assert {f: dry[f] for f in fields} == {f: retried[f] for f in fields}
    assert retried["status"] == "succeeded"
    assert retried["acted"] == (0 if named else 2)
    # The entries not the queue's own are examined (the registry's size, as its failed_count
    # says) but, as absent to this key, not matched: matched is what it took, not 5 (or 4).
    assert (retried["total"], retried["done"]) == ((2, 2) if named else (5, 5))
    assert retried["matched"] == 2
    if named:  # as for ids that do not exist: not found in the failed registry
        assert retried["error_count"] == 2
        assert {e["job_id"] for e in retried["errors"]} == {"foreign", "orphan"}
    _left_alone(r, odd, mine_too=named)
    deleted = _operation(client, "admin-billing", "delete", selector)
    assert deleted["status"] == "succeeded" and deleted["acted"] == 0
    assert deleted["matched"] == (2 if named else 0)
    _left_alone(r, odd, mine_too=named)


def test_an_unrestricted_keys_operation_still_takes_every_job_to_its_origin(r, odd):
    retried = _operation(keyed_app_client(r), "operator-all", "retry", {"all": True})
    assert retried["acted"] == 4 and retried["error_count"] == 1  # the orphan
    assert queued_ids(r, "reports") == ["foreign"]
    assert failed_ids(r, QUEUE) == ["orphan"]


def test_a_failure_group_action_of_a_limited_key_takes_only_the_queues_own_jobs(r, odd):
    client = keyed_app_client(r)
    groups = client.get(f"/api/v1/jobs/failed/groups?queue={QUEUE}", headers=bearer("operator-billing"))
    assert groups.status_code == 200, groups.text
    for group in groups.json()["groups"]:
        answer = client.post(
            f"/api/v1/jobs/failed/groups/{group['group_id']}/retry?queue={QUEUE}",
            headers=bearer("operator-billing"),
        )
        assert answer.status_code in (200, 404), answer.text
    assert sorted(queued_ids(r, QUEUE)) == sorted(odd["mine"])
    _left_alone(r, odd)


READS = [
    f"/api/v1/jobs/failed?queue={QUEUE}",
    f"/api/v1/jobs/failed?queue={QUEUE}&limit=10",
    f"/api/v1/queues/{QUEUE}/jobs?state=failed",
]


def _listed(body) -> list[dict]:
    if isinstance(body, dict):
        body = body["jobs"]
    return [job for job in body if job]


@pytest.mark.parametrize("path", READS)
def test_a_limited_keys_list_shows_another_queues_job_in_its_registry_without_its_data(r, odd, path):
    """The entry is in the queue's registry, so the list shows where it is; its arguments,
    result and traceback are another queue's data, which the key may not read (by id it is a
    404). An unrestricted key sees it whole."""
    client = keyed_app_client(r)
    limited = client.get(path, headers=bearer("operator-billing"))
    assert limited.status_code == 200, limited.text
    by_id = {job["job_id"]: job for job in _listed(limited.json())}
    foreign = by_id["foreign"]
    assert (foreign["args"], foreign["kwargs"], foreign["result"], foreign["exc_info"]) == (None,) * 4
    assert all(by_id[own]["exc_info"] for own in odd["mine"])  # its own jobs whole
    whole = {job["job_id"]: job for job in _listed(client.get(path, headers=bearer("admin-all")).json())}
    assert whole["foreign"]["args"] is not None and whole["foreign"]["exc_info"]


def _graphql_lists(r, key: str, fields: str) -> tuple[list[dict], list[dict]]:
    """The queue's failed jobs as `key` reads them through GraphQL: failedJobs, and the queue's
    FAILED page."""
    query = f"""query($q: String!) {{
      failedJobs(queue: $q, first: 50) {{ nodes {{ {fields} }} }}
      queue(name: $q) {{ jobs(state: FAILED, first: 50) {{ nodes {{ {fields} }} }} }} }}"""
    body = (
        keyed_app_client(r)
        .post("/graphql", json={"query": query, "variables": {"q": QUEUE}}, headers=bearer(key))
        .json()
    )
    return body["data"]["failedJobs"]["nodes"], body["data"]["queue"]["jobs"]["nodes"]


def test_graphql_lists_of_a_limited_key_show_another_queues_job_without_its_data(r, odd):
    for nodes in _graphql_lists(r, "operator-billing", "id args excInfo"):
        by_id = {node["id"]: node for node in nodes}
        assert (by_id["foreign"]["args"], by_id["foreign"]["excInfo"]) == (None, None)
        assert all(by_id[own]["excInfo"] for own in odd["mine"])


def test_a_limited_keys_search_leaves_out_another_queues_job_in_its_registry(r, odd):
    """Search keeps only jobs whose origin the key may see (every match is a job of its queues)."""
    client = keyed_app_client(r)
    path = f"/api/v1/search?q=&queue={QUEUE}&state=failed"
    limited = {job["job_id"] for job in client.get(path, headers=bearer("operator-billing")).json()["jobs"]}
    whole = {job["job_id"] for job in client.get(path, headers=bearer("admin-all")).json()["jobs"]}
    assert "foreign" in whole and "foreign" not in limited
    assert set(odd["mine"]) <= limited


def test_a_limited_viewer_under_hide_payloads_does_not_read_another_queues_traceback(r, odd):
    """--hide-payloads shows viewers tracebacks (not payload); another queue's, found in this
    queue's registry, is still not this key's to read."""
    client = keyed_app_client(r, hide_payloads=True)
    listed = client.get(f"/api/v1/jobs/failed?queue={QUEUE}", headers=bearer("viewer-billing")).json()
    by_id = {job["job_id"]: job for job in listed}
    assert by_id["foreign"]["exc_info"] is None and by_id["foreign"]["args"] is None
    assert all(by_id[own]["exc_info"] and by_id[own]["args"] is None for own in odd["mine"])


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/jobs/failed?queue={QUEUE}&search=bad-reports",
        f"/api/v1/jobs/failed?queue={QUEUE}&search=bad-reports&limit=10",
        f"/api/v1/jobs/failed?queue={QUEUE}&exc_type=ValueError&limit=10",
    ],
)
def test_a_limited_keys_filter_never_matches_on_another_queues_traceback(r, odd, path):
    """The list hides another queue's traceback, but a filter on the traceback still listed the
    job when its hidden text matched: `search=bad-reports` told a billing-* key what the reports
    job's error said. A filter that reads a job never matches one the key may not read; an
    unrestricted key's filter still finds it."""
    client = keyed_app_client(r)
    limited = {job["job_id"] for job in _listed(client.get(path, headers=bearer("operator-billing")).json())}
    whole = {job["job_id"] for job in _listed(client.get(path, headers=bearer("admin-all")).json())}
    assert "foreign" in whole and "foreign" not in limited
    if "exc_type" in path:
        assert limited == set(odd["mine"])


def test_a_limited_keys_failure_groups_hold_only_the_queues_own_jobs(r, odd):
    """Groups showed a billing-* key the exception type and cause of another queue's job in its
    registry (and counted it, and the orphan, though a group action never takes them). Now they
    hold exactly the jobs its group actions act on."""
    client = keyed_app_client(r)
    path = f"/api/v1/jobs/failed/groups?queue={QUEUE}"
    limited = client.get(path, headers=bearer("operator-billing")).json()
    whole = client.get(path, headers=bearer("admin-all")).json()
    assert (limited["total_failed"], sum(g["count"] for g in limited["groups"])) == (2, 2)
    assert (whole["total_failed"], sum(g["count"] for g in whole["groups"])) == (5, 5)
    assert "reports" not in str(limited) and "orphan" not in {g["kind"] for g in limited["groups"]}
    query = "query($q: String) { failureGroups(queue: $q) { totalFailed groups { count } } }"
    graphql = client.post(
        "/graphql", json={"query": query, "variables": {"q": QUEUE}}, headers=bearer("operator-billing")
    ).json()["data"]["failureGroups"]
    assert graphql["totalFailed"] == 2 and sum(g["count"] for g in graphql["groups"]) == 2


def test_a_limited_keys_group_action_finds_only_the_groups_it_lists(r, odd):
    """A group id depends only on the cause, so a limited key could name the group of another
    queue's job in its registry (the whole list gives it to any unrestricted key): the action
    matched that job, and its `matched_count` (a dry run included) told the key the hidden job's
    cause was there. A limited key's group action matches exactly the jobs its group lists."""
    client = keyed_app_client(r)
    path = f"/api/v1/jobs/failed/groups?queue={QUEUE}"
    listed = client.get(path, headers=bearer("operator-billing")).json()["groups"]
    whole = client.get(path, headers=bearer("admin-all")).json()["groups"]
    hidden = [g["group_id"] for g in whole if g["group_id"] not in {own["group_id"] for own in listed}]
    assert hidden  # the reports job's group, and the orphans'
    for group_id in hidden:
        answer = client.post(
            f"/api/v1/jobs/failed/groups/{group_id}/retry?queue={QUEUE}&dry_run=true",
            headers=bearer("operator-billing"),
        )
        assert answer.status_code == 404, answer.text
    for group in listed:
        answer = client.post(
            f"/api/v1/jobs/failed/groups/{group['group_id']}/retry?queue={QUEUE}&dry_run=true",
            headers=bearer("operator-billing"),
        ).json()
        assert answer["matched_count"] == group["count"], answer


def test_a_limited_keys_group_action_counts_total_failed_as_its_group_listing_does(r, odd):
    """The listing of a limited key's groups counts only the queue's own jobs in `total_failed`,
    while its group actions (dry run or not, retry or delete) answered the whole registry's size:
    the difference told it how many entries of other queues' jobs (or orphans) the registry held."""
    client = keyed_app_client(r)
    path = f"/api/v1/jobs/failed/groups?queue={QUEUE}"
    listing = client.get(path, headers=bearer("admin-billing")).json()
    assert listing["total_failed"] == 2
    (group,) = listing["groups"]
    action = f"/api/v1/jobs/failed/groups/{group['group_id']}"
    for key, verb, url in (
        ("operator-billing", "post", f"{action}/retry?queue={QUEUE}&dry_run=true"),
        ("admin-billing", "delete", f"{action}?queue={QUEUE}&dry_run=true"),
        ("operator-billing", "post", f"{action}/retry?queue={QUEUE}"),
    ):
        answer = client.request(verb.upper(), url, headers=bearer(key))
        assert answer.status_code == 200, answer.text
        assert answer.json()["total_failed"] == listing["total_failed"], (url, answer.json())
    # An unrestricted key's answer still counts the whole registry, as its listing does.
    whole = client.get(path, headers=bearer("admin-all")).json()
    assert whole["total_failed"] == 3  # the two retried are gone; the other queue's three stay
    other = whole["groups"][0]["group_id"]
    answer = client.delete(
        f"/api/v1/jobs/failed/groups/{other}?queue={QUEUE}&dry_run=true", headers=bearer("admin-all")
    )
    assert answer.json()["total_failed"] == 3


@pytest.mark.parametrize("path", READS)
def test_a_limited_key_reads_neither_another_queues_name_nor_an_unknown_queues_job_in_its_list(r, odd, path):
    """The entries not known to be the queue's look alike to a limited key: in the queue they are
    listed in, without data. The copy of a reports job showed `origin` "reports", a queue name
    GET /queues hides; the job whose origin was emptied (an unknown queue, in no pattern: a 404
    by id) showed its arguments and traceback."""
    client = keyed_app_client(r)
    limited = {
        job["job_id"]: job for job in _listed(client.get(path, headers=bearer("operator-billing")).json())
    }
    for other in odd["others"]:
        assert limited[other]["origin"] == QUEUE, other
        assert (limited[other]["args"], limited[other]["exc_info"]) == (None, None), other
    assert all(limited[own]["args"] and limited[own]["origin"] == QUEUE for own in odd["mine"])
    whole = {job["job_id"]: job for job in _listed(client.get(path, headers=bearer("admin-all")).json())}
    assert whole["foreign"]["origin"] == "reports"
    emptied = odd["others"][2]
    assert whole[emptied]["args"] and whole[emptied]["exc_info"]


def test_graphql_lists_of_a_limited_key_name_no_other_queue(r, odd):
    for nodes in _graphql_lists(r, "viewer-billing", "id origin args"):
        by_id = {node["id"]: node for node in nodes}
        assert [(by_id[o]["origin"], by_id[o]["args"]) for o in odd["others"]] == [(QUEUE, None)] * 3


def test_a_limited_keys_search_leaves_out_a_job_of_an_unknown_queue(r, odd):
    """Search showed the job whose origin was emptied, with its data, to a billing-* key (its
    origin read as the queue it was found in); by id it is a 404, as a job in no pattern."""
    client = keyed_app_client(r)
    emptied = odd["others"][2]
    path = f"/api/v1/search?q=&queue={QUEUE}"
    limited = client.get(path, headers=bearer("operator-billing")).json()
    assert emptied not in {job["job_id"] for job in limited["jobs"]}
    assert set(odd["mine"]) <= {job["job_id"] for job in limited["jobs"]}
    assert emptied in {job["job_id"] for job in client.get(path, headers=bearer("admin-all")).json()["jobs"]}
