// Several Redis instances (README "Several Redis instances"): which one the console acts on.
// The choice is the hash URL's `instance` parameter (#/failed/default?instance=billing), so a
// link or a reload keeps it. Every request (api.js) and the live socket (live.js) carry it as
// ./graphql?instance=NAME, so each view, its live feeds and its actions follow it without knowing.
// Links inside the console name no instance: the one chosen stays until the switcher changes it,
// and is written into each URL visited (the default's too), so Back returns to the instance it
// showed. With one instance (or a gateway without `instances`) there is no switcher and no
// parameter.

import { gql, useInstance } from "./api.js";
import { h, replace } from "./dom.js";

let known = []; // [{name, healthy, reason}], the default first, as the gateway lists them
let chosen = null; // the instance shown; null until the list is known, then the default's name
const switcher = h("div", { class: "instance-switcher", hidden: true });

// The instances this key may access, with their health now. Quiet: the list answers even while
// the instance shown is down, which must not clear the outage banner.
export async function refreshInstances() {
  try {
    known = (await gql("query Instances { instances { name healthy reason } }", {}, { quiet: true })).instances;
  } catch {
    known = []; // an older gateway, or a key it refuses: act on the default, show no switcher
  }
  draw();
  return known;
}

// Health changed (an outage, or an answer after one): shown in the switcher when there is one.
export function refreshHealth() {
  if (known.length > 1) refreshInstances();
}

export function switcherElement() {
  draw();
  return switcher;
}

function isDefault(name) {
  return !known.length || name === known[0].name;
}

// The instance of this route: its own parameter, else the one chosen before (a console link),
// else the default. Sets it for every request and returns {name, changed, unknown}. A route
// that names none gets it added to its URL when there are several (replaced, not pushed, so
// Back does not stop at the bare link).
export function routeInstance(route) {
  const named = route.params.instance;
  delete route.params.instance; // the views' own parameters only
  const name = named || chosen || (known[0] && known[0].name) || null;
  chosen = name;
  if (!named && name && known.length > 1) history.replaceState(null, "", withInstance(location.hash, name));
  const unknown = Boolean(name && known.length && !known.some((each) => each.name === name));
  const changed = useInstance(name && !unknown && !isDefault(name) ? name : null);
  draw();
  return { name, changed, unknown };
}

function withInstance(hash, name) {
  const [path, search = ""] = hash.replace(/^#/, "").split("?");
  const params = new URLSearchParams(search);
  if (name && known.length > 1) params.set("instance", name);
  else params.delete("instance");
  const query = params.toString();
  return `#${path || "/"}${query ? `?${query}` : ""}`;
}

function choose(name) {
  chosen = name;
  location.hash = withInstance(location.hash, name);
}

function label(each) {
  return each.healthy ? each.name : `${each.name} (unavailable)`;
}

function draw() {
  if (known.length < 2) {
    switcher.hidden = true;
    replace(switcher);
    return;
  }
  const select = h(
    "select",
    { id: "instance", name: "instance", onchange: (event) => choose(event.target.value) },
    known.map((each) => h("option", { value: each.name, selected: each.name === chosen, title: each.reason || null }, label(each))),
  );
  switcher.hidden = false;
  replace(switcher, h("label", { for: "instance" }, "Redis instance"), select);
}
