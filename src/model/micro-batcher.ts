export interface MicroBatcherOptions {
  maxBatch: number;
  maxWaitMs: number;
  /**
   * Whether a consumer is idle now (a worker with nothing to run): then what waits leaves at the
   * end of this turn of the event loop (what arrives together still leaves together) instead of
   * waiting for a fuller batch, which would only add latency. Batches still fill while every
   * consumer is busy, which is when batching pays.
   */
  consumerIdle?: () => boolean;
  now?: () => number;
  /** Runs `fn` after `ms` (0: at the end of this turn of the event loop); returns its cancel. */
  setTimer?: (fn: () => void, ms: number) => () => void;
}

function defaultTimer(fn: () => void, ms: number): () => void {
  if (ms > 0) {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  }
  const i = setImmediate(fn);
  return () => clearImmediate(i);
}

/**
 * Groups items from several cameras into batches: a batch leaves when it is full, its oldest
 * item has waited maxWaitMs, or a consumer is idle, and only when `dispatch` accepts it (a worker
 * is free, or has room in its queue); call `pump()` when one frees. Callers bound what waits (one
 * clip per camera, latest wins).
 */
export class MicroBatcher<T> {
  private pending: { item: T; at: number }[] = [];
  /** The timer set, and what it is for: the end of this turn, or the oldest item's deadline. */
  private timer: { due: number | 'turn'; cancel: () => void } | undefined;
  private readonly now: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => () => void;

  constructor(
    private readonly options: MicroBatcherOptions,
    private readonly dispatch: (items: T[]) => boolean,
  ) {
    this.now = options.now ?? (() => performance.now());
    this.setTimer = options.setTimer ?? defaultTimer;
  }

  get waiting(): number {
    return this.pending.length;
  }

  add(item: T): void {
    this.pending.push({ item, at: this.now() });
    this.pump();
  }

  pump(): void {
    this.run(false);
  }

  /** `endOfTurn`: this turn's arrivals are in, so a batch for an idle consumer leaves now. */
  private run(endOfTurn: boolean): void {
    while (this.pending.length > 0) {
      const waited = this.now() - this.pending[0]!.at;
      const idle = this.options.consumerIdle?.() ?? false;
      if (this.pending.length < this.options.maxBatch && waited < this.options.maxWaitMs && !(idle && endOfTurn)) {
        // A timer already set for the same moment stays: adding a clip to a batch that is not
        // full does not move the oldest one's deadline (a timer per clip cost the main thread).
        const due = idle ? 'turn' : this.pending[0]!.at + this.options.maxWaitMs;
        if (this.timer?.due === due) return;
        this.stopTimer();
        this.timer = {
          due,
          cancel: this.setTimer(() => {
            this.timer = undefined;
            this.run(due === 'turn');
          }, idle ? 0 : this.options.maxWaitMs - waited),
        };
        return;
      }
      this.stopTimer();
      const batch = this.pending.slice(0, this.options.maxBatch);
      if (!this.dispatch(batch.map((p) => p.item))) return;
      this.pending.splice(0, batch.length);
    }
    this.stopTimer();
  }

  /** Removes and returns everything still waiting (shutdown). */
  drain(): T[] {
    this.stopTimer();
    return this.pending.splice(0).map((p) => p.item);
  }

  private stopTimer(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }
}
