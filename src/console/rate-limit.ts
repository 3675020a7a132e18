// A token bucket per key (a client address): `perMinute` tokens refilled evenly, as many in a
// burst. Time comes in as an argument, so the logic is tested without clocks.

export class RateLimit {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly perMinute: number,
    /** Keys remembered at most; the longest idle are forgotten (a forgotten key starts full). */
    private readonly maxKeys = 4096,
  ) {}

  /** Takes one token for `key` at `now` (ms); false when none is left. */
  take(key: string, now: number): boolean {
    const b = this.buckets.get(key) ?? { tokens: this.perMinute, at: now };
    const tokens = Math.min(this.perMinute, b.tokens + ((now - b.at) * this.perMinute) / 60_000);
    const ok = tokens >= 1;
    this.buckets.delete(key);
    this.buckets.set(key, { tokens: ok ? tokens - 1 : tokens, at: now });
    if (this.buckets.size > this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
    return ok;
  }
}
