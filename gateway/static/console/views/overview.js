// Overview: every queue with its seven counts, latency and workers, live.

import { h, link, queueLink, replace, seconds, table } from "../dom.js";
import { live } from "../live.js";
import { showError } from "../messages.js";

export const INTERVAL_MS = 2000;
const FIELDS = `queueName queuedCount startedCount failedCount finishedCount deferredCount
  scheduledCount canceledCount latencySeconds workerCount`;
const STATES = ["queued", "started", "failed", "finished", "deferred", "scheduled", "canceled"];

function count(queue, state) {
  const value = queue[`${state}Count`];
  const route = state === "failed" ? `#/failed/${encodeURIComponent(queue.queueName)}` : `#/queue/${encodeURIComponent(queue.queueName)}?state=${state}`;
  return h("td", { class: "num", dataset: { state } }, value ? link(route, value.toLocaleString("en")) : "0");
}

function rows(queues) {
  return queues.map((queue) =>
    h(
      "tr",
      { dataset: { queue: queue.queueName } },
      h("th", { scope: "row" }, queueLink(queue.queueName)),
      STATES.map((state) => count(queue, state)),
      h("td", { class: "num", dataset: { state: "latency" } }, seconds(queue.latencySeconds)),
      h("td", { class: "num", dataset: { state: "workers" } }, queue.workerCount),
    ),
  );
}

export function render(main) {
  const body = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  replace(main, h("h1", {}, "Queues"), body);
  let first = true;
  return live({
    subscription: `subscription Queues($intervalMs: Int!) { queues(intervalMs: $intervalMs) { ${FIELDS} } }`,
    query: `query Queues { queues { ${FIELDS} } }`,
    variables: {},
    intervalMs: INTERVAL_MS,
    onData(data) {
      const queues = data.queues;
      replace(
        body,
        queues.length
          ? table(
              `${queues.length} queues, updated live`,
              ["Queue", ...STATES.map((s) => s[0].toUpperCase() + s.slice(1)), "Latency", "Workers"],
              rows(queues),
              { class: "queues" },
            )
          : h("p", {}, "RQ knows no queues yet. They appear here when a job is first enqueued."),
      );
      if (first) {
        first = false;
        performance.mark("console:overview-ready");
      }
    },
    onError(error) {
      if (first) showError(body, error);
    },
  });
}
