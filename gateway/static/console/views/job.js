// Job: every field, payloads as JSON, the traceback, where it is, its dependencies and
// dependents, the actions this key may take; its status updates live.

import { gql } from "../api.js";
import { confirmAction } from "../confirm.js";
import { h, jobLink, json, queueLink, replace, time } from "../dom.js";
import { live } from "../live.js";
import { notice, showError } from "../messages.js";

export const INTERVAL_MS = 1000;
const FIELDS = `id status funcName args kwargs result excInfo origin description createdAt
  enqueuedAt startedAt endedAt location { queue registry } dependencyIds dependentIds`;

function row(label, value) {
  return [h("dt", {}, label), h("dd", {}, value === null || value === undefined || value === "" ? "—" : value)];
}

function ids(list) {
  if (!list || !list.length) return "none";
  return h("ul", { class: "ids" }, list.map((id) => h("li", {}, jobLink(id))));
}

function actionsFor(job, session, act) {
  const status = job.status;
  const buttons = [];
  if (status === "FAILED" && session.may("retry")) buttons.push(h("button", { type: "button", onclick: () => act("retry") }, "Retry"));
  if (status === "FAILED" && session.may("delete")) buttons.push(h("button", { type: "button", class: "danger", onclick: () => act("delete") }, "Delete"));
  if (["QUEUED", "DEFERRED", "SCHEDULED"].includes(status) && session.may("cancel")) buttons.push(h("button", { type: "button", onclick: () => act("cancel") }, "Cancel"));
  if (["CANCELED", "STOPPED"].includes(status) && session.may("requeue")) buttons.push(h("button", { type: "button", onclick: () => act("requeue") }, "Requeue"));
  return buttons;
}

const MUTATIONS = {
  retry: "mutation Retry($id: ID!) { done: retryFailedJob(id: $id) { success message } }",
  delete: "mutation Delete($id: ID!) { done: deleteFailedJob(id: $id) { success message } }",
  cancel: "mutation Cancel($id: ID!) { done: cancelJob(id: $id) { success message } }",
  requeue: "mutation Requeue($id: ID!) { done: requeueJob(id: $id) { success message } }",
};

export function render(main, current, session) {
  const id = current.arg;
  const status = h("div", { class: "status-line" });
  const body = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  replace(main, h("h1", {}, "Job ", h("span", { class: "mono" }, id)), status, body);

  async function act(name) {
    if (name === "delete") {
      const ok = await confirmAction({ title: "Delete job", text: `This deletes job ${id} and everything RQ keeps for it.`, action: "Delete" });
      if (!ok) return;
    }
    try {
      const { done } = await gql(MUTATIONS[name], { id });
      notice(status, done.message);
    } catch (error) {
      showError(status, error);
    }
  }

  function show(job) {
    if (!job) {
      replace(body, h("div", { class: "message", role: "status" }, h("strong", {}, "This job no longer exists."), h("p", {}, "It was deleted or has expired.")));
      return;
    }
    const buttons = actionsFor(job, session, act);
    replace(
      body,
      h("p", { class: "job-status" }, "Status: ", h("span", { class: `status ${job.status.toLowerCase()}`, "aria-live": "polite", id: "job-status" }, job.status.toLowerCase())),
      buttons.length ? h("div", { class: "actions", role: "group", "aria-label": "Actions" }, buttons) : null,
      h(
        "dl",
        { class: "fields" },
        row("Function", job.funcName && h("span", { class: "mono" }, job.funcName)),
        row("Description", job.description && h("span", { class: "mono" }, job.description)),
        row("Queue", queueLink(job.origin)),
        row("Location", job.location ? [queueLink(job.location.queue, job.location.registry === "queued" ? null : job.location.registry), ` · ${job.location.registry || "in no registry"}`] : null),
        row("Created", time(job.createdAt)),
        row("Enqueued", time(job.enqueuedAt)),
        row("Started", time(job.startedAt)),
        row("Ended", time(job.endedAt)),
        row("Depends on", ids(job.dependencyIds)),
        row("Dependents", ids(job.dependentIds)),
      ),
      h("h2", {}, "Arguments"),
      h("h3", {}, "args"),
      json(job.args),
      h("h3", {}, "kwargs"),
      json(job.kwargs),
      h("h2", {}, "Result"),
      json(job.result),
      job.excInfo ? [h("h2", {}, "Traceback"), h("pre", { class: "traceback", tabindex: "0", "aria-label": "Traceback" }, job.excInfo)] : null,
    );
  }

  return live({
    subscription: `subscription Job($id: ID!, $intervalMs: Int!) { job(id: $id, intervalMs: $intervalMs) { ${FIELDS} } }`,
    query: `query Job($id: ID!) { job(id: $id) { ${FIELDS} } }`,
    variables: { id },
    intervalMs: INTERVAL_MS,
    ends: (data) => !data.job,
    onData: (data) => show(data.job),
    onComplete: () => {},
    onError(error) {
      if (error.code === "NOT_FOUND") show(null);
      else showError(status, error);
    },
  });
}
