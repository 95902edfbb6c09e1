// Failed jobs of a queue: filters, failure groups, selection with retry/delete, retry-all and
// clear. The actions, and the rule that a bulk delete needs the dry run's count typed, are in
// bulk.js; retry-all, clear and group actions run as tracked operations followed live.

import { gql } from "../api.js";
import { encodeQuery, h, jobLink, lastLine, link, replace, table, time } from "../dom.js";
import { notice, showError } from "../messages.js";
import { attach, clearAll, deleteSelected, groupAction, resumeFollowing, retryAll, retrySelected, stopFollowing } from "./bulk.js";

const PAGE = 100;
// Grouping reads every failed job (seconds for 100k): above this many it waits for a click.
const GROUPS_AUTOMATIC_UP_TO = 10_000;
// The groups of each queue, kept while paging or filtering; an action drops them.
const groupsOf = new Map();
const FILTERS = [
  ["func", "funcName", "Function", "text"],
  ["exc", "excType", "Exception type", "text"],
  ["search", "search", "Text in the traceback", "search"],
  ["from", "failedAfter", "Failed after (UTC)", "datetime-local"],
  ["to", "failedBefore", "Failed before (UTC)", "datetime-local"],
];

function routeOf(queue, params) {
  return `#/failed/${encodeURIComponent(queue)}${encodeQuery(params)}`;
}

function filterOf(params) {
  const filter = {};
  for (const [param, field] of FILTERS) if (params[param]) filter[field] = params[param];
  return Object.keys(filter).length ? filter : null;
}

function filterForm(queue, params) {
  const inputs = FILTERS.map(([param, , label, type]) =>
    h("div", { class: "field" }, h("label", { for: `f-${param}` }, label), h("input", { id: `f-${param}`, name: param, type, value: params[param] || "" })),
  );
  return h(
    "form",
    {
      class: "filters",
      role: "search",
      onsubmit(event) {
        event.preventDefault();
        const values = Object.fromEntries(new FormData(event.target));
        location.hash = routeOf(queue, values);
      },
    },
    inputs,
    h("div", { class: "field buttons" }, h("button", { type: "submit" }, "Apply filters"), link(routeOf(queue, {}), "Clear filters")),
  );
}

export function render(main, current, session, message = "") {
  const queue = current.arg || "default";
  const params = current.params;
  const filter = filterOf(params);
  const status = h("div", { class: "status-line" });
  const groups = h("section", { "aria-labelledby": "groups-title" });
  const jobs = h("section", { "aria-labelledby": "jobs-title" }, h("p", { class: "muted" }, "Loading…"));
  replace(
    main,
    h("h1", {}, "Failed jobs of ", link(`#/queue/${encodeURIComponent(queue)}?state=failed`, queue, { class: "mono" })),
    filterForm(queue, params),
    status,
    jobs,
    groups,
  );
  if (message) notice(status, message);
  // An action's outcome is shown above the reloaded lists.
  const run = {
    queue,
    session,
    status,
    finish(message) {
      groupsOf.delete(queue);
      render(main, current, session, message);
    },
  };
  attach(run); // the progress of an operation this view follows stays above the lists
  loadJobs(jobs, queue, params, filter, session, run).then((failedCount) => {
    if (failedCount === undefined) return;
    if (!message) resumeFollowing(run);
    if (groupsOf.has(queue) || failedCount <= GROUPS_AUTOMATIC_UP_TO) loadGroups(groups, queue, session, run);
    else offerGroups(groups, queue, failedCount, session, run);
  });
  return stopFollowing; // leaving the view stops following an operation (it runs on)
}

function offerGroups(target, queue, failedCount, session, run) {
  replace(
    target,
    h("h2", { id: "groups-title" }, "Failure groups"),
    h(
      "p",
      {},
      `Grouping reads all ${failedCount.toLocaleString("en")} failed jobs of ${queue}, which takes a few seconds. `,
      h("button", { type: "button", onclick: () => loadGroups(target, queue, session, run) }, "Find failure groups"),
    ),
  );
}

// Draws the page of jobs; resolves to the size of the whole failed registry (undefined on error).
async function loadJobs(target, queue, params, filter, session, run) {
  let page;
  let failedCount;
  try {
    const data = await gql(
      `query Failed($queue: String!, $first: Int!, $after: String, $filter: FailedJobFilter) {
        queueStats(queue: $queue) { failedCount }
        failedJobs(queue: $queue, first: $first, after: $after, filter: $filter) {
          totalCount pageInfo { hasNextPage endCursor } nodes { id funcName endedAt excInfo } } }`,
      { queue, first: PAGE, after: params.after || null, filter },
    );
    page = data.failedJobs;
    failedCount = data.queueStats.failedCount;
  } catch (error) {
    showError(target, error);
    return undefined;
  }
  const mayRetry = session.may("retry");
  const mayDelete = session.may("delete");
  const boxes = [];
  const selected = () => boxes.filter((box) => box.checked).map((box) => box.value);
  const rows = page.nodes.map((job) => {
    const box = h("input", { type: "checkbox", value: job.id, "aria-label": `Select ${job.id}` });
    boxes.push(box);
    return h(
      "tr",
      { dataset: { job: job.id } },
      mayRetry || mayDelete ? h("td", {}, box) : null,
      h("td", {}, jobLink(job.id)),
      h("td", { class: "mono" }, job.funcName || "—"),
      h("td", {}, time(job.endedAt)),
      h("td", { class: "mono small" }, lastLine(job.excInfo)),
    );
  });
  const all = h("input", {
    type: "checkbox",
    "aria-label": "Select every job on this page",
    onchange: (event) => boxes.forEach((box) => (box.checked = event.target.checked)),
  });
  const matching = filter ? "matching the filters" : "";
  const actions = [];
  if (mayRetry) {
    actions.push(
      h("button", { type: "button", onclick: () => retrySelected(run, selected()) }, "Retry selected"),
      h("button", { type: "button", onclick: () => retryAll(run, filter) }, filter ? "Retry all matching" : "Retry all"),
    );
  }
  if (mayDelete) {
    actions.push(
      h("button", { type: "button", class: "danger", onclick: () => deleteSelected(run, selected()) }, "Delete selected"),
      h("button", { type: "button", class: "danger", onclick: () => clearAll(run, filter) }, filter ? "Delete all matching" : "Clear"),
    );
  }
  replace(
    target,
    h("h2", { id: "jobs-title" }, `${page.totalCount.toLocaleString("en")} failed jobs ${matching}`),
    actions.length ? h("div", { class: "actions", role: "group", "aria-label": "Actions" }, actions) : null,
    page.nodes.length
      ? table(
          "Failed jobs, oldest first",
          [mayRetry || mayDelete ? all : null, "Job", "Function", "Failed at", "Exception"].filter((x) => x !== null),
          rows,
          { class: "jobs failed" },
        )
      : h("p", {}, "No failed jobs here."),
    h(
      "nav",
      { class: "pager", "aria-label": "Pages" },
      params.after ? link(routeOf(queue, { ...params, after: "" }), "First page") : null,
      page.pageInfo.hasNextPage ? link(routeOf(queue, { ...params, after: page.pageInfo.endCursor }), "Next page") : null,
    ),
  );
  performance.mark("console:failed-page-rendered");
  return failedCount;
}

async function loadGroups(target, queue, session, run) {
  let data = groupsOf.get(queue);
  try {
    if (!data) {
      replace(target, h("h2", { id: "groups-title" }, "Failure groups"), h("p", { class: "muted" }, "Grouping the failed jobs…"));
      data = (
        await gql(
          `query Groups($queue: String) { failureGroups(queue: $queue) { totalFailed
            groups { groupId kind funcName excType message count lastFailedAt sampleJobId } } }`,
          { queue },
        )
      ).failureGroups;
      groupsOf.set(queue, data);
    }
  } catch (error) {
    showError(target, error);
    return;
  }
  const rows = data.groups.map((group) =>
    h(
      "tr",
      { dataset: { group: group.groupId } },
      h("td", { class: "num" }, group.count),
      h("td", { class: "mono" }, group.funcName || "—"),
      h("td", { class: "mono" }, group.excType || group.kind),
      h("td", { class: "mono small" }, group.message || ""),
      h("td", {}, time(group.lastFailedAt)),
      h(
        "td",
        { class: "actions" },
        link(routeOf(queue, { func: group.funcName || "", exc: group.excType || "" }), "Show"),
        " ",
        jobLink(group.sampleJobId),
        session.may("retry") ? h("button", { type: "button", onclick: () => groupAction(run, group, false) }, "Retry group") : null,
        session.may("delete") ? h("button", { type: "button", class: "danger", onclick: () => groupAction(run, group, true) }, "Delete group") : null,
      ),
    ),
  );
  replace(
    target,
    h("h2", { id: "groups-title" }, `Failure groups (${data.groups.length})`),
    h("p", {}, h("button", { type: "button", onclick: () => (groupsOf.delete(queue), loadGroups(target, queue, session, run)) }, "Refresh groups")),
    rows.length ? table("Failed jobs grouped by function, exception and message", ["Jobs", "Function", "Exception", "Message", "Last failed", "Sample and actions"], rows, { class: "groups" }) : h("p", {}, "No failure groups."),
  );
}
