// The event history through real SQLite files (better-sqlite3): the fold of start / update / end
// into one row, queries, persistence across reopen, retention, and the failures a user meets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { EventStore, type EventStoreOptions } from '../src/events/event-store.js';
import { isMstaError } from '../src/errors.js';
import { parseConfig } from '../src/config/load-config.js';
import type { ActionEvent, ActionEventType } from '../src/types.js';
import { tempDir } from './support/temp-dir.js';

const T0 = Date.parse('2026-11-30T10:00:00.000Z');
const DAY = 86_400_000;

function event(id: string, type: ActionEventType, o: { camera?: string; label?: string; at?: number; score?: number; top?: number; startedAt?: number } = {}): ActionEvent {
  const at = o.at ?? T0;
  const score = o.score ?? 0.7;
  return {
    id,
    type,
    camera: o.camera ?? 'yard', region: null,
    label: o.label ?? 'waving',
    score,
    topScore: o.top ?? score,
    startedAt: o.startedAt ?? T0,
    endedAt: type === 'end' ? at : null,
    clip: { firstFrameAt: at - 1000, lastFrameAt: at, frames: 8, inferenceSeconds: 0.005 },
    top: [{ label: o.label ?? 'waving', score }, { label: 'nothing happening', score: 1 - score }],
    model: { name: 'synthetic-actions', sha256: 'ab'.repeat(32) }, snapshot: false,
  };
}

function setup(overrides: Partial<EventStoreOptions> = {}) {
  const dir = tempDir('msta-events-');
  const lines: { level: number; msg: string; [k: string]: unknown }[] = [];
  const registry = new Registry();
  let now = T0;
  const options = (): EventStoreOptions => ({
    path: join(dir, 'db', 'events.db'),
    flushMs: 10,
    retention: { maxAgeMs: 30 * DAY, maxEvents: 1000, maxSnapshotBytes: 1 << 20 },
    pruneEveryMs: 60_000,
    log: pino({ level: 'debug' }, { write: (s: string) => lines.push(JSON.parse(s)) }),
    registry,
    now: () => now,
    ...overrides,
  });
  const metric = async (name: string, labels: Record<string, string> = {}) => {
    const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
    return m?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value ?? 0;
  };
  return { dir, lines, registry, metric, options, setNow: (t: number) => (now = t), open: () => EventStore.open(options()) };
}

test('start, updates and end fold into one row: end time, highest peak, top-k of the best event', () => {
  const env = setup();
  const store = env.open();
  try {
    store.record(event('a', 'start', { at: T0 + 1000, score: 0.6 }));
    store.record(event('a', 'update', { at: T0 + 2000, score: 0.9 }));
    store.record(event('a', 'update', { at: T0 + 3000, score: 0.7, top: 0.9 }));
    assert.equal(store.get('a'), undefined, 'nothing written before the batch is flushed');
    store.flush();
    const open = store.get('a')!;
    assert.equal(open.endedAt, null);
    store.record(event('a', 'end', { at: T0 + 4000, score: 0.35, top: 0.92 }));
    store.flush();
    const a = store.get('a')!;
    assert.equal(a.startedAt, T0);
    assert.equal(a.endedAt, T0 + 4000);
    assert.equal(a.peakScore, 0.92);
    assert.deepEqual(a.top[0], { label: 'waving', score: 0.9 }, 'top-k of the best-scoring event, not of the last');
    assert.equal(a.region, null);
    assert.equal(a.snapshot, null);
    assert.deepEqual(a.model, { name: 'synthetic-actions', sha256: 'ab'.repeat(32) });
    assert.equal(store.query({ limit: 10 }).length, 1, 'one row per occurrence');
  } finally {
    store.close();
  }
});

test('queries filter by camera, label and time, newest first, limited; a batch is written by the timer', async () => {
  const env = setup();
  const store = env.open();
  try {
    for (let i = 0; i < 6; i++) {
      const at = T0 + i * 60_000;
      store.record(event(`e${i}`, 'start', { camera: i % 2 ? 'door' : 'yard', label: i < 3 ? 'waving' : 'falling', at, startedAt: at }));
    }
    const deadline = Date.now() + 10_000;
    while (store.query({ limit: 10 }).length < 6 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(store.query({ limit: 10 }).map((e) => e.id), ['e5', 'e4', 'e3', 'e2', 'e1', 'e0']);
    assert.deepEqual(store.query({ camera: 'door', limit: 10 }).map((e) => e.id), ['e5', 'e3', 'e1']);
    assert.deepEqual(store.query({ label: 'falling', camera: 'yard', limit: 10 }).map((e) => e.id), ['e4']);
    assert.deepEqual(store.query({ since: T0 + 2 * 60_000, limit: 10 }).map((e) => e.id), ['e5', 'e4', 'e3', 'e2']);
    assert.deepEqual(store.query({ before: T0 + 2 * 60_000, limit: 10 }).map((e) => e.id), ['e1', 'e0']);
    assert.deepEqual(store.query({ limit: 2 }).map((e) => e.id), ['e5', 'e4']);
    assert.equal(await env.metric('msta_event_store_writes_total'), 6);
    assert.equal(await env.metric('msta_event_store_events'), 6);
  } finally {
    store.close();
  }
});

test('the history survives a reopen; an occurrence left open by a killed run ends at its last clip', () => {
  const env = setup();
  const first = env.open();
  first.record(event('done', 'start', { at: T0 + 1000 }));
  first.record(event('done', 'end', { at: T0 + 5000 }));
  first.record(event('open', 'start', { at: T0 + 7000, startedAt: T0 + 6000 }));
  first.record(event('open', 'update', { at: T0 + 9000, startedAt: T0 + 6000 }));
  first.close();
  const second = EventStore.open({ ...env.options(), registry: new Registry() });
  try {
    assert.equal(second.get('done')!.endedAt, T0 + 5000);
    assert.equal(second.get('open')!.endedAt, T0 + 9000);
    assert.ok(env.lines.some((l) => l.msg.includes('left open by the previous run') && l.events === 1));
  } finally {
    second.close();
  }
});

test('retention: by age, then count, then snapshot bytes (files deleted, rows kept); counted', async () => {
  const env = setup({ retention: { maxAgeMs: 10 * DAY, maxEvents: 3, maxSnapshotBytes: 2500 } });
  // Retention runs at open and then once a minute of the store's clock.
  env.setNow(T0 - 60_000);
  const store = env.open();
  try {
    const snaps = join(env.dir, 'snaps');
    mkdirSync(snaps);
    // Five events a day apart, oldest 20 days before "now", each with a 1000-byte snapshot.
    const ids = ['d20', 'd4', 'd3', 'd2', 'd1'];
    const ages = [20, 4, 3, 2, 1];
    ids.forEach((id, i) => store.record(event(id, 'start', { startedAt: T0 - ages[i]! * DAY, at: T0 - ages[i]! * DAY + 1000 })));
    store.flush();
    for (const id of ids) {
      const file = join(snaps, `${id}.jpg`);
      writeFileSync(file, Buffer.alloc(1000));
      assert.ok(store.attachSnapshot(id, file, 1000));
    }
    assert.equal(store.attachSnapshot('nope', join(snaps, 'x.jpg'), 1), false, 'no such event');
    env.setNow(T0);
    store.record(event('new', 'start', { startedAt: T0, at: T0 + 1000 }));
    store.flush(); // a minute later: retention runs after this batch
    assert.deepEqual(store.query({ limit: 10 }).map((e) => e.id), ['new', 'd1', 'd2'], 'd20 too old, d4 and d3 beyond 3 events');
    // 2500 bytes: d1 and d2 keep theirs (new has none)... then one more snapshot pushes d2 out.
    assert.ok(store.get('d2')!.snapshot);
    writeFileSync(join(snaps, 'new.jpg'), Buffer.alloc(1000));
    store.attachSnapshot('new', join(snaps, 'new.jpg'), 1000);
    store.record(event('new', 'update', { startedAt: T0, at: T0 + 2000 }));
    store.flush();
    assert.ok(store.get('d2')!.snapshot, 'retention waits for its interval');
    env.setNow(T0 + 60_000);
    store.record(event('new', 'update', { startedAt: T0, at: T0 + 3000 }));
    store.flush();
    assert.equal(store.get('d2')!.snapshot, null, 'the oldest snapshot goes past the byte cap');
    assert.ok(store.get('d2'), 'the event itself stays');
    assert.deepEqual(store.get('d1')!.snapshot, { path: join(snaps, 'd1.jpg'), bytes: 1000 });
    const deadline = Date.now() + 10_000;
    while (['d20', 'd4', 'd3', 'd2'].some((id) => existsSync(join(snaps, `${id}.jpg`))) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    for (const id of ['d20', 'd4', 'd3', 'd2']) assert.ok(!existsSync(join(snaps, `${id}.jpg`)), `${id}.jpg deleted`);
    for (const id of ['d1', 'new']) assert.ok(existsSync(join(snaps, `${id}.jpg`)), `${id}.jpg kept`);
    assert.equal(await env.metric('msta_event_store_pruned_total', { reason: 'age' }), 1);
    assert.equal(await env.metric('msta_event_store_pruned_total', { reason: 'count' }), 2);
    assert.equal(await env.metric('msta_event_store_pruned_total', { reason: 'snapshot_bytes' }), 1);
  } finally {
    store.close();
  }
});

test('a write failure is counted, logged once per burst, shows in status, and writing resumes', async () => {
  const env = setup();
  const store = env.open();
  // Another process holding the write lock (a sqlite3 shell, say).
  const other = new Database(env.options().path);
  try {
    other.exec('BEGIN IMMEDIATE');
    store.record(event('x', 'start'));
    store.flush();
    store.record(event('x', 'update'));
    store.record(event('y', 'start'));
    store.flush();
    assert.equal(await env.metric('msta_event_store_failures_total', { op: 'write' }), 3);
    assert.equal(env.lines.filter((l) => l.msg.startsWith('event history: write failed')).length, 1, 'logged once for the burst');
    assert.equal(store.status().ok, false);
    assert.match(store.status().detail, /3 events lost/);
    other.exec('ROLLBACK');
    store.record(event('z', 'start'));
    store.flush();
    assert.ok(store.get('z'));
    assert.equal(store.status().ok, true);
    assert.ok(env.lines.some((l) => l.msg === 'event history: writing again' && l.lost === 3));
  } finally {
    other.close();
    store.close();
  }
});

test('a path that cannot hold a database is a config error naming events.path; a damaged file is moved aside and a new history started', async () => {
  const env = setup();
  const file = join(env.dir, 'plain-file');
  writeFileSync(file, 'x');
  const attempt = (path: string) => {
    try {
      EventStore.open({ ...env.options(), path, registry: new Registry() }).close();
    } catch (e) {
      return e;
    }
    return undefined;
  };
  const under = attempt(join(file, 'events.db'));
  assert.ok(isMstaError(under, 'CONFIG_INVALID'), String(under));
  assert.match(under.message, /^events\.path: cannot create the folder/);
  const dir = attempt(env.dir);
  assert.ok(isMstaError(dir, 'CONFIG_INVALID'), String(dir));
  assert.match(dir.message, /^events\.path: /);

  const damaged = join(env.dir, 'damaged.db');
  const garbage = Buffer.alloc(8192, 0x5a);
  writeFileSync(damaged, garbage);
  const fresh = EventStore.open({ ...env.options(), path: damaged });
  try {
    assert.deepEqual(fresh.query({ limit: 10 }), [], 'a new, empty history');
    fresh.record(event('after', 'start', { startedAt: T0, at: T0 + 1000 }));
    fresh.flush();
    assert.ok(fresh.get('after'), 'the new history takes events');
  } finally {
    fresh.close();
  }
  const aside = readdirSync(env.dir).filter((f) => f.startsWith('damaged.db.corrupt.'));
  assert.equal(aside.length, 1, `the damaged file is kept beside it: ${readdirSync(env.dir).join(', ')}`);
  assert.deepEqual(readFileSync(join(env.dir, aside[0]!)), garbage, 'byte for byte');
  assert.equal(await env.metric('msta_event_store_failures_total', { op: 'open' }), 1);
  const logged = env.lines.find((l) => l.msg.startsWith('event history: the database was damaged'));
  assert.ok(logged && logged.moved_to === join(env.dir, aside[0]!) && /file is not a database/.test(String(logged.reason)), JSON.stringify(logged));

  // A sound header over damaged pages: found by the check at open, not at the first write.
  const paged = join(env.dir, 'paged', 'events.db');
  const full = EventStore.open({ ...env.options(), path: paged, registry: new Registry() });
  for (let i = 0; i < 500; i++) full.record(event(`e${i}`, 'start', { startedAt: T0 + i, at: T0 + i + 1000 }));
  full.close();
  const fd = openSync(paged, 'r+');
  for (let page = 2; page < 12; page++) writeSync(fd, Buffer.alloc(64, 0xab), 0, 64, 4096 * page + 8);
  closeSync(fd);
  assert.equal(attempt(paged), undefined, 'opened after moving the damaged file aside');
  assert.ok(env.lines.some((l) => l.msg.startsWith('event history: the database was damaged') && /^quick_check: /.test(String(l.reason))), 'found by the check at open');
  assert.equal(readdirSync(join(env.dir, 'paged')).filter((f) => f.startsWith('events.db.corrupt.')).length, 1);

  const newer = join(env.dir, 'newer.db');
  const db = new Database(newer);
  db.pragma('user_version = 99');
  db.close();
  const future = attempt(newer);
  assert.ok(isMstaError(future, 'EVENTS_DB_FAILED'), String(future));
  assert.match(future.message, /newer msta-edge/);
});

test('config: the events section has its defaults, and a relative path is relative to the config file', () => {
  const defaults = parseConfig('{}', { file: '/etc/msta/c.yaml', env: {} }).events;
  assert.deepEqual(defaults, {
    enabled: true, path: '/etc/msta/.cache/events.db', flush_ms: 100,
    retention: { max_age_days: 30, max_events: 100_000, max_snapshot_bytes: 1024 ** 3, interval_s: 60 },
  });
  assert.equal(parseConfig('events:\n  path: history/e.db\n', { file: '/etc/msta/c.yaml', env: {} }).events.path, '/etc/msta/history/e.db');
  assert.throws(() => parseConfig('events:\n  retention:\n    max_events: 0\n', { file: '/etc/msta/c.yaml', env: {} }), /events\.retention\.max_events/);
});
