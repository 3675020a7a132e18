// The /api routes on the real HTTP server over a real SQLite event history, asked by a real
// HTTP client (fetch): documents, filters, validation errors naming the parameter, snapshots.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { apiRoutes, type ApiDeps } from '../src/api/api-routes.js';
import { parseTime } from '../src/api/event-query.js';
import { EventStore } from '../src/events/event-store.js';
import { createRegistry } from '../src/metrics/create-registry.js';
import { startHttpServer } from '../src/metrics/http-server.js';
import type { ActionEvent } from '../src/types.js';
import { tempDir } from './support/temp-dir.js';

const T0 = Date.parse('2026-11-30T10:00:00.000Z');

function event(id: string, camera: string, label: string, startedAt: number, end?: number): ActionEvent {
  const at = end ?? startedAt + 1000;
  return {
    id, type: end === undefined ? 'start' : 'end', camera, region: null, label, score: 0.8, topScore: 0.85,
    startedAt, endedAt: end ?? null,
    clip: { firstFrameAt: at - 1000, lastFrameAt: at, frames: 8, inferenceSeconds: 0.005 },
    top: [{ label, score: 0.8 }], model: { name: 'synthetic-actions', sha256: 'cd'.repeat(32) }, snapshot: false,
  };
}

async function serve(deps: Partial<ApiDeps> & Pick<ApiDeps, 'events'>) {
  const errors: string[] = [];
  const http = await startHttpServer('127.0.0.1:0', {
    registry: createRegistry(),
    health: () => ({ ok: true, checks: {} }),
    ready: () => ({ ok: true, checks: {} }),
    routes: apiRoutes({ cameras: () => [], onError: (e, path) => errors.push(`${path}: ${e.message}`), ...deps }),
  });
  const get = async (path: string, init?: RequestInit) => {
    const r = await fetch(`http://${http.address}${path}`, init);
    const type = r.headers.get('content-type') ?? '';
    const bytes = Buffer.from(await r.arrayBuffer());
    const body = (type.startsWith('application/json') ? JSON.parse(bytes.toString('utf8')) : {}) as Record<string, unknown>;
    return { status: r.status, type, body, bytes };
  };
  return { http, get, errors };
}

test('/api/events lists, filters and pages the history newest first; /api/events/<id> is one event', async () => {
  const dir = tempDir('msta-api-');
  const store = EventStore.open({
    path: join(dir, 'events.db'), flushMs: 0, pruneEveryMs: 60_000, registry: new Registry(), log: pino({ level: 'silent' }),
    retention: { maxAgeMs: 1e15, maxEvents: 1000, maxSnapshotBytes: 1e9 },
  });
  store.record(event('a', 'yard', 'waving', T0, T0 + 3000));
  store.record(event('b', 'door', 'waving', T0 + 60_000));
  store.record(event('c', 'yard', 'falling', T0 + 120_000));
  store.flush();
  const { http, get } = await serve({ events: store });
  try {
    const all = await get('/api/events');
    assert.equal(all.status, 200);
    assert.match(all.type, /^application\/json/);
    const events = all.body.events as Record<string, unknown>[];
    assert.deepEqual(events.map((e) => e.id), ['c', 'b', 'a']);
    assert.deepEqual(events[2], {
      id: 'a', camera: 'yard', region: null, label: 'waving', started_at: '2026-11-30T10:00:00.000Z', ended_at: '2026-11-30T10:00:03.000Z',
      peak_score: 0.85, top: [{ label: 'waving', score: 0.8 }], model: { name: 'synthetic-actions', sha256: 'cd'.repeat(32) }, snapshot: false, snapshot_url: null,
    });
    const ids = async (q: string) => ((await get(`/api/events?${q}`)).body.events as { id: string }[]).map((e) => e.id);
    assert.deepEqual(await ids('camera=yard'), ['c', 'a']);
    assert.deepEqual(await ids('label=waving&camera=door'), ['b']);
    assert.deepEqual(await ids(`since=${T0 + 60_000}`), ['c', 'b']);
    assert.deepEqual(await ids('since=2026-11-30T10:01:00Z'), ['c', 'b']);
    assert.deepEqual(await ids('limit=1'), ['c']);
    assert.deepEqual(await ids(`limit=2&before=${T0 + 60_000}`), ['a']);
    assert.deepEqual(await ids('camera=attic'), []);

    const one = await get('/api/events/b');
    assert.equal(one.status, 200);
    assert.equal(one.body.id, 'b');
    assert.equal(one.body.ended_at, null);
    const missing = await get('/api/events/zzz');
    assert.equal(missing.status, 404);
    assert.match(String(missing.body.error), /no event zzz/);
  } finally {
    await http.close();
    store.close();
  }
});

test('bad query values are a 400 naming the parameter', async () => {
  const dir = tempDir('msta-api-');
  const store = EventStore.open({
    path: join(dir, 'events.db'), flushMs: 0, pruneEveryMs: 60_000, registry: new Registry(), log: pino({ level: 'silent' }),
    retention: { maxAgeMs: 1e15, maxEvents: 1000, maxSnapshotBytes: 1e9 },
  });
  const { http, get } = await serve({ events: store });
  try {
    for (const [query, parameter] of [
      ['limit=0', 'limit'], ['limit=1001', 'limit'], ['limit=ten', 'limit'], ['limit=2.5', 'limit'],
      ['since=yesterday', 'since'], ['since=2026-13-45', 'since'], ['before=-5', 'before'],
      ['camera=', 'camera'], ['label=a&label=b', 'label'], ['cam=yard', 'cam'],
    ] as const) {
      const r = await get(`/api/events?${query}`);
      assert.equal(r.status, 400, query);
      assert.equal(r.body.parameter, parameter, query);
      assert.match(String(r.body.error), new RegExp(`^${parameter}: `), query);
    }
  } finally {
    await http.close();
    store.close();
  }
});

test('parseTime takes epoch ms and ISO 8601, nothing else', () => {
  assert.equal(parseTime('1764496800000'), 1764496800000);
  assert.equal(parseTime('2026-11-30T10:00:00Z'), T0);
  assert.equal(parseTime('2026-11-30T11:00:00+01:00'), T0);
  assert.equal(parseTime('2026-11-30'), Date.parse('2026-11-30'));
  for (const bad of ['', 'now', '1e12', 'Mon, 30 Nov 2026', '2026-11-30T99:00:00Z']) assert.equal(parseTime(bad), undefined, bad);
});

test('a snapshot is 404 until the event has one, then its JPEG (HEAD too); gone again when its file is', async () => {
  const dir = tempDir('msta-api-');
  const store = EventStore.open({
    path: join(dir, 'events.db'), flushMs: 0, pruneEveryMs: 60_000, registry: new Registry(), log: pino({ level: 'silent' }),
    retention: { maxAgeMs: 1e15, maxEvents: 1000, maxSnapshotBytes: 1e9 },
  });
  store.record(event('a', 'yard', 'waving', T0));
  store.flush();
  const { http, get } = await serve({ events: store });
  try {
    const none = await get('/api/events/a/snapshot.jpg');
    assert.equal(none.status, 404);
    assert.match(String(none.body.error), /has no snapshot/);
    const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(3000, 7), Buffer.from([0xff, 0xd9])]);
    const file = join(dir, 'a.jpg');
    writeFileSync(file, jpeg);
    store.attachSnapshot('a', file, jpeg.length);
    assert.equal((await get('/api/events/a')).body.snapshot_url, '/api/events/a/snapshot.jpg');
    const got = await get('/api/events/a/snapshot.jpg');
    assert.equal(got.status, 200);
    assert.equal(got.type, 'image/jpeg');
    assert.ok(jpeg.equals(got.bytes));
    const head = await fetch(`http://${http.address}/api/events/a/snapshot.jpg`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(jpeg.length));
    rmSync(file);
    const gone = await get('/api/events/a/snapshot.jpg');
    assert.equal(gone.status, 404);
    assert.match(String(gone.body.error), /is gone/);
  } finally {
    await http.close();
    store.close();
  }
});

test('/api/cameras lists cameras and states; other /api paths, a disabled history and internal failures answer JSON', async () => {
  const failing = { query: () => { throw new Error('disk I/O error'); }, get: () => undefined };
  const cameras = () => [{ id: 'yard', status: { camera: 'yard', state: 'streaming' as const, since: T0, reconnects: 2 } }, { id: 'door', status: undefined }];
  const a = await serve({ events: failing, cameras });
  const b = await serve({ events: undefined });
  try {
    const list = await a.get('/api/cameras');
    assert.equal(list.status, 200);
    assert.deepEqual(list.body, { cameras: [{ id: 'yard', state: 'streaming', since: '2026-11-30T10:00:00.000Z', reconnects: 2 }, { id: 'door', state: 'connecting', since: null, reconnects: 0 }] });
    const broken = await a.get('/api/events');
    assert.equal(broken.status, 500);
    assert.match(String(broken.body.error), /disk I\/O error/);
    assert.deepEqual(a.errors, ['/api/events: disk I/O error']);
    const other = await a.get('/api/nothing');
    assert.equal(other.status, 404);
    assert.match(String(other.body.error), /try \/api\/events/);
    assert.equal((await a.get('/api/events', { method: 'DELETE' })).status, 405);
    assert.equal((await a.get('/metrics')).status, 200, 'the other routes still answer');
    const disabled = await b.get('/api/events');
    assert.equal(disabled.status, 404);
    assert.match(String(disabled.body.error), /events\.enabled: false/);
  } finally {
    await a.http.close();
    await b.http.close();
  }
});
