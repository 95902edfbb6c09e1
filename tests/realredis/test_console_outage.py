"""The console through a Redis outage and a gateway restart: a banner a person can act on, never
a blank page, and the page recovers by itself, without a reload."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect
from rq import Queue

from gateway.demo import jobs

from .console import TIMEOUT_MS, open_console, start_gateway
from .helpers import RedisServer, start_redis_server
from .processes import GatewayProcess

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


@pytest.fixture
def own_redis(redis_server_binary: str, tmp_path) -> Iterator[RedisServer]:
    """A redis-server of this test alone, which it stops and starts again (empty, same port)."""
    server = start_redis_server(redis_server_binary, tmp_path / "redis")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def gateway(own_redis: RedisServer, tmp_path) -> Iterator[GatewayProcess]:
    process = start_gateway(own_redis.url, tmp_path / "gateway.log")
    try:
        yield process
    finally:
        process.stop()


def enqueue(server: RedisServer, queue: str) -> None:
    connection = server.client()
    try:
        Queue(queue, connection=connection).enqueue(jobs.add, 1, 2)
    finally:
        connection.close()


def test_redis_outage_shows_a_banner_and_the_overview_recovers_by_itself(own_redis, gateway, browser):
    enqueue(own_redis, "before")
    page = open_console(browser, gateway.base, "viewer").page
    try:
        expect(page.locator('tr[data-queue="before"]')).to_be_visible(timeout=TIMEOUT_MS)
        page.evaluate("window.__sameDocument = true")
        banner = page.locator("#banner")
        own_redis.stop()
        expect(banner).to_contain_text("Redis is unreachable", timeout=TIMEOUT_MS)
        expect(page.locator('tr[data-queue="before"]')).to_be_visible()  # the last data stays

        own_redis.start()  # empty, on the same port
        enqueue(own_redis, "after")
        expect(page.locator('tr[data-queue="after"]')).to_be_visible(timeout=TIMEOUT_MS)
        expect(banner).to_be_hidden()
        assert page.evaluate("window.__sameDocument === true"), "the page was reloaded"
    finally:
        page.context.close()


def test_a_page_opened_during_an_outage_explains_it_and_recovers(own_redis, gateway, browser):
    own_redis.stop()
    page = open_console(browser, gateway.base, "viewer", "/#/failed/default").page
    try:
        expect(page.get_by_role("alert").first).to_contain_text("SERVICE_UNAVAILABLE", timeout=TIMEOUT_MS)
        expect(page.get_by_role("alert").first).to_contain_text("retries by itself")
        own_redis.start()
        enqueue(own_redis, "default")
        expect(page.get_by_text("No failed jobs here.")).to_be_visible(timeout=TIMEOUT_MS)
        expect(page.locator("#banner")).to_be_hidden()
    finally:
        page.context.close()


def test_live_views_reconnect_after_a_gateway_restart(own_redis, gateway, browser):
    enqueue(own_redis, "before")
    page = open_console(browser, gateway.base, "viewer").page
    try:
        expect(page.locator('tr[data-queue="before"]')).to_be_visible(timeout=TIMEOUT_MS)
        page.evaluate("window.__sameDocument = true")
        gateway.stop()
        expect(page.locator("#banner")).to_contain_text("gateway is not answering", timeout=TIMEOUT_MS)
        gateway.start()  # the same port
        enqueue(own_redis, "after")
        expect(page.locator('tr[data-queue="after"]')).to_be_visible(timeout=TIMEOUT_MS)
        expect(page.locator("#banner")).to_be_hidden()
        assert page.evaluate("window.__sameDocument === true"), "the page was reloaded"
    finally:
        page.context.close()


def test_the_banner_goes_once_redis_answers_even_when_the_answer_is_an_error(own_redis, gateway, browser):
    """Redis back empty (no persistence): the queue of the page is gone, and the view says
    NOT_FOUND. That is Redis answering: the banner must not go on saying it is unreachable."""
    enqueue(own_redis, "default")
    page = open_console(browser, gateway.base, "viewer", "/#/failed/default").page
    try:
        expect(page.get_by_text("No failed jobs here.")).to_be_visible(timeout=TIMEOUT_MS)
        own_redis.stop()
        page.evaluate("location.hash = '#/failed/default?exc=ValueError'")  # the list is read again
        expect(page.locator("#banner")).to_contain_text("Redis is unreachable", timeout=TIMEOUT_MS)
        own_redis.start()  # empty: the default queue is no longer known
        expect(page.get_by_role("alert").first).to_contain_text("NOT_FOUND", timeout=TIMEOUT_MS)
        expect(page.locator("#banner")).to_be_hidden(timeout=TIMEOUT_MS)
    finally:
        page.context.close()
