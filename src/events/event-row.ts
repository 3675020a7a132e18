// The events table's rows <-> the domain's types. Pure: no database here.
import type { ActionEvent, LabelScore, StoredEvent } from '../types.js';

/** A row of the events table, as SQLite returns it. */
export interface EventRow {
  id: string;
  camera: string;
  region: string | null;
  label: string;
  started_at: number;
  ended_at: number | null;
  last_seen_at: number;
  peak_score: number;
  best_score: number;
  top: string;
  model_name: string;
  model_sha256: string;
  snapshot_path: string | null;
  snapshot_bytes: number | null;
}

/** One event (start, update or end) as the values folded into its occurrence's row. */
export type EventValues = Omit<EventRow, 'snapshot_path' | 'snapshot_bytes'>;

export function eventValues(event: ActionEvent, region: string | null = null): EventValues {
  return {
    id: event.id,
    camera: event.camera,
    region,
    label: event.label,
    started_at: event.startedAt,
    ended_at: event.endedAt,
    last_seen_at: event.clip.lastFrameAt,
    peak_score: event.topScore,
    best_score: event.score,
    top: JSON.stringify(event.top),
    model_name: event.model.name,
    model_sha256: event.model.sha256,
  };
}

export function storedEvent(row: EventRow): StoredEvent {
  return {
    id: row.id,
    camera: row.camera,
    region: row.region,
    label: row.label,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    peakScore: row.peak_score,
    top: JSON.parse(row.top) as LabelScore[],
    model: { name: row.model_name, sha256: row.model_sha256 },
    snapshot: row.snapshot_path === null ? null : { path: row.snapshot_path, bytes: row.snapshot_bytes ?? 0 },
  };
}
