// Live views. Each feed is a GraphQL subscription over the graphql-transport-ws protocol on
// ./graphql, all of a page's feeds sharing one WebSocket. Where the gateway has no subscriptions
// (an older version), a feed falls back to re-running its query, every feed on one shared
// timer. Feeds pause while the tab is hidden and resume (reconnecting) when it is shown again;
// a dropped socket (a gateway restart) is reopened with a growing delay.

import { endpoint, errorOf, gql, recovered, report, storedKey } from "./api.js";

const PROTOCOL = "graphql-transport-ws";
const feeds = new Map(); // id -> feed
let nextId = 1;
let socket = null;
let acknowledged = false;
let retryDelay = 500;
let reopenTimer = null;
let pollTimer = null;
let subscriptionsUnsupported = false;
let everAcknowledged = false;
export const liveState = new EventTarget(); // "unauthenticated" when the socket is closed with 4403

// The chosen Redis instance's streams: ./graphql?instance=NAME (api.js), as a ws: URL.
function socketUrl() {
  return endpoint(location.protocol === "https:" ? "wss:" : "ws:");
}

function send(message) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
}

function subscribe(feed) {
  send({ id: feed.id, type: "subscribe", payload: { query: feed.subscription, variables: feed.variables } });
}

function open() {
  if (socket || document.hidden || subscriptionsUnsupported || !feeds.size) return;
  acknowledged = false;
  let ws;
  try {
    ws = new WebSocket(socketUrl(), PROTOCOL);
  } catch {
    fallBackToPolling();
    return;
  }
  socket = ws;
  ws.addEventListener("open", () => {
    const key = storedKey();
    ws.send(JSON.stringify({ type: "connection_init", payload: key ? { authorization: `Bearer ${key}` } : {} }));
  });
  ws.addEventListener("message", (event) => onMessage(ws, JSON.parse(event.data)));
  ws.addEventListener("close", (event) => onClose(ws, event));
}

function onMessage(ws, message) {
  if (ws !== socket) return;
  const feed = feeds.get(message.id);
  switch (message.type) {
    case "connection_ack":
      acknowledged = true;
      everAcknowledged = true;
      retryDelay = 500;
      recovered();
      for (const each of feeds.values()) if (!each.polled) subscribe(each);
      break;
    case "ping":
      send({ type: "pong" });
      break;
    case "next":
      if (!feed) break;
      if (message.payload.errors && message.payload.errors.length) {
        feed.failed(errorOf(message.payload.errors), true);
      } else {
        recovered();
        feed.deliver(message.payload.data);
      }
      break;
    case "error":
      if (!feed) break;
      if (unsupported(message.payload)) {
        subscriptionsUnsupported = true;
        fallBackToPolling();
      } else {
        feed.failed(errorOf(message.payload), false);
      }
      break;
    case "complete":
      if (feed) feed.completed();
      break;
  }
}

function unsupported(errors) {
  return (errors || []).some((error) => /subscription/i.test(error.message || "") && /not|support|schema/i.test(error.message || ""));
}

function onClose(ws, event) {
  if (ws !== socket) return;
  socket = null;
  if (event.code === 4403) {
    liveState.dispatchEvent(new Event("unauthenticated"));
    return;
  }
  if (!everAcknowledged) {
    // The first socket never opened: no WebSocket endpoint here (or a proxy without upgrades).
    fallBackToPolling();
    return;
  }
  if (document.hidden || !feeds.size) return;
  report({ code: "NETWORK", message: "Reconnecting to the gateway…" });
  clearTimeout(reopenTimer);
  reopenTimer = setTimeout(open, retryDelay);
  retryDelay = Math.min(retryDelay * 2, 5000);
}

function fallBackToPolling() {
  subscriptionsUnsupported = true;
  for (const feed of feeds.values()) feed.polled = true;
  schedulePoll(0);
}

// The one timer of the polling fallback: it runs every polled feed whose interval is due.
function schedulePoll(delay) {
  clearTimeout(pollTimer);
  pollTimer = null;
  if (document.hidden) return;
  const polled = [...feeds.values()].filter((feed) => feed.polled);
  if (!polled.length) return;
  pollTimer = setTimeout(async () => {
    const now = performance.now();
    await Promise.all(polled.filter((feed) => now >= feed.dueAt).map((feed) => feed.poll(now)));
    const soonest = Math.min(...[...feeds.values()].filter((f) => f.polled).map((f) => f.dueAt - performance.now()));
    schedulePoll(Math.max(100, Number.isFinite(soonest) ? soonest : 1000));
  }, delay);
}

// live({subscription, query, variables, intervalMs, onData, onError, onComplete}) -> stop()
// `subscription` and `query` select the same fields (the query is the polling fallback), and
// onData gets the data of either, keyed by the same root field name.
export function live(options) {
  const id = String(nextId++);
  const feed = {
    id,
    subscription: options.subscription,
    variables: { ...options.variables, intervalMs: options.intervalMs },
    polled: subscriptionsUnsupported,
    dueAt: 0,
    last: undefined,
    deliver(data) {
      const text = JSON.stringify(data);
      if (text === feed.last) return; // only changes reach the view
      feed.last = text;
      options.onData(data);
    },
    failed(error, transient) {
      if (options.onError) options.onError(error, transient);
      report(error); // an outage shows the banner; other errors are the view's to show
    },
    completed() {
      feeds.delete(id);
      if (options.onComplete) options.onComplete();
    },
    async poll(now) {
      feed.dueAt = now + options.intervalMs;
      try {
        const data = await gql(options.query, options.variables);
        feed.deliver(data);
        if (options.ends && options.ends(data)) feed.completed();
      } catch (error) {
        feed.failed(error, true);
      }
    },
  };
  feeds.set(id, feed);
  if (feed.polled) schedulePoll(0);
  else if (socket && acknowledged) subscribe(feed);
  else open();
  return () => {
    if (!feeds.delete(id)) return;
    if (!feed.polled) send({ id, type: "complete" });
  };
}

// Paused while hidden: no socket and no timer, so a background tab costs the gateway nothing.
document.addEventListener("visibilitychange", () => {
  if (document.hidden) {
    clearTimeout(pollTimer);
    clearTimeout(reopenTimer);
    pollTimer = null;
    if (socket) {
      const closing = socket;
      socket = null;
      closing.close(1000, "tab hidden");
    }
    for (const feed of feeds.values()) feed.last = undefined; // send everything again on return
  } else {
    retryDelay = 500;
    open();
    schedulePoll(0);
  }
});

// Socket state for tests and the status line: "live", "polling", "paused" or "connecting".
export function liveMode() {
  if (document.hidden) return "paused";
  if (subscriptionsUnsupported) return "polling";
  return socket && acknowledged ? "live" : "connecting";
}

// A new key (sign-in, sign-out) or another Redis instance: the socket was opened for the old one.
export function restartLive() {
  if (socket) {
    const closing = socket;
    socket = null;
    closing.close(1000, "key changed");
  }
  open();
}
