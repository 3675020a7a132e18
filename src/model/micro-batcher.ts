export interface MicroBatcherOptions {
  maxBatch: number;
  maxWaitMs: number;
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (timer: unknown) => void;
}

/**
 * Groups items from several cameras into batches: a batch leaves when it is full or its oldest
 * item has waited maxWaitMs, and only when `dispatch` accepts it (a worker is free); call
 * `pump()` when one frees. Callers bound what waits (one clip per camera, latest wins).
 */
export class MicroBatcher<T> {
  private pending: { item: T; at: number }[] = [];
  private timer: unknown;
  private readonly now: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (timer: unknown) => void;

  constructor(
    private readonly options: MicroBatcherOptions,
    private readonly dispatch: (items: T[]) => boolean,
  ) {
    this.now = options.now ?? (() => performance.now());
    this.setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = options.clearTimer ?? ((t) => clearTimeout(t as NodeJS.Timeout));
  }

  get waiting(): number {
    return this.pending.length;
  }

  add(item: T): void {
    this.pending.push({ item, at: this.now() });
    this.pump();
  }

  pump(): void {
    if (this.timer !== undefined) {
      this.clearTimer(this.timer);
      this.timer = undefined;
    }
    while (this.pending.length > 0) {
      const waited = this.now() - this.pending[0]!.at;
      if (this.pending.length < this.options.maxBatch && waited < this.options.maxWaitMs) {
        this.timer = this.setTimer(() => {
          this.timer = undefined;
          this.pump();
        }, this.options.maxWaitMs - waited);
        return;
      }
      const batch = this.pending.slice(0, this.options.maxBatch);
      if (!this.dispatch(batch.map((p) => p.item))) return;
      this.pending.splice(0, batch.length);
    }
  }

  /** Removes and returns everything still waiting (shutdown). */
  drain(): T[] {
    if (this.timer !== undefined) this.clearTimer(this.timer);
    this.timer = undefined;
    return this.pending.splice(0).map((p) => p.item);
  }
}
