// The event history's Prometheus metrics, registered on the registry the daemon passes in.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type StoreFailure = 'open' | 'write' | 'prune' | 'delete_snapshot' | 'write_snapshot';
export type PruneReason = 'age' | 'count' | 'snapshot_bytes';

export interface EventStoreMetrics {
  written: Counter;
  failures: Counter<'op'>;
  pruned: Counter<'reason'>;
  flushSeconds: Histogram;
}

export function eventStoreMetrics(registry: Registry, rows: () => number): EventStoreMetrics {
  const registers = [registry];
  new Gauge({
    name: 'msta_event_store_events',
    help: 'events (occurrences) kept in the event history',
    registers,
    collect() {
      this.set(rows());
    },
  });
  const failures = new Counter({
    name: 'msta_event_store_failures_total',
    help: 'event-history operations that failed: open (a damaged database moved aside, a new one started), write (those events are missing from the history), prune, delete_snapshot, write_snapshot (that event has no snapshot file)',
    labelNames: ['op'],
    registers,
  });
  // Every op from 0, so an alert on increase() sees the first failure.
  for (const op of ['open', 'write', 'prune', 'delete_snapshot', 'write_snapshot'] satisfies StoreFailure[]) failures.inc({ op }, 0);
  return {
    written: new Counter({ name: 'msta_event_store_writes_total', help: 'action events (start, update, end) written to the event history', registers }),
    failures,
    pruned: new Counter({
      name: 'msta_event_store_pruned_total',
      help: 'events deleted by retention (age, count), or snapshots deleted to keep under the byte cap (snapshot_bytes)',
      labelNames: ['reason'],
      registers,
    }),
    flushSeconds: new Histogram({
      name: 'msta_event_store_flush_seconds',
      help: 'time the event loop spent writing one batch of events (one transaction)',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25],
      registers,
    }),
  };
}
