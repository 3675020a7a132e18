/**
 * Logs a run of failures once: the first failure of a burst is reported, the rest only counted,
 * and the next success ends the burst with its size. The metrics count every failure.
 */
export class FailureBurst {
  private count = 0;

  /** True for the first failure of a burst: the one to log. */
  failed(): boolean {
    this.count += 1;
    return this.count === 1;
  }

  /** The size of the burst a success ends, or 0 when there was none. */
  succeeded(): number {
    const n = this.count;
    this.count = 0;
    return n;
  }

  get failures(): number {
    return this.count;
  }
}
