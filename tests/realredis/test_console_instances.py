"""The console's instance switcher (README "Console"), in chromium, against the gateway started by
its CLI with two real redis-servers (`--redis b=URL`) holding different failed jobs: the switcher
lists both, switching shows the other instance's jobs as REST `?instance=` reports them, the
choice lives in the URL, a retry on b acts on b's Redis only, and a stopped instance is shown as
unavailable, named in its views' message, while the other keeps working."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from playwright.sync_api import expect

from .console import TIMEOUT_MS, failing, rest, start_gateway
from .helpers import RedisServer, failed_ids, queued_ids, start_redis_server
from .processes import GatewayProcess

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


@pytest.fixture(scope="module")
def second(redis_server_binary: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = start_redis_server(redis_server_binary, tmp_path_factory.mktemp("instance-b"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def gateway(
    redis_server: RedisServer, second: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayProcess]:
    log = tmp_path_factory.mktemp("console-instances") / "gateway.log"
    process = start_gateway(redis_server.url, log, "--redis", f"b={second.url}", "--redis-timeout", "1")
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def b(second: RedisServer) -> Iterator[redis.Redis]:
    """A client on instance b, emptied for this test (the session server is flushed by conftest)."""
    client = second.client()
    client.flushall()
    try:
        yield client
    finally:
        client.close()


def listed(page) -> list[str]:
    rows = page.locator("table.failed tbody tr")
    rows.first.wait_for(timeout=TIMEOUT_MS)
    return rows.evaluate_all("rows => rows.map(row => row.dataset.job)")


def rest_failed(gateway: GatewayProcess, **params: str) -> list[str]:
    return [job["job_id"] for job in rest(gateway, "/api/v1/jobs/failed", queue="default", **params)]


def test_the_switcher_moves_every_view_and_action_to_the_chosen_instance(
    r, redis_url, b, second, gateway, visit
):
    on_a = failing(r, redis_url, 2)
    on_b = failing(b, second.url, 3)
    seen = visit("admin", "/#/failed/default")
    page = seen.page
    switcher = page.get_by_label("Redis instance")
    expect(switcher.locator("option")).to_have_text(["default", "b"], timeout=TIMEOUT_MS)
    assert sorted(listed(page)) == sorted(on_a) == sorted(rest_failed(gateway))

    switcher.select_option("b")
    expect(page).to_have_url(f"{gateway.base}/#/failed/default?instance=b", timeout=TIMEOUT_MS)
    expect(page.locator("table.failed tbody tr")).to_have_count(len(on_b), timeout=TIMEOUT_MS)
    assert sorted(listed(page)) == sorted(on_b) == sorted(rest_failed(gateway, instance="b"))
    # A link inside the console keeps the instance; a reload of its URL too.
    page.get_by_role("link", name=on_b[0]).click()
    expect(page).to_have_url(f"{gateway.base}/#/job/{on_b[0]}?instance=b", timeout=TIMEOUT_MS)
    page.reload()
    expect(page.get_by_label("Redis instance")).to_have_value("b", timeout=TIMEOUT_MS)
    # The job page's live feed streams b's job (it is not on the default instance at all).
    expect(page.locator("#job-status")).to_have_text("failed", timeout=TIMEOUT_MS)
    assert any("/graphql?instance=b" in url and url.startswith("ws") for url in seen.requests)

    page.get_by_role("button", name="Retry").click()
    expect(page.locator("#job-status")).to_have_text("queued", timeout=TIMEOUT_MS)
    assert queued_ids(b) == [on_b[0]] and sorted(failed_ids(b)) == sorted(on_b[1:])
    assert queued_ids(r) == [] and sorted(failed_ids(r)) == sorted(on_a)  # the default untouched

    # Back to the default, which a link keeps too; its jobs again.
    page.get_by_label("Redis instance").select_option("default")
    page.get_by_role("link", name="Overview").click()
    expect(page).to_have_url(f"{gateway.base}/#/?instance=default", timeout=TIMEOUT_MS)
    expect(page.locator("table.queues tbody tr")).to_have_count(1, timeout=TIMEOUT_MS)
    assert rest(gateway, "/api/v1/queues")[0]["failed_count"] == len(on_a)
    # A name the gateway does not know: said so, and the switcher still offers the others.
    page.evaluate("location.hash = '#/failed/default?instance=nope'")
    expect(page.locator("main").get_by_role("alert")).to_contain_text(
        "NOT_FOUND: Redis instance 'nope' is not configured", timeout=TIMEOUT_MS
    )
    expect(page.get_by_label("Redis instance").locator("option")).to_have_text(["default", "b"])
    assert seen.outside == [] and seen.errors == []


def test_a_stopped_instance_shows_as_unavailable_and_the_other_keeps_working(
    r, redis_url, b, second, gateway, visit
):
    on_a = failing(r, redis_url, 1)
    failing(b, second.url, 1)
    page = visit("viewer", "/#/failed/default?instance=b").page
    expect(page.locator("table.failed tbody tr")).to_have_count(1, timeout=TIMEOUT_MS)
    second.stop()
    try:
        page.reload()
        alert = page.locator("main").get_by_role("alert").first
        expect(alert).to_contain_text("SERVICE_UNAVAILABLE: Redis instance 'b'", timeout=TIMEOUT_MS)
        expect(page.locator("#banner")).to_contain_text(
            "Redis instance 'b' is unreachable", timeout=TIMEOUT_MS
        )
        options = page.get_by_label("Redis instance").locator("option")
        expect(options).to_have_text(["default", "b (unavailable)"], timeout=TIMEOUT_MS)
        page.get_by_label("Redis instance").select_option("default")
        expect(page.locator("table.failed tbody tr")).to_have_count(1, timeout=TIMEOUT_MS)
        assert listed(page) == on_a
        expect(page.locator("#banner")).to_be_hidden(timeout=TIMEOUT_MS)
    finally:
        second.start()
