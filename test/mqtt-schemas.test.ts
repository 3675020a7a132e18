// The published API documents agree with the code: docs/asyncapi.yaml names the topics the topic
// builder makes and a schema for every payload; events made by the real recognition operator go
// through the real sink and Mosquitto and match docs/schemas.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Ajv } from 'ajv';
import { Registry } from 'prom-client';
import { from, lastValueFrom, toArray } from 'rxjs';
import { parse } from 'yaml';
import { actionEvents } from '../src/recognize/action-events.js';
import { createMqttSink } from '../src/sink/mqtt-sink.js';
import { PAYLOAD_SCHEMAS, payloadJsonSchema } from '../src/sink/payload-schemas.js';
import { actionStateFromEvent, eventPayload, type EventPayload } from '../src/sink/payloads.js';
import { sinkTopics } from '../src/sink/topics.js';
import { runCliProcess } from './support/cli.js';
import { missingBrokerTools, startMosquitto, subscriber } from './support/mosquitto.js';
import { tempDir } from './support/temp-dir.js';

const skip = missingBrokerTools();

interface AsyncApi {
  asyncapi: string;
  channels: Record<string, { address: string; messages: Record<string, { $ref: string }> }>;
  operations: Record<string, { action: string; channel: { $ref: string }; bindings?: { mqtt: { qos: number; retain: boolean } } }>;
  components: { messages: Record<string, { payload: { schema?: { $ref: string } } }> };
}

const api = parse(readFileSync('docs/asyncapi.yaml', 'utf8')) as AsyncApi;

test('the AsyncAPI 3 document lists the topics the sink builds, with their QoS and retain flags', () => {
  assert.equal(api.asyncapi, '3.0.0');
  const t = sinkTopics();
  const address = (name: string): string => api.channels[name]!.address.replace('{camera}', 'cam');
  assert.equal(address('bridgeStatus'), t.bridgeStatus);
  assert.equal(address('bridgeInfo'), t.bridgeInfo);
  assert.equal(address('cameraStatus'), t.cameraStatus('cam'));
  assert.equal(address('events'), t.events('cam'));
  assert.equal(address('state'), t.state('cam'));
  assert.equal(address('scores'), t.scores('cam'));
  assert.equal(address('snapshot'), t.snapshot('cam'));
  assert.equal(address('active').replace('{label}', 'waving hand'), t.active('cam', 'waving hand'));
  assert.equal(address('recognition'), t.recognition('cam'));
  const regional = (name: string): string => address(name).replace('{region}', 'door');
  assert.equal(regional('regionEvents'), t.events('cam', 'door'));
  assert.equal(regional('regionState'), t.state('cam', 'door'));
  assert.equal(regional('regionScores'), t.scores('cam', 'door'));
  assert.equal(regional('regionActive').replace('{label}', 'waving hand'), t.active('cam', 'waving hand', 'door'));
  assert.equal(address('recognitionSet'), t.recognitionSet('cam'));
  assert.equal(address('homeAssistantStatus'), t.homeAssistantStatus);
  assert.equal(
    api.channels.homeAssistantDiscovery!.address.replace('{component}', 'event').replace('{objectId}', 'cam_action'),
    t.discoveryConfig('event', 'cam_action'),
  );
  const delivery = Object.fromEntries(
    Object.values(api.operations)
      .filter((o) => o.action === 'send')
      .map((o) => [o.channel.$ref.replace('#/channels/', ''), o.bindings?.mqtt]),
  );
  assert.deepEqual(delivery, {
    bridgeStatus: { qos: 1, retain: true, bindingVersion: '0.2.0' },
    bridgeInfo: { qos: 1, retain: true, bindingVersion: '0.2.0' },
    cameraStatus: { qos: 1, retain: true, bindingVersion: '0.2.0' },
    events: { qos: 1, retain: false, bindingVersion: '0.2.0' },
    state: { qos: 1, retain: true, bindingVersion: '0.2.0' },
    scores: { qos: 0, retain: false, bindingVersion: '0.2.0' },
    snapshot: { qos: 1, retain: true, bindingVersion: '0.2.0' },
    active: { qos: 1, retain: true, bindingVersion: '0.2.0' },
    recognition: { qos: 1, retain: true, bindingVersion: '0.2.0' },
    regionEvents: { qos: 1, retain: false, bindingVersion: '0.2.0' },
    regionState: { qos: 1, retain: true, bindingVersion: '0.2.0' },
    regionActive: { qos: 1, retain: true, bindingVersion: '0.2.0' },
    regionScores: { qos: 0, retain: false, bindingVersion: '0.2.0' },
    homeAssistantDiscovery: { qos: 1, retain: true, bindingVersion: '0.2.0' },
  });
});

test('every schema file is referenced by the AsyncAPI document, every reference resolves, every schema compiles', () => {
  const refs = Object.values(api.components.messages)
    .map((m) => m.payload.schema?.$ref)
    .filter((r): r is string => r !== undefined);
  for (const ref of refs) assert.ok(existsSync(resolve('docs', ref)), `${ref} exists`);
  const files = readdirSync('docs/schemas').map((f) => `./schemas/${f}`);
  assert.deepEqual([...refs].sort(), files.sort());
  const ajv = new Ajv({ strict: true });
  ajv.addFormat('date-time', true);
  for (const f of files) assert.doesNotThrow(() => ajv.compile(JSON.parse(readFileSync(resolve('docs', f), 'utf8')) as object), f);
});

test('events from the real recognition operator, published through the sink and Mosquitto, match the schemas', { skip }, async () => {
  const labels = ['waving hand', 'clapping', 'falling down'];
  const T0 = Date.UTC(2026, 0, 1);
  // Waving for 6 clips, then nothing in particular: a start, updates and an end.
  const series = [...Array(6).fill([0.8, 0.1, 0.1]), ...Array(3).fill([0.34, 0.33, 0.33])] as number[][];
  const clips = series.map((s, seq) => ({
    clip: { camera: 'cam1', region: null, seq, frames: 8, height: 224, width: 224, firstFrameAt: T0 + seq * 500, lastFrameAt: T0 + seq * 500 + 700 },
    scores: Float64Array.from(s),
    inferenceSeconds: 0.005,
  }));
  const events = await lastValueFrom(
    from(clips).pipe(
      actionEvents({
        labels: labels.map((name) => ({ name })),
        smoothing: 1,
        start: 0.6,
        end: 0.4,
        minClips: 2,
        minScore: 0,
        topK: 3,
        updateEveryClips: 2,
        updateRise: 0.5,
        model: { name: 'msta-test', sha256: createHash('sha256').update('video.onnx').digest('hex') },
      }),
      toArray(),
    ),
  );
  assert.deepEqual([...new Set(events.map((e) => e.type))], ['start', 'update', 'end'], 'the series makes every event type');

  const tmp = tempDir('msta-schemas-');
  const broker = await startMosquitto();
  const sub = await subscriber(broker.url, ['msta/#']);
  const sink = createMqttSink({
    url: broker.url,
    cameras: ['cam1'],
    spool: { dir: tmp },
    registry: new Registry(),
    log: { info: () => undefined, warn: () => undefined, error: () => undefined },
    labels: { labels },
  });
  try {
    await sink.start();
    await sink.whenConnected(5000);
    for (const e of events) {
      await sink.publishEvent(e);
      sink.publishState(actionStateFromEvent(e));
    }
    sink.publishRecognition('cam1', false);
    sink.publishInfo({ version: '0.1.0', model: events[0]!.model, provider: 'cpu', cameras: ['cam1'] });
    await sub.waitFor((m) => m.topic === 'msta/info', 5000, 'info');
    await sub.waitFor((m) => m.topic === 'msta/cam1/events' && (JSON.parse(m.payload) as EventPayload).type === 'end', 5000, 'the end event');
    await sub.waitFor((m) => m.topic === 'msta/cam1/state' && (JSON.parse(m.payload) as { label: unknown }).label === null, 5000, 'state none');

    const ajv = new Ajv({ allErrors: true, strict: true });
    ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    const validate = (name: string) => ajv.compile(JSON.parse(readFileSync(`docs/schemas/${name}.schema.json`, 'utf8')) as object);
    const [eventSchema, stateSchema] = [validate('event'), validate('state')];
    const received = sub.on('msta/cam1/events').map((m) => JSON.parse(m.payload) as unknown);
    assert.deepEqual(received, events.map(eventPayload), 'each domain event published as its payload, in order');
    // The domain event's epoch-ms times are the payload's ISO strings, to the millisecond.
    const first = received[0] as EventPayload;
    assert.equal(Date.parse(first.started_at), events[0]!.startedAt);
    assert.equal(Date.parse(first.clip.last_frame_at), events[0]!.clip.lastFrameAt);
    for (const e of received) assert.ok(eventSchema(e), `${JSON.stringify(e)}: ${JSON.stringify(eventSchema.errors)}`);
    const states = sub.on('msta/cam1/state').map((m) => JSON.parse(m.payload) as unknown);
    assert.ok(states.length >= 2);
    for (const s of states) assert.ok(stateSchema(s), `${JSON.stringify(s)}: ${JSON.stringify(stateSchema.errors)}`);
    const [activeSchema, recognitionSchema, infoSchema] = [validate('active'), validate('recognition'), validate('bridge-info')];
    const active = sub.messages.filter((m) => m.topic.startsWith('msta/cam1/active/'));
    assert.deepEqual([...new Set(active.map((m) => m.payload))].sort(), ['OFF', 'ON']);
    for (const m of active) assert.ok(activeSchema(m.payload), m.payload);
    for (const m of sub.on('msta/cam1/recognition')) assert.ok(recognitionSchema(m.payload), m.payload);
    const info = JSON.parse(sub.on('msta/info').at(-1)!.payload) as unknown;
    assert.ok(infoSchema(info), JSON.stringify(infoSchema.errors));
    assert.equal(infoSchema({ ...(info as object), extra: 1 }), false);
  } finally {
    await sink.close(1000);
    await sub.close();
    await broker.dispose();
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('docs/schemas are exactly what the payload schemas generate (msta-edge schema --mqtt), so they cannot drift', async () => {
  const out = tempDir('msta-gen-schemas-');
  try {
    const r = await runCliProcess(['schema', '--mqtt', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readdirSync(out).sort(), readdirSync('docs/schemas').sort());
    for (const name of Object.keys(PAYLOAD_SCHEMAS) as (keyof typeof PAYLOAD_SCHEMAS)[]) {
      const committed = JSON.parse(readFileSync(`docs/schemas/${name}.schema.json`, 'utf8')) as unknown;
      assert.deepEqual(committed, payloadJsonSchema(name), `docs/schemas/${name}.schema.json is stale: run npm run schemas`);
      assert.deepEqual(JSON.parse(readFileSync(join(out, `${name}.schema.json`), 'utf8')), committed);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('the event schema ties ended_at to the type, and every object refuses unknown keys', () => {
  const ajv = new Ajv({ strict: true });
  ajv.addFormat('date-time', true);
  const validate = ajv.compile(payloadJsonSchema('event'));
  const at = '2026-01-01T00:00:00.000Z';
  const base = {
    v: 1, id: 'x', type: 'start', camera: 'cam', region: null, label: 'falling', score: 0.5, top_score: 0.6, started_at: at, ended_at: null,
    clip: { first_frame_at: at, last_frame_at: at, frames: 8 }, top: [{ label: 'falling', score: 0.5 }], model: { name: 'm', sha256: 'a'.repeat(64) },
    snapshot: false,
  };
  assert.ok(validate(base), JSON.stringify(validate.errors));
  assert.ok(validate({ ...base, type: 'end', ended_at: at }));
  assert.ok(validate({ ...base, region: 'bed_side' }), 'a region of interest');
  assert.equal(validate({ ...base, region: 'a/b' }), false, 'a region is one topic level');
  assert.equal(validate({ ...base, type: 'end' }), false, 'an end needs ended_at');
  assert.equal(validate({ ...base, ended_at: at }), false, 'a start has no ended_at');
  assert.equal(validate({ ...base, extra: 1 }), false);
  assert.equal(validate({ ...base, started_at: '2026-01-01T00:00:00Z' }), false, 'milliseconds required');
  assert.equal(validate({ ...base, camera: 'a/b' }), false);
});
