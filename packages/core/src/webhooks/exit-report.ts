/*
 * Events still held when the process exits are reported, not lost in silence: a script that
 * emits and ends (a backfill, an import) without `flush()` or `close()` would otherwise exit with
 * events queued and say nothing.
 *
 * One `process.on('exit')` listener serves every emitter, added while at least one holds events
 * and removed when none does: one per emitter would print MaxListenersExceededWarning past ten
 * emitters. The 'exit' event runs synchronously with the loop already stopped, so the hook can
 * neither keep the process alive nor start any work; reports are written synchronously.
 */

const reports = new Set<() => void>();

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

/**
 * Runs `report` (synchronous) if the process exits while it is registered. Returns the function
 * that unregisters it; calling that twice is harmless.
 */
export function reportAtExit(report: () => void): () => void {
  if (reports.size === 0) process.on('exit', onExit);
  reports.add(report);
  return () => {
    if (reports.delete(report) && reports.size === 0) process.off('exit', onExit);
  };
}
