// Views with no subscription behind them (workers, scheduling) re-read themselves on a timer:
// paused while the tab is hidden or a dialog is asking, and one timer at a time, however an
// action's re-read overlaps the timer's.

export function poll(intervalMs, load) {
  let timer = null;
  let stopped = false;

  function run() {
    clearTimeout(timer);
    if (stopped) return;
    if (document.hidden || document.querySelector("dialog[open]")) {
      timer = setTimeout(run, intervalMs);
      return;
    }
    Promise.resolve(load()).finally(() => {
      if (stopped) return;
      clearTimeout(timer);
      timer = setTimeout(run, intervalMs);
    });
  }

  run();
  return {
    now: run,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
