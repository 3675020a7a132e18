// The event history: action events folded into one row per occurrence, in SQLite.
//
// Writes are behind: `record` queues, and every `flushMs` the queue is written in one transaction
// of prepared upserts (WAL, no fsync per commit), so recognition never waits on the disk and the
// event loop spends well under a millisecond per batch. A failed write loses that batch from the
// history only (MQTT has its own spool): counted, logged once per burst, never thrown.
import { unlink } from 'node:fs/promises';
import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ActionEvent, EventFilter, EventHistory, StoredEvent } from '../types.js';
import { openEventDatabase } from './event-database.js';
import { eventValues, storedEvent, type EventRow, type EventValues } from './event-row.js';
import { eventStoreMetrics, type EventStoreMetrics } from './event-store-metrics.js';
import { retention, type Pruner, type RetentionPolicy } from './retention.js';
import { snapshotDirOf, writeSnapshotFile } from './snapshot-files.js';

export interface EventStoreOptions {
  path: string;
  flushMs: number;
  retention: RetentionPolicy;
  /** How often retention runs while writing (it also runs at open). */
  pruneEveryMs: number;
  log: Logger;
  registry: Registry;
  now?: () => number;
  /** Where saveSnapshot writes; `snapshots/` beside the database when absent. */
  snapshotDir?: string;
}

// The fold: the end time once known, the highest peak, the top-k of the best-scoring event.
// Column names on the right of SET are the row's values before this event.
const UPSERT = `
INSERT INTO events (id, camera, region, label, started_at, ended_at, last_seen_at, peak_score, best_score, top, model_name, model_sha256)
VALUES (@id, @camera, @region, @label, @started_at, @ended_at, @last_seen_at, @peak_score, @best_score, @top, @model_name, @model_sha256)
ON CONFLICT (id) DO UPDATE SET
  ended_at = COALESCE(excluded.ended_at, ended_at),
  last_seen_at = MAX(last_seen_at, excluded.last_seen_at),
  peak_score = MAX(peak_score, excluded.peak_score),
  top = CASE WHEN excluded.best_score > best_score THEN excluded.top ELSE top END,
  best_score = MAX(best_score, excluded.best_score)`;

export class EventStore implements EventHistory {
  private readonly metrics: EventStoreMetrics;
  private readonly write: (batch: EventValues[]) => void;
  private readonly prune: Pruner;
  private readonly byId: Database.Statement<[string], EventRow>;
  private readonly setSnapshot: Database.Statement<[string | null, number | null, string]>;
  private readonly queries = new Map<string, Database.Statement<unknown[], EventRow>>();
  private readonly now: () => number;
  private pending: EventValues[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastPrune = 0;
  /** Events lost in the current burst of write failures (0 = writing fine). */
  private failing = 0;
  private lastError = '';
  /** Snapshots lost in the current burst of failed writes (0 = writing fine). */
  private snapshotsFailing = 0;
  private closed = false;

  private constructor(
    private readonly db: Database.Database,
    private readonly options: EventStoreOptions,
  ) {
    this.now = options.now ?? Date.now;
    const count = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM events');
    this.metrics = eventStoreMetrics(options.registry, () => (this.closed ? 0 : count.get()!.n));
    const upsert = db.prepare<[EventValues]>(UPSERT);
    this.write = db.transaction((batch: EventValues[]) => {
      for (const values of batch) upsert.run(values);
    });
    this.prune = retention(db, options.retention);
    this.byId = db.prepare('SELECT * FROM events WHERE id = ?');
    this.setSnapshot = db.prepare('UPDATE events SET snapshot_path = ?, snapshot_bytes = ? WHERE id = ?');
  }

  /** Opens (creating) the database; throws MstaError (CONFIG_INVALID for a bad path). */
  static open(options: EventStoreOptions): EventStore {
    const { db, movedAside } = openEventDatabase(options.path);
    // No occurrence outlives the daemon that saw it: one a previous run left open (killed) ended
    // on the last clip it was seen on.
    const closed = db.prepare('UPDATE events SET ended_at = last_seen_at WHERE ended_at IS NULL').run().changes;
    const store = new EventStore(db, options);
    if (movedAside) {
      store.metrics.failures.inc({ op: 'open' });
      options.log.error({ path: options.path, moved_to: movedAside.path, reason: movedAside.reason }, 'event history: the database was damaged; it was moved aside and a new history started');
    }
    if (closed > 0) options.log.warn({ events: closed }, 'event history: events left open by the previous run ended at their last clip');
    store.runRetention();
    return store;
  }

  /** Queues one event (start, update or end) for the next batch. */
  record(event: ActionEvent, region: string | null = null): void {
    if (this.closed) {
      this.failed(new Error('the event history is closed'), 1);
      return;
    }
    this.pending.push(eventValues(event, region));
    this.timer ??= setTimeout(() => this.flush(), this.options.flushMs);
  }

  /** Writes the queued events now (in one transaction). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0 || this.closed) return;
    const batch = this.pending;
    this.pending = [];
    const started = performance.now();
    try {
      this.write(batch);
      this.metrics.written.inc(batch.length);
      if (this.failing > 0) this.options.log.info({ lost: this.failing }, 'event history: writing again');
      this.failing = 0;
    } catch (e) {
      this.failed(e, batch.length);
    } finally {
      this.metrics.flushSeconds.observe((performance.now() - started) / 1000);
    }
    if (this.now() - this.lastPrune >= this.options.pruneEveryMs) this.runRetention();
  }

  /** Records the snapshot file of an event (the file is deleted with the event, or to keep under the byte cap). */
  attachSnapshot(id: string, path: string, bytes: number): boolean {
    this.flush();
    return this.setSnapshot.run(path, bytes, id).changes > 0;
  }

  /**
   * Writes the event's snapshot file (replacing an earlier one) and records it. Resolves false when
   * it could not be kept: the file failed (counted, logged once per burst) or the event is gone.
   */
  async saveSnapshot(id: string, jpeg: Buffer): Promise<boolean> {
    const dir = this.options.snapshotDir ?? snapshotDirOf(this.options.path);
    let path: string;
    try {
      path = await writeSnapshotFile(dir, id, jpeg);
    } catch (e) {
      this.metrics.failures.inc({ op: 'write_snapshot' });
      if (this.snapshotsFailing++ === 0) this.options.log.error({ dir, err: (e as Error).message }, 'event history: cannot write a snapshot (the event is kept without it)');
      return false;
    }
    let attached = false;
    try {
      attached = !this.closed && this.attachSnapshot(id, path, jpeg.length);
    } catch (e) {
      // A locked or failing database: the same burst accounting as a failed file.
      this.metrics.failures.inc({ op: 'write_snapshot' });
      if (this.snapshotsFailing++ === 0) this.options.log.error({ err: (e as Error).message }, 'event history: cannot record a snapshot (the event is kept without it)');
    }
    if (attached) {
      if (this.snapshotsFailing > 0) this.options.log.info({ lost: this.snapshotsFailing }, 'event history: writing snapshots again');
      this.snapshotsFailing = 0;
      return true;
    }
    // Pruned (or the store closed) meanwhile: no row refers to the file.
    await unlink(path).catch(() => undefined);
    return false;
  }

  query(filter: EventFilter): StoredEvent[] {
    const clauses: [string, unknown][] = [];
    if (filter.camera !== undefined) clauses.push(['camera = ?', filter.camera]);
    if (filter.region !== undefined) clauses.push(['region = ?', filter.region]);
    if (filter.label !== undefined) clauses.push(['label = ?', filter.label]);
    if (filter.since !== undefined) clauses.push(['started_at >= ?', filter.since]);
    if (filter.before !== undefined) clauses.push(['started_at < ?', filter.before]);
    const where = clauses.map(([sql]) => sql);
    const params = clauses.map(([, value]) => value);
    // One prepared statement per combination of filters (32 at most), reused.
    const sql = `SELECT * FROM events${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at DESC, id DESC LIMIT ?`;
    let statement = this.queries.get(sql);
    if (!statement) this.queries.set(sql, (statement = this.db.prepare(sql)));
    return statement.all(...params, filter.limit).map(storedEvent);
  }

  get(id: string): StoredEvent | undefined {
    const row = this.byId.get(id);
    return row === undefined ? undefined : storedEvent(row);
  }

  /** For /readyz: failing while the last write failed. */
  status(): { ok: boolean; detail: string } {
    return this.failing > 0 ? { ok: false, detail: `writes failing (${this.failing} events lost): ${this.lastError}` } : { ok: true, detail: this.options.path };
  }

  /** Writes what is queued and closes the database. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.db.close();
  }

  private runRetention(): void {
    this.lastPrune = this.now();
    try {
      const pruned = this.prune(this.lastPrune);
      this.metrics.pruned.inc({ reason: 'age' }, pruned.age);
      this.metrics.pruned.inc({ reason: 'count' }, pruned.count);
      this.metrics.pruned.inc({ reason: 'snapshot_bytes' }, pruned.snapshotBytes);
      for (const file of pruned.files) {
        unlink(file).catch((e: unknown) => {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
          this.metrics.failures.inc({ op: 'delete_snapshot' });
          this.options.log.warn({ file, err: (e as Error).message }, 'event history: cannot delete a pruned snapshot');
        });
      }
      if (pruned.age + pruned.count + pruned.snapshotBytes > 0) this.options.log.debug({ ...pruned, files: pruned.files.length }, 'event history pruned');
    } catch (e) {
      this.metrics.failures.inc({ op: 'prune' });
      this.options.log.warn({ err: (e as Error).message }, 'event history: retention failed (tried again later)');
    }
  }

  private failed(e: unknown, events: number): void {
    this.metrics.failures.inc({ op: 'write' }, events);
    this.lastError = (e as Error).message;
    // Once per burst: the first failure is logged, the rest counted until a write succeeds.
    if (this.failing === 0) this.options.log.error({ err: this.lastError, events }, 'event history: write failed (these events are missing from it; MQTT is unaffected)');
    this.failing += events;
  }
}
