// The last N inference times, for the console's p50 / p99 (exact over the window, not a histogram
// estimate).

export class LatencyWindow {
  private readonly values: number[] = [];
  private next = 0;

  constructor(private readonly size = 512) {}

  get count(): number {
    return this.values.length;
  }

  add(seconds: number): void {
    if (this.values.length < this.size) this.values.push(seconds);
    else this.values[this.next] = seconds;
    this.next = (this.next + 1) % this.size;
  }

  /** Nearest-rank quantile (0..1) of the window, or null when empty. */
  quantile(q: number): number | null {
    if (this.values.length === 0) return null;
    const sorted = [...this.values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
  }
}
