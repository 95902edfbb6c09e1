"""The console's queue history charts in chromium, against the CLI-started gateway (sampling the
history every 0.5 s), a real redis-server and a real `rq worker`: the data drawn equals what REST's
history endpoint answers for the same window, K failures appear without a reload, a minute no
gateway sampled stays null (a gap), uPlot runs under the page's CSP, no request leaves the origin,
and axe finds no serious or critical violation on the charted page."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests
from rq import Queue

from gateway.demo import jobs
from tests.keyed import KEYS

from .console import TIMEOUT_MS, start_gateway
from .helpers import RedisServer, failed_ids, run_worker, wait_until
from .processes import GatewayProcess
from .test_console_a11y import serious

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

# The console's one chart timer (history.js INTERVAL_MS) re-reads every 15 s; allow two turns.
REREAD_S = 2 * 15 + 10
CAMEL = {"latency_seconds": "latencySeconds", "run_seconds_p50": "runSecondsP50"}
CAMEL |= {"run_seconds_p95": "runSecondsP95", "run_seconds_max": "runSecondsMax"}


@pytest.fixture(scope="module")
def gateway(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    log = tmp_path_factory.mktemp("console-charts") / "gateway.log"
    process = start_gateway(redis_server.url, log, "--history-interval", "0.5")
    try:
        yield process
    finally:
        process.stop()


def drawn(page, queue: str) -> dict:
    """What the chart of `queue` drew last: its window, its buckets and how often it has read."""
    section = page.locator(f'section.history-charts[data-history-of="{queue}"][data-buckets]')
    section.wait_for(state="attached", timeout=TIMEOUT_MS)
    data = section.evaluate("e => ({...e.dataset})")
    return {
        "since": data["since"],
        "until": data["until"],
        "buckets": json.loads(data["buckets"]),
        "reads": int(data["reads"]),
    }


def rest_buckets(gateway: GatewayProcess, queue: str, since: str, until: str) -> list[dict]:
    response = requests.get(
        f"{gateway.base}/api/v1/queues/{queue}/history",
        params={"since": since, "until": until, "step": 1},
        headers={"Authorization": f"Bearer {KEYS['viewer']}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return [{CAMEL.get(k, k): v for k, v in bucket.items()} for bucket in response.json()["buckets"]]


def matches_rest(page, gateway: GatewayProcess, queue: str) -> bool:
    shown = drawn(page, queue)
    return shown["buckets"] == rest_buckets(gateway, queue, shown["since"], shown["until"])


def total(buckets: list[dict], field: str) -> int:
    return sum(bucket[field] or 0 for bucket in buckets)


def test_queue_page_charts_what_rest_answers_and_updates_live(r, redis_url, gateway, visit):
    Queue("charted", connection=r).enqueue(jobs.add, 1, 2)
    run_worker(redis_url, ["charted"])
    seen = visit("viewer", "/#/queue/charted")
    page = seen.page
    before = drawn(page, "charted")
    assert total(before["buckets"], "failed") == 0
    assert page.locator("section.history-charts canvas").count() == 3  # uPlot drew, under the CSP
    page.evaluate("window.__sameDocument = true")

    k = 4
    q = Queue("charted", connection=r)
    ids = [q.enqueue(jobs.parse_report, f"bad-{i}").id for i in range(k)]
    run_worker(redis_url, ["charted"])
    assert set(ids) <= set(failed_ids(r, "charted"))

    # The chart re-reads by itself; then the data it drew is what REST answers for its window.
    def caught_up():
        now = drawn(page, "charted")
        return now if total(now["buckets"], "failed") == k else None

    now = wait_until(caught_up, REREAD_S, "the chart never showed the failures")
    assert now["reads"] > before["reads"]
    # (Equal once both read after the same sample: the writer may tick between the two reads.)
    wait_until(lambda: matches_rest(page, gateway, "charted"), REREAD_S, "the chart never equalled REST")
    assert page.evaluate("window.__sameDocument === true"), "the page was reloaded"

    # The minutes before this gateway started were never sampled: null, drawn as a gap, and
    # said as "no sample" in the table kept for screen readers.
    buckets = drawn(page, "charted")["buckets"]
    assert buckets[0]["failed"] is None and buckets[0]["queued"] is None
    assert total(buckets, "finished") == 1
    first_row = page.locator("table.history tbody tr").first
    assert first_row.locator("td").first.inner_text() == "no sample"
    assert page.locator("table.history tbody tr").count() == len(buckets)
    series = page.locator("figure.chart").evaluate_all("fs => fs.map(f => JSON.parse(f.dataset.series))")
    assert [len(each) for each in series] == [2, 1, 1]  # failed+finished, queued, p95
    assert all(values[0] is None for chart in series for values in chart)  # not drawn as 0
    assert series[0][0] == [b["failed"] for b in buckets] and series[1][0] == [b["queued"] for b in buckets]

    assert seen.outside == []
    assert seen.errors == []  # a CSP refusal (an inline style or script) is logged as an error
    assert serious(page) == []


def test_overview_charts_the_chosen_queue(r, redis_url, gateway, visit):
    for name in ("alpha", "beta"):
        Queue(name, connection=r).enqueue(jobs.add, 1, 2)
    Queue("beta", connection=r).enqueue(jobs.parse_report, "bad")
    run_worker(redis_url, ["alpha", "beta"])
    page = visit("viewer", "/").page
    picker = page.get_by_label("History of queue")
    picker.wait_for(timeout=TIMEOUT_MS)
    assert drawn(page, "alpha")  # the first queue until another is chosen
    picker.select_option("beta")

    def beta_failed():
        d = drawn(page, "beta")
        return d if total(d["buckets"], "failed") == 1 else None

    wait_until(beta_failed, REREAD_S, "the chosen queue's failure never showed")
    wait_until(
        lambda: matches_rest(page, gateway, "beta"), REREAD_S, "the overview chart never equalled REST"
    )
    assert page.locator('section.history-charts[data-history-of="alpha"]').count() == 0
