// Reconnect delays: exponential backoff with jitter, so that cameras behind one failed switch do
// not all reconnect in the same instant.
export type Jitter = 'none' | 'full' | 'decorrelated';

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** Growth per failed attempt (exponential modes). */
  factor: number;
  /**
   * `full`: uniform in [0, min(max, initial * factor^attempt)) (AWS "full jitter").
   * `decorrelated`: uniform in [initial, min(max, 3 * previous)) (AWS "decorrelated jitter").
   * `none`: min(max, initial * factor^attempt).
   */
  jitter: Jitter;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 30_000, factor: 2, jitter: 'full' };

/**
 * The delay before reconnect attempt `attempt` (0 = the first after a failure). `previousMs` is
 * the delay used before (decorrelated jitter grows from it). `random` returns [0, 1).
 */
export function backoffDelay(attempt: number, previousMs: number | undefined, o: BackoffOptions, random: () => number): number {
  const exponential = Math.min(o.maxMs, o.initialMs * Math.pow(o.factor, attempt));
  switch (o.jitter) {
    case 'none':
      return exponential;
    case 'full':
      return Math.floor(random() * exponential);
    case 'decorrelated': {
      const upper = Math.min(o.maxMs, Math.max(o.initialMs, 3 * (previousMs ?? o.initialMs)));
      return Math.floor(Math.min(o.maxMs, o.initialMs + random() * (upper - o.initialMs)));
    }
  }
}
