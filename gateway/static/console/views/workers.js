// Workers: state, queues, current job (linked), counts, last heartbeat.

import { gql } from "../api.js";
import { h, jobLink, queueLink, replace, seconds, table, time } from "../dom.js";
import { showError } from "../messages.js";

export function render(main) {
  const body = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  replace(main, h("h1", {}, "Workers"), body);
  gql(
    `query Workers { workers { name state queues currentJobId successfulJobCount failedJobCount
      totalWorkingTime lastHeartbeat hostname pid } }`,
  ).then(({ workers }) => {
    if (!workers.length) {
      replace(body, h("p", {}, "No live workers. Start one with `rq worker`."));
      return;
    }
    replace(
      body,
      table(
        `${workers.length} live workers`,
        ["Name", "State", "Queues", "Current job", "Succeeded", "Failed", "Working time", "Last heartbeat", "Host"],
        workers.map((w) =>
          h(
            "tr",
            { dataset: { worker: w.name } },
            h("th", { scope: "row", class: "mono" }, w.name),
            h("td", {}, h("span", { class: `state ${w.state}` }, w.state)),
            h("td", {}, w.queues.flatMap((q, i) => (i ? [", ", queueLink(q)] : [queueLink(q)]))),
            h("td", {}, w.currentJobId ? jobLink(w.currentJobId) : "—"),
            h("td", { class: "num" }, w.successfulJobCount),
            h("td", { class: "num" }, w.failedJobCount),
            h("td", { class: "num" }, seconds(w.totalWorkingTime)),
            h("td", {}, time(w.lastHeartbeat)),
            h("td", {}, w.hostname ? `${w.hostname} (pid ${w.pid})` : "—"),
          ),
        ),
      ),
    );
  }, (error) => showError(body, error));
}
