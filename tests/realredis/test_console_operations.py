"""The console's bulk actions as tracked operations, in chromium against the CLI-started gateway
(with --bulk-max-rate, so an operation over a few thousand jobs lasts long enough to watch and
cancel), a real redis-server and jobs failed by a real `rq worker --burst`: retry-all shows its
progress live (again after a reload) and ends where REST agrees, a lost answer to the start
never starts a second operation, the operation page cancels it, and only the keys that may
cancel see Cancel.

One browser and one gateway serve the whole module; Redis is flushed before each test."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from bench.seed import seed_failed

from .console import TIMEOUT_MS, rest, start_gateway
from .helpers import RedisServer
from .processes import GatewayProcess

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

LIST_REFRESH_MS = 2000  # views/operations.js re-reads the list this often while one runs
RATE = 250  # jobs examined per second: 2,000 jobs take about 8 s
JOBS = 2000


@pytest.fixture(scope="module")
def gateway(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    log = tmp_path_factory.mktemp("console-operations") / "gateway.log"
    process = start_gateway(redis_server.url, log, "--bulk-max-rate", str(RATE))
    try:
        yield process
    finally:
        process.stop()


def set_hidden(page, hidden: bool) -> None:
    page.evaluate(
        "hidden => { Object.defineProperty(document, 'hidden', {configurable: true, get: () => hidden});"
        " document.dispatchEvent(new Event('visibilitychange')); }",
        hidden,
    )


def lose_first_start_answer(page) -> list[dict]:
    """The first startOperation that is not a dry run reaches the gateway, but its answer is lost
    (as on a dropped connection); returns every startOperation request's variables."""
    starts: list[dict] = []

    def handle(route) -> None:
        body = route.request.post_data or ""
        if "startOperation" not in body:
            route.fallback()
            return
        variables = json.loads(body)["variables"]
        starts.append(variables)
        if not variables["dryRun"] and len([s for s in starts if not s["dryRun"]]) == 1:
            route.fetch()  # the gateway starts the operation...
            route.abort("connectionreset")  # ...and the console never hears of it
        else:
            route.fallback()

    page.route("**/graphql", handle)
    return starts


def test_retry_all_runs_as_one_tracked_operation_with_live_progress(r, redis_url, gateway, visit):
    seed_failed(r, redis_url, JOBS, with_worker=100)  # a real worker fails 100, clones make the rest
    seen = visit("operator", "/#/failed/default")
    page = seen.page
    starts = lose_first_start_answer(page)
    page.get_by_role("button", name="Retry all", exact=True).click()
    page.get_by_role("dialog").get_by_role("button", name="Retry all").click()

    # Progress while it runs: part done, from the subscription.
    panel = page.locator(".operation-panel")
    expect(panel).to_have_attribute("data-status", "running", timeout=TIMEOUT_MS)
    expect(panel.locator("progress")).not_to_have_attribute("value", "0", timeout=TIMEOUT_MS)
    assert float(panel.locator("progress").get_attribute("value") or 0) < JOBS
    expect(panel).to_contain_text(f"of {JOBS:,} examined", timeout=TIMEOUT_MS)
    assert any('"type":"next"' in frame and '"operation"' in frame for frame in seen.frames)
    # A reload (or a page change) finds the queue's running operation and follows it again.
    page.reload()
    expect(panel).to_have_attribute("data-status", "running", timeout=TIMEOUT_MS)
    expect(page.locator("#operation-title")).to_contain_text("Retrying every failed job")

    # Its end reloads the lists, with the outcome.
    done = page.get_by_role("status").filter(has_text=f"Requeued {JOBS:,} jobs.")
    expect(done).to_be_visible(timeout=4 * JOBS // RATE * 1000 + TIMEOUT_MS)
    expect(page.get_by_role("heading", name="0 failed jobs")).to_be_visible(timeout=TIMEOUT_MS)

    # The lost answer was asked again with the same key: one operation, and REST agrees.
    real = [s for s in starts if not s["dryRun"]]
    assert len(real) == 2 and real[0]["idempotencyKey"] == real[1]["idempotencyKey"]
    assert real[0]["idempotencyKey"]
    (operation,) = rest(gateway, "/api/v1/operations", "viewer")["operations"]
    assert operation["status"] == "succeeded" and operation["acted"] == JOBS
    assert operation["selector"] == {"all": True} and operation["key"] == "operator"
    stats = rest(gateway, "/api/v1/jobs/stats", "viewer", queue="default")
    assert (stats["queued_count"], stats["failed_count"]) == (JOBS, 0)
    assert r.llen("rq:queue:default") == JOBS

    # A second click is a new key: another operation (nothing left to retry).
    page.get_by_role("button", name="Retry all", exact=True).click()
    page.get_by_role("dialog").get_by_role("button", name="Retry all").click()
    expect(page.get_by_role("status").filter(has_text="Requeued 0 jobs.")).to_be_visible(timeout=TIMEOUT_MS)
    assert len(rest(gateway, "/api/v1/operations", "viewer")["operations"]) == 2
    assert seen.outside == []
    assert [error for error in seen.errors if "ERR_CONNECTION_RESET" not in error] == []


def test_cancel_from_the_operation_page_for_the_keys_that_may(r, redis_url, visit, gateway):
    seed_failed(r, redis_url, JOBS, with_worker=100)
    page = visit("operator", "/#/failed/default").page
    page.get_by_role("button", name="Retry all", exact=True).click()
    page.get_by_role("dialog").get_by_role("button", name="Retry all").click()
    expect(page.locator(".operation-panel")).to_have_attribute("data-status", "running", timeout=TIMEOUT_MS)
    # A confirmation refused says so in the status line: the progress line stays on it.
    page.get_by_role("button", name="Retry group").click()
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("status").filter(has_text="Nothing was changed.")).to_be_visible(
        timeout=TIMEOUT_MS
    )
    expect(page.locator(".operation-panel")).to_have_attribute("data-status", "running")
    page.locator("#operation-title a").click()
    (operation,) = rest(gateway, "/api/v1/operations", "viewer")["operations"]
    assert page.url.endswith(f"#/operation/{operation['id']}")

    # A viewer watches the same operation live, without Cancel; so does the list, with its words.
    viewer = visit("viewer", f"/#/operation/{operation['id']}").page
    expect(viewer.locator(".operation-panel")).to_have_attribute("data-status", "running", timeout=TIMEOUT_MS)
    assert viewer.locator("main").get_by_role("button").count() == 0
    listing = visit("viewer", "/#/operations").page
    row = listing.locator(f'tr[data-operation="{operation["id"]}"]')
    expect(row).to_contain_text("every failed job", timeout=TIMEOUT_MS)
    assert listing.locator("main").get_by_role("button").count() == 0
    # The list is re-read while an operation runs, but not while its tab is hidden.
    reads: list[str] = []
    listing.on("request", lambda request: reads.append(request.url))
    set_hidden(listing, True)

    page.get_by_role("button", name="Cancel operation").click()
    expect(page.locator(".operation-panel")).to_have_attribute("data-status", "canceled", timeout=TIMEOUT_MS)
    expect(page.get_by_role("button", name="Cancel operation")).to_be_hidden()
    expect(viewer.locator(".operation-panel")).to_have_attribute(
        "data-status", "canceled", timeout=TIMEOUT_MS
    )
    # Absence can only be shown by waiting: a refresh interval in which a shown list would read.
    listing.wait_for_timeout(LIST_REFRESH_MS)
    assert reads == [] and row.get_attribute("data-status") == "running"
    set_hidden(listing, False)
    expect(row).to_have_attribute("data-status", "canceled", timeout=TIMEOUT_MS)

    ended = rest(gateway, f"/api/v1/operations/{operation['id']}", "viewer")
    assert ended["status"] == "canceled" and 0 < ended["acted"] < JOBS
    stats = rest(gateway, "/api/v1/jobs/stats", "viewer", queue="default")
    assert stats["queued_count"] == ended["acted"] and stats["failed_count"] == JOBS - ended["acted"]
    assert page.get_by_text(f"{ended['acted']:,} retried").is_visible()
