"""Reading the history: buckets of `step` minutes merged by sum (counts), max (length, age, run
max) and merged histograms (percentiles); null where nothing was sampled; the same answer and
the same refusals on REST and GraphQL; one Redis round trip."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from gateway.services.history.layout import minute_key
from gateway.services.history.timings import bucket_field
from tests.keyed import code_of, gql, keyed_client

T0 = datetime(2026, 1, 31, 22, 0, tzinfo=timezone.utc)
MINUTE0 = int(T0.timestamp()) // 60
HISTORY = "/api/v1/queues/{}/history"
FIELDS = "start failed finished queued latencySeconds runSecondsP50 runSecondsP95 runSecondsMax"
QUERY = f"""query ($name: String!, $since: String, $until: String, $step: Int!) {{
  queue(name: $name) {{ history(since: $since, until: $until, step: $step) {{ {FIELDS} }} }} }}"""
GRAPHQL_KEYS = {
    "start": "start",
    "failed": "failed",
    "finished": "finished",
    "queued": "queued",
    "latencySeconds": "latency_seconds",
    "runSecondsP50": "run_seconds_p50",
    "runSecondsP95": "run_seconds_p95",
    "runSecondsMax": "run_seconds_max",
}


def write_minute(conn, offset: int, runs=(), queue="default", **fields) -> None:
    """One sampled minute, as the writer leaves it (services/history/layout.py)."""
    mapping: dict[str, float | int] = {"failed": 0, "finished": 0, **fields}
    for seconds in runs:
        key = bucket_field(seconds)
        mapping[key] = int(mapping.get(key, 0)) + 1
    if runs:
        mapping["run_max"] = max(runs)
    conn.hset(minute_key(MINUTE0 + offset, queue), mapping=mapping)
    conn.sadd("rq:queues", f"rq:queue:{queue}")


def rest(client, since=T0, minutes=10, step=5, queue="default"):
    params = {
        "since": since.isoformat(),
        "until": (since + timedelta(minutes=minutes)).isoformat(),
        "step": step,
    }
    return client.get(HISTORY.format(queue), params=params)


def test_buckets_sum_counts_take_maxima_and_stay_null_where_nothing_was_sampled(conn, client):
    write_minute(conn, 0, runs=[1.0] * 10, failed=2, finished=8, queued=5, latency=1.5)
    write_minute(conn, 3, runs=[10.0] * 10, failed=1, finished=9, queued=9, latency=0.5)
    # Minutes 5-9 were not sampled (no gateway ran).
    response = rest(client)
    assert response.status_code == 200
    body = response.json()
    assert (body["queue"], body["step"]) == ("default", 5)
    first, second = body["buckets"]
    assert first["start"] == "2026-01-31T22:00:00Z"
    assert (first["failed"], first["finished"], first["queued"], first["latency_seconds"]) == (3, 17, 9, 1.5)
    # Percentiles of the merged runs, not of the minutes' percentiles: the median of ten 1 s and
    # ten 10 s runs is 1 s (rank 9 of 20), its p95 10 s; averaging per-minute medians gives 5.5.
    assert first["run_seconds_p50"] == pytest.approx(1.0, rel=0.011)
    assert first["run_seconds_p95"] == pytest.approx(10.0, rel=0.011)
    assert first["run_seconds_max"] == 10.0
    assert second == {"start": "2026-01-31T22:05:00Z", **dict.fromkeys(list(first)[1:])}


def test_a_sampled_minute_without_runs_has_counts_and_null_timings(conn, client):
    write_minute(conn, 0, queued=0, latency=0)
    (bucket,) = rest(client, minutes=1, step=1).json()["buckets"]
    assert (bucket["failed"], bucket["finished"], bucket["queued"], bucket["latency_seconds"]) == (0, 0, 0, 0)
    assert bucket["run_seconds_p50"] is bucket["run_seconds_p95"] is bucket["run_seconds_max"] is None


def test_graphql_answers_the_same_buckets(conn, client):
    write_minute(conn, 1, runs=[0.25, 0.5, 4.0], failed=1, finished=2, queued=3, latency=2.0)
    expected = rest(client).json()["buckets"]
    variables = {
        "name": "default",
        "since": T0.isoformat(),
        "until": (T0 + timedelta(minutes=10)).isoformat(),
    }
    answer = gql(client, QUERY, step=5, **variables)
    buckets = [{GRAPHQL_KEYS[k]: v for k, v in b.items()} for b in answer["data"]["queue"]["history"]]
    assert buckets == expected


def test_since_and_until_default_to_the_last_hour(conn, client):
    conn.sadd("rq:queues", "rq:queue:default")
    now = datetime.now(timezone.utc)
    body = client.get(HISTORY.format("default"), params={"step": 1}).json()
    starts = [datetime.fromisoformat(b["start"].replace("Z", "+00:00")) for b in body["buckets"]]
    assert len(starts) in (60, 61)
    assert starts[0] <= now - timedelta(hours=1) < starts[0] + timedelta(minutes=1)
    assert starts[-1] <= now < starts[-1] + timedelta(minutes=1)


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"step": 0}, "step must be a whole number of minutes from 1 to 1440"),
        ({"step": 1441}, "step must be a whole number of minutes from 1 to 1440"),
        (
            {"since": "2026-01-31T22:00:00Z", "until": "2026-01-31T22:00:00Z"},
            "since must be earlier than until",
        ),
        ({"since": "yesterday"}, "Invalid since 'yesterday': use ISO 8601, e.g. 2024-01-31T22:00:00Z"),
        ({"since": "2025-01-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "the range holds"),
        ({"since": "2026-01-30T00:00:00Z", "until": "2026-01-31T00:01:00Z"}, "1441 buckets"),
        ({"since": "0001-01-01T00:00:00+14:00"}, "Invalid since '0001-01-01T00:00:00+14:00'"),
        ({"until": "0001-01-01T00:00:00Z"}, "since must be earlier than until"),
    ],
)
def test_bad_ranges_and_steps_are_refused_with_a_clear_detail(conn, client, params, detail):
    conn.sadd("rq:queues", "rq:queue:default")
    response = client.get(HISTORY.format("default"), params=params)
    assert response.status_code == 422
    assert detail in response.json()["detail"]
    variables = {"name": "default", "step": params.get("step", 1)}
    variables.update({k: v for k, v in params.items() if k != "step"})
    answer = gql(client, QUERY, **variables)
    assert code_of(answer) == "BAD_REQUEST"
    assert detail in answer["errors"][0]["message"]


def test_a_step_that_is_not_a_whole_number_is_refused(client):
    response = client.get(HISTORY.format("default"), params={"step": "1.5"})
    assert response.status_code == 422


def test_an_unknown_queue_is_404_on_rest_and_not_found_on_graphql(client):
    response = rest(client, queue="nope")
    assert (response.status_code, response.json()["detail"]) == (404, "Queue 'nope' not found")
    assert code_of(gql(client, QUERY, name="nope", step=1)) == "NOT_FOUND"


def test_a_queue_limited_key_reads_only_its_queues_history(conn):
    write_minute(conn, 0, queue="billing-eu", failed=1)
    write_minute(conn, 0, queue="default", failed=1)
    billing = keyed_client(conn, "billing")
    assert rest(billing, queue="billing-eu").status_code == 200
    assert rest(billing, queue="default").status_code == 403
    assert code_of(gql(billing, QUERY, name="default", step=1)) == "FORBIDDEN"


def test_one_round_trip_whatever_the_range(conn, service, round_trips):
    conn.sadd("rq:queues", "rq:queue:default")
    for days in (1, 30):
        round_trips.reset()
        since = T0 - timedelta(days=days)
        service.queue_history("default", since.isoformat(), T0.isoformat(), 60)
        assert round_trips.count == 1


def test_a_queue_name_with_colons_and_slashes_keeps_its_own_history(conn, client):
    write_minute(conn, 0, queue="a:b/c", failed=4)
    write_minute(conn, 0, queue="a", failed=1)
    body = rest(client, queue="a:b%2Fc", minutes=1, step=1).json()
    assert body["queue"] == "a:b/c"
    assert body["buckets"][0]["failed"] == 4


def test_the_first_minutes_of_year_one_have_an_iso_start(conn, client):
    """The last hour before `until` reaches back no further than year 1, and a start is always
    four-digit ISO 8601 (strftime's %Y writes year 1 as '1')."""
    conn.sadd("rq:queues", "rq:queue:default")
    response = client.get(HISTORY.format("default"), params={"until": "0001-01-01T00:02:00Z"})
    assert response.status_code == 200, response.text
    assert [b["start"] for b in response.json()["buckets"]] == [
        "0001-01-01T00:00:00Z",
        "0001-01-01T00:01:00Z",
    ]


def test_the_history_fields_of_one_operation_share_one_requests_range(conn, client):
    """A request reads at most 31 days of minutes (44,640 keys). 30 aliases of `history` fit the
    cost limit (each a list of buckets) and read 30 times that, in one request: they share the
    one range, in document order, as searchJobs fields share the scan limit."""
    conn.sadd("rq:queues", "rq:queue:default")
    month = 'history(since: "2026-01-01T00:00:00Z", until: "2026-01-31T00:00:00Z", step: 30) { start }'
    day = 'history(since: "2026-01-31T00:00:00Z", until: "2026-02-01T00:00:00Z", step: 60) { start }'
    answer = gql(client, f'{{ queue(name: "default") {{ a: {month} b: {day} c: {day} }} }}')
    (error,) = answer["errors"]
    assert error["path"] == ["queue", "c"] and error["extensions"]["code"] == "BAD_REQUEST"
    assert "at most 44640 minutes" in error["message"]
    # Within the range, every field answers; each REST request has its own.
    fits = gql(client, f'{{ queue(name: "default") {{ a: {month} b: {day} }} }}')
    assert "errors" not in fits and len(fits["data"]["queue"]["b"]) == 24
    for _ in range(2):
        assert (
            client.get(
                HISTORY.format("default"), params={"since": "2026-01-01", "until": "2026-01-31", "step": 30}
            ).status_code
            == 200
        )


def test_minutes_of_another_type_or_with_unreadable_fields_read_as_not_sampled(conn, client):
    """The history keys are Redis keys anything may write: a minute of another Redis type was a
    500 for the whole range (WRONGTYPE), and a field that is not a number (or NaN, or a sketch
    bucket that is not one) failed the bucket holding it. Each reads as absent, as damaged data
    does everywhere; the good minutes around it are counted as before."""
    write_minute(conn, 0, runs=[1.0], failed=2, finished=1, queued=5, latency=1.5)
    conn.set(minute_key(MINUTE0 + 1, "default"), "not a hash")
    conn.hset(
        minute_key(MINUTE0 + 2, "default"),
        mapping={"failed": "abc", "finished": "nan", "queued": "inf", "latency": "nan", "run_max": "x"},
    )
    conn.hset(
        minute_key(MINUTE0 + 3, "default"),
        mapping={"h:abc": 1, "h:99999999": 1, "h:7": "x", "h:-3": "nan", b"\xff": 1, "h:12": "-2"},
    )
    # Past float's range (OverflowError from isfinite, or inf), and a value that is not UTF-8.
    conn.hset(
        minute_key(MINUTE0 + 4, "default"),
        mapping={"queued": "9" * 400, "latency": "1e999", "failed": b"\xff"},
    )
    response = rest(client, minutes=5, step=5)
    assert response.status_code == 200, response.text
    (bucket,) = response.json()["buckets"]
    assert (bucket["failed"], bucket["finished"], bucket["queued"], bucket["latency_seconds"]) == (
        2,
        1,
        5,
        1.5,
    )
    assert bucket["run_seconds_max"] == 1.0 and bucket["run_seconds_p95"] is not None
    graphql = gql(
        client,
        QUERY,
        name="default",
        since=T0.isoformat(),
        until=(T0 + timedelta(minutes=5)).isoformat(),
        step=5,
    )
    assert "errors" not in graphql, graphql
