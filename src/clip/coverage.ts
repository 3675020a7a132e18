/**
 * One camera's coverage: clips inferred / clips wanted over the last few ticks, where the clips
 * wanted are the sampled frames over the configured stride (what an unlimited host would infer).
 */
export class Coverage {
  private sampledNow = 0;
  private inferredNow = 0;
  private readonly ticks: { sampled: number; inferred: number }[] = [];

  constructor(private readonly options: { wantedStride: number; windowTicks: number }) {}

  sampled(): void {
    this.sampledNow += 1;
  }

  inferred(): void {
    this.inferredNow += 1;
  }

  /** Closes a tick; the ratio over the window, or undefined when no frame came in it. */
  tick(): number | undefined {
    this.ticks.push({ sampled: this.sampledNow, inferred: this.inferredNow });
    this.sampledNow = 0;
    this.inferredNow = 0;
    if (this.ticks.length > this.options.windowTicks) this.ticks.shift();
    const sampled = this.ticks.reduce((a, t) => a + t.sampled, 0);
    const inferred = this.ticks.reduce((a, t) => a + t.inferred, 0);
    if (sampled === 0) return undefined;
    // A clip in flight across a tick boundary can nudge it past 1: never more than all of them.
    return Math.min(1, inferred / (sampled / this.options.wantedStride));
  }
}

/** Says once when coverage falls below `threshold`, and once when it is back. */
export class CoverageAlarm {
  private low = false;

  constructor(private readonly threshold: number) {}

  update(ratio: number | undefined): 'low' | 'recovered' | undefined {
    if (ratio === undefined) return undefined;
    if (!this.low && ratio < this.threshold) {
      this.low = true;
      return 'low';
    }
    if (this.low && ratio >= this.threshold) {
      this.low = false;
      return 'recovered';
    }
    return undefined;
  }
}
