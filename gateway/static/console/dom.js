// Small DOM helpers: every view builds its elements with h(), so text is always set as text
// (never parsed as HTML) and nothing needs an inline script or style under the page's CSP.

export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2).toLowerCase(), value);
    else if (name === "dataset") Object.assign(element.dataset, value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

export function replace(target, ...children) {
  target.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
}

// What makes a focusable element "the same one" after a re-render builds it anew.
function focusKey(element) {
  return [element.tagName, element.id, element.getAttribute("href"), element.getAttribute("aria-label"), element.textContent].join("\u0000");
}

// `replace` for a region that re-renders itself (a poll, a live feed): the element that had the
// keyboard focus inside it has it again in the new content when it is still there, instead of
// the focus falling back to <body>, the top of the page, every few seconds. When it is gone (a
// job's Stop once the job stopped), the focus goes to `fallback`, if given: the line saying what
// was done (made focusable by script only).
export function refresh(target, children, fallback = null) {
  const focused = document.activeElement;
  const key = focused && focused !== document.body && target.contains(focused) ? focusKey(focused) : null;
  replace(target, children);
  if (key === null || target.contains(focused)) return;
  const again = [...target.querySelectorAll(focused.tagName)].find((element) => focusKey(element) === key);
  if (again) again.focus({ preventScroll: true });
  else if (fallback) {
    fallback.tabIndex = -1;
    fallback.focus({ preventScroll: true });
  }
}

// A link to another view: a plain <a href="#/...">, so it opens in a new tab and can be copied.
export function link(route, text, attrs = {}) {
  return h("a", { href: route, ...attrs }, text);
}

export function jobLink(id) {
  return link(`#/job/${encodeURIComponent(id)}`, id, { class: "mono" });
}

export function queueLink(name, state) {
  const route = `#/queue/${encodeURIComponent(name)}` + (state ? `?state=${state}` : "");
  return link(route, name);
}

// Timestamps come as ISO 8601 strings in UTC; show them as they are, shorter.
export function time(value) {
  if (!value) return "—";
  return h("time", { datetime: value, title: value }, String(value).replace("T", " ").replace(/\.\d+/, "").replace(/(\+00:00|Z)$/, " UTC"));
}

export function seconds(value) {
  if (value === null || value === undefined) return "—";
  if (value < 1) return `${Math.round(value * 1000)} ms`;
  if (value < 120) return `${value.toFixed(1)} s`;
  if (value < 7200) return `${Math.round(value / 60)} min`;
  return `${(value / 3600).toFixed(1)} h`;
}

export function json(value) {
  if (value === null || value === undefined) return h("span", { class: "muted" }, "null");
  return h("pre", { class: "json", tabindex: "0" }, JSON.stringify(value, null, 2));
}

export function lastLine(text) {
  if (!text) return "";
  const lines = text.trim().split("\n");
  return lines[lines.length - 1];
}

export function table(caption, headers, rows, attrs = {}) {
  return h(
    "table",
    attrs,
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, headers.map((text) => h("th", { scope: "col" }, text)))),
    h("tbody", {}, rows),
  );
}

// Query strings of the hash route: #/failed/default?func=x&after=... <-> {func: "x", ...}.
export function encodeQuery(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") search.set(key, value);
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}
