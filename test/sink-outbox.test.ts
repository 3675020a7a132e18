// The outbox over a real spool directory, with a fake publish function standing in for the
// broker: publish at once, delete on PUBACK (never a record left behind an acknowledged event),
// unreadable and corrupt records moved aside, events that cannot be spooled, the spool lock.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { isMstaError } from '../src/errors.js';
import { BurstLog } from '../src/sink/burst-log.js';
import { sinkMetrics } from '../src/sink/metrics.js';
import { Outbox } from '../src/sink/outbox.js';
import { Spool } from '../src/sink/spool.js';
import { tempDir } from './support/temp-dir.js';

const tmp = tempDir('msta-outbox-');
after(() => rmSync(tmp, { recursive: true, force: true }));
let dirs = 0;
const fresh = (): string => join(tmp, `o${dirs++}`);
const roomy = { maxMessages: 1000, maxBytes: 1 << 20 };

interface Sent {
  topic: string;
  payload: string;
  done: (err?: Error) => void;
}

async function harness(dir: string, opts: { ack?: 'now' | 'later'; connected?: boolean; onSend?: () => void } = {}) {
  const spool = await Spool.open(dir, roomy);
  const registry = new Registry();
  const metrics = sinkMetrics(registry);
  const sent: Sent[] = [];
  const logs: string[] = [];
  const state = { connected: opts.connected ?? true };
  const outbox = new Outbox({
    spool,
    send: (topic, payload, done) => {
      sent.push({ topic, payload, done });
      opts.onSend?.();
      if (opts.ack === 'now') done();
    },
    canSend: () => state.connected,
    window: () => 16,
    topicOf: (record) => {
      const camera = (JSON.parse(record) as { camera?: unknown }).camera;
      if (typeof camera !== 'string') throw new Error('no camera');
      return `msta/${camera}/events`;
    },
    metrics,
    log: { info: (m) => logs.push(`info ${m}`), warn: (m) => logs.push(`warn ${m}`), error: (m) => logs.push(`error ${m}`) },
  });
  const value = async (name: string, labels: Record<string, string> = {}): Promise<number> => {
    const { values } = await registry.getSingleMetric(name)!.get();
    return values.find((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want))?.value ?? Number.NaN;
  };
  const acks = async (): Promise<number> => Number(/^msta_mqtt_event_ack_seconds_count (\d+)$/m.exec(await registry.metrics())?.[1]);
  return { spool, outbox, sent, logs, state, value, acks };
}

const record = (n: number, camera = 'cam1'): string => JSON.stringify({ id: `e${n}`, camera });
const records = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('an event is published before its record is on disk; acknowledged at once, it never leaves a record behind', async () => {
  const dir = fresh();
  const h = await harness(dir, { ack: 'now' });
  const safe = Array.from({ length: 50 }, (_, n) => h.outbox.add(record(n)));
  await Promise.all(safe);
  await h.outbox.flushed();
  assert.deepEqual(h.sent.map((s) => JSON.parse(s.payload).id), Array.from({ length: 50 }, (_, n) => `e${n}`), 'every event, in order');
  assert.deepEqual(records(dir), [], 'no record left for an acknowledged event');
  assert.equal(h.spool.messages, 0);
  assert.equal(await h.value('msta_mqtt_published_total', { kind: 'event' }), 50);
  await h.outbox.close();
});

test('the first send happens before the record is durable; the record is deleted on the later PUBACK', async () => {
  const dir = fresh();
  let durableAtSend: boolean | undefined;
  let durable = false;
  const h = await harness(dir, { ack: 'later', onSend: () => (durableAtSend ??= durable) });
  const { spool } = h;
  const appended = spool.append.bind(spool);
  spool.append = (r) => {
    const res = appended(r);
    void res.durable.then(() => (durable = true));
    return res;
  };
  const safe = h.outbox.add(record(1));
  await until(() => h.sent.length === 1, 'the send');
  await safe;
  assert.equal(durableAtSend, false, 'sent while its write was still going on');
  assert.deepEqual(records(dir), ['0000000000000000.json'], 'durable and unacknowledged: on disk');
  h.sent[0]!.done();
  await until(() => records(dir).length === 0, 'the record deleted on PUBACK');
  await h.outbox.close();
});

test('onSent runs once, when the event is handed to the transport, or (offline) once it is durable; the PUBACK wait is observed apart', async () => {
  const dir = fresh();
  const h = await harness(dir, { ack: 'later' });
  const calls: number[] = [];
  const safe = h.outbox.add(record(1), () => calls.push(h.sent.length));
  await until(() => calls.length === 1, 'onSent');
  assert.deepEqual(calls, [1], 'when it is handed to the transport');
  await h.outbox.flushed();
  h.sent[0]!.done();
  await safe;
  assert.deepEqual(calls, [1], 'once: not again when durable or acknowledged');
  assert.equal(await h.acks(), 1);
  // Offline: nothing is sent; the event is handed over once it is durable in the spool.
  h.state.connected = false;
  const offline = h.outbox.add(record(2), () => calls.push(records(dir).length));
  await offline;
  assert.deepEqual(calls, [1, 1], 'offline: once its record is on disk');
  // Reconnected: sent from the spool, and onSent is not called a second time.
  h.state.connected = true;
  h.outbox.pump();
  await until(() => h.sent.length === 2, 'the spooled event sent');
  assert.deepEqual(calls, [1, 1]);
  assert.equal(await h.acks(), 1, 'observed on a PUBACK only');
  await h.outbox.close();
});

test('unacknowledged events stay in the spool for the next process, in order; one not acknowledged is sent again', async () => {
  const dir = fresh();
  const h = await harness(dir, { ack: 'later' });
  await Promise.all([0, 1, 2].map((n) => h.outbox.add(record(n))));
  h.sent[1]!.done(new Error('connection closed'));
  await until(() => h.sent.length >= 4, 'the resend');
  assert.equal(JSON.parse(h.sent[3]!.payload).id, 'e1');
  await h.outbox.close();
  const next = await harness(dir, { ack: 'now' });
  next.outbox.pump();
  await until(() => next.sent.length === 3, 'the backlog');
  assert.deepEqual(next.sent.map((s) => JSON.parse(s.payload).id), ['e0', 'e1', 'e2']);
  await next.outbox.close();
});

test('a send that fails while a later record is being read: the failed one goes out again first, then the rest, in order', async () => {
  const dir = fresh();
  mkdirSync(dir);
  for (let n = 0; n < 4; n++) writeFileSync(join(dir, `${String(n).padStart(16, '0')}.json`), record(n));
  const h = await harness(dir, { ack: 'later' });
  const read = h.spool.read.bind(h.spool);
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let reading3 = false;
  h.spool.read = async (seq) => {
    if (seq === 3 && !reading3) {
      reading3 = true;
      await held;
    }
    return read(seq);
  };
  h.outbox.pump();
  await until(() => h.sent.length === 3 && reading3, 'records 0-2 sent, 3 being read');
  h.sent[1]!.done(new Error('connection closed'));
  release();
  await until(() => h.sent.length >= 6, 'the resends');
  assert.deepEqual(h.sent.map((s) => JSON.parse(s.payload).id), ['e0', 'e1', 'e2', 'e1', 'e2', 'e3']);
  await h.outbox.close();
});

test('unreadable and corrupt records are moved to bad/, counted by reason, logged once per burst; the rest is delivered in order', async () => {
  const dir = fresh();
  mkdirSync(dir);
  writeFileSync(join(dir, '0000000000000000.json'), record(0));
  writeFileSync(join(dir, '0000000000000001.json'), '{"truncated');
  writeFileSync(join(dir, '0000000000000002.json'), '{"id":"no camera"}');
  // A record that cannot be read even as root: a directory where the file should be (EISDIR).
  mkdirSync(join(dir, '0000000000000003.json'));
  writeFileSync(join(dir, '0000000000000004.json'), record(4));
  const h = await harness(dir, { ack: 'now' });
  h.outbox.pump();
  await until(() => h.sent.length === 2 && h.spool.messages === 0, 'the good records delivered');
  assert.deepEqual(h.sent.map((s) => JSON.parse(s.payload).id), ['e0', 'e4']);
  assert.deepEqual(readdirSync(join(dir, 'bad')).sort(), ['0000000000000001.json', '0000000000000002.json', '0000000000000003.json']);
  assert.equal(await h.value('msta_mqtt_spool_dropped_total', { reason: 'corrupt' }), 2);
  assert.equal(await h.value('msta_mqtt_spool_dropped_total', { reason: 'unreadable' }), 1);
  const errors = h.logs.filter((l) => l.startsWith('error spooled record'));
  assert.equal(errors.filter((l) => l.includes('is corrupt')).length, 1, 'one log line for the burst of corrupt records');
  assert.ok(errors.some((l) => l.includes('is unreadable') && l.includes('EISDIR') && l.includes('moved to bad/')), errors.join('\n'));
  await h.outbox.close();
});

test('a record that cannot be moved aside is left in place and skipped, and the rest still goes out', async () => {
  const dir = fresh();
  mkdirSync(dir);
  writeFileSync(join(dir, '0000000000000000.json'), 'garbage');
  writeFileSync(join(dir, '0000000000000001.json'), record(1));
  writeFileSync(join(dir, 'bad'), 'a file where bad/ would go');
  const h = await harness(dir, { ack: 'now' });
  h.outbox.pump();
  await until(() => h.sent.length === 1, 'the good record');
  assert.deepEqual(records(dir), ['0000000000000000.json']);
  assert.ok(h.logs.some((l) => l.includes('left in place')), h.logs.join('\n'));
  await h.outbox.close();
});

test('an event that cannot be spooled: published while connected (not lost); offline it is lost, rejected and counted by reason', async () => {
  const dir = fresh();
  const h = await harness(dir, { ack: 'later' });
  rmSync(dir, { recursive: true });
  const connected = h.outbox.add(record(1));
  await until(() => h.sent.length === 1, 'the send');
  await h.outbox.flushed();
  h.sent[0]!.done();
  await connected;
  assert.equal(await h.value('msta_mqtt_events_lost_total', { reason: 'write_failed' }), 0);
  assert.ok(h.logs.some((l) => l.startsWith('error') && l.includes('published without spooling')), h.logs.join('\n'));

  h.state.connected = false;
  await assert.rejects(h.outbox.add(record(2)), { code: 'SPOOL_FAILED' });
  await assert.rejects(h.outbox.add(record(3)), { code: 'SPOOL_FAILED' });
  assert.equal(await h.value('msta_mqtt_events_lost_total', { reason: 'write_failed' }), 2);
  assert.equal(h.spool.messages, 0, 'lost events do not linger in memory');
  await h.outbox.close();
});

test('an unspooled event still unacknowledged at shutdown is counted lost', async () => {
  const dir = fresh();
  const h = await harness(dir, { ack: 'later' });
  rmSync(dir, { recursive: true });
  const pending = h.outbox.add(record(1)).then(() => 'resolved', (e: unknown) => e);
  await until(() => h.sent.length === 1, 'the send');
  await h.outbox.flushed();
  await h.outbox.close();
  assert.ok(isMstaError(await pending, 'SPOOL_FAILED'));
  assert.equal(await h.value('msta_mqtt_events_lost_total', { reason: 'write_failed' }), 1);
});

test('every labelled sink counter has a 0 sample for each known reason before anything happened', async () => {
  const h = await harness(fresh());
  for (const reason of ['full', 'rejected', 'unreadable', 'corrupt']) assert.equal(await h.value('msta_mqtt_spool_dropped_total', { reason }), 0);
  for (const reason of ['no_space', 'not_writable', 'write_failed']) assert.equal(await h.value('msta_mqtt_events_lost_total', { reason }), 0);
  for (const kind of ['event', 'status', 'state', 'scores', 'discovery']) assert.equal(await h.value('msta_mqtt_published_total', { kind }), 0);
  await h.outbox.close();
});

test('spool lock: a second open is refused while the first holds it; a dead owner\'s lock is taken over', async () => {
  const dir = fresh();
  const first = await Spool.open(dir, roomy);
  await assert.rejects(Spool.open(dir, roomy), (e: unknown) => {
    assert.ok(isMstaError(e, 'SPOOL_LOCKED'));
    assert.match(e.message, new RegExp(`${dir}: the spool directory is in use by another msta-edge \\(pid ${process.pid}`));
    return true;
  });
  // Another live process holding it.
  await first.close();
  const holder = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e',
    `import { Spool } from './src/sink/spool.ts'; await Spool.open(${JSON.stringify(dir)}, { maxMessages: 1, maxBytes: 1 }); process.stdout.write('locked\\n'); setInterval(() => {}, 1000);`,
  ], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((resolve, reject) => {
      holder.stdout.once('data', () => resolve());
      holder.once('exit', (code) => reject(new Error(`holder exited (${code})`)));
    });
    await assert.rejects(Spool.open(dir, roomy), (e: unknown) => isMstaError(e, 'SPOOL_LOCKED') && e.message.includes(`pid ${holder.pid}`));
  } finally {
    const gone = new Promise((r) => holder.once('exit', r));
    holder.kill('SIGKILL');
    await gone;
  }
  // SIGKILLed: its lock is stale.
  const taken = await Spool.open(dir, roomy);
  assert.equal(taken.lock.tookOverFrom, holder.pid);
  await taken.close();
  assert.ok(!readdirSync(dir).includes('spool.lock'), 'released on close');
});

test('burst log: the first failure of a burst is logged, repeats only counted until it has been quiet', () => {
  const lines: string[] = [];
  let now = 0;
  const burst = new BurstLog((m) => lines.push(m), 1000, () => now);
  burst.report('x', 'fail 1');
  now = 500;
  burst.report('x', 'fail 2');
  now = 1400;
  burst.report('x', 'fail 3');
  burst.report('y', 'other 1');
  now = 2500;
  burst.report('x', 'fail 4');
  assert.deepEqual(lines, ['fail 1', 'other 1', 'fail 4 (2 more like it in the previous burst)']);
});
