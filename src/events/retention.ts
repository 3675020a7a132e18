// Retention of the event history: by age, then by count (oldest first), then snapshot bytes
// (the oldest events lose their snapshot first, and keep their row). It runs inside a flush, so
// each step first checks on an index whether there is anything to do (a full history must not
// cost a sort of every row each time).
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
  const count = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM events');
  const byCount = db.prepare<[number], { snapshot_path: string | null }>(
    'DELETE FROM events WHERE id IN (SELECT id FROM events ORDER BY started_at LIMIT ?) RETURNING snapshot_path',
  );
  const snapshotBytes = db.prepare<[], { bytes: number }>('SELECT total(snapshot_bytes) AS bytes FROM events WHERE snapshot_path IS NOT NULL');
  // Oldest first, on the partial index of rows with a snapshot: read only as far as the excess.
  const oldestSnapshots = db.prepare<[], { id: string; snapshot_path: string; snapshot_bytes: number }>(
    'SELECT id, snapshot_path, snapshot_bytes FROM events WHERE snapshot_path IS NOT NULL ORDER BY started_at',
  );
  const dropSnapshot = db.prepare<[string]>('UPDATE events SET snapshot_path = NULL, snapshot_bytes = NULL WHERE id = ?');
  return db.transaction((now: number): Pruned => {
    const aged = byAge.all(now - policy.maxAgeMs);
    const over = count.get()!.n - policy.maxEvents;
    const counted = over > 0 ? byCount.all(over) : [];
    const files = [...aged, ...counted].flatMap((r) => (r.snapshot_path === null ? [] : [r.snapshot_path]));
    const excess = snapshotBytes.get()!.bytes - policy.maxSnapshotBytes;
    const unsnapped: { id: string; snapshot_path: string }[] = [];
    let freed = 0;
    if (excess > 0) {
      for (const r of oldestSnapshots.iterate()) {
        unsnapped.push(r);
        freed += r.snapshot_bytes;
        if (freed >= excess) break;
      }
    }
    for (const r of unsnapped) dropSnapshot.run(r.id);
    return { age: aged.length, count: counted.length, snapshotBytes: unsnapped.length, files: [...files, ...unsnapped.map((r) => r.snapshot_path)] };
  });
}
