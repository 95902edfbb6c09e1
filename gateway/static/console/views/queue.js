// Queue: its last hour charted, and any of its registries a page at a time, by cursor, oldest or
// newest first.

import { gql } from "../api.js";
import { historyChart } from "../history.js";
import { encodeQuery, h, jobLink, link, replace, table, time } from "../dom.js";
import { showError } from "../messages.js";

const STATES = ["queued", "started", "failed", "finished", "deferred", "scheduled", "canceled"];
const PAGE = 50;

function route(name, params) {
  return `#/queue/${encodeURIComponent(name)}${encodeQuery(params)}`;
}

export function render(main, current) {
  const name = current.arg;
  const state = STATES.includes(current.params.state) ? current.params.state : "queued";
  const order = current.params.order === "desc" ? "desc" : "asc";
  const after = current.params.after || null;
  const body = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  // The queue's last hour, live (history.js); the registry table below is read once.
  const history = historyChart(name);
  replace(main, h("h1", {}, "Queue ", h("span", { class: "mono" }, name)), history.element, body);
  gql(
    `query QueuePage($name: String!, $state: JobState!, $order: SortOrder!, $first: Int!, $after: String) {
      queue(name: $name) {
        queueName queuedCount startedCount failedCount finishedCount deferredCount scheduledCount canceledCount
        jobs(state: $state, order: $order, first: $first, after: $after) {
          totalCount pageInfo { hasNextPage endCursor }
          nodes { id status funcName enqueuedAt startedAt endedAt }
        }
      }
    }`,
    { name, state: state.toUpperCase(), order: order.toUpperCase(), first: PAGE, after },
  ).then(({ queue }) => {
    const tabs = h(
      "nav",
      { class: "tabs", "aria-label": "Registries" },
      STATES.map((s) =>
        link(route(name, { state: s, order }), `${s} (${queue[`${s}Count`].toLocaleString("en")})`, {
          "aria-current": s === state ? "page" : null,
        }),
      ),
    );
    const jobs = queue.jobs;
    const other = order === "asc" ? "desc" : "asc";
    const controls = h(
      "p",
      { class: "controls" },
      `${jobs.totalCount.toLocaleString("en")} jobs, ${order === "asc" ? "oldest" : "newest"} first. `,
      link(route(name, { state, order: other }), order === "asc" ? "Newest first" : "Oldest first"),
      state === "failed" ? [" · ", link(`#/failed/${encodeURIComponent(name)}`, "Failed jobs: filters, groups and actions")] : null,
    );
    const rows = jobs.nodes.map((job) =>
      h(
        "tr",
        {},
        h("td", {}, jobLink(job.id)),
        h("td", {}, h("span", { class: `status ${job.status.toLowerCase()}` }, job.status.toLowerCase())),
        h("td", { class: "mono" }, job.funcName || "—"),
        h("td", {}, time(job.enqueuedAt)),
        h("td", {}, time(job.startedAt)),
        h("td", {}, time(job.endedAt)),
      ),
    );
    replace(
      body,
      tabs,
      controls,
      jobs.nodes.length
        ? table(`${state} jobs of ${name}`, ["Job", "Status", "Function", "Enqueued", "Started", "Ended"], rows, { class: "jobs" })
        : h("p", {}, `No ${state} jobs.`),
      h(
        "nav",
        { class: "pager", "aria-label": "Pages" },
        after ? link(route(name, { state, order }), "First page") : null,
        jobs.pageInfo.hasNextPage ? link(route(name, { state, order, after: jobs.pageInfo.endCursor }), "Next page") : null,
      ),
    );
  }, (error) => showError(body, error));
  return history.stop;
}
