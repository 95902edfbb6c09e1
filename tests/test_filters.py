"""FailedJobFilter parsing and matching, and the filtered list, page and bulk walks (fakeredis)."""

from __future__ import annotations

import json
import zlib
from datetime import datetime, timezone

import pytest
from rq import Queue

from gateway.demo import jobs
from gateway.errors import InvalidInput, InvalidParameter
from gateway.services import FailedJobFilter, JobInfo
from gateway.services.reads import filtered as filtered_module
from tests.conftest import run_worker

PARSE = "gateway.demo.jobs.parse_report"
FLAKY = "gateway.demo.jobs.flaky_charge"


def test_dates_parse_with_z_offset_or_naive_as_utc():
    expected = datetime(2024, 1, 31, 22, 0, tzinfo=timezone.utc)
    for text in (
        "2024-01-31T22:00:00Z",
        "2024-01-31T23:00:00+01:00",
        "2024-01-31T22:00:00",
        "2024-01-31 22:00",
    ):
        assert FailedJobFilter.parse(failed_after=text).failed_after == expected
    assert FailedJobFilter.parse(failed_before="2024-02-01").date_bounds() == (
        "",
        "2024-02-01T00:00:00.000000Z",
    )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"failed_after": "yesterday"}, "Invalid failed_after 'yesterday'"),
        ({"failed_before": "2024-13-01"}, "Invalid failed_before"),
        ({"failed_after": "2024-02-01", "failed_before": "2024-01-01"}, "must be earlier"),
        ({"search": "x" * 1001}, "search must be at most 1000"),
        # Valid ISO 8601 whose offset moves it outside years 1-9999 in UTC: OverflowError before.
        ({"failed_after": "0001-01-01T00:00:00+14:00"}, "Invalid failed_after '0001-01-01T00:00:00\\+14:00'"),
        ({"failed_before": "9999-12-31T23:59:59-14:00"}, "Invalid failed_before"),
    ],
)
def test_bad_values_are_invalid_parameters(kwargs, message):
    with pytest.raises(InvalidParameter, match=message):
        FailedJobFilter.parse(**kwargs)


def test_empty_strings_mean_no_criterion():
    assert FailedJobFilter.parse("", "", "", "", "").is_empty


def _matches(job_filter: FailedJobFilter, job: JobInfo) -> bool:
    """The one rule (matches_failure) on what a decoded job says of its failure."""
    return job_filter.matches_failure(job.func_name, job.exc_info, job.ended_at)


def _job(**fields) -> JobInfo:
    return JobInfo(job_id="a", status="failed", origin="default", **fields)


def test_matching_is_exact_for_names_substring_for_search_and_half_open_for_dates():
    job = _job(
        func_name="app.send",
        exc_info="Traceback ...\nrequests.HTTPError: 503 for url\n",
        ended_at="2024-01-31T22:00:00.000000Z",
    )
    assert _matches(FailedJobFilter.parse(func_name="app.send", exc_type="requests.HTTPError"), job)
    assert not _matches(FailedJobFilter.parse(func_name="app.sen"), job)
    assert not _matches(FailedJobFilter.parse(exc_type="HTTPError"), job)
    assert _matches(FailedJobFilter.parse(search="503 for"), job)
    assert not _matches(FailedJobFilter.parse(search="503 FOR"), job)
    assert _matches(FailedJobFilter.parse(failed_after="2024-01-31T22:00:00Z"), job)  # inclusive
    assert not _matches(FailedJobFilter.parse(failed_before="2024-01-31T22:00:00Z"), job)  # exclusive
    assert not _matches(FailedJobFilter.parse(search="x"), _job())  # no traceback: no match
    assert not _matches(FailedJobFilter.parse(failed_after="2000-01-01"), _job())  # no ended_at


def _fail_mixed(conn) -> dict[str, list[str]]:
    """3 ValueErrors (parse_report) and 2 ConnectionErrors (flaky_charge), failed by a real worker."""
    q = Queue("default", connection=conn)
    parse = [q.enqueue(jobs.parse_report, f"bad-{i}").id for i in range(3)]
    flaky = [q.enqueue(jobs.flaky_charge, i).id for i in range(2)]
    run_worker(conn)
    return {"parse": parse, "flaky": flaky}


def test_filtered_list_and_offsets_count_matches(service, conn):
    ids = _fail_mixed(conn)
    by_func = service.list_failed(job_filter=FailedJobFilter.parse(func_name=FLAKY))
    assert sorted(j.job_id for j in by_func) == sorted(ids["flaky"])
    by_type = service.list_failed(job_filter=FailedJobFilter.parse(exc_type="ValueError"))
    assert sorted(j.job_id for j in by_type) == sorted(ids["parse"])
    sliced = service.list_failed(offset=1, limit=1, job_filter=FailedJobFilter.parse(exc_type="ValueError"))
    assert [j.job_id for j in sliced] == [by_type[1].job_id]
    assert service.list_failed(job_filter=FailedJobFilter.parse(search="bad-2"))[0].job_id == ids["parse"][2]


def test_a_filter_fetches_whole_only_the_jobs_it_shows(service, conn, round_trips):
    """Each job's function and traceback are read by one script call per chunk (no job decoded
    whole to be checked); only the matches are fetched whole, so a rare match costs a scan of a
    few fields. Bulk actions fetch none."""
    ids = _fail_mixed(conn)
    flaky = FailedJobFilter.parse(func_name=FLAKY)
    for job_filter in (flaky, FailedJobFilter.parse(search="bad-2")):
        round_trips.reset()
        matches = service.list_failed(job_filter=job_filter)
        assert len(matches) == round_trips.commands.count("HGETALL") < 5
    assert sorted(j.job_id for j in matches) == [ids["parse"][2]]
    round_trips.reset()
    assert service.retry_all(job_filter=flaky, dry_run=True).total_failed == 2
    assert "HGETALL" not in round_trips.commands


def test_dates_before_year_1000_compare_as_dates(service, factory):
    """The bounds are compared with RQ's stamps as text, in Lua: strftime wrote year 999 as
    '999-...', which sorts after '2026-...', so failed_before=0999-01-01 took every job (a clear
    with it deleted them all) and failed_after=0999-01-01 none."""
    ids = factory.failed(2)
    before = FailedJobFilter.parse(failed_before="0999-01-01")
    after = FailedJobFilter.parse(failed_after="0999-01-01T00:00:00Z")
    assert before.date_bounds() == ("", "0999-01-01T00:00:00.000000Z")
    assert service.list_failed(job_filter=before) == []
    assert sorted(j.job_id for j in service.list_failed(job_filter=after)) == sorted(ids)
    assert service.clear(job_filter=before, dry_run=True).done_jobs == []


def test_dates_compare_ended_at_not_the_registry_score(service, conn, factory):
    (long_ttl,) = factory.failed(1, failure_ttl=10 * 365 * 86400)
    (short_ttl,) = factory.failed(1, failure_ttl=60)
    ended = {j.job_id: j.ended_at for j in service.list_failed()}
    # The scores differ by ten years, the failure times by milliseconds.
    assert (
        conn.zscore("rq:failed:default", long_ttl) - conn.zscore("rq:failed:default", short_ttl)
        > 9 * 365 * 86400
    )
    after_first = FailedJobFilter.parse(failed_after=ended[short_ttl])
    assert [j.job_id for j in service.list_failed(job_filter=after_first)] == [short_ttl]
    before_second = FailedJobFilter.parse(failed_before=ended[short_ttl])
    assert [j.job_id for j in service.list_failed(job_filter=before_second)] == [long_ttl]


def test_filtered_pages_resume_after_the_last_match(service, conn, monkeypatch):
    monkeypatch.setattr(filtered_module, "SCAN_BUDGET", 2)  # force several script calls per page
    ids = _fail_mixed(conn)
    only = FailedJobFilter.parse(func_name=PARSE, failed_after="2000-01-01")
    seen, after = [], None
    while True:
        page = service.failed_page(first=2, after=after, job_filter=only)
        assert page.total == 3
        seen += [j.job_id for j in page.jobs]
        if not page.has_next_page:
            break
        after = page.end_cursor
    assert sorted(seen) == sorted(ids["parse"])
    assert len(seen) == 3
    assert service.failed_page(first=2, job_filter=only, with_total=False).total == -1


def test_filtered_retry_all_acts_on_matches_only(service, conn):
    ids = _fail_mixed(conn)
    outcome = service.retry_all(job_filter=FailedJobFilter.parse(exc_type="ConnectionError"))
    assert sorted(outcome.done_jobs) == sorted(ids["flaky"])
    assert outcome.total_failed == 2
    assert sorted(j.job_id for j in service.list_failed()) == sorted(ids["parse"])


def test_dry_runs_answer_like_the_real_thing_and_change_nothing(service, conn):
    ids = _fail_mixed(conn)
    conn.delete(f"rq:job:{ids['parse'][0]}")  # an orphan: retry would report it, clear deletes it
    before = {key: conn.dump(key) for key in conn.scan_iter()}
    dry_retry = service.retry_all(dry_run=True)
    dry_clear = service.clear(dry_run=True, job_filter=FailedJobFilter.parse(func_name=PARSE))
    assert {key: conn.dump(key) for key in conn.scan_iter()} == before
    assert [e.job_id for e in dry_retry.errors] == [ids["parse"][0]]
    assert sorted(dry_clear.done_jobs) == sorted(ids["parse"][1:])  # the orphan has no func_name
    real = service.retry_all()
    assert (real.done_jobs, real.errors, real.total_failed) == (
        dry_retry.done_jobs,
        dry_retry.errors,
        dry_retry.total_failed,
    )


def test_selective_bulk_dedupes_validates_and_reports_each_id(service, factory):
    a, b = factory.failed(2)
    outcome = service.retry_selected([a, a, "missing"])
    assert outcome.done_jobs == [a]
    assert [(e.job_id, e.error) for e in outcome.errors] == [
        ("missing", "Job missing not found in failed jobs registry")
    ]
    assert outcome.total_failed == 2
    assert service.delete_selected([a, b]).done_jobs == [b]  # a was requeued: no longer failed
    with pytest.raises(InvalidParameter, match="at most 1000"):
        service.retry_selected([a] * 1001)
    with pytest.raises(InvalidInput, match="Invalid job id"):
        service.delete_selected(["bad:id"])


def test_a_message_over_several_lines_keeps_its_exception_type(service, conn):
    """The type is read from the exception line, not from the message's last line."""
    from rq import Queue

    from gateway.demo import jobs
    from gateway.services import FailedJobFilter
    from tests.conftest import run_worker

    queue = Queue("default", connection=conn)
    multi = [
        queue.enqueue(jobs.fail_with, "ValueError", f"bad input {i}\nHint: check the payload").id
        for i in (1, 2)
    ]
    run_worker(conn, "default")

    found = service.list_failed(job_filter=FailedJobFilter(exc_type="ValueError"))
    assert sorted(job.job_id for job in found) == sorted(multi)
    assert service.list_failed(job_filter=FailedJobFilter(exc_type="Hint")) == []
    (group,) = service.failure_groups().groups
    assert (group.exc_type, group.message, group.count) == ("ValueError", "ValueError: bad input <num>", 2)


def _damage(conn, registry: str) -> None:
    """Failed entries a filter must judge alike whichever way it reads them: an orphan, data that
    is not a pickle, a traceback that is not UTF-8, a hash with no status and a job key of the
    wrong type."""
    conn.zadd(registry, {"orphan-1": 9e9, "garbage-1": 9e9, "latin-1": 9e9, "bare-1": 9e9, "string-1": 9e9})
    garbage = {"status": "failed", "data": b"\x00not a pickle", "origin": "default"}
    conn.hset("rq:job:garbage-1", mapping=garbage)
    bad_text = zlib.compress("Traceback (most recent call last):\nValueError: caf\xe9".encode("latin-1"))
    conn.hset("rq:job:latin-1", mapping={"status": "failed", "exc_info": bad_text, "origin": "default"})
    conn.hset("rq:job:bare-1", mapping={"ended_at": "2026-01-01T00:00:00.000000Z"})
    conn.set("rq:job:string-1", "not a hash")


@pytest.mark.parametrize(
    "criteria",
    [
        {"func_name": FLAKY},
        {"func_name": PARSE},
        {"exc_type": "ValueError"},
        {"exc_type": "ConnectionError"},
        {"search": "bad-1"},
        {"search": "caf"},
        {"search": "Traceback"},
        {"func_name": PARSE, "search": "bad-0"},
        {"exc_type": "ValueError", "failed_after": "2000-01-01T00:00:00Z"},
    ],
)
def test_the_filter_matches_as_the_jobs_read_whole_do(service, conn, criteria):
    """The walk checks what failure_facts reads of each job; the answer is the one of checking
    every job as the failed list decodes it (fetch_jobs), damaged ones included."""
    _fail_mixed(conn)
    _damage(conn, "rq:registry:failed:default")
    job_filter = FailedJobFilter.parse(**criteria)
    whole = [job.job_id for job in service.list_failed() if _matches(job_filter, job)]
    assert [job.job_id for job in service.list_failed(job_filter=job_filter)] == whole


@pytest.mark.parametrize(
    ("given", "named"),
    [
        ({"failedAfter": "nope"}, "Invalid failedAfter 'nope'"),
        ({"failedBefore": "2024-13-01"}, "Invalid failedBefore"),
        ({"failedAfter": "2024-02-01", "failedBefore": "2024-01-01"}, "failedAfter must be earlier"),
        ({"excType": "x" * 1001}, "excType must be at most 1000 characters"),
    ],
)
def test_graphql_filter_errors_name_the_arguments_as_graphql_does(client, given, named):
    """REST names its query parameters failed_after; the GraphQL filter's fields are failedAfter."""
    arguments = ", ".join(f"{name}: {json.dumps(value)}" for name, value in given.items())
    query = f"{{ failedJobs(filter: {{{arguments}}}) {{ totalCount }} }}"
    (error,) = client.post("/graphql", json={"query": query}).json()["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST" and error["message"].startswith(named)
    snake = {"failedAfter": "failed_after", "failedBefore": "failed_before", "excType": "exc_type"}
    response = client.get("/api/v1/jobs/failed", params={snake[k]: v for k, v in given.items()})
    assert response.status_code == 422 and snake[next(iter(given))] in response.json()["detail"]
