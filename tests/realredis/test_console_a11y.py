"""axe-core (vendored in tests/vendor/axe-core) finds no serious or critical accessibility
violation on any console page, in light and in dark mode, with data on every page. Each page is
checked in both schemes on one load: the console's colours follow `prefers-color-scheme` live.

The gateway offers single sign-on (README "Single sign-on"), so the sign-in page is checked with
its "Sign in with ..." button, and once more showing a refused sign-in. Rendering these makes no
request to the issuer, so none runs here (tests/realredis/test_console_sign_on.py signs in)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from rq import Queue

from gateway.demo import jobs
from tests.keyed import KEYS

from .console import PROJECT_ROOT, TIMEOUT_MS, open_console, start_gateway
from .helpers import RedisServer, failed_ids, run_worker
from .processes import GatewayProcess

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

AXE = (PROJECT_ROOT / "tests" / "vendor" / "axe-core" / "axe.min.js").read_text()


@pytest.fixture(scope="module")
def gateway(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    sign_on = ["--oidc-issuer", "https://login.example.com", "--oidc-audience", "rq-console"]
    sign_on += ["--oidc-roles", "staff=viewer", "--oidc-client-id", "rq-console"]
    process = start_gateway(
        redis_server.url, tmp_path_factory.mktemp("console-a11y") / "gateway.log", *sign_on
    )
    try:
        yield process
    finally:
        process.stop()


def serious(page) -> list[str]:
    """axe's serious and critical violations of the page as it is now. The script is evaluated
    through the DevTools protocol, which the page's CSP does not govern (the page itself still
    could not load it: it is not served)."""
    page.evaluate(AXE)
    violations = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".filter(v => ['serious', 'critical'].includes(v.impact))"
        ".map(v => v.id + ': ' + v.help + ' at ' + v.nodes.map(n => n.target.join(' ')).join(', '))"
    )
    return violations


def start_operation(gateway: GatewayProcess, selector: dict) -> str:
    response = requests.post(
        gateway.base + "/api/v1/operations",
        json={"action": "retry", "queue": "default", "selector": selector},
        headers={"Authorization": f"Bearer {KEYS['admin']}"},
        timeout=10,
    )
    assert response.status_code == 202, response.text
    return response.json()["id"]


PAGES = {
    "overview": ("/", "table.queues"),
    "queue": ("/#/queue/default?state=failed", "table.jobs"),
    "failed": ("/#/failed/default", "table.groups"),
    "job": ("/#/job/{job}", "pre.traceback"),
    "workers": ("/#/workers", "#suspension"),
    "scheduling": ("/#/scheduling", "main h2"),
    "audit": ("/#/audit", "main table"),
    "operations": ("/#/operations", "table.operations"),
    "operation": ("/#/operation/{operation}", ".operation-panel[data-status]"),
    "sign-in": ("/", "#key"),
    # The issuer's answer to a sign-in this tab did not start: the page says so.
    "sign-in-refused": ("/?code=stolen&state=forged", ".signin [role=alert]"),
}


SCHEMES = ("light", "dark")


def serious_in_each_scheme(page) -> dict[str, list[str]]:
    """The page's serious and critical violations in each colour scheme, switched in place."""
    found = {}
    for scheme in SCHEMES:
        page.emulate_media(color_scheme=scheme)
        found[scheme] = serious(page)
    return found


@pytest.mark.parametrize("name", [*PAGES, "confirmation"])
def test_no_serious_accessibility_violation(r, redis_url, gateway, browser, name):
    Queue("default", connection=r).enqueue(jobs.parse_report, "bad")
    run_worker(redis_url, ["default"])
    (job_id,) = failed_ids(r)
    path, ready = PAGES.get(name, ("/#/failed/default", "table.groups"))
    operation = ""
    if name.startswith("operation"):  # one that could not act on one of its jobs: its errors show
        operation = start_operation(gateway, {"job_ids": [job_id, "no-such-job"]})
    signed_out = name.startswith("sign-in")
    path = path.format(job=job_id, operation=operation)
    seen = open_console(browser, gateway.base, None if signed_out else "admin", path)
    page = seen.page
    try:
        page.locator(ready).first.wait_for(timeout=TIMEOUT_MS)
        if signed_out:
            assert page.get_by_role("button", name="Sign in with login.example.com").is_visible()
        if name == "confirmation":
            page.get_by_role("button", name="Clear").click()
            page.get_by_role("dialog").get_by_role("textbox").wait_for(timeout=TIMEOUT_MS)
        assert serious_in_each_scheme(page) == {scheme: [] for scheme in SCHEMES}
        assert seen.outside == []
    finally:
        page.context.close()


@pytest.fixture(scope="module")
def two_instances(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayProcess]:
    """A gateway with a second instance (the session server's DB 1: no other server to start)."""
    other = redis_server.url.rsplit("/", 1)[0] + "/1"
    log = tmp_path_factory.mktemp("console-a11y-instances") / "gateway.log"
    process = start_gateway(redis_server.url, log, "--redis", f"b={other}")
    try:
        yield process
    finally:
        process.stop()


def test_no_serious_accessibility_violation_with_the_instance_switcher(r, redis_url, two_instances, browser):
    Queue("default", connection=r).enqueue(jobs.parse_report, "bad")
    run_worker(redis_url, ["default"])
    seen = open_console(browser, two_instances.base, "admin", "/#/failed/default")
    page = seen.page
    try:
        page.get_by_label("Redis instance").wait_for(timeout=TIMEOUT_MS)
        page.locator("table.groups").wait_for(timeout=TIMEOUT_MS)
        assert serious_in_each_scheme(page) == {scheme: [] for scheme in SCHEMES}
        assert seen.outside == []
    finally:
        page.context.close()
