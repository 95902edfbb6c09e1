#!/usr/bin/env python3
"""Take the console's screenshots in docs/console/ (shown in the README's "Console" section).

    python scripts/console_screenshots.py     # needs redis-server and chromium on the PATH

It starts its own redis-server, puts jobs in every state on a few queues with a real
`rq worker --burst`, keeps one `rq worker` running for the workers page and one `rq cron` for
the scheduling page, starts the gateway
through its CLI (no keys, plus a second one with keys for the sign-in screen), and saves one PNG
per view with Playwright driving Debian's chromium. Timestamps and ids differ on every run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import requests  # noqa: E402
from rq import Queue  # noqa: E402

from bench.infra import RQ_BIN, free_port, redis_server, start_gateway, start_server, stop_process  # noqa: E402
from gateway.apikeys import hash_key  # noqa: E402
from gateway.demo import jobs  # noqa: E402

OUT = REPO / "docs" / "console"
VIEWPORT = {"width": 1280, "height": 800}
# What `rq cron` loads for the scheduling page: an interval job and a nightly one.
CRON_CONFIG = """from rq import cron
from gateway.demo import jobs

cron.register(jobs.add, "emails", args=(1, 2), interval=600, name="digest")
cron.register(jobs.parse_report, "reports", args=("nightly",), cron="0 3 * * *", name="nightly-report")
"""
KEYED = ["--api-keys", f"ops:operator:{hash_key('rqg_screenshot-key')}", "--log-level", "warning"]


def seed(r, redis_url: str) -> str:
    """Jobs in every state; returns the id of a failed job for the job page."""
    default, reports, emails = (Queue(name, connection=r) for name in ("default", "reports", "emails"))
    for i in range(6):
        default.enqueue(jobs.parse_report, f"bad-{i}")
    for i in range(3):
        default.enqueue(jobs.flaky_charge, 1000 + i)
    for i in range(8):
        default.enqueue(jobs.add, i, i)
    reports.enqueue(jobs.parse_report, "header-missing")
    subprocess.run(
        [str(RQ_BIN), "worker", "--burst", "--quiet", "--url", redis_url, "default", "reports"], check=True
    )
    for i in range(4):
        default.enqueue(jobs.simulate_replicated_trade, i)
    parent = reports.enqueue(jobs.add, 2, 2)
    reports.enqueue(jobs.add, 3, 3, depends_on=parent)
    reports.enqueue_in(timedelta(hours=1), jobs.add, 4, 4)
    for i in range(2):
        emails.enqueue(jobs.add, i, 1)
    return next(m.decode() for m in r.zrange("rq:failed:default", 0, -1))


def chart_some_history(r, redis_url: str, base: str) -> None:
    """Failures and finishes in the gateway's first minute, so the charts show a point: the
    history counts only what ends while a gateway samples."""

    default = Queue("default", connection=r)
    for i in range(3):
        default.enqueue(jobs.parse_report, f"late-{i}")
        default.enqueue(jobs.add, i, 1)
    subprocess.run([str(RQ_BIN), "worker", "--burst", "--quiet", "--url", redis_url, "default"], check=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        buckets = requests.get(f"{base}/api/v1/queues/default/history", timeout=5).json()["buckets"]
        if sum(bucket["failed"] or 0 for bucket in buckets) >= 3:
            return
        time.sleep(0.5)  # a progress poll of a separate process, not a synchronisation stand-in
    sys.exit("the gateway never sampled the history")


def shoot(page, base: str, path: str, ready: str, name: str) -> None:
    page.goto(base + path)
    page.locator(ready).first.wait_for(timeout=20_000)
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=False)
    print(f"wrote docs/console/{name}.png")


def main() -> None:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if not chromium:
        sys.exit("chromium is not on PATH (apt-get install chromium)")
    OUT.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="console-shots-") as tmp,
        redis_server(Path(tmp)) as (redis_url, r),
    ):
        job_id = seed(r, redis_url)
        worker = subprocess.Popen(
            [str(RQ_BIN), "worker", "--quiet", "--name", "worker-emails-1", "--url", redis_url, "emails"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        (Path(tmp) / "console_cron.py").write_text(CRON_CONFIG)
        cron = subprocess.Popen(
            [str(RQ_BIN), "cron", "--url", redis_url, "console_cron"],
            cwd=tmp,
            env={**os.environ, "PYTHONPATH": os.pathsep.join([tmp, str(REPO)])},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        gateway = start_gateway(redis_url, Path(tmp), "--history-interval", "1")
        chart_some_history(r, redis_url, gateway.base)
        port = free_port()
        keyed = start_server(
            "keyed-gateway",
            [sys.executable, "-m", "gateway", "serve", "--redis-url", redis_url, "--port", str(port), *KEYED],
            port,
            "/readyz",
            Path(tmp),
        )
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium)
                page = browser.new_page(viewport=VIEWPORT)
                page.goto(gateway.base + f"/#/job/{job_id}")  # a retry, for the audit page
                page.get_by_role("button", name="Retry").click()
                page.get_by_role("status").filter(has_text="requeued").wait_for(timeout=20_000)
                shoot(page, gateway.base, "/", 'tr[data-queue="default"]', "overview")
                shoot(page, gateway.base, "/#/queue/default?state=finished", "figure.chart canvas", "queue")
                shoot(page, gateway.base, "/#/failed/default", "table.groups", "failed-jobs")
                failed = next(m.decode() for m in r.zrange("rq:failed:default", 0, -1))
                shoot(page, gateway.base, f"/#/job/{failed}", "pre.traceback", "job")
                shoot(page, gateway.base, "/#/workers", "table", "workers")
                shoot(page, gateway.base, "/#/scheduling", 'tr[data-cron-job="digest"] a', "scheduling")
                start = {"action": "retry", "queue": "reports", "selector": {"all": True}}
                started = requests.post(gateway.base + "/api/v1/operations", json=start, timeout=10).json()
                shoot(page, gateway.base, f"/#/operation/{started['id']}", ".operation-panel", "operation")
                shoot(page, gateway.base, "/#/audit", "table", "audit-log")
                page.goto(gateway.base + "/#/failed/default")
                page.locator("table.groups").wait_for(timeout=20_000)
                page.get_by_role("button", name="Clear").click()
                page.get_by_role("dialog").get_by_role("textbox").wait_for(timeout=20_000)
                page.get_by_role("dialog").get_by_role("textbox").fill("4")
                page.screenshot(path=str(OUT / "confirm-clear.png"))
                print("wrote docs/console/confirm-clear.png")
                dark = browser.new_page(viewport=VIEWPORT, color_scheme="dark")
                shoot(dark, gateway.base, "/", 'tr[data-queue="default"]', "overview-dark")
                signin = browser.new_page(viewport=VIEWPORT)
                shoot(signin, keyed.base, "/", "#key", "sign-in")
                browser.close()
        finally:
            keyed.stop()
            gateway.stop()
            stop_process(worker, "rq worker")
            stop_process(cron, "rq cron")


if __name__ == "__main__":
    main()
