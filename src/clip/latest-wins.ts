import { from, Observable, Subscription, type ObservableInput, type OperatorFunction } from 'rxjs';

/**
 * Hands each value to `work`, one at a time. A value arriving while work is busy waits; a newer one
 * replaces it (reported through `onReplaced`), so nothing queues without bound and the next stage
 * always gets the freshest clip. Completes after the last waiting value's work completes.
 */
export function latestWins<T, R>(
  work: (value: T) => ObservableInput<R>,
  onReplaced: (dropped: T) => void = () => undefined,
): OperatorFunction<T, R> {
  return (source) =>
    new Observable<R>((subscriber) => {
      let running: Subscription | undefined;
      let waiting: { value: T } | undefined;
      let sourceDone = false;

      const start = (value: T): void => {
        // Set before subscribing: work may complete synchronously and start the next one.
        const current = new Subscription();
        running = current;
        current.add(from(work(value)).subscribe({
          next: (r) => subscriber.next(r),
          error: (e: unknown) => subscriber.error(e),
          complete: () => {
            if (running === current) running = undefined;
            if (waiting) {
              const { value: nextValue } = waiting;
              waiting = undefined;
              start(nextValue);
            } else if (sourceDone) subscriber.complete();
          },
        }));
      };

      const upstream = source.subscribe({
        next(value) {
          if (!running) return start(value);
          if (waiting) onReplaced(waiting.value);
          waiting = { value };
        },
        error: (e: unknown) => subscriber.error(e),
        complete() {
          sourceDone = true;
          if (!running && !waiting) subscriber.complete();
        },
      });
      return () => {
        upstream.unsubscribe();
        running?.unsubscribe();
      };
    });
}
