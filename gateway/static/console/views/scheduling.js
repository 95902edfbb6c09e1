// Scheduling (read-only): RQ's CronSchedulers with their cron jobs and the jobs each enqueued
// (linked), and rq-scheduler's scheduled jobs by next run. A scheduled job's own page has
// "Enqueue now"; each queue's scheduled registry is on its queue page.

import { gql } from "../api.js";
import { h, jobLink, queueLink, refresh, replace, table, time } from "../dom.js";
import { showError } from "../messages.js";
import { poll } from "../poll.js";

export const REFRESH_MS = 10000;
export const RQ_SCHEDULER_PAGE = 100;

const QUERY = `query Scheduling($first: Int!) {
  cron { schedulers { name hostname pid lastHeartbeat configFile
    cronJobs { name funcName queue cron interval nextRun lastEnqueue historyTotal history { jobId status } } } }
  scheduler(first: $first) { totalCount jobs { jobId funcName queue nextRun interval cron repeatLeft status } }
}`;

function every(seconds) {
  if (seconds % 3600 === 0) return `every ${seconds / 3600} h`;
  if (seconds % 60 === 0) return `every ${seconds / 60} min`;
  return `every ${seconds} s`;
}

function schedule(job) {
  if (job.cron) return h("span", { class: "mono" }, job.cron);
  return job.interval ? every(job.interval) : "once";
}

function runs(job) {
  if (!job.history.length) return "none yet";
  const shown = job.history.slice(0, 5).flatMap((run, i) => [i ? ", " : "", jobLink(run.jobId), ` (${run.status || "gone"})`]);
  return job.historyTotal > 5 ? [...shown, ` … ${job.historyTotal} in all`] : shown;
}

function cronSection(schedulers) {
  if (!schedulers.length) {
    return h("p", {}, "No CronScheduler is running. Start one with `rq cron config.py` (RQ 2.4 and later).");
  }
  return schedulers.map((scheduler) => [
    h("h3", {}, h("span", { class: "mono" }, scheduler.name)),
    h(
      "p",
      { class: "muted" },
      scheduler.hostname ? `${scheduler.hostname} (pid ${scheduler.pid})` : "—",
      scheduler.configFile ? ` · ${scheduler.configFile}` : "",
      " · last heartbeat ",
      time(scheduler.lastHeartbeat),
    ),
    table(
      `${scheduler.cronJobs.length} cron jobs of ${scheduler.name}`,
      ["Name", "Function", "Queue", "Schedule", "Next run", "Last enqueue", "Jobs it enqueued"],
      scheduler.cronJobs.map((job) =>
        h(
          "tr",
          { dataset: { cronJob: job.name } },
          h("th", { scope: "row" }, job.name),
          h("td", { class: "mono" }, job.funcName),
          h("td", {}, queueLink(job.queue)),
          h("td", {}, schedule(job)),
          h("td", {}, time(job.nextRun)),
          h("td", {}, time(job.lastEnqueue)),
          h("td", {}, runs(job)),
        ),
      ),
      { class: "cron" },
    ),
  ]);
}

function rqSchedulerSection(view) {
  if (!view.totalCount) return h("p", {}, "rq-scheduler has no scheduled jobs here.");
  const caption =
    view.totalCount > view.jobs.length
      ? `The first ${view.jobs.length} of ${view.totalCount} jobs by next run`
      : `${view.totalCount} jobs by next run`;
  return table(
    caption,
    ["Job", "Function", "Queue", "Next run", "Repeats", "Runs left", "Status"],
    view.jobs.map((job) =>
      h(
        "tr",
        {},
        h("th", { scope: "row" }, jobLink(job.jobId)),
        h("td", { class: "mono" }, job.funcName || "—"),
        h("td", {}, job.queue ? queueLink(job.queue) : "—"),
        h("td", {}, time(job.nextRun)),
        h("td", {}, schedule(job)),
        h("td", { class: "num" }, job.repeatLeft ?? "—"),
        h("td", {}, job.status || "gone"),
      ),
    ),
    { class: "rq-scheduler" },
  );
}

export function render(main) {
  const body = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  replace(main, h("h1", {}, "Scheduling"), body);
  const polling = poll(
    REFRESH_MS,
    () => gql(QUERY, { first: RQ_SCHEDULER_PAGE }),
    ({ cron, scheduler }) =>
      refresh(body, [h("h2", {}, "Cron"), cronSection(cron.schedulers), h("h2", {}, "rq-scheduler"), rqSchedulerSection(scheduler)]),
    (error) => showError(body, error),
  );
  return polling.stop;
}
