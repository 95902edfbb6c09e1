"""The console in chromium, against the gateway started by its CLI, a real redis-server and real
`rq worker`s: each page shows what REST reports, live updates arrive without a reload, bulk
deletes need the typed count, each role sees only its controls, and no request leaves the origin.

One browser and one gateway serve the whole module; Redis is flushed before each test."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import expect
from rq import Queue

from gateway.demo import jobs
from tests.keyed import KEYS

from .console import (
    TIMEOUT_MS,
    failing,
    interval_ms,
    live_worker,
    open_console,
    rest,
    start_gateway,
)
from .helpers import RedisServer, failed_ids, run_worker, wait_until
from .processes import GatewayProcess

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


@pytest.fixture(scope="module")
def gateway(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    process = start_gateway(redis_server.url, tmp_path_factory.mktemp("console") / "gateway.log")
    try:
        yield process
    finally:
        process.stop()


def cells(page, selector: str) -> list[list[str]]:
    """The text of each body row of the table matching `selector`, cell by cell."""
    page.locator(f"{selector} tbody tr").first.wait_for(timeout=TIMEOUT_MS)
    return page.locator(f"{selector} tbody tr").evaluate_all(
        "rows => rows.map(row => [...row.children].map(cell => cell.innerText.trim()))"
    )


def mark_no_reload(page) -> None:
    page.evaluate("window.__sameDocument = true")


def assert_no_reload(page) -> None:
    assert page.evaluate("window.__sameDocument === true"), "the page was reloaded"


# Each page shows what REST reports for the same data.


def test_overview_shows_every_queue_as_rest_reports_it(r, redis_url, gateway, visit):
    failing(r, redis_url, 3)
    Queue("default", connection=r).enqueue(jobs.add, 1, 2)
    Queue("reports", connection=r).enqueue(jobs.add, 2, 3)
    page = visit("viewer").page
    rows = {row[0]: row[1:] for row in cells(page, "table.queues")}
    expected = rest(gateway, "/api/v1/queues", "viewer")
    assert set(rows) == {queue["queue_name"] for queue in expected} == {"default", "reports"}
    for queue in expected:
        counts = [str(queue[f"{state}_count"]) for state in ("queued", "started", "failed", "finished")]
        counts += [str(queue[f"{state}_count"]) for state in ("deferred", "scheduled", "canceled")]
        assert rows[queue["queue_name"]][:7] == counts
        assert rows[queue["queue_name"]][8] == str(queue["worker_count"])
        assert (rows[queue["queue_name"]][7] == "—") == (queue["latency_seconds"] is None)
    # One Redis instance: no instance switcher (test_console_instances.py has two).
    assert page.get_by_label("Redis instance").count() == 0


def test_queue_page_pages_by_cursor_in_both_orders_as_rest_does(r, gateway, visit):
    q = Queue("bulk", connection=r)
    ids = [q.enqueue(jobs.add, i, i).id for i in range(60)]
    page = visit("viewer", "/#/queue/bulk?state=queued").page
    first = [row[0] for row in cells(page, "table.jobs")]
    rest_page = rest(gateway, "/api/v1/queues/bulk/jobs", "viewer", state="queued", limit=50)
    assert first == [job["job_id"] for job in rest_page["jobs"]] == ids[:50]
    page.get_by_role("link", name="Next page").click()
    expect(page.locator("table.jobs tbody tr")).to_have_count(10, timeout=TIMEOUT_MS)
    assert [row[0] for row in cells(page, "table.jobs")] == ids[50:]
    assert "after=" in page.url  # the page's own URL holds the cursor
    page.get_by_role("link", name="Newest first").click()
    expect(page.locator("table.jobs tbody tr").first).to_contain_text(ids[-1], timeout=TIMEOUT_MS)
    newest = rest(gateway, "/api/v1/queues/bulk/jobs", "viewer", state="queued", limit=50, order="desc")
    assert [row[0] for row in cells(page, "table.jobs")] == [job["job_id"] for job in newest["jobs"]]


def test_failed_page_lists_filters_and_groups_as_rest_does(r, redis_url, gateway, visit):
    failing(r, redis_url, 4)
    Queue("default", connection=r).enqueue(jobs.flaky_charge, 7)
    run_worker(redis_url, ["default"])  # one ConnectionError next to four ValueErrors
    page = visit("viewer", "/#/failed/default").page
    listed = [row[0] for row in cells(page, "table.failed")]
    assert listed == [
        job["job_id"] for job in rest(gateway, "/api/v1/jobs/failed", "viewer", queue="default")
    ]
    groups = rest(gateway, "/api/v1/jobs/failed/groups", "viewer", queue="default")["groups"]
    shown = {(row[2], row[0]) for row in cells(page, "table.groups")}
    assert (
        shown
        == {(group["exc_type"], str(group["count"])) for group in groups}
        == {("ValueError", "4"), ("ConnectionError", "1")}
    )

    # A filter typed in the form becomes the URL; that URL opens the same filtered view elsewhere.
    page.get_by_label("Exception type").fill("ConnectionError")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("table.failed tbody tr")).to_have_count(1, timeout=TIMEOUT_MS)
    url = page.url
    (only,) = rest(gateway, "/api/v1/jobs/failed", "viewer", queue="default", exc_type="ConnectionError")
    pasted = visit("operator", url[url.index("/#") :]).page
    expect(pasted.locator("table.failed tbody tr")).to_have_count(1, timeout=TIMEOUT_MS)
    assert cells(pasted, "table.failed")[0][1] == only["job_id"]
    assert pasted.get_by_label("Exception type").input_value() == "ConnectionError"


def test_job_page_shows_every_field_as_rest_reports_it(r, redis_url, gateway, visit):
    (job_id,) = failing(r, redis_url, 1)
    page = visit("viewer", f"/#/job/{job_id}").page
    status = page.locator("#job-status")
    expect(status).to_have_text("failed", timeout=TIMEOUT_MS)
    detail = rest(gateway, f"/api/v1/jobs/status/{job_id}", "viewer")
    assert detail["status"] == "failed"
    text = page.locator("main").inner_text()
    assert detail["func_name"] in text and "default · failed" in text
    assert page.locator("pre.json").first.inner_text() == '[\n  "bad-default-0"\n]'
    traceback = page.locator("pre.traceback")
    assert "ValueError: malformed report header" in traceback.inner_text()
    style = traceback.evaluate("e => [getComputedStyle(e).overflowX, getComputedStyle(e).fontFamily]")
    assert style[0] == "auto" and "mono" in style[1].lower()


def test_workers_page_shows_a_live_worker_as_rest_reports_it(redis_url, gateway, visit):
    with live_worker(redis_url, "default", "reports") as name:
        wait_until(
            lambda: any(w["name"] == name for w in rest(gateway, "/api/v1/workers", "viewer")),
            30,
            "the worker to register",
            0.1,
        )
        page = visit("viewer", "/#/workers").page
        (row,) = [row for row in cells(page, "table") if row[0] == name]
        (worker,) = [w for w in rest(gateway, "/api/v1/workers", "viewer") if w["name"] == name]
        assert row[1] == worker["state"] and row[2] == ", ".join(worker["queues"])
        assert row[4:6] == [str(worker["successful_job_count"]), str(worker["failed_job_count"])]


def test_audit_page_shows_the_entries_rest_reports_to_admins(r, redis_url, gateway, visit):
    (job_id,) = failing(r, redis_url, 1)
    response = requests.post(
        f"{gateway.base}/api/v1/jobs/failed/{job_id}/retry",
        headers={"Authorization": f"Bearer {KEYS['operator']}"},
        timeout=10,
    )
    assert response.status_code == 200
    page = visit("admin", "/#/audit").page
    (entry,) = rest(gateway, "/api/v1/audit", "admin")["entries"]
    (row,) = cells(page, "table")
    assert row[1:4] == [entry["key"], entry["action"], entry["queue"]] == ["operator", "retry", "default"]
    assert row[7] == entry["request_id"]
    # Not an admin: no audit link, and the page answers with the server's refusal.
    viewer = visit("operator", "/#/audit").page
    expect(viewer.get_by_role("alert")).to_contain_text("FORBIDDEN", timeout=TIMEOUT_MS)
    assert viewer.get_by_role("link", name="Audit log").count() == 0


# Live updates, without a reload.


def test_operator_retry_then_real_worker_shows_finished_without_reload(r, redis_url, visit):
    job_id = Queue("default", connection=r).enqueue(jobs.flaky_charge, 42).id
    run_worker(redis_url, ["default"])  # its first attempt fails
    page = visit("operator", f"/#/job/{job_id}").page
    expect(page.locator("#job-status")).to_have_text("failed", timeout=TIMEOUT_MS)
    mark_no_reload(page)
    page.get_by_role("button", name="Retry").click()
    expect(page.locator("#job-status")).to_have_text("queued", timeout=TIMEOUT_MS)
    run_worker(redis_url, ["default"])
    expect(page.locator("#job-status")).to_have_text("finished", timeout=TIMEOUT_MS)
    assert_no_reload(page)


def test_a_failure_in_a_worker_reaches_the_overview_within_two_intervals(r, redis_url, visit):
    Queue("default", connection=r).enqueue(jobs.add, 1, 1)
    seen = visit("viewer")
    page = seen.page
    failed = page.locator('tr[data-queue="default"] td[data-state="failed"]')
    expect(failed).to_have_text("0", timeout=TIMEOUT_MS)
    mark_no_reload(page)
    Queue("default", connection=r).enqueue(jobs.parse_report, "bad")
    run_worker(redis_url, ["default"])
    failed_at = time.monotonic()
    two_intervals = 2 * interval_ms("overview")
    expect(failed).to_have_text("1", timeout=two_intervals + 1000)
    elapsed = time.monotonic() - failed_at
    assert elapsed <= two_intervals / 1000, f"shown after {elapsed:.2f}s"
    assert_no_reload(page)
    # It came by the `queues` subscription, not by re-running a query.
    assert any('"type":"next"' in frame and '"queues"' in frame for frame in seen.frames)


# Bulk deletes need the typed count.


def test_clear_cannot_run_without_the_typed_count(r, redis_url, gateway, visit):
    failing(r, redis_url, 12)
    page = visit("admin", "/#/failed/default").page
    # Two clicks before the dry run answers (a double click; the button does not move first): one.
    page.get_by_role("button", name="Clear").evaluate("button => { button.click(); button.click(); }")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("found 12 failed jobs", timeout=TIMEOUT_MS)
    expect(page.locator("dialog")).to_have_count(1)
    delete = dialog.get_by_role("button", name="Delete 12 jobs")
    expect(delete).to_be_disabled()
    count = dialog.get_by_label("Type 12 to confirm")
    count.fill("11")
    expect(delete).to_be_disabled()
    count.press("Enter")  # implicit submission must not get past a disabled button
    delete.click(force=True)  # nor a click on it
    expect(dialog).to_be_visible()
    assert r.zcard("rq:failed:default") == 12
    dialog.get_by_role("button", name="Cancel").click()
    assert r.zcard("rq:failed:default") == 12
    # The count came from the operation's dry run, which starts nothing.
    assert rest(gateway, "/api/v1/operations", "admin")["operations"] == []

    page.get_by_role("button", name="Clear").click()
    page.get_by_label("Type 12 to confirm").fill("12")
    page.get_by_role("button", name="Delete 12 jobs").click()
    expect(page.get_by_role("status").filter(has_text="Deleted 12 jobs")).to_be_visible(timeout=TIMEOUT_MS)
    assert r.zcard("rq:failed:default") == 0
    # One tracked operation did it.
    (operation,) = rest(gateway, "/api/v1/operations", "admin")["operations"]
    assert (operation["action"], operation["selector"], operation["acted"]) == ("delete", {"all": True}, 12)


def test_group_delete_and_large_selections_need_the_typed_count(r, redis_url, visit):
    ids = failing(r, redis_url, 12)
    page = visit("admin", "/#/failed/default").page
    page.get_by_role("button", name="Delete group").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("matched 12 failed jobs", timeout=TIMEOUT_MS)
    expect(dialog.get_by_role("button", name="Delete 12 jobs")).to_be_disabled()
    dialog.get_by_role("button", name="Cancel").click()

    page.get_by_label("Select every job on this page").check()
    page.get_by_role("button", name="Delete selected").click()
    expect(page.get_by_role("dialog").get_by_label("Type 12 to confirm")).to_be_visible()
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()

    # Ten or fewer: a plain confirmation.
    page.get_by_label("Select every job on this page").uncheck()
    for job_id in ids[:3]:
        page.get_by_label(f"Select {job_id}").check()
    page.get_by_role("button", name="Delete selected").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("textbox")).to_have_count(0)
    dialog.get_by_role("button", name="Delete 3 jobs").click()
    expect(page.get_by_role("status").filter(has_text="Deleted 3 of 3")).to_be_visible(timeout=TIMEOUT_MS)
    assert set(failed_ids(r)) == set(ids[3:])


# Each role sees its controls; the server refuses the rest anyway.

ACTIONS = ("Retry selected", "Retry all", "Delete selected", "Clear", "Retry group", "Delete group")


def buttons(page) -> set[str]:
    page.locator("table.failed").wait_for(timeout=TIMEOUT_MS)
    page.locator("table.groups").wait_for(timeout=TIMEOUT_MS)
    return {name for name in ACTIONS if page.get_by_role("button", name=name, exact=True).count()}


def test_a_viewer_sees_no_action_controls_and_the_server_refuses_anyway(r, redis_url, visit):
    (job_id,) = failing(r, redis_url, 1)
    page = visit("viewer", "/#/failed/default").page
    assert buttons(page) == set()
    assert page.get_by_role("checkbox").count() == 0
    job = visit("viewer", f"/#/job/{job_id}").page
    expect(job.locator("#job-status")).to_have_text("failed", timeout=TIMEOUT_MS)
    assert job.locator("main button").count() == 0
    answer = job.evaluate(
        """async (id) => (await (await fetch('graphql', {method: 'POST', headers: {'Content-Type':
        'application/json', Authorization: 'Bearer ' + sessionStorage.getItem('rq-gateway.key')},
        body: JSON.stringify({query: 'mutation($id: ID!) { retryFailedJob(id: $id) { success } }',
        variables: {id}})})).json())""",
        job_id,
    )
    assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert failed_ids(r) == [job_id]


def test_an_operator_sees_retry_but_no_delete(r, redis_url, visit):
    (job_id,) = failing(r, redis_url, 1)
    page = visit("operator", "/#/failed/default").page
    assert buttons(page) == {"Retry selected", "Retry all", "Retry group"}
    job = visit("operator", f"/#/job/{job_id}").page
    expect(job.get_by_role("button", name="Retry")).to_be_visible(timeout=TIMEOUT_MS)
    assert job.get_by_role("button", name="Delete").count() == 0
    admin = visit("admin", "/#/failed/default").page
    assert buttons(admin) == set(ACTIONS)


def test_a_key_whose_patterns_match_no_queue_is_told_so_not_that_rq_has_none(r, visit):
    Queue("default", connection=r).enqueue(jobs.add, 1, 2)
    page = visit("billing", "/#/").page
    expect(page.locator("main")).to_contain_text(
        "No queue matches this key's queue patterns: billing-*", timeout=TIMEOUT_MS
    )
    assert "RQ knows no queues" not in page.locator("main").inner_text()


def test_sign_in_keeps_the_key_in_session_storage_and_sign_out_forgets_it(visit):
    page = visit(None).page
    key = page.get_by_label("API key")
    key.fill("not-a-key")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("That key was not accepted.", timeout=TIMEOUT_MS)
    page.get_by_label("API key").fill(KEYS["operator"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("operator (operator)")).to_be_visible(timeout=TIMEOUT_MS)
    assert page.evaluate("sessionStorage.getItem('rq-gateway.key')") == KEYS["operator"]
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("API key")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('rq-gateway.key')") is None


# Nothing is fetched from outside the gateway.


@pytest.mark.parametrize("path", ["/", "/#/failed/default", "/#/workers", "/#/audit", "/graphql", "/docs"])
def test_no_request_leaves_the_gateway_origin(r, redis_url, gateway, browser, path):
    failing(r, redis_url, 1)
    seen = open_console(browser, gateway.base, "admin", path)
    try:
        page = seen.page
        ready = {
            "/graphql": ".graphiql-query-editor",
            "/docs": ".opblock",
            "/#/workers": "text=No live workers",
        }
        page.locator(ready.get(path, "main table")).first.wait_for(timeout=TIMEOUT_MS)
        page.wait_for_load_state("networkidle")
        assert seen.requests, "no request was recorded"
        assert seen.outside == []
        html = requests.get(gateway.base + path.split("#")[0], timeout=10)
        policy = html.headers["Content-Security-Policy"]
        for directive in ("script-src 'self'", "style-src 'self'", "img-src 'self'", "connect-src 'self'"):
            assert directive in policy
    finally:
        seen.page.context.close()


def test_live_updates_pause_while_the_tab_is_hidden(r, visit):
    Queue("default", connection=r).enqueue(jobs.add, 1, 1)
    seen = visit("viewer")
    page = seen.page
    expect(page.locator('tr[data-queue="default"]')).to_be_visible(timeout=TIMEOUT_MS)
    traffic: list[str] = []
    page.on("request", lambda request: traffic.append(request.url))
    page.on("websocket", lambda ws: ws.on("framesent", lambda frame: traffic.append(str(frame))))
    page.evaluate(
        "Object.defineProperty(document, 'hidden', {configurable: true, get: () => true});"
        "document.dispatchEvent(new Event('visibilitychange'))"
    )
    traffic.clear()
    Queue("default", connection=r).enqueue(jobs.add, 2, 2)
    # Absence can only be shown by waiting: two intervals in which a live view would have asked.
    page.wait_for_timeout(2 * interval_ms("overview"))
    assert traffic == []
    assert page.locator('tr[data-queue="default"] td[data-state="queued"]').inner_text() == "1"
    page.evaluate(
        "Object.defineProperty(document, 'hidden', {configurable: true, get: () => false});"
        "document.dispatchEvent(new Event('visibilitychange'))"
    )
    expect(page.locator('tr[data-queue="default"] td[data-state="queued"]')).to_have_text(
        "2", timeout=TIMEOUT_MS
    )


# Keyboard, and the system's colour scheme.


def test_the_console_is_usable_from_the_keyboard(r, redis_url, visit):
    failing(r, redis_url, 2)
    page = visit("admin").page
    expect(page.locator("table.queues")).to_be_visible(timeout=TIMEOUT_MS)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    for _ in range(10):  # through the navigation to the Workers link
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Workers":
            break
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Workers")).to_be_visible(timeout=TIMEOUT_MS)

    page.goto(page.url.split("#")[0] + "#/failed/default")
    clear = page.get_by_role("button", name="Clear").element_handle()
    clear.focus()
    page.keyboard.press("Enter")
    count = page.get_by_role("dialog").get_by_label("Type 2 to confirm")
    expect(count).to_be_focused(timeout=TIMEOUT_MS)  # the dialog takes the focus
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert r.zcard("rq:failed:default") == 2
    # Refused, nothing changed: the view says so without being rebuilt under the next key press.
    expect(page.get_by_role("status").filter(has_text="Nothing was deleted.")).to_be_visible()
    assert clear.evaluate("button => button.isConnected")
    page.get_by_role("button", name="Clear").focus()
    page.keyboard.press("Enter")
    expect(count).to_be_focused(timeout=TIMEOUT_MS)
    page.keyboard.type("2")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").filter(has_text="Deleted 2 jobs")).to_be_visible(timeout=TIMEOUT_MS)
    assert r.zcard("rq:failed:default") == 0


def test_light_and_dark_follow_the_system_setting(visit):
    page = visit("viewer").page
    expect(page.get_by_role("heading", name="Queues")).to_be_visible(timeout=TIMEOUT_MS)
    background = "getComputedStyle(document.body).backgroundColor"
    page.emulate_media(color_scheme="light")
    light = page.evaluate(background)
    page.emulate_media(color_scheme="dark")
    dark = page.evaluate(background)
    assert (light, dark) == ("rgb(255, 255, 255)", "rgb(13, 17, 23)")
