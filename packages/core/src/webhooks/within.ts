/** What `within` resolves with when the work has not settled in time. */
export const LATE: unique symbol = Symbol('late');

/** The longest delay a Node timer holds (about 24.8 days); a longer one fires after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * `work`'s value, or `LATE` when it has not settled `ms` milliseconds after the call; a rejection
 * passes through. `ms` may be anything from 0 to `Infinity` (wait as long as it takes): a budget
 * longer than a timer holds is waited in steps of at most `MAX_TIMER_MS`. The timer is cleared as
 * soon as `work` settles; until then it keeps the process alive, which is what a caller awaiting
 * a flush or a close needs (retry timers do not).
 */
export function within<T>(work: Promise<T>, ms: number): Promise<T | typeof LATE> {
  let timer: NodeJS.Timeout | undefined;
  const end = Date.now() + Math.max(0, ms);
  const late = new Promise<typeof LATE>((resolve) => {
    const wait = (left: number) => {
      timer = setTimeout(
        () => {
          const rest = end - Date.now();
          if (rest > 0) wait(rest);
          else resolve(LATE);
        },
        Math.min(left, MAX_TIMER_MS),
      );
    };
    wait(Math.max(0, ms));
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/**
 * `ms` checked as a wait a caller gives (`flush`, `close`, `stats`): a number of ms, 0 or more, or
 * `Infinity` for as long as it takes. Throws a TypeError naming `what` otherwise (`NaN`, text, a
 * negative number), which would otherwise end the wait at once.
 */
export function waitMs(what: string, ms: unknown): number {
  if (typeof ms === 'number' && ms >= 0) return ms;
  throw new TypeError(
    `${what}: the timeout must be a number of ms, 0 or more, or Infinity to wait as long as it takes (got ${typeof ms === 'number' ? ms : typeof ms})`,
  );
}
