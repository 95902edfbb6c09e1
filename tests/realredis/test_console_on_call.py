"""The on-call controls in the console (issue 15's actions, in chromium): stop a running job,
enqueue a scheduled or deferred job now, replay a job, suspend and resume the workers, shut one
down. Each click is followed through to what a real `rq worker` does and what REST reports; each
control shows only to the roles that may use it. And the scheduling view, against a real
`rq cron` process.

The module's gateway runs with --hide-payloads, so a viewer's job page says its payloads are
hidden rather than showing a null that reads as the job's own."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect
from rq import Queue
from rq.job import Job

from gateway.demo import jobs

from .console import TIMEOUT_MS, failing, rest, start_gateway
from .control_workers import running_cron, running_worker, wait_exit
from .helpers import RedisServer, start_worker, wait_until, wait_worker
from .processes import GatewayProcess

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


@pytest.fixture(scope="module")
def gateway(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    log = tmp_path_factory.mktemp("console-controls") / "gateway.log"
    process = start_gateway(redis_server.url, log, "--hide-payloads")
    try:
        yield process
    finally:
        process.stop()


def status_of(page):
    return page.locator("#job-status")


def confirm(page, action: str) -> None:
    page.get_by_role("dialog").get_by_role("button", name=action, exact=True).click()
    expect(page.get_by_role("dialog")).to_have_count(0)


def test_an_operator_stops_a_running_job_and_requeues_it_from_its_page(
    r, redis_url, gateway, visit, tmp_path
):
    release = "rq-gateway:test:release"
    job_id = Queue("default", connection=r).enqueue("lifecycle_jobs.wait_for_release", release).id
    worker = start_worker(redis_url, log=tmp_path / "worker.log")
    try:
        page = visit("operator", f"/#/job/{job_id}").page
        expect(status_of(page)).to_have_text("started", timeout=TIMEOUT_MS)
        page.get_by_role("button", name="Stop", exact=True).click()
        expect(page.get_by_role("dialog")).to_contain_text(f"the worker running job {job_id}")
        confirm(page, "Stop")
        expect(status_of(page)).to_have_text("stopped", timeout=TIMEOUT_MS)
        # The Stop button is gone with the status: the focus goes to the line saying what was done,
        # not back to the top of the page.
        expect(page.locator(".status-line")).to_be_focused()
        expect(page.locator(".status-line")).to_contain_text("stop sent")
    finally:
        wait_worker(worker)  # a burst worker exits once the stopped job is handled
    assert rest(gateway, f"/api/v1/jobs/status/{job_id}", "operator")["status"] == "stopped"

    r.set(release, 1)
    page.get_by_role("button", name="Requeue").click()
    expect(status_of(page)).to_have_text("queued", timeout=TIMEOUT_MS)
    wait_worker(start_worker(redis_url, log=tmp_path / "worker2.log"))
    expect(status_of(page)).to_have_text("finished", timeout=TIMEOUT_MS)


def test_enqueue_now_runs_a_scheduled_job_and_asks_first_for_a_deferred_one(r, redis_url, gateway, visit):
    q = Queue("default", connection=r)
    scheduled = q.enqueue_in(timedelta(hours=1), jobs.add, 1, 2).id
    blocker = q.enqueue_in(timedelta(hours=1), jobs.add, 0, 0)
    deferred = q.enqueue(jobs.add, 3, 4, depends_on=blocker).id

    page = visit("operator", f"/#/job/{scheduled}").page
    expect(status_of(page)).to_have_text("scheduled", timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Enqueue now").click()  # a scheduled job: no question
    expect(status_of(page)).to_have_text("queued", timeout=TIMEOUT_MS)
    assert r.lrange("rq:queue:default", 0, -1) == [scheduled.encode()]

    page = visit("operator", f"/#/job/{deferred}").page
    expect(status_of(page)).to_have_text("deferred", timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Enqueue now").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("runs without waiting for them")
    dialog.get_by_role("button", name="Cancel").click()
    assert rest(gateway, f"/api/v1/jobs/status/{deferred}", "operator")["status"] == "deferred"
    page.get_by_role("button", name="Enqueue now").click()
    confirm(page, "Enqueue anyway")
    expect(status_of(page)).to_have_text("queued", timeout=TIMEOUT_MS)
    assert r.lrange("rq:queue:default", 0, -1) == [scheduled.encode(), deferred.encode()]


def test_replay_of_a_failed_job_links_to_the_new_job_which_a_real_worker_runs(r, redis_url, gateway, visit):
    (job_id,) = failing(r, redis_url, 1)
    page = visit("operator", f"/#/job/{job_id}").page
    expect(status_of(page)).to_have_text("failed", timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Replay").click()
    notice = page.get_by_role("status").filter(has_text="Replayed as")
    expect(notice).to_be_visible(timeout=TIMEOUT_MS)
    new_id = notice.get_by_role("link").inner_text()
    assert new_id != job_id
    assert rest(gateway, f"/api/v1/jobs/status/{new_id}", "operator")["status"] == "queued"
    assert r.hget(f"rq:job:{new_id}", "origin") == b"default"

    notice.get_by_role("link").click()
    expect(page.get_by_role("heading", name=f"Job {new_id}")).to_be_visible(timeout=TIMEOUT_MS)
    expect(status_of(page)).to_have_text("queued", timeout=TIMEOUT_MS)
    Queue("default", connection=r).enqueue(jobs.add, 0, 0)  # the burst worker's exit comes after it
    wait_worker(start_worker(redis_url))
    expect(status_of(page)).to_have_text("failed", timeout=TIMEOUT_MS)  # the same bad report, again


def test_an_admin_suspends_resumes_and_shuts_a_worker_down_from_the_workers_page(
    r, redis_url, gateway, visit, tmp_path
):
    log = tmp_path / "worker.log"
    with running_worker(redis_url, "console-shut-me", log) as process:
        page = visit("admin", "/#/workers").page
        row = page.locator('tr[data-worker="console-shut-me"]')
        expect(row).to_be_visible(timeout=TIMEOUT_MS)
        expect(page.locator("#suspension")).to_contain_text("Workers take new jobs.")

        page.get_by_role("button", name="Suspend workers…").click()
        page.get_by_label("For how many seconds (empty: until resumed)").fill("600")
        confirm(page, "Suspend")
        expect(page.locator("#suspension")).to_contain_text("Workers are suspended until", timeout=TIMEOUT_MS)
        suspension = rest(gateway, "/api/v1/workers/suspension", "admin")
        assert suspension["suspended"] is True and suspension["until"] is not None
        assert 590 <= r.ttl("rq:suspended") <= 600  # what `rq suspend --duration 600` leaves

        page.get_by_role("button", name="Resume workers").click()
        expect(page.locator("#suspension")).to_contain_text("Workers take new jobs.", timeout=TIMEOUT_MS)
        assert r.exists("rq:suspended") == 0

        page.get_by_role("button", name="Shut down console-shut-me").click()
        expect(page.get_by_role("dialog")).to_contain_text("finishes the job it is running")
        confirm(page, "Shut down")
        # Wait through the page: its requests pass through this process (the origin check's route).
        expect(page.get_by_role("status")).to_contain_text("warm shutdown sent", timeout=TIMEOUT_MS)
        assert wait_exit(process, 30, log) == 0  # RQ's warm shutdown: the worker exits cleanly
        expect(row).to_have_count(0, timeout=TIMEOUT_MS)  # gone from the list without a reload


def test_each_role_sees_only_the_controls_it_may_use(r, redis_url, gateway, visit):
    (failed_id,) = failing(r, redis_url, 1)
    viewer = visit("viewer", f"/#/job/{failed_id}").page
    expect(status_of(viewer)).to_have_text("failed", timeout=TIMEOUT_MS)
    assert viewer.locator("main button").count() == 0
    # --hide-payloads: said, not shown as a null that reads as the job's own.
    expect(viewer.locator("main")).to_contain_text("hidden (--hide-payloads)")
    assert viewer.locator("pre.json").count() == 0

    operator = visit("operator", f"/#/job/{failed_id}").page
    expect(status_of(operator)).to_have_text("failed", timeout=TIMEOUT_MS)
    buttons = operator.locator("main .actions button").all_inner_texts()
    assert buttons == ["Retry", "Replay"]
    assert operator.locator("pre.json").first.inner_text() == '[\n  "bad-default-0"\n]'

    workers = visit("operator", "/#/workers").page
    expect(workers.locator("#suspension")).to_contain_text("Workers take new jobs.", timeout=TIMEOUT_MS)
    assert workers.get_by_role("button").filter(has_text="Suspend").count() == 0
    admin = visit("admin", "/#/workers").page
    expect(admin.get_by_role("button", name="Suspend workers…")).to_be_visible(timeout=TIMEOUT_MS)


def test_the_scheduling_view_shows_a_real_cron_scheduler_and_rq_schedulers_jobs_as_rest_does(
    r, redis_url, gateway, visit, tmp_path
):
    # What rq-scheduler's Scheduler.schedule(interval=300, repeat=3) writes.
    planned = Job.create(
        jobs.add, args=(1, 1), connection=r, meta={"interval": 300, "repeat": 3}, origin="default"
    )
    planned.save()
    r.zadd(
        "rq:scheduler:scheduled_jobs",
        {planned.id: (datetime.now(timezone.utc) + timedelta(minutes=5)).timestamp()},
    )
    with running_cron(redis_url, tmp_path / "cron.log"):
        spawned = wait_until(
            lambda: Queue("default", connection=r).job_ids, 30, "the interval job's first run"
        )
        page = visit("viewer", "/#/scheduling").page
        hourly = page.locator('table.cron tr[data-cron-job="hourly"]')
        expect(hourly).to_contain_text(spawned[0], timeout=TIMEOUT_MS)
        (scheduler,) = rest(gateway, "/api/v1/cron", "viewer")["schedulers"]
        by_name = {job["name"]: job for job in scheduler["cron_jobs"]}
        cells = hourly.locator("th, td").all_inner_texts()
        assert cells[:4] == ["hourly", by_name["hourly"]["func_name"], "default", "every 1 h"]
        nightly = page.locator('table.cron tr[data-cron-job="nightly"] td').all_inner_texts()
        assert nightly[2] == by_name["nightly"]["cron"] == "0 3 * * *"
        assert nightly[5] == "none yet"
        assert scheduler["name"] in page.locator("main h3").all_inner_texts()

        (listed,) = rest(gateway, "/api/v1/scheduler", "viewer")["jobs"]
        expect(page.locator("table.rq-scheduler tbody tr")).to_have_count(1)
        row = page.locator("table.rq-scheduler tbody tr th, table.rq-scheduler tbody tr td").all_inner_texts()
        assert listed["job_id"] == planned.id
        assert row[:3] == [planned.id, listed["func_name"], "default"]
        assert row[3].replace(" ", "T").startswith(listed["next_run"][:19])
        assert row[4:6] == ["every 5 min", "3"]

        hourly.get_by_role("link", name=spawned[0]).click()  # a run links to the job it enqueued
        expect(page.locator("#job-status")).to_have_text("queued", timeout=TIMEOUT_MS)


def test_an_admin_empties_a_queue_only_after_typing_the_dry_runs_count(r, gateway, visit):
    q = Queue("bulk", connection=r)
    ids = [q.enqueue(jobs.add, i, i).id for i in range(12)]
    operator = visit("operator", "/#/queue/bulk?state=queued").page
    expect(operator.locator("table.jobs tbody tr")).to_have_count(12, timeout=TIMEOUT_MS)
    assert operator.get_by_role("button", name="Empty queue…").count() == 0

    page = visit("admin", "/#/queue/bulk?state=queued").page
    page.get_by_role("button", name="Empty queue…").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("The dry run found 12 jobs waiting in bulk", timeout=TIMEOUT_MS)
    delete = dialog.get_by_role("button", name="Delete 12 jobs")
    expect(delete).to_be_disabled()
    dialog.get_by_label("Type 12 to confirm").fill("12")
    delete.click()
    expect(page.get_by_role("status").filter(has_text="Deleted 12 jobs from bulk")).to_be_visible(
        timeout=TIMEOUT_MS
    )
    expect(page.get_by_text("No queued jobs.")).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.locator(".status-line")).to_be_focused()  # not <body>: the button is gone
    assert r.llen("rq:queue:bulk") == 0 and not any(r.exists(f"rq:job:{job_id}") for job_id in ids)
    assert rest(gateway, "/api/v1/queues/bulk", "admin")["queued_count"] == 0


def _focus_survives_a_re_read(page, focused: str, region: str) -> None:
    """Focus `focused`, wait until the view has re-read itself (the region's first child is a new
    node), then the element with the same name has the focus again, not <body>."""
    page.locator(focused).first.focus()
    page.locator(region).first.evaluate("(el) => { window.__before = el; }")
    page.wait_for_function(
        f"() => document.querySelector({region!r}) !== window.__before", timeout=TIMEOUT_MS
    )
    described = "(el) => el === document.activeElement"
    assert page.locator(focused).first.evaluate(described), page.evaluate(
        "document.activeElement.outerHTML.slice(0, 120)"
    )


def test_a_re_read_keeps_the_keyboard_focus_where_it_was(r, redis_url, gateway, visit, tmp_path):
    # Workers re-read every 3 s and the overview on each live update: a keyboard user on a
    # control must not be thrown back to the top of the page by either.
    with running_worker(redis_url, "console-focus", tmp_path / "worker.log"):
        page = visit("admin", "/#/workers").page
        button = 'tr[data-worker="console-focus"] button'
        expect(page.locator(button)).to_be_visible(timeout=TIMEOUT_MS)
        _focus_survives_a_re_read(page, button, "main table")
    Queue("default", connection=r).enqueue("jobs.ok")  # a queue to link to
    overview = visit("viewer", "/#/").page
    expect(overview.locator("table.queues")).to_be_visible(timeout=TIMEOUT_MS)
    _focus_survives_a_re_read(overview, 'table.queues a[href="#/queue/default"]', "table.queues")


def test_an_admin_key_limited_to_some_queues_sees_no_worker_controls(redis_url, gateway, visit, tmp_path):
    # Suspending and shutting down act on every queue's workers, so the server refuses them to a
    # key limited to queue patterns, admin or not; the console must not offer them either. The
    # viewer query's answer is given the patterns such a key has.
    def limited(route) -> None:
        if "query Viewer" not in (route.request.post_data or ""):
            route.continue_()
            return
        answer = route.fetch()
        data = answer.json()
        data["data"]["viewer"]["queuePatterns"] = ["billing-*"]
        route.fulfill(response=answer, json=data)

    with running_worker(redis_url, "console-limited", tmp_path / "worker.log"):
        page = visit("admin", "/#/workers").page
        page.route("**/graphql", limited)
        page.reload()
        expect(page.locator('tr[data-worker="console-limited"]')).to_be_visible(timeout=TIMEOUT_MS)
        expect(page.locator("#suspension")).to_contain_text("Workers take new jobs.")
        assert page.locator("main button").count() == 0


def test_a_re_read_that_answers_late_never_shows_the_state_from_before_an_action(
    r, redis_url, gateway, visit, tmp_path
):
    # The workers page re-reads on a timer and after each action. A timer's read still on its way
    # when the admin suspends (Redis slow) must not, answering after the action's own read, put
    # back "Workers take new jobs." and the Suspend button. Its answer is held here, then given.
    held: list = []
    stale = {"data": {"workerSuspension": {"suspended": False, "until": None}, "workers": []}}

    def hold_one(route) -> None:
        if not held and "query Workers" in (route.request.post_data or ""):
            held.append(route)
        else:
            route.continue_()

    with running_worker(redis_url, "console-late", tmp_path / "worker.log"):
        page = visit("admin", "/#/workers").page
        expect(page.locator('tr[data-worker="console-late"]')).to_be_visible(timeout=TIMEOUT_MS)
        page.evaluate(
            """() => { window.__said = [];
              const said = () => window.__said.push(document.querySelector('#suspension')?.textContent);
              const main = document.querySelector('main');
              new MutationObserver(said).observe(main, { childList: true, subtree: true });
            }"""
        )
        with page.expect_request(lambda request: "query Workers" in (request.post_data or "")):
            page.route("**/graphql", hold_one)  # the timer's next read is held
        try:
            page.get_by_role("button", name="Suspend workers…").click()
            confirm(page, "Suspend")
            expect(page.locator("#suspension")).to_contain_text("Workers are suspended", timeout=TIMEOUT_MS)
            (late,) = held
            with page.expect_request_finished(lambda request: request is late.request):
                late.fulfill(json=stale)
            # The next timer read starts after the late answer's rendering, if any, is done.
            with page.expect_request(lambda request: "query Workers" in (request.post_data or "")):
                pass
            said = page.evaluate("window.__said")
            after = said[next(i for i, text in enumerate(said) if text and "suspended" in text) :]
            assert not any(text and "Workers take new jobs." in text for text in after), after
        finally:
            r.delete("rq:suspended")
