// The MQTT sink through a real Mosquitto 2: API v1 payloads (checked against docs/schemas),
// retained status with last will, republish after a broker restart, the spool across outages.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import { Ajv, type ValidateFunction } from 'ajv';
import { Registry } from 'prom-client';
import { createMqttSink, type MqttSink, type MqttSinkOptions } from '../src/sink/mqtt-sink.js';
import { eventPayload, type EventPayload } from '../src/sink/payloads.js';
import type { ActionEvent, CameraStatus, Clip } from '../src/types.js';
import { missingBrokerTools, startMosquitto, subscriber, type Mosquitto, type Received } from './support/mosquitto.js';
import { tempDir } from './support/temp-dir.js';

const skip = missingBrokerTools();
const tmp = tempDir('msta-sink-');
after(() => rmSync(tmp, { recursive: true, force: true }));

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

function event(camera: string, n: number, type: ActionEvent['type'] = 'update'): ActionEvent {
  const at = T0 + n * 1000;
  return {
    id: `${camera}-${n}`,
    type,
    camera,
    region: null,
    label: 'waving hand',
    score: 0.8,
    topScore: 0.9,
    startedAt: T0,
    endedAt: type === 'end' ? at : null,
    clip: { firstFrameAt: at - 800, lastFrameAt: at, frames: 8, inferenceSeconds: 0.005 },
    top: [
      { label: 'waving hand', score: 0.8 },
      { label: 'clapping', score: 0.15 },
    ],
    model: { name: 'msta-test', sha256: 'ab'.repeat(32) }, snapshot: false,
  };
}

function status(camera: string, state: CameraStatus['state'], reconnects = 0): CameraStatus {
  return { camera, state, since: T0 + reconnects, reconnects, ...(state === 'offline' ? { reason: 'EOS' } : {}) };
}

function clip(camera: string, seq: number): Omit<Clip, 'data'> {
  return { camera, region: null, seq, frames: 8, height: 224, width: 224, firstFrameAt: T0 + seq * 100, lastFrameAt: T0 + seq * 100 + 700 };
}

interface Harness {
  sink: MqttSink;
  registry: Registry;
  logs: string[];
}

let spools = 0;
function makeSink(url: string, extra: Partial<MqttSinkOptions> = {}): Harness {
  const logs: string[] = [];
  const registry = new Registry();
  const sink = createMqttSink({
    url,
    cameras: ['cam1', 'cam2'],
    spool: { dir: join(tmp, `spool-${spools++}`) },
    registry,
    log: { info: (m) => logs.push(`info ${m}`), warn: (m) => logs.push(`warn ${m}`), error: (m) => logs.push(`error ${m}`) },
    reconnectPeriodMs: 100,
    keepaliveSeconds: 5,
    ...extra,
  });
  return { sink, registry, logs };
}

async function metric(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = registry.getSingleMetric(name);
  assert.ok(m, `metric ${name} registered`);
  const { values } = await m.get();
  const v = values.find((x) => Object.entries(labels).every(([k, want]) => x.labels[k] === want));
  return v?.value ?? 0;
}

function schemas(): Record<string, ValidateFunction> {
  const ajv = new Ajv({ allErrors: true, strict: true });
  ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
  const dir = 'docs/schemas';
  return Object.fromEntries(
    readdirSync(dir).map((f) => [f.replace('.schema.json', ''), ajv.compile(JSON.parse(readFileSync(join(dir, f), 'utf8')) as object)]),
  );
}

function assertValid(validate: ValidateFunction | undefined, data: unknown, what: string): void {
  assert.ok(validate, `a schema for ${what}`);
  assert.ok(validate(data), `${what} ${JSON.stringify(data)} does not match its schema: ${JSON.stringify(validate.errors)}`);
}

function ids(messages: Received[]): string[] {
  return messages.map((m) => (JSON.parse(m.payload) as EventPayload).id);
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

let broker: Mosquitto;
before(async () => {
  if (!skip) broker = await startMosquitto();
});
after(async () => broker?.dispose());

for (const protocolVersion of [5, 4] as const) {
  test(`MQTT ${protocolVersion === 5 ? '5' : '3.1.1'}: every payload kind arrives on its topic with its QoS and retain flag, and matches its schema`, { skip }, async () => {
    const validate = schemas();
    const sub = await subscriber(broker.url, ['msta/#'], { protocolVersion });
    const { sink, registry } = makeSink(broker.url, { protocolVersion, publishScores: true, baseTopic: 'msta' });
    try {
      await sink.start();
      await sink.whenConnected(5000);
      sink.publishStatus(status('cam1', 'streaming'));
      sink.publishStatus(status('cam2', 'offline', 3));
      sink.publishState({ camera: 'cam1', label: 'waving hand', score: 0.8, since: T0 });
      sink.publishState({ camera: 'cam2', label: null, score: 0.2, since: T0 });
      sink.publishScores({ clip: clip('cam1', 7), top: [{ label: 'waving hand', score: 0.7 }] });
      const sent = [event('cam1', 1, 'start'), event('cam1', 2, 'update'), event('cam1', 3, 'end')];
      let handed = 0;
      for (const e of sent) await sink.publishEvent(e, () => handed++);
      assert.equal(handed, sent.length, 'onSent once per event, through the real broker connection');

      const online = await sub.waitFor((m) => m.topic === 'msta/status' && m.payload === 'online', 5000, 'online');
      await sub.waitFor((m) => m.topic === 'msta/cam1/events' && m.payload.includes('"cam1-3"'), 5000, 'the end event');
      await sub.waitFor((m) => m.topic === 'msta/cam1/scores', 5000, 'scores');
      await sub.waitFor((m) => m.topic === 'msta/cam2/state', 5000, 'cam2 state');

      assertValid(validate['bridge-status'], online.payload, 'msta/status');
      const events = sub.on('msta/cam1/events');
      assert.deepEqual(events.map((m) => JSON.parse(m.payload) as unknown), sent.map(eventPayload), 'events arrive as published, in order');
      // The wire format of v1, byte for byte (key order included): the domain event's epoch-ms times become ISO strings here.
      assert.equal(
        events[2]!.payload,
        '{"v":1,"id":"cam1-3","type":"end","camera":"cam1","region":null,"label":"waving hand","score":0.8,"top_score":0.9,"started_at":"2026-01-01T12:00:00.000Z","ended_at":"2026-01-01T12:00:03.000Z",' +
          '"clip":{"first_frame_at":"2026-01-01T12:00:02.200Z","last_frame_at":"2026-01-01T12:00:03.000Z","frames":8},"top":[{"label":"waving hand","score":0.8},{"label":"clapping","score":0.15}],' +
          '"model":{"name":"msta-test","sha256":"' + 'ab'.repeat(32) + '"},"snapshot":false}',
      );
      assert.match(events[0]!.payload, /"started_at":"2026-01-01T12:00:00.000Z","ended_at":null,"clip"/);
      for (const m of events) {
        assert.equal(m.qos, 1);
        assert.equal(m.retain, false);
        assertValid(validate.event, JSON.parse(m.payload), 'event');
      }
      const cam2Status = sub.on('msta/cam2/status')[0]!;
      assert.deepEqual(JSON.parse(cam2Status.payload), { state: 'offline', since: iso(T0 + 3), reconnects: 3, reason: 'EOS' });
      assert.deepEqual(JSON.parse(sub.on('msta/cam2/state')[0]!.payload), { label: null, score: 0.2, since: iso(T0) });
      for (const topic of ['msta/cam1/status', 'msta/cam2/status']) assertValid(validate['camera-status'], JSON.parse(sub.on(topic)[0]!.payload), topic);
      for (const topic of ['msta/cam1/state', 'msta/cam2/state']) assertValid(validate.state, JSON.parse(sub.on(topic)[0]!.payload), topic);
      const scores = sub.on('msta/cam1/scores')[0]!;
      assert.equal(scores.qos, 0);
      assertValid(validate.scores, JSON.parse(scores.payload), 'scores');

      // Retained: a late subscriber gets the bridge status, statuses and states at once, not events.
      const late = await subscriber(broker.url, ['msta/#'], { protocolVersion });
      try {
        await late.waitFor((m) => m.topic === 'msta/cam2/state', 5000, 'retained state');
        await late.waitFor((m) => m.topic === 'msta/cam1/status', 5000, 'retained status');
        assert.ok(late.messages.every((m) => m.retain), 'a new subscriber only gets retained messages');
        assert.deepEqual(late.on('msta/status').map((m) => m.payload), ['online']);
        assert.equal(late.messages.filter((m) => m.topic.endsWith('/events') || m.topic.endsWith('/scores')).length, 0);
      } finally {
        await late.close();
      }
      await until(async () => (await metric(registry, 'msta_mqtt_published_total', { kind: 'event' })) === 3, 'event metric');
      assert.equal(await metric(registry, 'msta_mqtt_connected'), 1);
      assert.equal(await metric(registry, 'msta_mqtt_published_total', { kind: 'scores' }), 1);
      assert.equal(await metric(registry, 'msta_mqtt_spool_messages'), 0, 'acknowledged events leave the spool');
      // Every acknowledged event's wait for its PUBACK is observed, apart from the daemon's latency.
      assert.match(await registry.metrics(), new RegExp(`^msta_mqtt_event_ack_seconds_count ${sent.length}$`, 'm'));

      await sink.close(3000);
      const offline = await sub.waitFor((m) => m.topic === 'msta/status' && m.payload === 'offline', 5000, 'offline on close');
      assert.equal(offline.qos, 1);
      assert.equal(await metric(registry, 'msta_mqtt_connected'), 0);
    } finally {
      await sink.close(1000);
      await sub.close();
    }
  });
}

test('scores are off by default, and skipped (counted) while disconnected', { skip }, async () => {
  const sub = await subscriber(broker.url, ['msta/+/scores']);
  const off = makeSink(broker.url);
  const on = makeSink(broker.url.replace(/:\d+$/, ':1'), { publishScores: true, baseTopic: 'other' });
  const scores = { clip: clip('cam1', 1), top: [] };
  try {
    await off.sink.start();
    await on.sink.start();
    await off.sink.whenConnected(5000);
    off.sink.publishScores(scores);
    on.sink.publishScores(scores);
    // A marker published after the scores would have arrived after them.
    off.sink.publishState({ camera: 'cam1', label: null, score: 0, since: T0 });
    const marker = await subscriber(broker.url, ['msta/cam1/state']);
    await marker.waitFor(() => true, 5000, 'marker state');
    await marker.close();
    assert.deepEqual(sub.messages, []);
    assert.equal(await metric(on.registry, 'msta_mqtt_scores_skipped_total'), 1);
  } finally {
    await off.sink.close(1000);
    await on.sink.close(1000);
    await sub.close();
  }
});

test('the broker publishes the last will when the socket dies; the sink reconnects and republishes online, statuses and states', { skip }, async () => {
  const { sink } = makeSink(broker.url);
  const sub = await subscriber(broker.url, ['msta/status', 'msta/cam1/status', 'msta/cam1/state']);
  try {
    await sink.start();
    await sink.whenConnected(5000);
    sink.publishStatus(status('cam1', 'streaming'));
    sink.publishState({ camera: 'cam1', label: 'waving hand', score: 0.7, since: T0 });
    await sub.waitFor((m) => m.topic === 'msta/cam1/state', 5000, 'state');
    sub.messages.length = 0;

    // An abrupt loss: no DISCONNECT packet, so the broker sends the will.
    (sink as unknown as { connection: { client: { stream: { destroy(): void } } } }).connection.client.stream.destroy();
    const will = await sub.waitFor((m) => m.topic === 'msta/status' && m.payload === 'offline', 5000, 'last will');
    assert.equal(will.qos, 1);
    await sub.waitFor((m) => m.topic === 'msta/status' && m.payload === 'online', 5000, 'online again');
    await sub.waitFor((m) => m.topic === 'msta/cam1/status', 5000, 'status republished');
    await sub.waitFor((m) => m.topic === 'msta/cam1/state', 5000, 'state republished');
  } finally {
    await sink.close(1000);
    await sub.close();
  }
});

test('retained status and state are back after a broker restart without persistence', { skip }, async () => {
  const own = await startMosquitto();
  const { sink } = makeSink(own.url);
  try {
    await sink.start();
    await sink.whenConnected(5000);
    sink.publishStatus(status('cam1', 'stalled', 2));
    sink.publishState({ camera: 'cam1', label: 'clapping', score: 0.6, since: T0 });
    const first = await subscriber(own.url, ['msta/#']);
    await first.waitFor((m) => m.topic === 'msta/cam1/state', 5000, 'state before restart');
    await first.close();

    await own.stop();
    await own.start();
    await sink.whenConnected(5000);
    const fresh = await subscriber(own.url, ['msta/#']);
    try {
      const state = await fresh.waitFor((m) => m.topic === 'msta/cam1/state', 5000, 'retained state after restart');
      const st = await fresh.waitFor((m) => m.topic === 'msta/cam1/status', 5000, 'retained status after restart');
      await fresh.waitFor((m) => m.topic === 'msta/status' && m.payload === 'online', 5000, 'retained online after restart');
      assert.equal(state.retain, true);
      assert.deepEqual(JSON.parse(state.payload), { label: 'clapping', score: 0.6, since: iso(T0) });
      assert.equal((JSON.parse(st.payload) as { state: string }).state, 'stalled');
    } finally {
      await fresh.close();
    }
  } finally {
    await sink.close(1000);
    await own.dispose();
  }
});

test('events during a broker outage are spooled on disk and delivered in order, once acknowledged removed', { skip }, async () => {
  const own = await startMosquitto({ persistence: true });
  // A persistent session (3.1.1, clean false) keeps what arrives while this subscriber reconnects.
  const sub = await subscriber(own.url, ['msta/+/events'], { protocolVersion: 4, clean: false, clientId: 'outage-watcher' });
  const { sink, registry, logs } = makeSink(own.url);
  try {
    await sink.start();
    await sink.whenConnected(5000);
    // Some go out while connected; the broker is killed right away, likely with some unacknowledged.
    for (let n = 0; n < 20; n++) await sink.publishEvent(event('cam1', n));
    await own.stop();
    for (let n = 20; n < 50; n++) await sink.publishEvent(event(n % 2 ? 'cam1' : 'cam2', n));
    await until(() => !sink.connected, 'the sink to notice the outage');
    assert.ok(sink.spooled >= 30, `at least the 30 outage events wait in the spool (${sink.spooled})`);
    assert.equal(await metric(registry, 'msta_mqtt_spool_messages'), sink.spooled);
    assert.equal(await metric(registry, 'msta_mqtt_connected'), 0);

    await own.start();
    await until(() => sub.messages.length >= 50 && sink.spooled === 0, 'every event delivered', 15_000);
    const got = ids(sub.messages);
    const want = Array.from({ length: 50 }, (_, n) => `${n < 20 || n % 2 ? 'cam1' : 'cam2'}-${n}`);
    assert.deepEqual([...new Set(got)], want, 'every event, in order (QoS 1 may repeat one, never reorder or lose)');
    assert.equal(await metric(registry, 'msta_mqtt_spool_messages'), 0);
    assert.equal(await metric(registry, 'msta_mqtt_spool_dropped_total', { reason: 'full' }), 0);
    assert.ok(logs.some((l) => l.startsWith('warn connection') && l.includes('lost')), 'the outage is logged');
  } finally {
    await sink.close(1000);
    await sub.close();
    await own.dispose();
  }
});

test('events in flight when the connection dies (sent, never acknowledged) are sent again, in order', { skip }, async () => {
  const own = await startMosquitto({ persistence: true });
  const sub = await subscriber(own.url, ['msta/+/events'], { protocolVersion: 4, clean: false, clientId: 'inflight-watcher' });
  const { sink } = makeSink(own.url);
  try {
    await sink.start();
    await sink.whenConnected(5000);
    // A frozen broker takes the bytes (the kernel buffers them) but never acknowledges them;
    // killing it then loses them for good on the broker side.
    own.pause();
    for (let n = 0; n < 10; n++) await sink.publishEvent(event('cam1', n));
    assert.equal(sink.connected, true, 'the sink has not noticed anything yet');
    assert.equal(sink.spooled, 10, 'unacknowledged events stay in the spool');
    await own.kill();
    for (let n = 10; n < 15; n++) await sink.publishEvent(event('cam1', n));
    await own.start();
    await until(() => sub.messages.length >= 15 && sink.spooled === 0, 'every event delivered', 15_000);
    assert.deepEqual(
      [...new Set(ids(sub.messages))],
      Array.from({ length: 15 }, (_, n) => `cam1-${n}`),
    );
  } finally {
    await sink.close(1000);
    await sub.close();
    await own.dispose();
  }
});

test('a full spool drops the oldest events and counts them', { skip }, async () => {
  const deadPort = broker.url.replace(/:\d+$/, ':1');
  const dir = join(tmp, 'capped');
  const first = makeSink(deadPort, { spool: { dir, maxMessages: 5 } });
  await first.sink.start();
  for (let n = 0; n < 8; n++) await first.sink.publishEvent(event('cam1', n));
  assert.equal(first.sink.spooled, 5);
  assert.equal(await metric(first.registry, 'msta_mqtt_spool_dropped_total', { reason: 'full' }), 3);
  assert.equal(first.logs.filter((l) => l.startsWith('warn spool full')).length, 1, 'logged once, counted each time');
  await first.sink.close(500);

  // The survivors go out (in order) when a daemon using this spool reaches the broker.
  const sub = await subscriber(broker.url, ['msta/cam1/events']);
  const second = makeSink(broker.url, { spool: { dir, maxMessages: 5 } });
  try {
    await second.sink.start();
    await sub.waitFor((m) => m.payload.includes('"cam1-7"'), 5000, 'the newest event');
    assert.deepEqual(ids(sub.messages), ['cam1-3', 'cam1-4', 'cam1-5', 'cam1-6', 'cam1-7']);
  } finally {
    await second.sink.close(1000);
    await sub.close();
  }
});

test('close() waits for nothing when the broker is unreachable, and events after close are refused', { skip }, async () => {
  const { sink } = makeSink(broker.url.replace(/:\d+$/, ':1'));
  await sink.start();
  await assert.rejects(sink.whenConnected(300), (e: Error) => e.message.includes('ECONNREFUSED'));
  const started = Date.now();
  await sink.close(2000);
  assert.ok(Date.now() - started < 2000);
  await assert.rejects(sink.publishEvent(event('cam1', 1)), /after the sink was closed/);
});

test('a camera id that is not one topic level is refused before anything is spooled', { skip }, async () => {
  const { sink } = makeSink(broker.url.replace(/:\d+$/, ':1'));
  await sink.start();
  try {
    await assert.rejects(sink.publishEvent(event('cam/1', 1)), /camera id "cam\/1" contains one of \+ # \//);
    assert.throws(() => sink.publishStatus(status('cam#', 'streaming')), { code: 'MQTT_TOPIC_INVALID' });
    assert.equal(sink.spooled, 0);
  } finally {
    await sink.close(500);
  }
});

test('MQTT 5: an event the broker refuses (ACL) is dropped and counted, and does not hold up the ones after it', { skip }, async () => {
  const acl = join(tmp, 'acl');
  writeFileSync(acl, 'topic readwrite #\ntopic deny msta/cam2/events\n');
  const own = await startMosquitto({ aclFile: acl });
  const sub = await subscriber(own.url, ['msta/+/events']);
  const { sink, registry, logs } = makeSink(own.url);
  try {
    await sink.start();
    await sink.whenConnected(5000);
    await sink.publishEvent(event('cam2', 1));
    await sink.publishEvent(event('cam1', 2));
    await sub.waitFor((m) => m.payload.includes('"cam1-2"'), 5000, 'the event after the refused one');
    await until(async () => sink.spooled === 0, 'the refused event to leave the spool');
    assert.equal(await metric(registry, 'msta_mqtt_spool_dropped_total', { reason: 'rejected' }), 1);
    assert.deepEqual(ids(sub.messages), ['cam1-2']);
    assert.ok(logs.some((l) => l.startsWith('error the broker rejected') && l.includes('Not authorized')), logs.join('\n'));
  } finally {
    await sink.close(1000);
    await sub.close();
    await own.dispose();
  }
});

test('close() on a frozen broker gives up after its timeout', { skip }, async () => {
  const own = await startMosquitto();
  const { sink } = makeSink(own.url);
  try {
    await sink.start();
    await sink.whenConnected(5000);
    await sink.publishEvent(event('cam1', 1));
    own.pause();
    await sink.publishEvent(event('cam1', 2));
    const started = Date.now();
    await sink.close(500);
    const took = Date.now() - started;
    assert.ok(took >= 400 && took < 2000, `close took ${took} ms`);
    assert.equal(sink.connected, false);
  } finally {
    await own.dispose();
  }
});

test('a spool that cannot be written: connected, events still go out (logged); offline, the error reaches the caller', { skip }, async () => {
  const dir = join(tmp, 'broken-spool');
  const sub = await subscriber(broker.url, ['msta/cam1/events']);
  const { sink, logs } = makeSink(broker.url, { spool: { dir } });
  const offline = makeSink(broker.url.replace(/:\d+$/, ':1'), { spool: { dir: join(tmp, 'broken-spool-2') } });
  try {
    await sink.start();
    await offline.sink.start();
    await sink.whenConnected(5000);
    rmSync(dir, { recursive: true });
    rmSync(join(tmp, 'broken-spool-2'), { recursive: true });
    await sink.publishEvent(event('cam1', 1));
    await sub.waitFor((m) => m.payload.includes('"cam1-1"'), 5000, 'the unspooled event');
    // Published at once: the failed write may end after the event arrived.
    await until(() => logs.some((l) => l.startsWith('error') && l.includes('cannot write a spooled record') && l.includes('published without spooling')), 'the failed write logged');
    await assert.rejects(offline.sink.publishEvent(event('cam1', 2)), { code: 'SPOOL_FAILED' });
  } finally {
    await sink.close(1000);
    await offline.sink.close(500);
    await sub.close();
  }
});

for (const [protocolVersion, window] of [[5, 10], [4, 16]] as const) {
  test(`MQTT ${protocolVersion === 5 ? '5' : '3.1.1'}: at most ${window} events in flight (${protocolVersion === 5 ? "half Mosquitto's Receive Maximum of 20" : 'the default maximum'})`, { skip }, async () => {
    const own = await startMosquitto();
    const { sink } = makeSink(own.url, { protocolVersion });
    try {
      await sink.start();
      await sink.whenConnected(5000);
      let sent = 0;
      (sink as unknown as { connection: { client: { on(e: 'packetsend', f: (p: { cmd: string; topic?: string }) => void): void } } }).connection.client.on('packetsend', (p) => {
        if (p.cmd === 'publish' && p.topic?.endsWith('/events')) sent++;
      });
      own.pause();
      for (let n = 0; n < 30; n++) await sink.publishEvent(event('cam1', n));
      await until(() => sent >= window, `${window} events sent`);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(sent, window, 'no more until some are acknowledged');
      assert.equal(sink.spooled, 30);
    } finally {
      await sink.close(300);
      await own.dispose();
    }
  });
}

test('a 3.1.1-only broker (aedes): MQTT 5 is refused with a hint to use protocol version 4, which works', async () => {
  const aedes = await Aedes.createBroker();
  const server = createServer(aedes.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `mqtt://127.0.0.1:${(server.address() as { port: number }).port}`;
  const v5 = makeSink(url, { protocolVersion: 5 });
  const v4 = makeSink(url, { protocolVersion: 4 });
  try {
    await v5.sink.start();
    await assert.rejects(v5.sink.whenConnected(500), /Unacceptable protocol version \[1\] \(.*try mqtt\.protocol_version 4\)/);
    await v4.sink.start();
    await v4.sink.whenConnected(5000);
    await v4.sink.publishEvent(event('cam1', 1));
    await until(() => v4.sink.spooled === 0, 'the event acknowledged by aedes');
  } finally {
    await v5.sink.close(300);
    await v4.sink.close(1000);
    await new Promise<void>((r) => aedes.close(() => r()));
    server.unref();
    server.close();
  }
});
