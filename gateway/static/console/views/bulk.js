// The failed view's actions. Retry all, clear (with or without the filters) and a failure
// group's retry or delete run as tracked operations: one idempotency key per click, the progress
// followed live with Cancel, the lists reloaded when it ends. A selection (one page at most) goes
// through the synchronous mutations. Every bulk delete (clear, group delete, a selection of more
// than 10) first runs the dry run, shows the count and asks for it to be typed (confirm.js).

import { gql } from "../api.js";
import { confirmAction } from "../confirm.js";
import { h, replace } from "../dom.js";
import { notice, showError } from "../messages.js";
import { follow, LIST_FIELDS, newIdempotencyKey, operationLink, outcomeText, selectorText, startOperation } from "../tracked.js";

const TYPED_ABOVE = 10; // a selected delete of more jobs than this needs the typed count
const RESULT = "success totalFailed errorCount errors { jobId error }";
let following = null; // stop() of the operation the view follows
let shown = []; // its heading and progress panel, moved into each reload of the same view
let view = null; // the failed view as last rendered (its status line, finish, queue)
let busy = false; // an action between its click and its start: further clicks are ignored

// Each render of the failed view: the progress of the operation it follows stays on it (an
// action's outcome, another page of the list); the ends and later actions report to it.
export function attach(ctx) {
  view = ctx;
  if (following) ctx.status.append(...shown);
}

// The view as rendered now, when it still shows ctx's queue (a reload during a confirmation).
function latest(ctx) {
  return view && view.queue === ctx.queue && view.status.isConnected ? view : ctx;
}

export function stopFollowing() {
  if (following) following();
  following = null;
}

// ctx: { queue, session, status (the view's status line), finish(message) (reloads the view) }.
async function guarded(ctx, work) {
  if (busy) return;
  busy = true;
  try {
    await work();
  } catch (error) {
    showError(latest(ctx).status, error);
  } finally {
    busy = false;
  }
}

export function retrySelected(ctx, ids) {
  if (!ids.length) return;
  return guarded(ctx, async () => {
    const { retryFailedJobs: r } = await gql(
      `mutation RetrySelected($ids: [ID!]!, $queue: String) { retryFailedJobs(ids: $ids, queue: $queue) { requeuedCount ${RESULT} } }`,
      { ids, queue: ctx.queue },
    );
    ctx.finish(`Requeued ${r.requeuedCount} of ${ids.length} selected jobs.`);
  });
}

export function deleteSelected(ctx, ids) {
  if (!ids.length) return;
  return guarded(ctx, async () => {
    // The API has no dry run for a selection: the count is the selection itself.
    const ok = await confirmAction({
      title: "Delete selected jobs",
      text: `This deletes ${ids.length} failed jobs and everything RQ keeps for them.`,
      action: `Delete ${ids.length} jobs`,
      count: ids.length > TYPED_ABOVE ? ids.length : null,
    });
    if (!ok) return;
    const { deleteFailedJobs: r } = await gql(
      `mutation DeleteSelected($ids: [ID!]!, $queue: String) { deleteFailedJobs(ids: $ids, queue: $queue) { deletedCount ${RESULT} } }`,
      { ids, queue: ctx.queue },
    );
    ctx.finish(`Deleted ${r.deletedCount} of ${ids.length} selected jobs.`);
  });
}

// Starts the operation and follows it in the status line; the view reloads when it ends.
async function track(ctx, action, selector, title, key) {
  const operation = await startOperation({ action, selector, queue: ctx.queue, idempotencyKey: key });
  show(ctx, operation, title);
}

// After a reload, a page change or in another tab: an operation still running on the queue is
// followed again (the newest; the list has the others). Quiet: the lists show the view's errors.
export async function resumeFollowing(ctx) {
  if (following || busy) return;
  let operations;
  try {
    operations = (await gql(`query Running { operations(limit: 20) { ${LIST_FIELDS} } }`)).operations;
  } catch {
    return;
  }
  const running = operations.find((op) => op.status === "running" && op.queue === ctx.queue);
  if (running && !following && !busy && latest(ctx) === ctx) show(ctx, running, `${running.action === "delete" ? "Deleting" : "Retrying"} ${selectorText(running.selector)}`);
}

function show(ctx, operation, title) {
  stopFollowing();
  const panel = h("div", { class: "operation-panel" });
  shown = [h("h2", { id: "operation-title" }, title, " (", operationLink(operation.id, "operation"), ")"), panel];
  replace(latest(ctx).status, shown);
  following = follow(panel, operation.id, ctx.session, {
    onEnd: (ended) => {
      following = null;
      shown = [];
      latest(ctx).finish([outcomeText(ended), " ", operationLink(ended.id)]);
    },
  });
}

// An outcome that changed nothing: said in the status line, above the progress of the operation
// the view follows, as a reload would show it, without reloading (which would replace the
// buttons under a person about to press one again).
function say(ctx, text) {
  const status = latest(ctx).status;
  notice(status, text);
  if (following) status.append(...shown);
}

// A dry run walks every job it would (seconds for a million): say so meanwhile, unless the
// status line follows an operation.
function dryRun(ctx, action, selector) {
  if (!following) notice(latest(ctx).status, "Counting the jobs (dry run)…");
  return startOperation({ action, selector, queue: ctx.queue, dryRun: true });
}

function errorsNote(dry) {
  const verb = dry.action === "delete" ? "deleted" : "retried";
  return dry.errorCount ? ` ${dry.errorCount} cannot be ${verb} (damaged or gone).` : "";
}


export function retryAll(ctx, filter) {
  return guarded(ctx, async () => {
    const key = newIdempotencyKey();
    const ok = await confirmAction({
      title: "Retry all",
      text: `This requeues every failed job of ${ctx.queue}${filter ? " matching the filters" : ""}, in the background.`,
      action: "Retry all",
    });
    if (!ok) return;
    await track(ctx, "retry", filter ? { filter } : { all: true }, filter ? "Retrying all matching jobs" : "Retrying all failed jobs", key);
  });
}

export function clearAll(ctx, filter) {
  return guarded(ctx, async () => {
    const key = newIdempotencyKey();
    const selector = filter ? { filter } : { all: true };
    const dry = await dryRun(ctx, "delete", selector);
    const ok = await confirmAction({
      title: filter ? "Delete all matching jobs" : "Clear the failed registry",
      text: `The dry run found ${dry.acted} failed jobs of ${ctx.queue}${filter ? " matching the filters" : ""} to delete.${errorsNote(dry)}`,
      action: `Delete ${dry.acted} jobs`,
      count: dry.acted,
    });
    if (!ok) return say(ctx, "Nothing was deleted.");
    await track(ctx, "delete", selector, filter ? "Deleting all matching jobs" : "Clearing the failed registry", key);
  });
}

export function groupAction(ctx, group, remove) {
  return guarded(ctx, async () => {
    const key = newIdempotencyKey();
    const action = remove ? "delete" : "retry";
    const selector = { groupId: group.groupId };
    const dry = await dryRun(ctx, action, selector);
    const ok = await confirmAction({
      title: remove ? "Delete failure group" : "Retry failure group",
      text: `The dry run matched ${dry.matched} failed jobs of ${ctx.queue} in this group.${errorsNote(dry)}`,
      action: remove ? `Delete ${dry.acted} jobs` : `Retry ${dry.acted} jobs`,
      count: remove ? dry.acted : null,
    });
    if (!ok) return say(ctx, "Nothing was changed.");
    await track(ctx, action, selector, remove ? "Deleting a failure group" : "Retrying a failure group", key);
  });
}
