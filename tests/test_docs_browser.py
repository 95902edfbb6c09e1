"""GraphiQL and Swagger UI render in a real browser (Debian's chromium, driven by Playwright) with
every request that would leave the gateway's origin blocked, as on an air-gapped machine.

Skipped without playwright or chromium; under CI=true (where .ci/run installs both) that fails.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import fakeredis
import pytest
import uvicorn

from gateway.app import create_app
from gateway.config import Settings
from tests.test_cli import free_port

pytestmark = pytest.mark.browser

TIMEOUT_MS = 20_000


def _require_browser() -> tuple[object, str]:
    """Playwright's entry point and Debian's chromium (Playwright cannot download its own here)."""
    reason = ""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = "playwright is not installed (pip install '.[test]')"
    chromium = shutil.which("chromium")
    if not reason and not chromium:
        reason = "chromium is not on PATH (apt-get install chromium)"
    if not reason:
        return sync_playwright, chromium
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI=true, so this is a failure, not a skip", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    """The gateway under real uvicorn on loopback (no keys: anonymous admin, as on a laptop)."""
    app = create_app(
        Settings(redis_url="redis://unused"), connection=fakeredis.FakeRedis(server=fakeredis.FakeServer())
    )
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)  # polling interval, bounded by the deadline
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator:
    sync_playwright, chromium = _require_browser()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium)
        yield launched
        launched.close()


@dataclass
class Visit:
    """What one page did: the requests that left the origin (blocked) and the console errors."""

    page: object
    outside: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    same_origin: list[str] = field(default_factory=list)


@pytest.fixture
def visit(browser, base_url) -> Iterator:
    context = browser.new_context()
    origin = urlsplit(base_url)[:2]

    def open_page(path: str) -> Visit:
        page = context.new_page()
        seen = Visit(page)

        def route(route) -> None:
            url = route.request.url
            if urlsplit(url)[:2] == origin:
                seen.same_origin.append(url)
                route.continue_()
            elif url.startswith("data:"):
                route.continue_()
            else:
                seen.outside.append(url)
                route.abort()

        page.route("**/*", route)
        page.on("console", lambda message: message.type == "error" and seen.errors.append(message.text))
        page.on("pageerror", lambda error: seen.errors.append(str(error)))
        page.goto(base_url + path)
        return seen

    yield open_page
    context.close()


def test_graphiql_renders_and_runs_a_query_offline(visit):
    seen = visit("/graphql")
    page = seen.page
    page.locator(".graphiql-query-editor .CodeMirror").wait_for(timeout=TIMEOUT_MS)
    # The explorer plugin's button is in the sidebar next to the docs explorer.
    assert page.locator(".graphiql-sidebar button").count() >= 2
    page.locator(".graphiql-execute-button").click()
    response = page.locator(".graphiql-response")
    response.get_by_text('"queueName"').wait_for(timeout=TIMEOUT_MS)
    assert '"default"' in response.inner_text()
    assert seen.outside == [] and seen.errors == []
    assert any(url.endswith("/static/vendor/graphiql/graphiql.min.js") for url in seen.same_origin)


def test_swagger_ui_lists_the_operations_offline(visit):
    seen = visit("/docs")  # `/` is the console (tests/realredis/test_console_browser.py)
    page = seen.page
    page.locator(".opblock").first.wait_for(timeout=TIMEOUT_MS)
    assert page.url.endswith("/docs")
    assert page.locator(".opblock").count() >= 7  # at least the contract's seven endpoints
    # "Try it out" calls the API from the page (the policy's connect-src).
    stats = page.locator(".opblock", has_text="/api/v1/jobs/stats").first
    stats.locator(".opblock-summary").click()
    stats.locator(".try-out__btn").click()
    stats.locator(".execute").click()
    status = stats.locator(".live-responses-table tr.response .response-col_status")
    status.wait_for(timeout=TIMEOUT_MS)
    assert status.inner_text().strip() == "200"
    assert '"queue_name": "default"' in stats.locator(".live-responses-table").inner_text()
    assert seen.outside == [] and seen.errors == []
