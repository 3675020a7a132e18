// One camera's per-clip scores -> action events (domain events, epoch-ms times; the sink makes
// the MQTT API v1 payloads): EMA smoothing, then
// hysteresis (one active action per camera, see hysteresis.ts), then start / update / end.
//
// - `id` is one UUID per occurrence of an action, shared by its start, updates and end, so a
//   consumer can pair them.
// - `score` is the label's smoothed score on the event's clip; `topScore` the highest smoothed
//   score the occurrence has reached so far; `top` the best `topK` smoothed scores of that clip
//   (the background label included: its score is the evidence for "none of these").
// - `startedAt` is the first frame of the first clip of the run that started it; `endedAt` the
//   last frame of the last clip on which it was still active (null until the end).
// - An update is sent every `updateEveryClips` clips while the action lasts (0 = never), and at
//   once when the score has risen by `updateRise` or more since the last event of the occurrence.
// - When the stream completes (camera stopped) or fails, an active action ends first.
import { Observable, type OperatorFunction } from 'rxjs';
import { randomUUID } from 'node:crypto';
import type { ActionEvent, ActionEventType } from '../types.js';
import { emaScores } from './ema.js';
import { INITIAL_HYSTERESIS, endThreshold, stepHysteresis, type HysteresisOptions } from './hysteresis.js';
import type { ClipScores } from './score-clips.js';
import { topK } from './top-k.js';

export interface ActionEventOptions {
  /** In score order; a threshold overrides `start` for its label. */
  labels: readonly { name: string; threshold?: number }[];
  /** Name of the "none of these" label, if any. */
  background?: string;
  /** EMA weight of the newest clip, (0, 1]; 1 = no smoothing. */
  smoothing: number;
  start: number;
  end: number;
  minClips: number;
  /** Top scores below this are "none of these". */
  minScore: number;
  topK: number;
  updateEveryClips: number;
  updateRise: number;
  model: { name: string; sha256: string };
  /** Occurrence ids; random UUIDs unless given (tests). */
  newId?: () => string;
}

interface Occurrence {
  label: number;
  id: string;
  startedAt: number;
  /** The last clip on which the action was still active. */
  lastActive: ClipScores['clip'];
  topScore: number;
  lastSentScore: number;
  clipsSinceSent: number;
}

export function actionEvents(o: ActionEventOptions): OperatorFunction<ClipScores, ActionEvent> {
  const names = o.labels.map((l) => l.name);
  const background = o.background === undefined ? -1 : names.indexOf(o.background);
  if (o.background !== undefined && background < 0) throw new RangeError(`background label ${JSON.stringify(o.background)} is not in the label set`);
  const hysteresis: HysteresisOptions = {
    start: o.start,
    end: o.end,
    minClips: o.minClips,
    minScore: o.minScore,
    thresholds: o.labels.map((l) => l.threshold),
    ...(background >= 0 ? { background } : {}),
  };
  const newId = o.newId ?? randomUUID;

  return (source) =>
    new Observable<ActionEvent>((subscriber) => {
      let smoothed: Float64Array | null = null;
      let state = INITIAL_HYSTERESIS;
      let current: Occurrence | null = null;
      /** The newest clip: its times, and its inference for the event's latency metrics. */
      let last: ClipScores | null = null;

      const event = (type: ActionEventType, occ: Occurrence, { clip, inferenceSeconds }: ClipScores, scores: Float64Array): ActionEvent => ({
        id: occ.id,
        type,
        camera: clip.camera,
        region: clip.region,
        label: names[occ.label]!,
        score: scores[occ.label]!,
        topScore: occ.topScore,
        startedAt: occ.startedAt,
        endedAt: type === 'end' ? occ.lastActive.lastFrameAt : null,
        clip: { firstFrameAt: clip.firstFrameAt, lastFrameAt: clip.lastFrameAt, frames: clip.frames, inferenceSeconds },
        top: topK(names, scores, o.topK),
        model: o.model,
        // The daemon sets it where it keeps a JPEG for the occurrence.
        snapshot: false,
      });

      const endCurrent = () => {
        if (current && last && smoothed) subscriber.next(event('end', current, last, smoothed));
        current = null;
      };

      const subscription = source.subscribe({
        next(input) {
          const { clip, scores } = input;
          smoothed = emaScores(smoothed, scores, o.smoothing);
          last = input;
          const step = stepHysteresis(state, smoothed, clip.firstFrameAt, hysteresis);
          state = step.state;
          // Still active on this clip unless below its end threshold (a switch ends an action that is).
          if (current && smoothed[current.label]! >= endThreshold(current.label, hysteresis)) {
            current.lastActive = clip;
            current.topScore = Math.max(current.topScore, smoothed[current.label]!);
          }
          if (step.ended !== null) endCurrent();
          if (step.started !== null) {
            const score = smoothed[step.started]!;
            current = { label: step.started, id: newId(), startedAt: step.startedSince, lastActive: clip, topScore: score, lastSentScore: score, clipsSinceSent: 0 };
            subscriber.next(event('start', current, input, smoothed));
          } else if (current) {
            const score = smoothed[current.label]!;
            current.clipsSinceSent++;
            const due = o.updateEveryClips > 0 && current.clipsSinceSent >= o.updateEveryClips;
            if (due || score >= current.lastSentScore + o.updateRise) {
              current.lastSentScore = score;
              current.clipsSinceSent = 0;
              subscriber.next(event('update', current, input, smoothed));
            }
          }
        },
        error(err: unknown) {
          endCurrent();
          subscriber.error(err);
        },
        complete() {
          endCurrent();
          subscriber.complete();
        },
      });
      return subscription;
    });
}
