// Workers: state, queues, current job (linked), counts, last heartbeat; whether `rq suspend` is in
// force. An admin suspends and resumes them and shuts one down (RQ's own commands, so a stock
// `rq worker` obeys). The list is re-read every few seconds while the tab is visible (poll.js).

import { gql } from "../api.js";
import { confirmAction } from "../confirm.js";
import { h, jobLink, queueLink, refresh, replace, seconds, table, time } from "../dom.js";
import { notice, showError } from "../messages.js";
import { poll } from "../poll.js";

export const REFRESH_MS = 3000;

const QUERY = `query Workers { workerSuspension { suspended until }
  workers { name state queues currentJobId successfulJobCount failedJobCount totalWorkingTime lastHeartbeat hostname pid } }`;

function suspensionLine(suspension, session, act) {
  const said = suspension.suspended
    ? ["Workers are suspended ", suspension.until ? ["until ", time(suspension.until)] : "until resumed", ": none starts a new job."]
    : ["Workers take new jobs."];
  const control = !session.may("suspend")
    ? null
    : suspension.suspended
      ? h("button", { type: "button", onclick: () => act(resume) }, "Resume workers")
      : h("button", { type: "button", class: "danger", onclick: () => act(suspend) }, "Suspend workers…");
  return h("div", { class: "actions", id: "suspension" }, h("p", { class: suspension.suspended ? "suspended" : "muted" }, said), control);
}

async function suspend() {
  const duration = h("input", { id: "suspend-duration", type: "number", min: "1", inputmode: "numeric", autocomplete: "off" });
  const ok = await confirmAction({
    title: "Suspend workers",
    text: "What `rq suspend` does: no worker of this Redis starts a new job until resumed; jobs already running finish.",
    action: "Suspend",
    extra: [h("label", { for: "suspend-duration" }, "For how many seconds (empty: until resumed)"), duration],
  });
  if (!ok) return null;
  const seconds = duration.value.trim() ? Number(duration.value) : null;
  const { done } = await gql("mutation Suspend($duration: Int) { done: suspendWorkers(duration: $duration) { suspended until } }", { duration: seconds });
  return done.until ? `Workers suspended until ${done.until}.` : "Workers suspended until resumed.";
}

async function resume() {
  await gql("mutation Resume { done: resumeWorkers { suspended } }");
  return "Workers resumed.";
}

function shutdown(name) {
  return async () => {
    const kill = h("input", { id: "kill-horse", type: "checkbox" });
    const ok = await confirmAction({
      title: "Shut down worker",
      text: `Worker ${name} finishes the job it is running, then exits (RQ's warm shutdown). Whatever supervises it may start it again.`,
      action: "Shut down",
      extra: h("p", {}, kill, " ", h("label", { for: "kill-horse" }, "Also kill the job it is running now (kill horse)")),
    });
    if (!ok) return null;
    const { done } = await gql("mutation Shutdown($name: String!, $kill: Boolean!) { done: shutdownWorker(name: $name, killHorse: $kill) { message } }", {
      name,
      kill: kill.checked,
    });
    return done.message;
  };
}

function row(w, session, act) {
  return h(
    "tr",
    { dataset: { worker: w.name } },
    h("th", { scope: "row", class: "mono" }, w.name),
    h("td", {}, h("span", { class: `state ${w.state}` }, w.state)),
    h("td", {}, w.queues.flatMap((q, i) => (i ? [", ", queueLink(q)] : [queueLink(q)]))),
    h("td", {}, w.currentJobId ? jobLink(w.currentJobId) : "—"),
    h("td", { class: "num" }, w.successfulJobCount ?? "—"),
    h("td", { class: "num" }, w.failedJobCount ?? "—"),
    h("td", { class: "num" }, seconds(w.totalWorkingTime)),
    h("td", {}, time(w.lastHeartbeat)),
    h("td", {}, w.hostname ? `${w.hostname} (pid ${w.pid})` : "—"),
    session.may("shutdown") ? h("td", {}, h("button", { type: "button", class: "danger", "aria-label": `Shut down ${w.name}`, onclick: () => act(shutdown(w.name)) }, "Shut down…")) : null,
  );
}

export function render(main, _current, session) {
  const status = h("div", { class: "status-line" });
  const body = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  replace(main, h("h1", {}, "Workers"), status, body);

  async function act(control) {
    try {
      const said = await control();
      if (said) notice(status, said);
    } catch (error) {
      showError(status, error);
    }
    polling.now();
  }

  function show({ workers, workerSuspension }) {
    const headers = ["Name", "State", "Queues", "Current job", "Succeeded", "Failed", "Working time", "Last heartbeat", "Host"];
    if (session.may("shutdown")) headers.push("Actions");
    refresh(
      body,
      [
        suspensionLine(workerSuspension, session, act),
        workers.length
          ? table(`${workers.length} live workers`, headers, workers.map((w) => row(w, session, act)))
          : h("p", {}, "No live workers. Start one with `rq worker`."),
      ],
      status,
    );
  }

  const polling = poll(REFRESH_MS, () => gql(QUERY), show, (error) => showError(body, error));
  return polling.stop;
}
