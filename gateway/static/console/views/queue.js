// Queue: its last hour charted, and any of its registries a page at a time, by cursor, oldest or
// newest first. An admin may empty the queue (`rq empty`), after typing the dry run's count.

import { gql } from "../api.js";
import { confirmAction } from "../confirm.js";
import { historyChart } from "../history.js";
import { encodeQuery, h, jobLink, link, refresh, replace, table, time } from "../dom.js";
import { notice, showError } from "../messages.js";

const STATES = ["queued", "started", "failed", "finished", "deferred", "scheduled", "canceled"];
const PAGE = 50;

function route(name, params) {
  return `#/queue/${encodeURIComponent(name)}${encodeQuery(params)}`;
}

const EMPTY = `mutation EmptyQueue($name: String!, $dryRun: Boolean!) {
  done: emptyQueue(name: $name, dryRun: $dryRun) { deletedCount } }`;

// Every job waiting in the queue is deleted: like any bulk delete, only after the person types
// how many the dry run found.
async function emptyQueue(name, status) {
  try {
    const { done: dry } = await gql(EMPTY, { name, dryRun: true });
    if (!dry.deletedCount) {
      notice(status, `No job is waiting in ${name}.`);
      return false;
    }
    const count = dry.deletedCount;
    const ok = await confirmAction({
      title: `Empty queue ${name}`,
      text: `The dry run found ${count} jobs waiting in ${name}. Emptying deletes every job waiting in it, with its data, as \`rq empty\` does; jobs enqueued meanwhile may go too.`,
      action: `Delete ${count} jobs`,
      count,
    });
    if (!ok) return false;
    const { done } = await gql(EMPTY, { name, dryRun: false });
    notice(status, `Deleted ${done.deletedCount} jobs from ${name}.`);
    return true;
  } catch (error) {
    showError(status, error);
    return false;
  }
}

export function render(main, current, session) {
  const name = current.arg;
  const state = STATES.includes(current.params.state) ? current.params.state : "queued";
  const order = current.params.order === "desc" ? "desc" : "asc";
  const after = current.params.after || null;
  const body = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  const status = h("div", { class: "status-line" });
  // The queue's last hour, live (history.js); the registry table below is read once.
  const history = historyChart(name);
  replace(main, h("h1", {}, "Queue ", h("span", { class: "mono" }, name)), history.element, status, body);
  const load = () => gql(
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
      state === "queued" && session.may("empty") && jobs.totalCount
        ? [" · ", h("button", { type: "button", class: "danger", onclick: async () => (await emptyQueue(name, status)) && load() }, "Empty queue…")]
        : null,
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
    // Re-read after emptying: the Empty queue… button that had the focus is gone (refresh).
    refresh(
      body,
      [
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
      ],
      status,
    );
  }, (error) => showError(body, error));
  load();
  return history.stop;
}
