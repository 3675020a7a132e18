// When an action starts and ends, from a camera's smoothed scores, one clip at a time.
//
// At most ONE action is active per camera: the labels share one softmax, so they compete for the
// same probability mass, and the camera's state (MQTT `state`) is one label or none.
// - A label is a candidate on a clip when it is the best action (see bestAction: not the
//   background, not below the minimum score) and its score is at or above its start threshold.
// - It starts after being the candidate on `minClips` consecutive clips.
// - The active label ends on the first clip where its score is below its end threshold, or when
//   another label has been the candidate for `minClips` consecutive clips (a switch: the old
//   one ends and the new one starts on the same clip).
// A per-label threshold replaces `start` for that label; its end threshold is the lower of `end`
// and that threshold, so a label never needs less to start than to stay.
import { bestAction, type NoneOfThese } from './best-action.js';

export interface HysteresisOptions extends NoneOfThese {
  start: number;
  end: number;
  minClips: number;
  /** Per-label start thresholds (undefined = `start`), by label index. */
  thresholds: readonly (number | undefined)[];
}

export interface HysteresisState {
  active: number | null;
  candidate: number | null;
  /** Consecutive clips the candidate has qualified on. */
  count: number;
  /** Time of the first of those clips (epoch ms), when the candidate started showing. */
  candidateSince: number;
}

export interface HysteresisStep {
  state: HysteresisState;
  /** The label that ended on this clip, if any. */
  ended: number | null;
  /** The label that started on this clip, if any, and since when it showed. */
  started: number | null;
  startedSince: number;
}

export const INITIAL_HYSTERESIS: HysteresisState = { active: null, candidate: null, count: 0, candidateSince: 0 };

export function startThreshold(label: number, o: HysteresisOptions): number {
  return o.thresholds[label] ?? o.start;
}

export function endThreshold(label: number, o: HysteresisOptions): number {
  return Math.min(o.end, startThreshold(label, o));
}

/** One clip: `scores` are its smoothed scores, `at` its first frame's time (epoch ms). */
export function stepHysteresis(state: HysteresisState, scores: ArrayLike<number>, at: number, o: HysteresisOptions): HysteresisStep {
  const best = bestAction(scores, o);
  const qualifies = best !== null && best !== state.active && scores[best]! >= startThreshold(best, o);
  let { active } = state;
  let candidate: number | null = null;
  let count = 0;
  let candidateSince = 0;
  if (qualifies) {
    const same = state.candidate === best;
    candidate = best;
    count = same ? state.count + 1 : 1;
    candidateSince = same ? state.candidateSince : at;
  }

  let ended: number | null = null;
  let started: number | null = null;
  let startedSince = 0;
  if (active !== null && scores[active]! < endThreshold(active, o)) {
    ended = active;
    active = null;
  }
  if (candidate !== null && count >= o.minClips) {
    if (active !== null) ended = active;
    active = candidate;
    started = candidate;
    startedSince = candidateSince;
    candidate = null;
    count = 0;
    candidateSince = 0;
  }
  return { state: { active, candidate, count, candidateSince }, ended, started, startedSince };
}
