// Snapshots downstream of the source, with the source faked: the daemon's JPEG ring and live
// leases, which JPEG an event keeps and when, the event history's snapshot files (real SQLite,
// real files), the region filter, and /api/cameras/<id>/latest.jpg on the real HTTP server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { Subject } from 'rxjs';
import { apiRoutes } from '../src/api/api-routes.js';
import { EventSnapshots, keyFrameTime } from '../src/daemon/event-snapshots.js';
import { nearestSnapshot, SnapshotHub } from '../src/daemon/snapshot-hub.js';
import { EventStore } from '../src/events/event-store.js';
import { snapshotFileName } from '../src/events/snapshot-files.js';
import { createRegistry } from '../src/metrics/create-registry.js';
import { startHttpServer } from '../src/metrics/http-server.js';
import type { ActionEvent, ActionEventType, Snapshot } from '../src/types.js';
import { tempDir } from './support/temp-dir.js';

const T0 = Date.parse('2026-12-01T10:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
const jpeg = (tag: number) => Buffer.from([0xff, 0xd8, tag, 0xff, 0xd9]);
const snap = (at: number, tag = at % 250): Snapshot => ({ camera: 'yard', capturedAt: at, width: 640, height: 360, jpeg: jpeg(tag) });

function event(id: string, type: ActionEventType, score: number, clipStart: number, camera = 'yard'): ActionEvent {
  return {
    id, type, camera, region: null, label: 'waving', score, topScore: score, startedAt: T0, endedAt: type === 'end' ? clipStart + 2000 : null,
    clip: { firstFrameAt: clipStart, lastFrameAt: clipStart + 2000, frames: 8, inferenceSeconds: 0.005 }, top: [{ label: 'waving', score }],
    model: { name: 'm', sha256: 'ab'.repeat(32) }, snapshot: false,
  };
}

class FakeSource {
  readonly snapshots = new Subject<Snapshot>();
  readonly live: boolean[] = [];
  setLiveSnapshots(on: boolean): void {
    this.live.push(on);
  }
}

test('nearestSnapshot: the closest capture within the tolerance, else none', () => {
  const ring = [snap(T0), snap(T0 + 500), snap(T0 + 1000)];
  assert.equal(nearestSnapshot(ring, T0 + 600, 3000)?.capturedAt, T0 + 500);
  assert.equal(nearestSnapshot(ring, T0 + 900, 3000)?.capturedAt, T0 + 1000);
  assert.equal(nearestSnapshot(ring, T0 + 5000, 3000), undefined, 'too far from any');
  assert.equal(nearestSnapshot([], T0, 3000), undefined);
  assert.equal(keyFrameTime(event('a', 'start', 0.7, T0)), T0 + 1000);
});

test('the hub: a bounded ring; asking for the newest turns live encoding on for the lease, then off', async () => {
  let now = T0;
  const hub = new SnapshotHub({ ringMs: 2000, ringMax: 3, liveLeaseMs: 150, freshMs: 1000, waitMs: 200, now: () => now });
  const source = new FakeSource();
  hub.attach('yard', source);
  try {
    for (const at of [T0, T0 + 500, T0 + 1000, T0 + 1500]) source.snapshots.next(snap(at));
    assert.equal(hub.nearest('yard', T0, 10_000)?.capturedAt, T0 + 500, 'at most 3 kept: the oldest left');
    source.snapshots.next(snap(T0 + 3000));
    assert.equal(hub.nearest('yard', T0, 10_000)?.capturedAt, T0 + 1000, 'the count bound again');
    source.snapshots.next(snap(T0 + 3600));
    assert.equal(hub.nearest('yard', T0, 10_000)?.capturedAt, T0 + 3000, 'more than 2 s before the newest: gone');
    assert.equal(hub.nearest('other', T0, 10_000), undefined);

    // Fresh: served at once, and live encoding is on.
    now = T0 + 3200;
    assert.equal((await hub.latest('yard'))?.capturedAt, T0 + 3600);
    assert.deepEqual(source.live, [true]);
    // Stale: the next JPEG is awaited...
    now = T0 + 9000;
    const waiting = hub.latest('yard');
    setTimeout(() => source.snapshots.next(snap(T0 + 9100)), 20);
    assert.equal((await waiting)?.capturedAt, T0 + 9100);
    // ...or none within waitMs.
    now = T0 + 20_000;
    assert.equal(await hub.latest('yard'), undefined);
    assert.deepEqual(source.live, [true], 'renewed, never switched again while asked');
    // Nobody asks: off once the lease ends (the clock moved past it).
    now = T0 + 30_000;
    const deadline = Date.now() + 5000;
    while (source.live.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(source.live, [true, false]);
  } finally {
    hub.close();
  }
  assert.equal(source.snapshots.observed, false, 'closing unsubscribes');
});

test('event snapshots: taken at the start, replaced by a better-scoring update only; none where disabled; end says it had one', () => {
  const ring = new Map<string, Snapshot[]>([['yard', [snap(T0 + 1000, 1), snap(T0 + 11_000, 2), snap(T0 + 21_000, 3)]]]);
  const saved: [string, number][] = [];
  const published: [string, number][] = [];
  const enabled = new Set(['yard']);
  const e = new EventSnapshots({
    enabled: (c) => enabled.has(c),
    nearest: (c, at, max) => nearestSnapshot(ring.get(c) ?? [], at, max),
    save: (id, j) => (saved.push([id, j[2]!]), Promise.resolve(true)),
    publish: (c, j) => published.push([c, j[2]!]),
  });
  assert.equal(e.onEvent(event('a', 'start', 0.7, T0)).snapshot, true);
  assert.equal(e.onEvent(event('a', 'update', 0.65, T0 + 10_000)).snapshot, true, 'lower score: kept the first');
  assert.equal(e.onEvent(event('a', 'update', 0.9, T0 + 20_000)).snapshot, true);
  assert.deepEqual(saved, [['a', 1], ['a', 3]], 'the key frame of the start, then of the best update');
  assert.deepEqual(published, [['yard', 1], ['yard', 3]]);
  assert.equal(e.onEvent(event('a', 'end', 0.3, T0 + 30_000)).snapshot, true);
  // No JPEG near the key frame: none (and no file), tried again at the next update.
  assert.equal(e.onEvent(event('b', 'start', 0.7, T0 + 40_000)).snapshot, false);
  assert.equal(e.onEvent(event('b', 'update', 0.5, T0 + 20_000)).snapshot, true, 'the first JPEG at hand is taken even at a lower score');
  // Disabled camera: never, even with JPEGs (encoded for someone watching live).
  ring.set('porch', [snap(T0 + 1000)]);
  assert.equal(e.onEvent(event('c', 'start', 0.9, T0, 'porch')).snapshot, false);
  assert.equal(e.onEvent(event('c', 'end', 0.1, T0, 'porch')).snapshot, false);
  assert.equal(saved.length, 3);
});

test('the event store keeps snapshot files beside its database, replaces them, and filters by region', async () => {
  const dir = tempDir('msta-snap-store-');
  const open = () =>
    EventStore.open({
      path: join(dir, 'db', 'events.db'), flushMs: 0, pruneEveryMs: 60_000, registry: new Registry(), log: pino({ level: 'silent' }),
      retention: { maxAgeMs: 1e15, maxEvents: 1000, maxSnapshotBytes: 1e9 },
    });
  let store = open();
  const id = '5b2f7a4e-0c1d-4e7a-9a51-0d6a8f1b2c3d';
  store.record({ ...event(id, 'start', 0.7, T0), region: 'door' }, 'door');
  store.record(event('other', 'start', 0.7, T0));
  assert.equal(await store.saveSnapshot(id, jpeg(1)), true);
  const file = join(dir, 'db', 'snapshots', `${id}.jpg`);
  assert.deepEqual(store.get(id)!.snapshot, { path: file, bytes: 5 });
  assert.equal(await store.saveSnapshot(id, Buffer.concat([jpeg(2), Buffer.alloc(10)])), true);
  assert.equal(readFileSync(file)[2], 2, 'replaced in place');
  assert.equal(store.get(id)!.snapshot!.bytes, 15);
  assert.equal(await store.saveSnapshot('no-such-event', jpeg(3)), false);
  assert.ok(!existsSync(join(dir, 'db', 'snapshots', 'no-such-event.jpg')), 'no file left for an event that is not there');
  assert.match(snapshotFileName('../../etc/passwd'), /^[0-9a-f]{64}\.jpg$/);
  assert.deepEqual(store.query({ region: 'door', limit: 10 }).map((e) => e.id), [id]);
  store.close();
  store = open();
  try {
    assert.equal(store.get(id)!.snapshot!.path, file, 'still there after reopening');
  } finally {
    store.close();
  }
});

test('/api/cameras/<id>/latest.jpg: the newest JPEG, 404 in JSON for none or an unknown camera; /api/events?region=', async () => {
  let latest: Snapshot | undefined;
  const asked: string[] = [];
  const routes = apiRoutes({
    events: { query: (f) => (f.region === 'door' ? [] : []), get: () => undefined },
    cameras: () => [{ id: 'yard', status: { camera: 'yard', state: 'streaming', since: T0, reconnects: 0 } }],
    latestSnapshot: (c) => (asked.push(c), Promise.resolve(latest)),
    onError: (e) => assert.fail(e),
  });
  const http = await startHttpServer('127.0.0.1:0', { registry: createRegistry(), health: () => ({ ok: true, checks: {} }), ready: () => ({ ok: true, checks: {} }), routes });
  const base = `http://${http.address}`;
  try {
    const none = await fetch(`${base}/api/cameras/yard/latest.jpg`);
    assert.equal(none.status, 404);
    assert.match(((await none.json()) as { error: string }).error, /no snapshot of camera yard yet \(it is streaming\)/);
    latest = snap(T0 + 500, 9);
    const got = await fetch(`${base}/api/cameras/yard/latest.jpg`);
    assert.equal(got.status, 200);
    assert.equal(got.headers.get('content-type'), 'image/jpeg');
    assert.equal(got.headers.get('x-captured-at'), iso(T0 + 500));
    assert.ok(Buffer.from(await got.arrayBuffer()).equals(latest.jpeg));
    const unknown = await fetch(`${base}/api/cameras/porch/latest.jpg`);
    assert.equal(unknown.status, 404);
    assert.match(((await unknown.json()) as { error: string }).error, /no camera porch \(cameras: yard\)/);
    assert.deepEqual(asked, ['yard', 'yard']);
    assert.equal((await fetch(`${base}/api/events?region=door`)).status, 200);
    const empty = await fetch(`${base}/api/events?region=`);
    assert.equal(empty.status, 400);
  } finally {
    await http.close();
  }
});

test('a snapshot file that cannot be written: the event is kept without it, counted', async () => {
  const dir = tempDir('msta-snap-fail-');
  writeFileSync(join(dir, 'in-the-way'), 'a file where the snapshot folder should be');
  const registry = new Registry();
  const store = EventStore.open({
    path: join(dir, 'events.db'), flushMs: 0, pruneEveryMs: 60_000, registry, log: pino({ level: 'silent' }), snapshotDir: join(dir, 'in-the-way'),
    retention: { maxAgeMs: 1e15, maxEvents: 1000, maxSnapshotBytes: 1e9 },
  });
  try {
    store.record(event('a', 'start', 0.7, T0));
    assert.equal(await store.saveSnapshot('a', jpeg(1)), false);
    assert.equal(store.get('a')!.snapshot, null);
    const failures = (await registry.getSingleMetric('msta_event_store_failures_total')!.get()).values.find((v) => v.labels.op === 'write_snapshot')!.value;
    assert.equal(failures, 1);
  } finally {
    store.close();
  }
});

test('config: snapshots off by default, 640 wide; bad values named at the camera path', async () => {
  const { configSchema } = await import('../src/config/schema.js');
  const ok = configSchema.parse({ cameras: [{ id: 'a', url: 'test://smpte' }] });
  assert.deepEqual(ok.cameras[0]!.snapshots, { enabled: false, width: 640, quality: 80, fps: 2 });
  const bad = configSchema.safeParse({ cameras: [{ id: 'a', url: 'test://smpte', snapshots: { enabled: true, width: 8, qualty: 50, fps: 0 } }] });
  assert.equal(bad.success, false);
  const paths = bad.error!.issues.map((i) => i.path.join('.')).sort();
  assert.deepEqual(paths, ['cameras.0.snapshots', 'cameras.0.snapshots.fps', 'cameras.0.snapshots.width']);
  assert.match(bad.error!.issues.find((i) => i.path.length === 3)!.message, /qualty/);
});
