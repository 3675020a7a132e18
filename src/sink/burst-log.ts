// Logs a repeating failure once per burst: the first occurrence, then nothing until the failure
// has been quiet for `quietMs`. Metrics count every occurrence; the log says how many it skipped.
export class BurstLog {
  private readonly last = new Map<string, { at: number; skipped: number }>();

  constructor(
    private readonly emit: (message: string) => void,
    private readonly quietMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** `key` names the kind of failure; only the first message of each burst is logged. */
  report(key: string, message: string): void {
    const t = this.now();
    const prev = this.last.get(key);
    if (prev && t - prev.at < this.quietMs) {
      prev.at = t;
      prev.skipped++;
      return;
    }
    const skipped = prev && prev.skipped > 0 ? ` (${prev.skipped} more like it in the previous burst)` : '';
    this.last.set(key, { at: t, skipped: 0 });
    this.emit(`${message}${skipped}`);
  }

  /** Ends a burst early (the failure is over), so its next occurrence is logged at once. */
  clear(key: string): void {
    this.last.delete(key);
  }
}
