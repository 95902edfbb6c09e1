// Queue history charts (README "Queue history"): failures and finishes per minute, queue length
// and run-time p95 over the last hour, drawn with the vendored uPlot. Each chart reads
// `queue(name) { history }` of the public GraphQL API, one queue per query, so the GraphQL cost
// limit never refuses it. All charts of a page share one timer, which re-reads them every
// INTERVAL_MS (the history writer samples at least every 15 s) and stops while the tab is hidden.
// A null bucket (no gateway sampled that minute) stays null, which uPlot draws as a gap.

import { gql } from "./api.js";
import { h, replace, table } from "./dom.js";
import uPlot from "./vendor/uplot/uPlot.min.js";

export const INTERVAL_MS = 15000;
const HOUR_MS = 3600 * 1000;
const FIELDS = "start failed finished queued latencySeconds runSecondsP50 runSecondsP95 runSecondsMax";
const QUERY = `query QueueHistory($name: String!, $since: String!, $until: String!) {
  queue(name: $name) { history(since: $since, until: $until, step: 1) { ${FIELDS} } }
}`;
// One chart per question a person asks; each names the bucket fields it draws.
const PANELS = [
  { title: "Failed and finished per minute", series: [["failed", "Failed", "--danger"], ["finished", "Finished", "--ok"]] },
  { title: "Queue length", series: [["queued", "Queued", "--accent"]] },
  { title: "Run time p95 (seconds)", series: [["runSecondsP95", "p95", "--fg"]] },
];

const charts = new Set(); // every chart on the page, re-read by the one timer
let timer = null;

// The last hour up to the end of the current minute, on whole minutes, so that REST asked for
// the same window answers the same buckets.
function lastHour() {
  const until = new Date(Math.ceil(Date.now() / 60000) * 60000);
  return { since: new Date(until.getTime() - HOUR_MS).toISOString(), until: until.toISOString() };
}

function colour(variable) {
  return getComputedStyle(document.documentElement).getPropertyValue(variable).trim() || "#888";
}

function draw(panel, buckets, width) {
  const xs = buckets.map((bucket) => Date.parse(bucket.start) / 1000);
  const data = [xs, ...panel.series.map(([field]) => buckets.map((bucket) => bucket[field]))];
  const axis = { stroke: colour("--muted"), grid: { stroke: colour("--line"), width: 1 }, ticks: { stroke: colour("--line") } };
  const options = {
    width,
    height: 140,
    legend: { show: false }, // the heading names the colours; the table below holds the numbers
    cursor: { show: false },
    // From 0, with headroom so the highest point is not cut by the top edge.
    scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, Math.ceil((max || 0) * 1.15))] } },
    axes: [{ ...axis }, { ...axis, size: 48 }],
    // Points too: a lone sampled minute between nulls has no line to show it.
    series: [{}, ...panel.series.map(([, label, variable]) => ({ label, stroke: colour(variable), width: 2, spanGaps: false, points: { show: true, size: 5 } }))],
  };
  const holder = h("div", { class: "chart-canvas", role: "img", "aria-label": `${panel.title}, last hour; the numbers are in the table below` });
  const plot = new uPlot(options, data, holder);
  return { holder, plot };
}

function key(panel) {
  return panel.series.map(([, label, variable]) => h("span", { class: `key key-${variable.slice(2)}` }, label));
}

function numbers(name, buckets) {
  const shown = (value) => (value === null || value === undefined ? "no sample" : String(value));
  return table(
    `History of ${name}, per minute`,
    ["Minute (UTC)", "Failed", "Finished", "Queued", "Run time p95 (s)"],
    buckets.map((b) => h("tr", {}, h("th", { scope: "row" }, b.start), [b.failed, b.finished, b.queued, b.runSecondsP95].map((v) => h("td", { class: "num" }, shown(v))))),
    { class: "history visually-hidden" },
  );
}

// historyChart(name) -> {element, stop}: the charts of one queue, kept up to date.
export function historyChart(name) {
  const element = h("section", { class: "history-charts", dataset: { historyOf: name }, "aria-label": `History of ${name}` }, h("p", { class: "muted" }, "Loading the history…"));
  let plots = [];
  const chart = {
    async read() {
      const range = lastHour();
      let data;
      try {
        data = await gql(QUERY, { name, ...range });
      } catch (error) {
        if (!plots.length) replace(element, h("p", { class: "muted" }, `No history: ${error.message}`));
        return;
      }
      if (!charts.has(chart)) return; // stopped while the answer was on its way
      const buckets = data.queue ? data.queue.history : [];
      for (const plot of plots) plot.destroy();
      // Three charts side by side where the page is wide enough.
      const width = Math.max(260, Math.min(Math.floor(((element.clientWidth || 900) - 32) / 3), 520));
      const drawn = PANELS.map((panel) => ({ panel, ...draw(panel, buckets, width) }));
      plots = drawn.map((each) => each.plot);
      replace(
        element,
        h("h2", {}, "Last hour"),
        h(
          "div",
          { class: "charts" },
          // data-series: the values uPlot holds, so a test can see that a null stayed a gap.
          drawn.map(({ panel, holder, plot }) =>
            h("figure", { class: "chart", dataset: { series: JSON.stringify(plot.data.slice(1)) } }, h("figcaption", {}, panel.title, " ", key(panel)), holder),
          ),
        ),
        numbers(name, buckets),
      );
      // The data drawn, for tests and tools: the window asked for and its buckets.
      Object.assign(element.dataset, { since: range.since, until: range.until, buckets: JSON.stringify(buckets), reads: String(Number(element.dataset.reads || 0) + 1) });
    },
  };
  charts.add(chart);
  schedule();
  chart.read();
  return {
    element,
    stop() {
      charts.delete(chart);
      for (const plot of plots) plot.destroy();
      plots = [];
      if (!charts.size) schedule();
    },
  };
}

function schedule() {
  clearInterval(timer);
  timer = null;
  if (document.hidden || !charts.size) return;
  timer = setInterval(() => {
    for (const chart of charts) chart.read();
  }, INTERVAL_MS);
}

document.addEventListener("visibilitychange", () => {
  schedule();
  if (!document.hidden) for (const chart of charts) chart.read(); // catch up on return
});
