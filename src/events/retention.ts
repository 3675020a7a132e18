// Retention of the event history: by age, then by count (oldest first), then snapshot bytes
// (the oldest events lose their snapshot first, and keep their row).
import type Database from 'better-sqlite3';

export interface RetentionPolicy {
  maxAgeMs: number;
  maxEvents: number;
  maxSnapshotBytes: number;
}

export interface Pruned {
  age: number;
  count: number;
  snapshotBytes: number;
  /** Snapshot files no row refers to any more: the caller deletes them. */
  files: string[];
}

export type Pruner = (now: number) => Pruned;

/** Prepares the retention statements once; the returned function runs them in one transaction. */
export function retention(db: Database.Database, policy: RetentionPolicy): Pruner {
  const byAge = db.prepare<[number], { snapshot_path: string | null }>('DELETE FROM events WHERE started_at < ? RETURNING snapshot_path');
  const byCount = db.prepare<[number], { snapshot_path: string | null }>(
    'DELETE FROM events WHERE id IN (SELECT id FROM events ORDER BY started_at DESC, id DESC LIMIT -1 OFFSET ?) RETURNING snapshot_path',
  );
  // Newest first, a running total of snapshot bytes: every row past the cap loses its snapshot.
  const overSnapshotBytes = db.prepare<[number], { id: string; snapshot_path: string }>(
    `SELECT id, snapshot_path FROM (SELECT id, snapshot_path, SUM(snapshot_bytes) OVER (ORDER BY started_at DESC, id DESC) AS total
                                    FROM events WHERE snapshot_path IS NOT NULL) WHERE total > ?`,
  );
  const dropSnapshot = db.prepare<[string]>('UPDATE events SET snapshot_path = NULL, snapshot_bytes = NULL WHERE id = ?');
  return db.transaction((now: number): Pruned => {
    const aged = byAge.all(now - policy.maxAgeMs);
    const counted = byCount.all(policy.maxEvents);
    const files = [...aged, ...counted].flatMap((r) => (r.snapshot_path === null ? [] : [r.snapshot_path]));
    const unsnapped = overSnapshotBytes.all(policy.maxSnapshotBytes);
    for (const r of unsnapped) dropSnapshot.run(r.id);
    return { age: aged.length, count: counted.length, snapshotBytes: unsnapped.length, files: [...files, ...unsnapped.map((r) => r.snapshot_path)] };
  });
}
