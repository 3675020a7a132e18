// MQTT API v1 payloads (docs/mqtt.md, docs/schemas/*.schema.json): pure mappings from the
// daemon's values (epoch-ms times) to what goes on the wire (ISO 8601 UTC times with ms).
import type { CameraState, CameraStatus, LabelScore } from '../types.js';

/** A camera's current action, as the recognition stage sees it. */
export interface ActionState {
  camera: string;
  /** The action going on now, or null when none is. */
  label: string | null;
  /** The label's smoothed score (with no label: the best score, for information). */
  score: number;
  /** Epoch ms when this state began. */
  since: number;
}

/** One clip's best scores (the optional, off-by-default `scores` topic). */
export interface ClipScores {
  camera: string;
  /** Clip sequence number per camera. */
  seq: number;
  firstFrameAt: number;
  lastFrameAt: number;
  frames: number;
  top: LabelScore[];
}

export interface CameraStatusPayload {
  state: CameraState;
  since: string;
  reconnects: number;
  reason?: string;
}

export interface ActionStatePayload {
  label: string | null;
  score: number;
  since: string;
}

export interface ScoresPayload {
  v: 1;
  camera: string;
  clip: { seq: number; first_frame_at: string; last_frame_at: string; frames: number };
  top: LabelScore[];
}

export type BridgeStatusPayload = 'online' | 'offline';

/** ISO 8601 UTC with milliseconds, the one time format of the API. */
export function isoTime(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

export function cameraStatusPayload(status: CameraStatus): CameraStatusPayload {
  const payload: CameraStatusPayload = { state: status.state, since: isoTime(status.since), reconnects: status.reconnects };
  if (status.reason !== undefined) payload.reason = status.reason;
  return payload;
}

export function actionStatePayload(state: ActionState): ActionStatePayload {
  return { label: state.label, score: state.score, since: isoTime(state.since) };
}

export function scoresPayload(scores: ClipScores): ScoresPayload {
  return {
    v: 1,
    camera: scores.camera,
    clip: {
      seq: scores.seq,
      first_frame_at: isoTime(scores.firstFrameAt),
      last_frame_at: isoTime(scores.lastFrameAt),
      frames: scores.frames,
    },
    top: scores.top.map(({ label, score }) => ({ label, score })),
  };
}
