/** Exponential back-off: initialMs after the first failure, times factor after each, capped at maxMs. */
export interface Backoff {
  initialMs: number;
  maxMs: number;
  factor: number;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 1000, maxMs: 5 * 60_000, factor: 2 };

/** The wait after the `failures`-th failure in a row (1-based). */
export function backoffDelay(backoff: Backoff, failures: number): number {
  const delay = backoff.initialMs * backoff.factor ** Math.max(0, failures - 1);
  return Math.min(Number.isFinite(delay) ? delay : backoff.maxMs, backoff.maxMs);
}

export function checkBackoff(backoff: Backoff): Backoff {
  const { initialMs, maxMs, factor } = backoff;
  if (!(initialMs > 0) || !(maxMs >= initialMs) || !(factor >= 1)) {
    throw new RangeError(`back-off needs initialMs > 0, maxMs >= initialMs and factor >= 1 (got ${initialMs}, ${maxMs}, ${factor})`);
  }
  return backoff;
}
