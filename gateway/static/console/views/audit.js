// Audit log (admins): every audited mutation, newest first, a page at a time.

import { gql } from "../api.js";
import { encodeQuery, h, link, replace, table, time } from "../dom.js";
import { showError } from "../messages.js";

const PAGE = 50;

export function render(main, route) {
  const body = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  replace(main, h("h1", {}, "Audit log"), body);
  gql(
    `query Audit($first: Int!, $after: String) { auditLog(first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      nodes { id time requestId key action queue jobCount jobIds outcome error } } }`,
    { first: PAGE, after: route.params.after || null },
  ).then(({ auditLog }) => {
    const rows = auditLog.nodes.map((e) =>
      h(
        "tr",
        {},
        h("td", {}, time(e.time)),
        h("td", {}, e.key),
        h("td", {}, e.action),
        h("td", {}, e.queue || "—"),
        h("td", { class: "num" }, e.jobCount),
        h("td", { class: "mono small" }, e.jobIds.join(", ")),
        h("td", {}, h("span", { class: `outcome ${e.outcome}` }, e.outcome), e.error ? ` (${e.error})` : ""),
        h("td", { class: "mono small" }, e.requestId),
      ),
    );
    replace(
      body,
      table(`${auditLog.totalCount} entries kept, newest first`, ["Time", "Key", "Action", "Queue", "Jobs", "Job ids", "Outcome", "Request id"], rows),
      h(
        "nav",
        { class: "pager", "aria-label": "Pages" },
        route.params.after ? link("#/audit", "Newest") : null,
        auditLog.pageInfo.hasNextPage ? link(`#/audit${encodeQuery({ after: auditLog.pageInfo.endCursor })}`, "Older") : null,
      ),
    );
  }, (error) => showError(body, error));
}
