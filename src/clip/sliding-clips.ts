import { Observable, type OperatorFunction } from 'rxjs';
import type { Clip, DropReason, Frame } from '../types.js';
import { ClipWindow, type ClipWindowOptions } from './clip-window.js';

/**
 * Turns sampled frames into sliding-window clips; frames that cannot join a clip are reported.
 * `stride`, when given, is read at each frame: the stride can change while the stream runs.
 */
export function slidingClips(
  options: ClipWindowOptions,
  onDrop: (reason: DropReason) => void = () => undefined,
  stride?: () => number,
): OperatorFunction<Frame, Clip> {
  return (source) =>
    new Observable<Clip>((subscriber) => {
      const window = new ClipWindow(options);
      return source.subscribe({
        next(frame) {
          if (stride) window.stride = stride();
          const result = window.push(frame);
          if (result === undefined) return;
          if ('dropped' in result) onDrop(result.dropped);
          else subscriber.next(result);
        },
        error: (e: unknown) => subscriber.error(e),
        complete: () => subscriber.complete(),
      });
    });
}
