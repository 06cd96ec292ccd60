/*
 * Events still held when the process exits are reported, not lost in silence: a script that
 * emits and ends (a backfill, an import) without `flush()` or `close()` would otherwise exit with
 * events queued and say nothing.
 *
 * One `process.on('exit')` listener serves every emitter, added while at least one holds events
 * and removed when none does: one per emitter would print MaxListenersExceededWarning past ten
 * emitters. The 'exit' event runs synchronously with the loop already stopped, so the hook can
 * neither keep the process alive nor start any work; reports are written synchronously.
 *
 * SIGINT and SIGTERM end a process without its 'exit' event. While events are held, and only for
 * a signal nothing else in the process listens to, a listener reports them and then raises the
 * signal again with the listener gone, so the process ends exactly as it would have (killed by
 * that signal). A process with its own handler for the signal keeps full control of it: that
 * handler should await `close()`, which reports what it could not deliver.
 */

const reports = new Set<() => void>();
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
/** The signals whose listener is ours (none was there when the first report was registered). */
const owned = new Set<NodeJS.Signals>();

function onExit() {
  for (const report of reports) {
    try {
      report();
    } catch {
      // A failing report must not hide the others, nor turn the exit into a crash.
    }
  }
  reports.clear();
}

function onSignal(signal: NodeJS.Signals) {
  // A listener added since ours owns the signal: its handler decides what happens.
  if (process.listeners(signal).some((listener) => listener !== onSignal)) return;
  onExit();
  detach();
  // The default action, as if no listener had been there: the process ends by this signal.
  process.kill(process.pid, signal);
}

function attach() {
  process.on('exit', onExit);
  for (const signal of SIGNALS) {
    if (process.listenerCount(signal) > 0) continue;
    process.on(signal, onSignal);
    owned.add(signal);
  }
}

function detach() {
  process.off('exit', onExit);
  for (const signal of owned) process.off(signal, onSignal);
  owned.clear();
}

/**
 * Runs `report` (synchronous) if the process exits, or is ended by SIGINT or SIGTERM that nothing
 * else listens to, while it is registered. Returns the function that unregisters it; calling that
 * twice is harmless.
 */
export function reportAtExit(report: () => void): () => void {
  if (reports.size === 0) attach();
  reports.add(report);
  return () => {
    if (reports.delete(report) && reports.size === 0) detach();
  };
}
