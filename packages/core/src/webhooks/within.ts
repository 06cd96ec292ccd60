/** What `within` resolves with when the work has not settled in time. */
export const LATE: unique symbol = Symbol('late');

/**
 * `work`'s value, or `LATE` when it has not settled `ms` milliseconds after the call; a rejection
 * passes through. The timer is cleared as soon as `work` settles; until then it keeps the process
 * alive, which is what a caller awaiting a flush or a close needs (retry timers do not).
 */
export function within<T>(work: Promise<T>, ms: number): Promise<T | typeof LATE> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<typeof LATE>((resolve) => {
    timer = setTimeout(resolve, ms, LATE);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}
