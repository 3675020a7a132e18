// MQTT API v1 payloads (docs/mqtt.md, docs/schemas/*.schema.json): pure mappings from the
// daemon's values (epoch-ms times) to what goes on the wire (ISO 8601 UTC times with ms).
import type { z } from 'zod';
import type { ActionEvent, CameraState, CameraStatus, Clip, LabelScore } from '../types.js';
import type { PAYLOAD_SCHEMAS } from './payload-schemas.js';

/** A camera's (or one of its regions') current action. */
export interface ActionState {
  camera: string;
  /** The region of interest; null (or absent) for the whole camera. */
  region?: string | null;
  /** The action going on now, or null when none is. */
  label: string | null;
  /** The action's smoothed score; 0 when label is null. */
  score: number;
  /** Epoch ms when this state began. */
  since: number;
}

/** One clip's best scores (the optional, off-by-default `scores` topic). */
export interface ClipTopScores {
  clip: Omit<Clip, 'data'>;
  /** Best first. */
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
  region: string | null;
  clip: { seq: number; first_frame_at: string; last_frame_at: string; frames: number };
  top: LabelScore[];
}

export type BridgeStatusPayload = 'online' | 'offline';

/** `<base>/<camera>/events`, as its schema (docs/schemas/event.schema.json) says. */
export type EventPayload = z.output<(typeof PAYLOAD_SCHEMAS)['event']>;

/** What is running, as `<base>/info` says it (zigbee2mqtt's bridge/info, for this daemon). */
export interface BridgeInfo {
  version: string;
  model: { name: string; sha256: string };
  provider: string;
  cameras: readonly string[];
  /** Each camera's regions of interest, for the cameras that have any. */
  regions?: Readonly<Record<string, readonly string[]>>;
}

export interface BridgeInfoPayload {
  v: 1;
  version: string;
  model: { name: string; sha256: string };
  provider: string;
  cameras: string[];
  regions: Record<string, string[]>;
}

export function bridgeInfoPayload(info: BridgeInfo): BridgeInfoPayload {
  return { v: 1, version: info.version, model: { name: info.model.name, sha256: info.model.sha256 }, provider: info.provider, cameras: [...info.cameras], regions: Object.fromEntries(Object.entries(info.regions ?? {}).filter(([, r]) => r.length > 0).map(([c, r]) => [c, [...r]])) };
}

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

export function scoresPayload({ clip, top }: ClipTopScores): ScoresPayload {
  return {
    v: 1,
    camera: clip.camera,
    region: clip.region,
    clip: {
      seq: clip.seq,
      first_frame_at: isoTime(clip.firstFrameAt),
      last_frame_at: isoTime(clip.lastFrameAt),
      frames: clip.frames,
    },
    top: top.map(({ label, score }) => ({ label, score })),
  };
}

/** An action event on the wire (key order as published since v1: consumers may compare text). */
export function eventPayload(e: ActionEvent): EventPayload {
  const head = { v: 1 as const, id: e.id };
  const body = { camera: e.camera, region: e.region, label: e.label, score: e.score, top_score: e.topScore, started_at: isoTime(e.startedAt) };
  const tail = {
    clip: { first_frame_at: isoTime(e.clip.firstFrameAt), last_frame_at: isoTime(e.clip.lastFrameAt), frames: e.clip.frames },
    top: e.top.map(({ label, score }) => ({ label, score })),
    model: { name: e.model.name, sha256: e.model.sha256 },
    snapshot: e.snapshot,
  };
  return e.type === 'end'
    ? { ...head, type: 'end', ...body, ended_at: isoTime(e.endedAt ?? e.clip.lastFrameAt), ...tail }
    : { ...head, type: e.type, ...body, ended_at: null, ...tail };
}

/** The camera's current action after an event: the event's action until its end, then none. */
export function actionStateFromEvent(event: ActionEvent): ActionState {
  const { camera, region } = event;
  if (event.type === 'end') return { camera, region, label: null, score: 0, since: event.endedAt ?? event.clip.lastFrameAt };
  return { camera, region, label: event.label, score: event.score, since: event.startedAt };
}
