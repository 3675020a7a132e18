// Spool faults through real parts: a real Mosquitto, real file systems (a tmpfs remounted
// read-only, a tmpfs filled up), and a record the sink's own user cannot read (EACCES, the sink
// run as an unprivileged user when the tests run as root, where chmod does not stop reads).
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { createMqttSink, type MqttSink } from '../src/sink/mqtt-sink.js';
import type { ActionEvent } from '../src/types.js';
import { missingBrokerTools, startMosquitto, subscriber, type Mosquitto, type Received } from './support/mosquitto.js';
import { tempDir } from './support/temp-dir.js';

const tmp = tempDir('msta-spool-faults-');
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Mounts a tmpfs of `size` at a fresh folder; undefined when mounting is not allowed here. */
function mountTmpfs(size: string): { dir: string; remount(opts: string): void; umount(): void } | undefined {
  const dir = mkdtempSync(join(tmp, 'fs-'));
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]).status !== 0) return undefined;
  return {
    dir,
    remount: (opts) => {
      const r = spawnSync('mount', ['-o', `remount,${opts}`, dir]);
      assert.equal(r.status, 0, r.stderr.toString());
    },
    umount: () => void spawnSync('umount', ['-l', dir]),
  };
}

const probe = mountTmpfs('64k');
probe?.umount();
const noMount = probe ? undefined : 'mount -t tmpfs is not permitted here (needs root with CAP_SYS_ADMIN)';
const skip = missingBrokerTools();

let broker: Mosquitto;
before(async () => {
  if (!skip) broker = await startMosquitto();
});
after(async () => broker?.dispose());

function event(n: number): ActionEvent {
  const at = Date.UTC(2026, 0, 1) + n * 1000;
  return {
    id: `evt-${n}`, type: 'update', camera: 'cam1', region: null, label: 'falling', score: 0.7, topScore: 0.7,
    startedAt: at, endedAt: null, clip: { firstFrameAt: at, lastFrameAt: at, frames: 8, inferenceSeconds: 0.005 },
    top: [{ label: 'falling', score: 0.7 }], model: { name: 'm', sha256: '0'.repeat(64) }, snapshot: false,
  };
}

function makeSink(url: string, dir: string): { sink: MqttSink; registry: Registry; logs: string[] } {
  const logs: string[] = [];
  const registry = new Registry();
  const sink = createMqttSink({
    url, cameras: ['cam1'], spool: { dir }, registry, reconnectPeriodMs: 100,
    log: { info: (m) => logs.push(`info ${m}`), warn: (m) => logs.push(`warn ${m}`), error: (m) => logs.push(`error ${m}`) },
  });
  return { sink, registry, logs };
}

async function lost(registry: Registry, reason: string): Promise<number> {
  const { values } = await registry.getSingleMetric('msta_mqtt_events_lost_total')!.get();
  return values.find((v) => v.labels.reason === reason)?.value ?? Number.NaN;
}

const ids = (messages: Received[]): string[] => [...new Set(messages.map((m) => (JSON.parse(m.payload) as { id: string }).id))];
const deadUrl = (): string => broker.url.replace(/:\d+$/, ':1');

test('a read-only spool file system: start-up fails clearly; read-only at run time, events are still published while connected and counted lost while not', { skip: skip ?? noMount, timeout: 30_000 }, async () => {
  const fs = mountTmpfs('1m')!;
  try {
    fs.remount('ro');
    const refused = makeSink(broker.url, join(fs.dir));
    await assert.rejects(refused.sink.start(), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'SPOOL_FAILED');
      assert.match(e.message, new RegExp(`^${fs.dir}: cannot write to the spool directory \\(EROFS`));
      return true;
    });

    fs.remount('rw');
    const sub = await subscriber(broker.url, ['msta/cam1/events']);
    const online = makeSink(broker.url, fs.dir);
    await online.sink.start();
    await online.sink.whenConnected(5000);
    fs.remount('ro');
    for (let n = 0; n < 5; n++) await online.sink.publishEvent(event(n));
    await sub.waitFor(() => ids(sub.messages).length === 5, 5000, 'the 5 events');
    assert.deepEqual(ids(sub.messages), ['evt-0', 'evt-1', 'evt-2', 'evt-3', 'evt-4']);
    assert.equal(await lost(online.registry, 'not_writable'), 0);
    // The failed writes may end after their events were acknowledged.
    await online.sink.close(1000);
    assert.equal(online.logs.filter((l) => l.includes('published without spooling')).length, 1, `logged once for the burst:\n${online.logs.join('\n')}`);
    await sub.close();

    fs.remount('rw');
    const offline = makeSink(deadUrl(), fs.dir);
    await offline.sink.start();
    fs.remount('ro');
    for (let n = 0; n < 6; n++) await assert.rejects(offline.sink.publishEvent(event(n)), /EROFS/);
    assert.equal(await lost(offline.registry, 'not_writable'), 6, 'every lost event counted');
    assert.equal(offline.logs.filter((l) => l.includes('event lost')).length, 1, 'logged once per burst');
    await offline.sink.close(500);
  } finally {
    fs.umount();
  }
});

test('a full spool file system: events go out while connected; offline they are counted lost (no_space); room again, they are spooled', { skip: skip ?? noMount, timeout: 30_000 }, async () => {
  const fs = mountTmpfs('256k')!;
  try {
    const offline = makeSink(deadUrl(), join(fs.dir, 'spool'));
    await offline.sink.start();
    const sub = await subscriber(broker.url, ['msta/cam1/events']);
    const online = makeSink(broker.url, join(fs.dir, 'spool2'));
    await online.sink.start();
    await online.sink.whenConnected(5000);
    const filler = join(fs.dir, 'filler');
    const chunk = Buffer.alloc(4096, 1);
    try {
      for (let i = 0; ; i++) writeFileSync(filler, chunk, { flag: 'a' });
    } catch (e) {
      assert.equal((e as NodeJS.ErrnoException).code, 'ENOSPC');
    }
    for (let n = 0; n < 4; n++) await online.sink.publishEvent(event(n));
    await sub.waitFor(() => ids(sub.messages).length === 4, 5000, 'the 4 events');
    assert.equal(await lost(online.registry, 'no_space'), 0);

    for (let n = 0; n < 18; n++) await assert.rejects(offline.sink.publishEvent(event(n)), /ENOSPC/);
    assert.equal(await lost(offline.registry, 'no_space'), 18);
    assert.equal(offline.sink.spooled, 0);

    rmSync(filler);
    await offline.sink.publishEvent(event(100));
    assert.equal(offline.sink.spooled, 1, 'spooled again once there is room');
    assert.ok(readdirSync(join(fs.dir, 'spool')).includes('0000000000000018.json'));
    await online.sink.close(1000);
    await offline.sink.close(500);
    await sub.close();
  } finally {
    fs.umount();
  }
});

// The sink in a child process as an unprivileged user: it delivers the spool's backlog.
const CHILD = `
import { Registry } from 'prom-client';
import { createMqttSink } from './src/sink/mqtt-sink.ts';
const log = { info: (m) => process.stderr.write(m + '\\n'), warn: (m) => process.stderr.write(m + '\\n'), error: (m) => process.stderr.write(m + '\\n') };
const sink = createMqttSink({ url: process.env.SINK_URL, cameras: ['cam1'], spool: { dir: process.env.SPOOL_DIR }, registry: new Registry(), log, reconnectPeriodMs: 100 });
await sink.start();
const until = Date.now() + 10000;
while (sink.spooled > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
await sink.close(2000);
`;

test('a record the daemon cannot read (EACCES) is moved to bad/ and logged; every other record is delivered, in order', { skip, timeout: 30_000 }, async () => {
  const dir = join(tmp, 'eacces');
  mkdirSync(dir);
  for (let n = 0; n < 14; n++) writeFileSync(join(dir, `${String(n).padStart(16, '0')}.json`), JSON.stringify(event(n)));
  const unreadable = join(dir, '0000000000000003.json');
  chmodSync(unreadable, 0o000);
  // As root, chmod does not stop reads: run the sink as `nobody`, owner of the spool but not of that record.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    chmodSync(tmp, 0o755);
    chownSync(dir, 65534, 65534);
    for (const f of readdirSync(dir)) if (join(dir, f) !== unreadable) chownSync(join(dir, f), 65534, 65534);
  }
  const sub = await subscriber(broker.url, ['msta/cam1/events']);
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], {
      env: { ...process.env, SINK_URL: broker.url, SPOOL_DIR: dir },
      stdio: ['ignore', 'inherit', 'pipe'],
      ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 0, stderr);
    assert.deepEqual(ids(sub.messages), Array.from({ length: 14 }, (_, n) => `evt-${n}`).filter((id) => id !== 'evt-3'));
    assert.deepEqual(readdirSync(join(dir, 'bad')), ['0000000000000003.json']);
    assert.match(stderr, /spooled record 3 is unreadable \(.*EACCES.*\): moved to bad\//);
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.json')), [], 'the spool is empty');
  } finally {
    await sub.close();
  }
});
