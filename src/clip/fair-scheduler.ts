/** What a stream hears back about the items it submitted. */
export interface StreamHandlers<T, R> {
  /** Results arrive in the order the items were submitted. */
  result(result: R, item: T): void;
  failed(error: unknown, item: T): void;
  /** A waiting item replaced by a newer one before it ran (latest wins). */
  replaced(item: T): void;
}

export interface FairSchedulerOptions {
  /**
   * Items in flight at once, all streams together (workers x batch x pipeline: batches can fill).
   * Each stream may have its share, slots / streams, in flight (at least one).
   */
  slots: number;
}

export interface StreamHandle<T> {
  submit(item: T): void;
  /** No more items: resolves once what waits and what runs has finished. Leaves the rotation. */
  end(): Promise<void>;
}

interface Entry<T, R> {
  item: T;
  outcome?: { ok: true; result: R } | { ok: false; error: unknown };
}

interface Stream<T, R> {
  id: string;
  handlers: StreamHandlers<T, R>;
  waiting: T | undefined;
  /** In flight, in submission order; results are handed over from the head. */
  running: Entry<T, R>[];
  ended: boolean;
  drained: () => void;
}

/**
 * Decides which stream's item runs next when the work (inference) is the bottleneck: each stream
 * holds at most one waiting item (a newer one replaces it), and free slots go round-robin over the
 * streams that wait, so a busy stream cannot starve a quiet one. Keyed by a stream id (a camera,
 * later a camera's region).
 */
export class FairScheduler<T, R> {
  private readonly streams: Stream<T, R>[] = [];
  private cursor = 0;
  private inFlight = 0;

  constructor(
    private readonly run: (item: T) => Promise<R>,
    private readonly options: FairSchedulerOptions,
  ) {}

  add(id: string, handlers: StreamHandlers<T, R>): StreamHandle<T> {
    const stream: Stream<T, R> = { id, handlers, waiting: undefined, running: [], ended: false, drained: () => undefined };
    this.streams.push(stream);
    const done = new Promise<void>((resolve) => (stream.drained = resolve));
    return {
      submit: (item) => {
        if (stream.ended) return;
        if (stream.waiting !== undefined) stream.handlers.replaced(stream.waiting);
        stream.waiting = item;
        this.pump();
      },
      end: () => {
        stream.ended = true;
        this.settleIfDone(stream);
        return done;
      },
    };
  }

  /** Items in flight for the stream `id` (for tests and health). */
  running(id: string): number {
    return this.streams.find((s) => s.id === id)?.running.length ?? 0;
  }

  private perStream(): number {
    return Math.max(1, Math.floor(this.options.slots / Math.max(1, this.streams.length)));
  }

  private pump(): void {
    while (this.inFlight < this.options.slots) {
      const n = this.streams.length;
      const cap = this.perStream();
      let picked: Stream<T, R> | undefined;
      for (let k = 0; k < n; k++) {
        const s = this.streams[(this.cursor + k) % n]!;
        if (s.waiting !== undefined && s.running.length < cap) {
          picked = s;
          this.cursor = (this.cursor + k + 1) % n;
          break;
        }
      }
      if (!picked) return;
      this.start(picked);
    }
  }

  private start(stream: Stream<T, R>): void {
    const entry: Entry<T, R> = { item: stream.waiting as T };
    stream.waiting = undefined;
    stream.running.push(entry);
    this.inFlight += 1;
    let work: Promise<R>;
    try {
      work = this.run(entry.item);
    } catch (e) {
      work = Promise.reject(e);
    }
    work.then(
      (result) => (entry.outcome = { ok: true, result }),
      (error: unknown) => (entry.outcome = { ok: false, error }),
    ).finally(() => {
      this.inFlight -= 1;
      this.deliver(stream);
      this.pump();
    });
  }

  private deliver(stream: Stream<T, R>): void {
    while (stream.running[0]?.outcome) {
      const { item, outcome } = stream.running.shift()!;
      if (outcome!.ok) stream.handlers.result(outcome!.result, item);
      else stream.handlers.failed(outcome!.error, item);
    }
    this.settleIfDone(stream);
  }

  private settleIfDone(stream: Stream<T, R>): void {
    if (!stream.ended || stream.waiting !== undefined || stream.running.length > 0) return;
    const i = this.streams.indexOf(stream);
    if (i < 0) return;
    this.streams.splice(i, 1);
    if (this.cursor > i) this.cursor -= 1;
    if (this.streams.length > 0) this.cursor %= this.streams.length;
    else this.cursor = 0;
    stream.drained();
  }
}
