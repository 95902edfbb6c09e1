// Failed jobs of a queue: filters, failure groups, selection with retry/delete, retry-all and
// clear. Every bulk delete (clear, group delete, a selection of more than 10) first runs the dry
// run where the API has one, shows the count and asks for it to be typed (confirm.js).

import { gql } from "../api.js";
import { confirmAction } from "../confirm.js";
import { encodeQuery, h, jobLink, lastLine, link, replace, table, time } from "../dom.js";
import { notice, showError } from "../messages.js";

const PAGE = 100;
const TYPED_ABOVE = 10; // a selected delete of more jobs than this needs the typed count
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
  const run = async (work) => {
    try {
      const message = await work();
      groupsOf.delete(queue);
      render(main, current, session, message);
    } catch (error) {
      showError(status, error);
    }
  };
  loadJobs(jobs, queue, params, filter, session, run).then((failedCount) => {
    if (failedCount === undefined) return;
    if (groupsOf.has(queue) || failedCount <= GROUPS_AUTOMATIC_UP_TO) loadGroups(groups, queue, session, run);
    else offerGroups(groups, queue, failedCount, session, run);
  });
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
      h("button", { type: "button", onclick: () => retrySelected(queue, selected(), run) }, "Retry selected"),
      h("button", { type: "button", onclick: () => retryAll(queue, filter, run) }, filter ? "Retry all matching" : "Retry all"),
    );
  }
  if (mayDelete) {
    actions.push(
      h("button", { type: "button", class: "danger", onclick: () => deleteSelected(queue, selected(), run) }, "Delete selected"),
      h("button", { type: "button", class: "danger", onclick: () => clearAll(queue, filter, run) }, filter ? "Delete all matching" : "Clear"),
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

const RESULT = "success totalFailed errorCount errors { jobId error }";

async function retrySelected(queue, ids, run) {
  if (!ids.length) return;
  await run(async () => {
    const { retryFailedJobs: r } = await gql(
      `mutation RetrySelected($ids: [ID!]!, $queue: String) { retryFailedJobs(ids: $ids, queue: $queue) { requeuedCount ${RESULT} } }`,
      { ids, queue },
    );
    return `Requeued ${r.requeuedCount} of ${ids.length} selected jobs.`;
  });
}

async function deleteSelected(queue, ids, run) {
  if (!ids.length) return;
  // The API has no dry run for a selection: the count is the selection itself.
  const typed = ids.length > TYPED_ABOVE;
  const ok = await confirmAction({
    title: "Delete selected jobs",
    text: `This deletes ${ids.length} failed jobs and everything RQ keeps for them.`,
    action: `Delete ${ids.length} jobs`,
    count: typed ? ids.length : null,
  });
  if (!ok) return;
  await run(async () => {
    const { deleteFailedJobs: r } = await gql(
      `mutation DeleteSelected($ids: [ID!]!, $queue: String) { deleteFailedJobs(ids: $ids, queue: $queue) { deletedCount ${RESULT} } }`,
      { ids, queue },
    );
    return `Deleted ${r.deletedCount} of ${ids.length} selected jobs.`;
  });
}

async function retryAll(queue, filter, run) {
  const ok = await confirmAction({
    title: "Retry all",
    text: `This requeues every failed job of ${queue}${filter ? " matching the filters" : ""}.`,
    action: "Retry all",
  });
  if (!ok) return;
  await run(async () => {
    const { retryAllFailedJobs: r } = await gql(
      `mutation RetryAll($queue: String, $filter: FailedJobFilter) { retryAllFailedJobs(queue: $queue, filter: $filter) { requeuedCount ${RESULT} } }`,
      { queue, filter },
    );
    return `Requeued ${r.requeuedCount} jobs.`;
  });
}

async function clearAll(queue, filter, run) {
  await run(async () => {
    const query = `mutation Clear($queue: String, $filter: FailedJobFilter, $dryRun: Boolean!) {
      clearFailedJobs(queue: $queue, filter: $filter, dryRun: $dryRun) { deletedCount ${RESULT} } }`;
    const dry = (await gql(query, { queue, filter, dryRun: true })).clearFailedJobs;
    const ok = await confirmAction({
      title: filter ? "Delete all matching jobs" : "Clear the failed registry",
      text: `The dry run found ${dry.deletedCount} failed jobs of ${queue}${filter ? " matching the filters" : ""} to delete.`,
      action: `Delete ${dry.deletedCount} jobs`,
      count: dry.deletedCount,
    });
    if (!ok) return "Nothing was deleted.";
    const done = (await gql(query, { queue, filter, dryRun: false })).clearFailedJobs;
    return `Deleted ${done.deletedCount} jobs.`;
  });
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
        session.may("retry") ? h("button", { type: "button", onclick: () => groupAction(queue, group, false, run) }, "Retry group") : null,
        session.may("delete") ? h("button", { type: "button", class: "danger", onclick: () => groupAction(queue, group, true, run) }, "Delete group") : null,
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

async function groupAction(queue, group, remove, run) {
  const field = remove ? "deleteFailureGroup" : "retryFailureGroup";
  const done = remove ? "deletedCount" : "requeuedCount";
  const query = `mutation Group($groupId: ID!, $queue: String, $dryRun: Boolean!) {
    ${field}(groupId: $groupId, queue: $queue, dryRun: $dryRun) { matchedCount ${done} ${RESULT} } }`;
  await run(async () => {
    const dry = (await gql(query, { groupId: group.groupId, queue, dryRun: true }))[field];
    const ok = await confirmAction({
      title: remove ? "Delete failure group" : "Retry failure group",
      text: `The dry run matched ${dry.matchedCount} failed jobs of ${queue} in this group.`,
      action: remove ? `Delete ${dry.matchedCount} jobs` : `Retry ${dry.matchedCount} jobs`,
      count: remove ? dry.matchedCount : null,
    });
    if (!ok) return "Nothing was changed.";
    const result = (await gql(query, { groupId: group.groupId, queue, dryRun: false }))[field];
    return `${remove ? "Deleted" : "Requeued"} ${result[done]} jobs.`;
  });
}
