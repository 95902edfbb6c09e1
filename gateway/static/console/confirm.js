// The confirmation of a destructive action. For a bulk delete the person must type the number of
// jobs it will delete (from the dry run), so live updates or a quick double click cannot carry
// them through it (sidekiq #5184).

import { h } from "./dom.js";

// Resolves to true when confirmed. `count`: when given, the Delete button stays disabled until
// exactly this number is typed. `extra`: elements shown above the buttons (an option the caller
// reads once this resolves, such as a checkbox).
export function confirmAction({ title, text, action, count = null, extra = null }) {
  return new Promise((resolve) => {
    const input =
      count === null
        ? null
        : h("input", { id: "confirm-count", inputmode: "numeric", autocomplete: "off", "aria-describedby": "confirm-text" });
    const go = h("button", { type: "submit", class: "danger", disabled: count !== null }, action);
    const cancel = h("button", { type: "button", value: "cancel" }, "Cancel");
    const dialog = h(
      "dialog",
      { "aria-labelledby": "confirm-title" },
      h(
        "form",
        { method: "dialog" },
        h("h2", { id: "confirm-title" }, title),
        h("p", { id: "confirm-text" }, text),
        input ? [h("label", { for: "confirm-count" }, `Type ${count} to confirm`), input] : null,
        extra,
        h("div", { class: "buttons" }, cancel, go),
      ),
    );
    let confirmed = false;
    if (input) input.addEventListener("input", () => (go.disabled = input.value.trim() !== String(count)));
    go.addEventListener("click", (event) => {
      if (input && input.value.trim() !== String(count)) {
        event.preventDefault();
        return;
      }
      confirmed = true;
    });
    cancel.addEventListener("click", () => dialog.close());
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(confirmed);
    });
    document.body.append(dialog);
    dialog.showModal();
    (input || cancel).focus();
  });
}
