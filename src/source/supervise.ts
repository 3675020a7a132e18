// One camera's connection lifecycle: connect, watch for stalls, reconnect with backoff, and say
// what state the camera is in. Pure over `connect` and the scheduler (tested with TestScheduler).
import {
  asyncScheduler, concat, defer, EMPTY, ignoreElements, mergeMap, Observable, of, repeat, throwError, timer,
  catchError, type SchedulerLike,
} from 'rxjs';
import { isMstaError, MstaError } from '../errors.js';
import type { CameraState, CameraStatus, DropReason, Frame, Snapshot } from '../types.js';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import type { ChildEvent } from './child-process.js';
import { stallWatchdog } from './stall-watchdog.js';

export type SourceEvent =
  | { type: 'frame'; frame: Frame }
  | { type: 'snapshot'; snapshot: Snapshot }
  | { type: 'status'; status: CameraStatus }
  | { type: 'dropped'; count: number; reason: DropReason }
  | { type: 'child'; pid: number }
  | { type: 'pipeline'; description: string }
  | { type: 'retry'; delayMs: number; error: MstaError };

export interface SuperviseOptions {
  camera: string;
  /** Each frame stream's region (null: the whole camera), by the child's stream index; default [null]. */
  regions?: ReadonlyArray<string | null>;
  width: number;
  height: number;
  stallTimeoutMs: number;
  backoff: BackoffOptions;
  /** Live sources: the stream ending is a failure to reconnect from. Files: it is the end. */
  endIsFailure: boolean;
  /**
   * Which failures lead to a reconnect (SOURCE_UNSUPPORTED never does). 'all': live sources.
   * 'stalls': files, where no frame in time is the host's load (a slow start) and worth another
   * try, but any other failure is the file's own and final. 'none': offline decoding, where a
   * new connection would start the file again and repeat what was already read.
   */
  retry: 'all' | 'stalls' | 'none';
}

function asMstaError(e: unknown): MstaError {
  return isMstaError(e) ? e : new MstaError('SOURCE_FAILED', String((e as Error)?.message ?? e), { cause: e });
}

/**
 * Runs `connect()` (one child per call) again and again: emits frames renumbered per stream
 * across connections (a gap = frames dropped), drops, and a status at every change of state. Completes
 * when a file ends; errors on a failure that is not retried, after an `offline` status.
 */
export function supervise(
  connect: () => Observable<ChildEvent>,
  o: SuperviseOptions,
  scheduler: SchedulerLike = asyncScheduler,
  random: () => number = Math.random,
): Observable<SourceEvent> {
  return defer(() => {
    let attempts = 0;
    let failures = 0; // consecutive connections that ended without a frame
    let previousDelay: number | undefined;
    const regions = o.regions ?? [null];
    /** Per stream: the next frame's seq. */
    const nextSeq = regions.map(() => 0);
    let ended = false;

    const status = (state: CameraState, reason?: string): SourceEvent => ({
      type: 'status',
      status: { camera: o.camera, state, since: scheduler.now(), reconnects: Math.max(0, attempts - 1), ...(reason ? { reason } : {}) },
    });

    const connection = defer(() => {
      attempts++;
      const seqBase = [...nextSeq];
      const lastChildSeq = regions.map(() => -1);
      let streaming = false;

      const events = connect().pipe(
        stallWatchdog<ChildEvent>(o.stallTimeoutMs, (e) => e.type === 'frame', scheduler),
        mergeMap((e): Observable<SourceEvent> => {
          if (e.type === 'spawned') return of({ type: 'child', pid: e.pid });
          if (e.type === 'started') return of({ type: 'pipeline', description: e.pipeline });
          if (e.type === 'jpeg') return of({ type: 'snapshot', snapshot: { camera: o.camera, capturedAt: e.capturedAt, width: e.width, height: e.height, jpeg: e.data } });
          const out: SourceEvent[] = [];
          if (!streaming) {
            streaming = true;
            failures = 0;
            previousDelay = undefined;
            out.push(status('streaming'));
          }
          const region = regions[e.stream];
          if (region === undefined) throw new MstaError('SOURCE_FAILED', `corrupt frame stream from the source child: stream ${e.stream} of ${regions.length}`);
          const gap = e.seq - lastChildSeq[e.stream]! - 1;
          if (gap > 0) out.push({ type: 'dropped', count: gap, reason: 'overflow' });
          lastChildSeq[e.stream] = e.seq;
          const seq = seqBase[e.stream]! + e.seq;
          nextSeq[e.stream] = seq + 1;
          if (e.width !== o.width || e.height !== o.height) {
            out.push({ type: 'dropped', count: 1, reason: 'size_mismatch' });
          } else {
            out.push({ type: 'frame', frame: { camera: o.camera, region, seq, capturedAt: e.capturedAt, width: e.width, height: e.height, data: e.data } });
          }
          return of(...out);
        }),
      );

      const end = defer(() => {
        if (o.endIsFailure) return throwError(() => new MstaError('SOURCE_FAILED', 'the stream ended'));
        ended = true;
        return of(status('offline', 'end of stream'));
      });

      return concat(of(status('connecting')), events, end).pipe(
        catchError((e: unknown) => {
          const error = asMstaError(e);
          const state: CameraState = error.code === 'SOURCE_STALLED' && streaming ? 'stalled' : 'offline';
          const retried = o.retry === 'all' || (o.retry === 'stalls' && error.code === 'SOURCE_STALLED');
          if (!retried || error.code === 'SOURCE_UNSUPPORTED') {
            ended = true;
            return concat(of(status('offline', error.message)), throwError(() => error));
          }
          const delayMs = backoffDelay(failures++, previousDelay, o.backoff, random);
          previousDelay = delayMs;
          return concat(of(status(state, error.message), { type: 'retry', delayMs, error } as SourceEvent), timer(delayMs, scheduler).pipe(ignoreElements()));
        }),
      );
    });

    return connection.pipe(repeat({ delay: () => (ended ? EMPTY : of(true)) }));
  });
}
