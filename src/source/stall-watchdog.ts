// "No frame for N ms": rtspsrc alone notices a frozen server only after ~26 s.
import { Observable, timer, type SchedulerLike, type Subscription } from 'rxjs';
import { MstaError } from '../errors.js';

/**
 * Mirrors the source, erroring with SOURCE_STALLED when no value that `isFrame` accepts arrives
 * within `timeoutMs` of subscribing or of the previous one. Unsubscribes from the source (which
 * stops its child) when it fires.
 */
export function stallWatchdog<T>(timeoutMs: number, isFrame: (value: T) => boolean, scheduler?: SchedulerLike) {
  return (source: Observable<T>): Observable<T> =>
    new Observable<T>((subscriber) => {
      let armed: Subscription | undefined;
      let sawFrame = false;
      const arm = () => {
        armed?.unsubscribe();
        armed = timer(timeoutMs, scheduler).subscribe(() => {
          const what = sawFrame ? 'no frame' : 'no first frame';
          subscriber.error(new MstaError('SOURCE_STALLED', `${what} for ${timeoutMs / 1000} s`));
        });
      };
      arm();
      const inner = source.subscribe({
        next: (v) => {
          if (isFrame(v)) {
            sawFrame = true;
            arm();
          }
          subscriber.next(v);
        },
        error: (e) => subscriber.error(e),
        complete: () => subscriber.complete(),
      });
      return () => {
        armed?.unsubscribe();
        inner.unsubscribe();
      };
    });
}
