// Job: every field, payloads as JSON, the traceback, where it is, its dependencies and
// dependents, the actions this key may take; its status updates live.

import { gql } from "../api.js";
import { confirmAction } from "../confirm.js";
import { h, jobLink, json, queueLink, refresh, replace, time } from "../dom.js";
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

// Each control: when it applies, the action name the session checks (app.js NEEDS) and its label.
const CONTROLS = [
  { name: "retry", label: "Retry", when: ["FAILED"] },
  { name: "stop", label: "Stop", when: ["STARTED"], danger: true },
  { name: "enqueueNow", label: "Enqueue now", when: ["SCHEDULED", "DEFERRED"] },
  { name: "replay", label: "Replay", when: ["FINISHED", "FAILED"] },
  { name: "cancel", label: "Cancel", when: ["QUEUED", "DEFERRED", "SCHEDULED"] },
  { name: "requeue", label: "Requeue", when: ["CANCELED", "STOPPED"] },
  { name: "delete", label: "Delete", when: ["FAILED"], danger: true },
];

function actionsFor(job, session, act) {
  return CONTROLS.filter((control) => control.when.includes(job.status) && session.may(control.name)).map((control) =>
    h("button", { type: "button", class: control.danger ? "danger" : null, onclick: () => act(control.name, job) }, control.label),
  );
}

const MUTATIONS = {
  retry: "mutation Retry($id: ID!) { done: retryFailedJob(id: $id) { success message } }",
  delete: "mutation Delete($id: ID!) { done: deleteFailedJob(id: $id) { success message } }",
  cancel: "mutation Cancel($id: ID!) { done: cancelJob(id: $id) { success message } }",
  requeue: "mutation Requeue($id: ID!) { done: requeueJob(id: $id) { success message } }",
  stop: "mutation Stop($id: ID!) { done: stopJob(id: $id) { success message } }",
  enqueueNow: "mutation EnqueueNow($id: ID!, $force: Boolean!) { done: enqueueJobNow(id: $id, force: $force) { success message } }",
  replay: "mutation Replay($id: ID!) { done: replayJob(id: $id) { jobId queue } }",
};

// What each control asks before it acts; null: it acts at once.
function question(name, job) {
  const id = job.id;
  if (name === "delete") return { title: "Delete job", text: `This deletes job ${id} and everything RQ keeps for it.`, action: "Delete" };
  if (name === "stop") return { title: "Stop job", text: `This tells the worker running job ${id} to stop it now; it ends as stopped.`, action: "Stop" };
  if (name === "enqueueNow" && job.status === "DEFERRED")
    return {
      title: "Enqueue a deferred job",
      text: `Job ${id} waits for jobs it depends on. Enqueued now, it runs without waiting for them, whether or not they have finished.`,
      action: "Enqueue anyway",
    };
  return null;
}

export function render(main, current, session) {
  const id = current.arg;
  const status = h("div", { class: "status-line" });
  const body = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  replace(main, h("h1", {}, "Job ", h("span", { class: "mono" }, id)), status, body);

  async function act(name, job) {
    const ask = question(name, job);
    if (ask && !(await confirmAction(ask))) return;
    const variables = name === "enqueueNow" ? { id, force: job.status === "DEFERRED" } : { id };
    try {
      const { done } = await gql(MUTATIONS[name], variables);
      if (name === "replay") replace(status, h("p", { class: "notice ok", role: "status" }, "Replayed as ", jobLink(done.jobId), ` on ${done.queue}.`));
      else notice(status, done.message);
    } catch (error) {
      showError(status, error);
    }
  }

  // Under --hide-payloads a viewer's payloads come as null: say so, not "null", which reads as the job's own.
  const payload = (value) => (session.viewer.payloadsHidden ? h("span", { class: "muted" }, "hidden (--hide-payloads)") : json(value));

  function show(job) {
    if (!job) {
      replace(body, h("div", { class: "message", role: "status" }, h("strong", {}, "This job no longer exists."), h("p", {}, "It was deleted or has expired.")));
      return;
    }
    const buttons = actionsFor(job, session, act);
    refresh(
      body,
      [
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
        payload(job.args),
        h("h3", {}, "kwargs"),
        payload(job.kwargs),
        h("h2", {}, "Result"),
        payload(job.result),
        job.excInfo ? [h("h2", {}, "Traceback"), h("pre", { class: "traceback", tabindex: "0", "aria-label": "Traceback" }, job.excInfo)] : null,
      ],
      status,
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
