// The console: sign-in, navigation, the outage banner and the hash router. Every view is a
// module in views/ exporting render(main, route, session); its URL (#/queue/default?state=failed)
// opens the same view when pasted into another browser.

import { explain, gql, health, storeKey, storedKey } from "./api.js";
import { h, replace } from "./dom.js";
import { refreshHealth, refreshInstances, routeInstance, switcherElement } from "./instances.js";
import { liveState, restartLive } from "./live.js";
import { showError } from "./messages.js";
import { finishSignIn, forgetSso, signedInWithSso, signOn, startSignIn } from "./oidc.js";
import * as audit from "./views/audit.js";
import * as failed from "./views/failed.js";
import * as job from "./views/job.js";
import * as operations from "./views/operations.js";
import * as overview from "./views/overview.js";
import * as queue from "./views/queue.js";
import * as scheduling from "./views/scheduling.js";
import * as workers from "./views/workers.js";

const ROLES = { viewer: 1, operator: 2, admin: 3 };
// Which role each action needs; the server checks again on every call.
const NEEDS = {
  retry: "operator",
  cancel: "operator",
  requeue: "operator",
  stop: "operator",
  enqueueNow: "operator",
  replay: "operator",
  delete: "admin",
  clear: "admin",
  empty: "admin",
  audit: "admin",
  suspend: "admin",
  shutdown: "admin",
};

const EXPIRED = "Your sign-in has expired or is no longer accepted. Sign in again.";

const VIEWS = { "": overview, queue, failed, job, workers, scheduling, audit, operations, operation: operations };

const app = document.getElementById("app");
let session = null;
let stopView = null;
let retryTimer = null;

function parseRoute() {
  const hash = location.hash.replace(/^#\/?/, "");
  const [path, search = ""] = hash.split("?");
  const [name = "", ...rest] = path.split("/");
  return {
    name,
    arg: rest.length ? decodeURIComponent(rest.join("/")) : "",
    params: Object.fromEntries(new URLSearchParams(search)),
  };
}

// Actions on no one queue (every worker of the Redis): the server refuses them to a key limited
// to queue patterns, whatever its role.
const UNLIMITED_ONLY = new Set(["suspend", "shutdown"]);

function makeSession(viewer) {
  return {
    viewer,
    may(action) {
      if (UNLIMITED_ONLY.has(action) && viewer.queuePatterns.length) return false;
      return (ROLES[viewer.role] || 0) >= ROLES[NEEDS[action] || "admin"];
    },
  };
}

async function boot() {
  try {
    if (await finishSignIn()) restartLive(); // the issuer's redirect back: the socket needs the token
  } catch (error) {
    renderSignIn(error.message);
    return;
  }
  try {
    const data = await gql("query Viewer { viewer { name role queuePatterns payloadsHidden } }");
    session = makeSession(data.viewer);
    await refreshInstances();
    renderShell();
  } catch (error) {
    if (error.code === "UNAUTHENTICATED") renderSignIn(storedKey() ? (signedInWithSso() ? EXPIRED : "That key was not accepted.") : "");
    else renderFatal(error);
  }
}

function renderSignIn(message) {
  stopCurrent();
  session = null;
  const input = h("input", { id: "key", name: "key", type: "password", autocomplete: "current-password", required: true });
  const form = h(
    "form",
    { class: "signin", onsubmit: (event) => signIn(event, input.value) },
    h("h1", {}, "rq-gateway"),
    h(
      "p",
      {},
      signOn
        ? `Sign in with ${signOn.name}, or with an API key. Either is kept in this tab only (sessionStorage) until you sign out.`
        : "This gateway needs an API key. It is kept in this tab only (sessionStorage) until you sign out.",
    ),
    signOn ? h("button", { type: "button", class: "sso", onclick: () => startSignIn().catch((error) => renderSignIn(error.message)) }, `Sign in with ${signOn.name}`) : null,
    h("label", { for: "key" }, "API key"),
    input,
    message ? h("p", { class: "error", role: "alert" }, message) : null,
    h("button", { type: "submit" }, "Sign in"),
  );
  replace(app, h("main", { id: "main" }, form));
  input.focus();
}

async function signIn(event, key) {
  event.preventDefault();
  storeKey(key.trim());
  forgetSso();
  restartLive();
  await boot();
}

function signOut() {
  storeKey("");
  forgetSso();
  restartLive();
  renderSignIn("");
}

function renderFatal(error) {
  replace(
    app,
    h("main", { id: "main" }, h("div", { class: "message error", role: "alert" }, h("h1", {}, "The console cannot start"), h("p", {}, error.message), h("p", {}, explain(error)))),
  );
  clearTimeout(retryTimer);
  retryTimer = setTimeout(boot, 3000);
}

function renderShell() {
  const nav = h(
    "nav",
    { "aria-label": "Console" },
    h("a", { href: "#/", class: "brand" }, "rq-gateway"),
    h("a", { href: "#/" }, "Overview"),
    h("a", { href: "#/workers" }, "Workers"),
    h("a", { href: "#/scheduling" }, "Scheduling"),
    h("a", { href: "#/operations" }, "Operations"),
    session.may("audit") ? h("a", { href: "#/audit" }, "Audit log") : null,
    h("a", { href: "graphql" }, "GraphiQL"),
    h("a", { href: "docs" }, "REST API"),
    switcherElement(),
    h(
      "span",
      { class: "who" },
      `${session.viewer.name} (${session.viewer.role})`,
      session.viewer.name === "anonymous" ? null : h("button", { type: "button", onclick: signOut }, "Sign out"),
    ),
  );
  const banner = h("div", { id: "banner", role: "status", "aria-live": "polite", hidden: true });
  replace(app, h("a", { href: "#main", class: "skip" }, "Skip to content"), h("header", {}, nav), banner, h("main", { id: "main", tabindex: "-1" }));
  route();
}

function stopCurrent() {
  if (stopView) stopView();
  stopView = null;
}

function route() {
  if (!session) return;
  stopCurrent();
  const current = parseRoute();
  const instance = routeInstance(current);
  if (instance.changed) restartLive(); // the socket streams one instance
  const view = VIEWS[current.name] || overview;
  const main = document.getElementById("main");
  if (instance.unknown) {
    // Not sent to the gateway: its socket would refuse the name like a bad key (4403).
    showError(main, { code: "NOT_FOUND", message: `Redis instance '${instance.name}' is not configured` });
    return;
  }
  for (const a of document.querySelectorAll("nav a")) {
    const target = a.getAttribute("href").replace(/^#\/?/, "").split(/[/?]/)[0];
    if (a.getAttribute("href").startsWith("#") && !a.classList.contains("brand") && target === current.name) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  replace(main, h("p", { class: "muted" }, "Loading…"));
  stopView = view.render(main, current, session) || null;
}

health.addEventListener("outage", (event) => {
  const banner = document.getElementById("banner");
  if (!banner) return;
  banner.hidden = false;
  banner.className = "banner";
  // With several instances the gateway's message names the one that is down.
  const which = /^Redis instance '[^']*'/.exec(event.detail.message || "");
  banner.textContent =
    event.detail.code === "SERVICE_UNAVAILABLE"
      ? `${which ? which[0] : "Redis"} is unreachable: the data shown may be out of date. Retrying by itself…`
      : "The gateway is not answering. Reconnecting by itself…";
  refreshHealth(); // the switcher shows which instance is down
  // Views that are not live retry by being rendered again until an answer comes back.
  clearTimeout(retryTimer);
  retryTimer = setTimeout(() => {
    if (!document.getElementById("banner")?.hidden) route();
  }, 3000);
});

health.addEventListener("recovered", () => {
  const banner = document.getElementById("banner");
  if (banner) banner.hidden = true;
  clearTimeout(retryTimer);
  refreshHealth();
});

// The API answered 401: a token has expired, or a key was revoked.
function noLongerAccepted() {
  renderSignIn(signedInWithSso() ? EXPIRED : "Your key is no longer accepted.");
}

liveState.addEventListener("unauthenticated", noLongerAccepted);
health.addEventListener("unauthenticated", noLongerAccepted);
window.addEventListener("hashchange", route);
boot();
