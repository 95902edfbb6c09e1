// Tracked operations (README "Tracked operations"): starting one with an idempotency key, and a
// panel that follows one live (the `operation` subscription) with its progress and a Cancel
// button. Used by the failed view's bulk actions and by the operations views.

import { gql } from "./api.js";
import { h, link, replace } from "./dom.js";
import { live } from "./live.js";
import { showError } from "./messages.js";

// Without `errors` for lists: a list of 50 operations of 100 errors each is over the query cost.
export const LIST_FIELDS = "id action queue selector status total done matched acted errorCount startedAt finishedAt key dryRun";
export const FIELDS = `${LIST_FIELDS} errors { jobId error }`;
export const INTERVAL_MS = 1000;
const DONE = { retry: "retried", delete: "deleted" };
const START = `mutation Start($action: OperationAction!, $selector: OperationSelectorInput!, $queue: String,
  $dryRun: Boolean!, $idempotencyKey: String) { startOperation(action: $action, selector: $selector,
  queue: $queue, dryRun: $dryRun, idempotencyKey: $idempotencyKey) { ${FIELDS} } }`;

// A fresh key for each click: a retry of the same request answers the same operation, so a
// lost answer (network) never starts a second one. getRandomValues also works over plain http.
export function newIdempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return "console-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// Starts (or dry-runs) an operation; a request the gateway did not answer is sent again with the
// same idempotency key, a few times.
export async function startOperation({ action, selector, queue, dryRun = false, idempotencyKey = null }) {
  const variables = { action: action.toUpperCase(), selector, queue, dryRun, idempotencyKey };
  for (let attempt = 1; ; attempt++) {
    try {
      return (await gql(START, variables)).startOperation;
    } catch (error) {
      if (error.code !== "NETWORK" || dryRun || attempt >= 3) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
    }
  }
}

// Cancel is offered to the keys the server lets cancel: the action's role, and no queue patterns
// (such keys are refused every mutation that names no queue). The server checks again.
export function mayCancel(session, operation) {
  const role = operation.action === "delete" ? "delete" : "retry";
  return operation.status === "running" && session.may(role) && !(session.viewer.queuePatterns || []).length;
}

// The selector in words: "every failed job", "failed jobs with exception type ValueError", ...
export function selectorText(selector) {
  if (!selector) return "—";
  if (selector.all) return "every failed job";
  if (selector.group_id || selector.groupId) return `failure group ${selector.group_id || selector.groupId}`;
  if (selector.job_ids || selector.jobIds) return count((selector.job_ids || selector.jobIds).length, "named job");
  if (selector.query !== undefined && selector.query !== null) return `search “${selector.query}”`;
  const filter = selector.filter || {};
  const words = {
    func_name: "function",
    exc_type: "exception type",
    search: "traceback containing",
    failed_after: "failed after",
    failed_before: "failed before",
  };
  const parts = Object.entries(filter)
    .filter(([, value]) => value !== null && value !== undefined && value !== "")
    .map(([name, value]) => `${words[name] || name} ${value}`);
  return parts.length ? `failed jobs with ${parts.join(", ")}` : "—";
}

// "1 error", "2,000 errors"
function count(value, noun) {
  return `${Number(value).toLocaleString("en")} ${noun}${value === 1 ? "" : "s"}`;
}

export function progressText(operation) {
  const n = (value) => Number(value).toLocaleString("en");
  return `${n(operation.done)} of ${n(operation.total)} examined, ${n(operation.acted)} ${DONE[operation.action] || "acted on"}, ${count(operation.errorCount, "error")}`;
}

export function outcomeText(operation) {
  const verb = operation.action === "delete" ? "Deleted" : "Requeued";
  const errors = operation.errorCount ? ` ${count(operation.errorCount, "job")} could not be.` : "";
  const how = operation.status === "succeeded" ? "" : ` The operation ${operation.status === "canceled" ? "was canceled" : "failed"}.`;
  return `${verb} ${count(operation.acted, "job")}.${errors}${how}`;
}

// Follows operation `id` in `target` until it ends: status, a progress bar, the counts and Cancel
// (when the key may). onEnd(operation) runs once, with its last state. Returns stop().
// An error before any state (a mistyped or expired id) leaves only the error, and onError(error).
export function follow(target, id, session, { onEnd = () => {}, onUpdate = () => {}, onError = () => {} } = {}) {
  const status = h("strong", { class: "op-status" }, "…");
  const bar = h("progress", { max: 1, value: 0, "aria-label": "Progress" });
  const counts = h("span", { class: "op-counts" });
  const cancel = h("button", { type: "button", class: "danger", hidden: true, onclick: () => cancelIt() }, "Cancel operation");
  const problem = h("div");
  replace(target, h("div", { class: "operation-progress" }, h("span", { role: "status" }, status, " ", bar, " ", counts), " ", cancel), problem);
  let ended = false;
  let seen = false;
  let feedFailed = false; // an outage's error goes once the stream answers again
  const show = (operation) => {
    seen = true;
    if (feedFailed) replace(problem);
    feedFailed = false;
    target.dataset.status = operation.status;
    status.textContent = operation.status;
    bar.max = Math.max(operation.total, 1);
    bar.value = operation.status === "running" ? operation.done : bar.max;
    counts.textContent = progressText(operation);
    cancel.hidden = !mayCancel(session, operation);
    onUpdate(operation);
    if (operation.status !== "running" && !ended) {
      ended = true;
      stop();
      onEnd(operation);
    }
  };
  async function cancelIt() {
    cancel.disabled = true;
    try {
      show((await gql(`mutation Cancel($id: ID!) { cancelOperation(id: $id) { ${FIELDS} } }`, { id })).cancelOperation);
    } catch (error) {
      cancel.disabled = false;
      showError(problem, error);
    }
  }
  const stop = live({
    subscription: `subscription Operation($id: ID!, $intervalMs: Int!) { operation(id: $id, intervalMs: $intervalMs) { ${FIELDS} } }`,
    query: `query Operation($id: ID!) { operation(id: $id) { ${FIELDS} } }`,
    variables: { id },
    intervalMs: INTERVAL_MS,
    ends: (data) => !data.operation || data.operation.status !== "running",
    onData: (data) => data.operation && show(data.operation),
    onError(error) {
      if (!seen) replace(target, problem);
      feedFailed = true;
      showError(problem, error);
      onError(error);
    },
  });
  return stop;
}

export function operationLink(id, text = "Operation details") {
  return link(`#/operation/${encodeURIComponent(id)}`, text);
}
