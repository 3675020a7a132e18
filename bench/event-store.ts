// Benchmark: the event loop's time spent writing the event history, and /api/events queries.
//   node --import tsx bench/event-store.ts [--events 2000] [--batch 16] [--repeats 5] [--rows 100000]
// Baseline: the same store flushed after every event (one transaction each, what writing at once
// would cost); against it, batches of --batch events per transaction (the store's flush_ms
// timer). Then queries on a history of --rows occurrences (retention's default cap is 100,000).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { EventStore } from '../src/events/event-store.js';
import type { ActionEvent } from '../src/types.js';

const { values } = parseArgs({ options: { events: { type: 'string', default: '2000' }, batch: { type: 'string', default: '16' }, repeats: { type: 'string', default: '5' }, rows: { type: 'string', default: '100000' } } });
const EVENTS = Number(values.events);
const BATCH = Number(values.batch);
const REPEATS = Number(values.repeats);
const ROWS = Number(values.rows);
const CAMERAS = ['front', 'yard', 'hall', 'kitchen', 'garage', 'door', 'stairs', 'bedroom'];
const LABELS = ['a person falling', 'waving', 'sitting down', 'standing up', 'walking'];

function open(dir: string, pruneEveryMs = 1e12, maxEvents = 1e9, maxSnapshotBytes = 1e12): EventStore {
  return EventStore.open({
    path: join(dir, 'events.db'), flushMs: 1e9, pruneEveryMs, registry: new Registry(), log: pino({ level: 'silent' }),
    retention: { maxAgeMs: 1e15, maxEvents, maxSnapshotBytes },
  });
}

/** Occurrences of start, 2 updates and end, cameras interleaved. */
function events(n: number, t0: number): ActionEvent[] {
  const out: ActionEvent[] = [];
  for (let i = 0; out.length < n; i++) {
    const camera = CAMERAS[i % CAMERAS.length]!;
    const label = LABELS[i % LABELS.length]!;
    const started = t0 + i * 5000;
    for (const [k, type] of (['start', 'update', 'update', 'end'] as const).entries()) {
      const at = started + 1000 * (k + 1);
      out.push({
        id: `occ-${t0}-${i}`, type, camera, region: null, label, score: 0.6 + 0.1 * k, topScore: 0.6 + 0.1 * k,
        startedAt: started, endedAt: type === 'end' ? at : null,
        clip: { firstFrameAt: at - 1000, lastFrameAt: at, frames: 8, inferenceSeconds: 0.005 },
        top: [{ label, score: 0.6 }, { label: 'nothing happening', score: 0.2 }, { label: 'walking', score: 0.1 }], model: { name: 'msta-b16', sha256: 'ab'.repeat(32) }, snapshot: false,
      });
    }
  }
  return out.slice(0, n);
}

/** Event-loop milliseconds per event when flushing every `batch` events. */
function writeCost(batch: number): { perEventMs: number; perFlushMs: number } {
  const dir = mkdtempSync(join(tmpdir(), 'msta-bench-events-'));
  const store = open(dir);
  const list = events(EVENTS, Date.now());
  const flushes: number[] = [];
  const started = performance.now();
  for (let i = 0; i < list.length; i++) {
    store.record(list[i]!);
    if ((i + 1) % batch === 0 || i === list.length - 1) {
      const t = performance.now();
      store.flush();
      flushes.push(performance.now() - t);
    }
  }
  const total = performance.now() - started;
  store.close();
  rmSync(dir, { recursive: true, force: true });
  return { perEventMs: total / list.length, perFlushMs: flushes.sort((a, b) => a - b)[Math.floor(flushes.length / 2)]! };
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0]!, median: s[Math.floor(s.length / 2)]!, max: s.at(-1)! };
};
const fmt = (x: { min: number; median: number; max: number }, digits = 3) => `min ${x.min.toFixed(digits)}  median ${x.median.toFixed(digits)}  max ${x.max.toFixed(digits)}`;

const single: number[] = [];
const batched: number[] = [];
const batchFlush: number[] = [];
for (let r = 0; r < REPEATS; r++) {
  single.push(writeCost(1).perEventMs);
  const b = writeCost(BATCH);
  batched.push(b.perEventMs);
  batchFlush.push(b.perFlushMs);
}
console.log(`writes: ${EVENTS} events, ${REPEATS} repeats (ms of event loop per event)`);
console.log(`  one transaction per event (baseline): ${fmt(stats(single))}`);
console.log(`  ${BATCH} events per transaction:        ${fmt(stats(batched))}`);
console.log(`  one flush of ${BATCH} events (ms):          ${fmt(stats(batchFlush))}`);
console.log(`  baseline / batched (median): ${(stats(single).median / stats(batched).median).toFixed(1)}x`);

// Queries on a full history.
const dir = mkdtempSync(join(tmpdir(), 'msta-bench-events-'));
const store = open(dir);
const t0 = Date.now() - ROWS * 5000;
for (let i = 0; i < ROWS * 4; i += 4000) {
  for (const e of events(Math.min(4000, ROWS * 4 - i), t0 + (i / 4) * 5000)) store.record(e);
  store.flush();
}
const queries: [string, Parameters<EventStore['query']>[0]][] = [
  ['newest 100', { limit: 100 }],
  ['camera, newest 100', { camera: 'yard', limit: 100 }],
  ['label, newest 100', { label: 'a person falling', limit: 100 }],
  ['camera + label + since (last 10%)', { camera: 'yard', label: 'waving', since: t0 + ROWS * 4500, limit: 100 }],
  ['a page deep in the past (before)', { before: t0 + ROWS * 500, limit: 100 }],
];
console.log(`queries on ${ROWS} occurrences, ${REPEATS * 4} repeats (ms)`);
for (const [name, filter] of queries) {
  const times: number[] = [];
  let n = 0;
  for (let r = 0; r < REPEATS * 4; r++) {
    const t = performance.now();
    n = store.query(filter).length;
    times.push(performance.now() - t);
  }
  console.log(`  ${name.padEnd(36)} ${fmt(stats(times))}  (${n} rows)`);
}
store.close();
// Retention runs inside a flush once per interval: its cost on a full history (nothing to delete:
// the age and count checks and the snapshot-bytes window still scan their indexes).
for (const [name, maxEvents] of [['nothing to delete', 1e9], ['at the count cap: 1 deleted', ROWS]] as const) {
  const pruning = open(dir, 0, maxEvents);
  const prune: number[] = [];
  for (const e of events(REPEATS * 16, Date.now()).filter((x) => x.type === 'start')) {
    pruning.record(e);
    const t = performance.now();
    pruning.flush();
    prune.push(performance.now() - t);
  }
  console.log(`  flush of 1 event + retention on ${ROWS} rows, ${name}: ${fmt(stats(prune))}`);
  pruning.close();
}
// Every event with a 1000-byte snapshot (paths only: no files), the byte cap reached: each new
// snapshot pushes the oldest out.
const snapping = open(dir);
for (const e of snapping.query({ limit: ROWS })) snapping.attachSnapshot(e.id, join(dir, `${e.id}.jpg`), 1000);
snapping.close();
const capped = open(dir, 0, 1e9, ROWS * 1000);
const unsnap: number[] = [];
let previous: string | undefined;
for (const e of events(REPEATS * 16, Date.now() + 1e9).filter((x) => x.type === 'start')) {
  if (previous) capped.attachSnapshot(previous, join(dir, `${previous}.jpg`), 1000);
  capped.record(e);
  const t = performance.now();
  capped.flush();
  unsnap.push(performance.now() - t);
  previous = e.id;
}
console.log(`  flush of 1 event + retention on ${ROWS} rows with snapshots, at the byte cap: ${fmt(stats(unsnap))}`);
capped.close();
rmSync(dir, { recursive: true, force: true });
