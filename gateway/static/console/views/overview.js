// Overview: every queue with its seven counts, latency and workers, live.

import { historyChart } from "../history.js";
import { h, link, queueLink, refresh, replace, seconds, table } from "../dom.js";
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

// The overview charts one queue at a time, chosen in a list (the first queue until a person
// picks another): one history query per chart keeps within the GraphQL cost limit however many
// queues there are, and summing queues would hide which one is failing.
function historyPicker() {
  const select = h("select", { id: "history-queue" });
  const holder = h("div", {});
  const picker = h("div", { class: "history-select", hidden: true }, h("label", { for: "history-queue" }, "History of queue "), select);
  let chart = null;
  function show(name) {
    if (chart) chart.stop();
    chart = name ? historyChart(name) : null;
    replace(holder, chart ? chart.element : null);
  }
  select.addEventListener("change", () => show(select.value));
  return {
    element: h("div", {}, picker, holder),
    queues(names) {
      picker.hidden = !names.length;
      const chosen = names.includes(select.value) ? select.value : names[0] || "";
      if (names.join("\n") !== [...select.options].map((o) => o.value).join("\n")) {
        replace(select, names.map((name) => h("option", { value: name }, name)));
      }
      select.value = chosen;
      if (!chart || chart.element.dataset.historyOf !== chosen) show(chosen);
    },
    stop() {
      if (chart) chart.stop();
    },
  };
}

// A key limited to queue patterns sees only the queues they match: none of them is not "no queues".
function emptyText(session) {
  const patterns = (session && session.viewer.queuePatterns) || [];
  return patterns.length
    ? `No queue matches this key's queue patterns: ${patterns.join(", ")}.`
    : "RQ knows no queues yet. They appear here when a job is first enqueued.";
}

export function render(main, _route, session) {
  const body = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  const history = historyPicker();
  replace(main, h("h1", {}, "Queues"), body, history.element);
  let first = true;
  const stopLive = live({
    subscription: `subscription Queues($intervalMs: Int!) { queues(intervalMs: $intervalMs) { ${FIELDS} } }`,
    query: `query Queues { queues { ${FIELDS} } }`,
    variables: {},
    intervalMs: INTERVAL_MS,
    onData(data) {
      const queues = data.queues;
      refresh(
        body,
        queues.length
          ? table(
              `${queues.length} queues, updated live`,
              ["Queue", ...STATES.map((s) => s[0].toUpperCase() + s.slice(1)), "Latency", "Workers"],
              rows(queues),
              { class: "queues" },
            )
          : h("p", {}, emptyText(session)),
      );
      history.queues(queues.map((queue) => queue.queueName));
      if (first) {
        first = false;
        performance.mark("console:overview-ready");
      }
    },
    onError(error) {
      if (first) showError(body, error);
    },
  });
  return () => {
    stopLive();
    history.stop();
  };
}
