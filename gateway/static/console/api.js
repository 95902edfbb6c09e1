// The console's one way to the gateway: the public GraphQL API at ./graphql, with the API key
// from sessionStorage as a Bearer token, exactly as any other client would call it.

const KEY_ITEM = "rq-gateway.key";
let instance = null; // the Redis instance every request acts on (instances.js); null: the default

// ./graphql, with ?instance=NAME when the console acts on another instance than the default.
export function endpoint(protocol) {
  const url = new URL("graphql", document.baseURI);
  if (protocol) url.protocol = protocol;
  if (instance) url.searchParams.set("instance", instance);
  return url.href;
}

// Returns whether the instance changed (then the live socket must reconnect to the new URL).
export function useInstance(name) {
  const changed = (name || null) !== instance;
  instance = name || null;
  return changed;
}

export function storedKey() {
  return sessionStorage.getItem(KEY_ITEM) || "";
}

export function storeKey(key) {
  if (key) sessionStorage.setItem(KEY_ITEM, key);
  else sessionStorage.removeItem(KEY_ITEM);
}

export class ApiError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

// Listeners of "outage" (Redis or the gateway down) and "recovered" (an answer came back).
export const health = new EventTarget();
let down = false;

// Every outage goes through here, so that the first answer afterwards can clear the banner.
export function report(error) {
  if (error && (error.code === "SERVICE_UNAVAILABLE" || error.code === "NETWORK")) {
    down = true;
    health.dispatchEvent(new CustomEvent("outage", { detail: error }));
  }
}

export function recovered() {
  if (down) {
    down = false;
    health.dispatchEvent(new Event("recovered"));
  }
}

export function errorOf(errors) {
  const first = errors[0] || {};
  const code = (first.extensions && first.extensions.code) || "BAD_REQUEST";
  return new ApiError(code, first.message || "The request failed");
}

// Refusals decided before Redis is asked: they say nothing about whether it answers.
const BEFORE_REDIS = new Set(["UNAUTHENTICATED", "FORBIDDEN", "BAD_REQUEST", "LIMIT_EXCEEDED"]);

// One GraphQL operation. Resolves to `data`; rejects with an ApiError carrying the error's
// extensions.code, or NETWORK when the gateway did not answer at all. `quiet` leaves the outage
// banner alone (the instance list answers even when the instance shown is down).
export async function gql(query, variables = {}, { quiet = false } = {}) {
  const outage = quiet ? () => {} : report;
  const headers = { "Content-Type": "application/json", Accept: "application/json" };
  const key = storedKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  let response;
  try {
    response = await fetch(endpoint(), { method: "POST", headers, body: JSON.stringify({ query, variables }) });
  } catch {
    const error = new ApiError("NETWORK", "The gateway is not answering. Retrying…");
    outage(error);
    throw error;
  }
  let body;
  try {
    body = await response.json();
  } catch {
    const error = new ApiError(
      response.status >= 500 ? "SERVICE_UNAVAILABLE" : "BAD_REQUEST",
      `The gateway answered ${response.status} without a GraphQL body.`,
    );
    outage(error);
    throw error;
  }
  if (body.data === undefined && !(body.errors && body.errors.length)) {
    // Refused before GraphQL ran, with REST's `detail` (an unknown ?instance= is a 404).
    const codes = { 401: "UNAUTHENTICATED", 403: "FORBIDDEN", 404: "NOT_FOUND" };
    const error = new ApiError(
      codes[response.status] || (response.status >= 500 ? "SERVICE_UNAVAILABLE" : "BAD_REQUEST"),
      body.detail || `The gateway answered ${response.status}.`,
    );
    outage(error);
    throw error;
  }
  if (body.errors && body.errors.length) {
    const error = errorOf(body.errors);
    outage(error);
    // Any other error that needed Redis (NOT_FOUND: the queue is gone after Redis came back
    // empty) is Redis answering: the banner goes, or it said "unreachable" for good.
    if (!quiet && !BEFORE_REDIS.has(error.code) && error.code !== "SERVICE_UNAVAILABLE") recovered();
    throw error;
  }
  if (!quiet) recovered();
  return body.data;
}

// What a person can do about each error code; shown instead of a blank page.
export function explain(error) {
  const hints = {
    UNAUTHENTICATED: "Sign in with a valid API key.",
    FORBIDDEN: "Your API key does not allow this. Ask an admin for a key with the role or queues it needs.",
    NOT_FOUND: "It may have been deleted or expired, or the link may be mistyped.",
    SERVICE_UNAVAILABLE: "Redis is not reachable from the gateway. The page retries by itself.",
    NETWORK: "The gateway is not answering. The page retries by itself.",
    BAD_REQUEST: "Check the values you entered.",
    CONFLICT: "The job is not in a state that allows this; reload its page to see its status.",
  };
  return hints[error.code] || "Try again; if it keeps failing, check the gateway's log.";
}
