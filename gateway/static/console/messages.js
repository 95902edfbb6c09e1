// Errors as messages a person can act on, in place of the view that failed.

import { explain, health } from "./api.js";
import { h, replace } from "./dom.js";

export function showError(target, error) {
  replace(
    target,
    h(
      "div",
      { class: "message error", role: "alert" },
      h("strong", {}, error.code ? `${error.code}: ` : "", error.message),
      h("p", {}, explain(error)),
    ),
  );
  if (error.code === "UNAUTHENTICATED") health.dispatchEvent(new Event("unauthenticated"));
}

// A short-lived notice of what an action did ("Requeued 3 jobs").
export function notice(target, text, kind = "ok") {
  const element = h("p", { class: `notice ${kind}`, role: kind === "ok" ? "status" : "alert" }, text);
  target.replaceChildren(element);
}
