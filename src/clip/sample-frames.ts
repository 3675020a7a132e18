import { filter, type MonoTypeOperatorFunction } from 'rxjs';
import type { Frame } from '../types.js';

/**
 * Keeps one frame per `intervalMs` slot of capture time, counted from the first frame. Sampling by
 * time rather than by count keeps a clip's duration the same whatever the camera's fps; slots
 * (not "interval since the last kept frame") keep jitter from drifting the rate down.
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
        const slot = Math.floor((frame.capturedAt - origin) / intervalMs);
        if (slot <= lastSlot) return false;
        lastSlot = slot;
        return true;
      }),
    );
  };
}
