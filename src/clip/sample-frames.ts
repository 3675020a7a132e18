import { filter, type MonoTypeOperatorFunction } from 'rxjs';
import type { Frame } from '../types.js';

/**
 * Keeps one frame per `intervalMs` slot of capture time, counted from the first frame. Sampling by
 * time rather than by count keeps a clip's duration the same whatever the camera's fps; slots
 * (not "interval since the last kept frame") keep jitter from drifting the rate down. The source
 * pipeline already delivers about one frame per interval, each up to a source frame late (the
 * rate limiter's pick) plus scheduling delay, so a slot starts a quarter interval early: a frame
 * may arrive up to three quarters of an interval late and still be its slot's.
 */
export function sampleFrames(intervalMs: number): MonoTypeOperatorFunction<Frame> {
  return (source) => {
    let origin: number | undefined;
    let lastSlot = -1;
    return source.pipe(
      filter((frame) => {
        if (origin === undefined || frame.capturedAt < origin) {
          // First frame, or the clock went backwards (a new source): start counting afresh.
          origin = frame.capturedAt;
          lastSlot = -1;
        }
        const slot = Math.floor((frame.capturedAt - origin) / intervalMs + 0.25);
        if (slot <= lastSlot) return false;
        lastSlot = slot;
        return true;
      }),
    );
  };
}
