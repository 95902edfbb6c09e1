// Views with no subscription behind them (workers, scheduling) re-read themselves on a timer:
// paused while the tab is hidden or a dialog is asking, and one timer at a time, however an
// action's re-read overlaps the timer's. Only the newest read is shown: a timer's read that
// answers after an action's own re-read (Redis slow) would put back the state from before it.

export function poll(intervalMs, fetch, show, fail) {
  let timer = null;
  let stopped = false;
  let latest = 0;

  function run() {
    clearTimeout(timer);
    if (stopped) return;
    if (document.hidden || document.querySelector("dialog[open]")) {
      timer = setTimeout(run, intervalMs);
      return;
    }
    const mine = ++latest;
    const current = () => !stopped && mine === latest;
    Promise.resolve()
      .then(fetch)
      .then(
        (data) => current() && show(data),
        (error) => current() && fail(error),
      )
      .finally(() => {
        if (!current()) return; // the newer read sets the timer
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
