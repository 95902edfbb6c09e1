// Tracked operations: #/operations lists the latest, newest first, a page at a time (re-read
// while one of them runs); #/operation/ID is one of them, followed live with Cancel while it runs
// (for the keys that may cancel it; the server checks again).

import { gql } from "../api.js";
import { encodeQuery, h, jobLink, link, replace, table, time } from "../dom.js";
import { showError } from "../messages.js";
import { follow, LIST_FIELDS, operationLink, progressText, selectorText } from "../tracked.js";

// A page of 20 (the API's default): a job_ids operation's selector holds up to 10,000 ids.
const PAGE = 20;
export const LIST_REFRESH_MS = 2000; // the list is re-read this often while an operation runs

export function render(main, route, session) {
  return route.name === "operation" ? renderOne(main, route.arg, session) : renderList(main, route);
}

function renderList(main, route) {
  const body = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  replace(main, h("h1", {}, "Operations"), body);
  let timer = null;
  let stopped = false;
  const load = async () => {
    let operations;
    try {
      operations = (
        await gql(`query Operations($limit: Int!, $after: ID) { operations(limit: $limit, after: $after) { ${LIST_FIELDS} } }`, {
          limit: PAGE,
          after: route.params.after || null,
        })
      ).operations;
    } catch (error) {
      if (!stopped) showError(body, error);
      return;
    }
    if (stopped) return;
    showList(body, route, operations);
    if (operations.some((op) => op.status === "running")) timer = setTimeout(again, LIST_REFRESH_MS);
  };
  // As the live feeds: nothing is read while the tab is hidden; shown again, it reads at once.
  const again = () => {
    if (stopped) return;
    if (document.hidden) document.addEventListener("visibilitychange", again, { once: true });
    else load();
  };
  load();
  return () => {
    stopped = true;
    clearTimeout(timer);
    document.removeEventListener("visibilitychange", again);
  };
}

function showList(body, route, operations) {
  const rows = operations.map((op) =>
    h(
      "tr",
      { dataset: { operation: op.id, status: op.status } },
      h("td", {}, time(op.startedAt)),
      h("td", {}, operationLink(op.id, `${op.action}${op.dryRun ? " (dry run)" : ""}`)),
      h("td", { class: "mono" }, op.queue),
      h("td", {}, selectorText(op.selector)),
      h("td", {}, h("span", { class: `outcome ${op.status}` }, op.status)),
      h("td", {}, progressText(op)),
      h("td", {}, time(op.finishedAt)),
      h("td", {}, op.key),
    ),
  );
  const last = operations[operations.length - 1];
  replace(
    body,
    operations.length
      ? table("The latest operations, newest first", ["Started", "Action", "Queue", "Jobs", "Status", "Progress", "Finished", "Key"], rows, { class: "operations" })
      : h("p", {}, route.params.after ? "No older operations." : "No tracked operation yet. Retry all, clear and failure-group actions in the failed jobs view start one."),
    h(
      "nav",
      { class: "pager", "aria-label": "Pages" },
      route.params.after ? link("#/operations", "Newest") : null,
      operations.length === PAGE ? link(`#/operations${encodeQuery({ after: last.id })}`, "Older") : null,
    ),
  );
}

function renderOne(main, id, session) {
  const details = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  const progress = h("div", { class: "operation-panel" });
  const errors = h("section", { "aria-labelledby": "errors-title" });
  replace(main, h("h1", {}, "Operation ", h("span", { class: "mono" }, id)), details, progress, errors);
  let drawn = false;
  const stop = follow(progress, id, session, {
    onUpdate(op) {
      if (!drawn) showDetails(details, op);
      drawn = true;
      showErrors(errors, op);
      if (op.finishedAt) showDetails(details, op);
    },
    onError: () => drawn || replace(details),
  });
  return stop;
}

function showDetails(target, op) {
  const row = (term, value) => [h("dt", {}, term), h("dd", {}, value)];
  replace(
    target,
    h(
      "dl",
      { class: "fields" },
      row("Action", `${op.action}${op.dryRun ? " (dry run)" : ""}`),
      row("Queue", link(`#/failed/${encodeURIComponent(op.queue)}`, op.queue, { class: "mono" })),
      row("Jobs", selectorText(op.selector)),
      row("Started by", op.key),
      row("Started", time(op.startedAt)),
      row("Finished", time(op.finishedAt)),
    ),
    h("p", {}, link("#/operations", "All operations")),
  );
}

function showErrors(target, op) {
  if (!op.errorCount) return replace(target);
  const rows = op.errors.map((e) => h("tr", {}, h("td", {}, jobLink(e.jobId)), h("td", { class: "small" }, e.error)));
  const shown = op.errors.length < op.errorCount ? ` (the first ${op.errors.length})` : "";
  replace(target, h("h2", { id: "errors-title" }, `${op.errorCount.toLocaleString("en")} ${op.errorCount === 1 ? "job" : "jobs"} could not be acted on${shown}`), table("Jobs the operation could not act on", ["Job", "Error"], rows));
}
