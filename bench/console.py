"""The console's two timing targets, measured in Debian's chromium with Playwright:

- the overview with 200 queues and 100k failed jobs is ready (its table drawn from live data)
  within 1.5 s of navigation: the page's own mark `console:overview-ready`, whose startTime is
  milliseconds since the navigation began;
- a page of 100 failed jobs is rendered within 500 ms of the click on "Next page": from
  `performance.now()` just before the click to the page's mark `console:failed-page-rendered`.

    python -m bench.console                       # prints the markdown rows
    python -m bench.console --out BENCHMARKS.md   # also rewrites its section between the
                                                  # bench:console markers

It starts its own redis-server, seeds 100,000 failed jobs on `default` (300 failed by a real
`rq worker --burst`, cloned up to N; bench/seed.py) plus one queued job on each of 199 more
queues, and starts the gateway through its CLI. Needs `redis-server` and `chromium` on the PATH.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from rq import Queue

from bench.infra import log, redis_server, start_gateway
from bench.seed import seed_failed
from gateway.demo.jobs import add

QUEUES = 200
FAILED = 100_000
OVERVIEW_TARGET_MS = 1500.0
PAGE_TARGET_MS = 500.0
BEGIN, END = "<!-- bench:console:begin -->", "<!-- bench:console:end -->"

_NEXT_PAGE_TIMED = """() => new Promise((resolve) => {
  const before = performance.getEntriesByName('console:failed-page-rendered').length;
  const link = [...document.querySelectorAll('nav.pager a')].find(a => a.textContent === 'Next page');
  const start = performance.now();
  const observer = new PerformanceObserver(() => {
    const marks = performance.getEntriesByName('console:failed-page-rendered');
    if (marks.length > before) { observer.disconnect(); resolve(marks[marks.length - 1].startTime - start); }
  });
  observer.observe({type: 'mark', buffered: false});
  link.click();
})"""


# page.wait_for_function evaluates a string in the page, which its CSP (no 'unsafe-eval')
# forbids; page.evaluate runs through the DevTools protocol, which the CSP does not govern.
_WAIT_FOR_MARK = """(name) => new Promise((resolve) => {
  const found = () => performance.getEntriesByName(name).length > 0;
  if (found()) return resolve(true);
  const observer = new PerformanceObserver(() => { if (found()) { observer.disconnect(); resolve(true); } });
  observer.observe({type: 'mark', buffered: true});
})"""


def wait_for_mark(page, name: str) -> None:
    page.evaluate(_WAIT_FOR_MARK, name)


def seed(r, redis_url: str, failed: int, queues: int) -> None:
    log(f"seeding {failed:,} failed jobs and {queues} queues")
    seed_failed(r, redis_url, failed, with_worker=min(failed, 300))
    with r.pipeline() as pipe:
        for i in range(1, queues):
            Queue(f"queue-{i:03d}", connection=r).enqueue(add, i, i, pipeline=pipe)
        pipe.execute()


def measure(base: str, runs: int, queues: int) -> tuple[list[float], list[float]]:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if not chromium:
        sys.exit("chromium is not on PATH (apt-get install chromium)")
    overview: list[float] = []
    pages: list[float] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        warm = browser.new_page()  # the gateway's first GraphQL request parses and caches
        warm.goto(base + "/#/failed/default")
        wait_for_mark(warm, "console:failed-page-rendered")
        warm.close()
        for run in range(runs):
            context = browser.new_context()
            page = context.new_page()
            page.goto(base + "/")
            wait_for_mark(page, "console:overview-ready")
            rows = page.locator("table.queues tbody tr").count()
            assert rows == queues, f"the overview shows {rows} queues"
            overview.append(
                page.evaluate("performance.getEntriesByName('console:overview-ready')[0].startTime")
            )
            page.goto(base + "/#/failed/default")
            wait_for_mark(page, "console:failed-page-rendered")
            pages.append(page.evaluate(_NEXT_PAGE_TIMED))
            shown = page.locator("table.failed tbody tr").count()
            assert shown == 100 and "after=" in page.url, f"page 2 shows {shown} jobs"
            log(f"run {run + 1}: overview ready {overview[-1]:.0f} ms, next page {pages[-1]:.0f} ms")
            context.close()
        browser.close()
    return overview, pages


def report(overview: list[float], pages: list[float], failed: int, queues: int) -> str:
    def row(name: str, values: list[float], target: float) -> str:
        median = statistics.median(values)
        spread = f"{min(values):.0f}-{max(values):.0f} ms"
        met = "yes" if median <= target else "**NO**"
        return f"| {name} | {len(values)} | {median:.0f} ms | {spread} | ≤ {target:.0f} ms | {met} |"

    return "\n".join(
        [
            f"{queues} queues, {failed:,} failed jobs on `default`; chromium driven by Playwright, a fresh",
            "browser context per run (no cache), the gateway started by its CLI (one uvicorn worker).",
            "",
            "| Measurement | Runs | Median | Range | Target | Met |",
            "|---|---|---|---|---|---|",
            row("overview ready (mark after navigation start)", overview, OVERVIEW_TARGET_MS),
            row("page of 100 failed jobs rendered after the click", pages, PAGE_TARGET_MS),
        ]
    )


def rewrite(path: Path, text: str) -> None:
    content = path.read_text()
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), flags=re.S)
    if not pattern.search(content):
        sys.exit(f"{path} has no {BEGIN} ... {END} section")
    path.write_text(pattern.sub(lambda _: f"{BEGIN}\n{text}\n{END}", content))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--failed", type=int, default=FAILED, help="failed jobs on `default`")
    parser.add_argument("--queues", type=int, default=QUEUES, help="queues, `default` included")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-console-") as tmp:
        workdir = Path(tmp)
        with redis_server(workdir) as (redis_url, r):
            seed(r, redis_url, args.failed, args.queues)
            gateway = start_gateway(redis_url, workdir)
            try:
                text = report(*measure(gateway.base, args.runs, args.queues), args.failed, args.queues)
            finally:
                gateway.stop()
    print(text)
    if args.out:
        rewrite(args.out, text)


if __name__ == "__main__":
    main()
