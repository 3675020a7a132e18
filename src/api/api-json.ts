// The API's JSON documents, built from the domain's types (times as ISO 8601 UTC strings, as the
// MQTT payloads have them).
import type { CameraStatus, StoredEvent } from '../types.js';

const iso = (ms: number) => new Date(ms).toISOString();

export interface EventJson {
  id: string;
  camera: string;
  region: string | null;
  label: string;
  started_at: string;
  ended_at: string | null;
  peak_score: number;
  top: { label: string; score: number }[];
  model: { name: string; sha256: string };
  snapshot: boolean;
  /** Path of its JPEG on this server, when it has one. */
  snapshot_url: string | null;
}

export function eventJson(e: StoredEvent): EventJson {
  return {
    id: e.id,
    camera: e.camera,
    region: e.region,
    label: e.label,
    started_at: iso(e.startedAt),
    ended_at: e.endedAt === null ? null : iso(e.endedAt),
    peak_score: Number(e.peakScore.toFixed(4)),
    top: e.top,
    model: e.model,
    snapshot: e.snapshot !== null,
    snapshot_url: e.snapshot === null ? null : `/api/events/${encodeURIComponent(e.id)}/snapshot.jpg`,
  };
}

/** A configured camera and, once its source has reported, its status. */
export interface CameraView {
  id: string;
  status: CameraStatus | undefined;
}

export function cameraJson(c: CameraView) {
  return {
    id: c.id,
    state: c.status?.state ?? 'connecting',
    since: c.status ? iso(c.status.since) : null,
    reconnects: c.status?.reconnects ?? 0,
    ...(c.status?.reason !== undefined ? { reason: c.status.reason } : {}),
  };
}
