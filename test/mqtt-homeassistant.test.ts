// Home Assistant MQTT discovery through a real Mosquitto: announce, re-announce on HA's birth
// message, and removal of a camera's entities (at run time and between runs).
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { Registry } from 'prom-client';
import { createMqttSink, type MqttSink } from '../src/sink/mqtt-sink.js';
import { missingBrokerTools, startMosquitto, subscriber, type Mosquitto, type Subscriber } from './support/mosquitto.js';

const skip = missingBrokerTools();
const tmp = mkdtempSync(join(tmpdir(), 'msta-ha-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const LABELS = ['waving hand', 'falling down'];
const CONFIG = {
  cam1: ['homeassistant/event/msta/cam1_action/config', 'homeassistant/sensor/msta/cam1_current_action/config'],
  cam2: ['homeassistant/event/msta/cam2_action/config', 'homeassistant/sensor/msta/cam2_current_action/config'],
};

let broker: Mosquitto;
before(async () => {
  if (!skip) broker = await startMosquitto();
});
after(async () => broker?.dispose());

let n = 0;
function makeSink(cameras: string[], registry = new Registry(), labels: { labels: string[]; background?: string } = { labels: LABELS }): MqttSink {
  return createMqttSink({
    url: broker.url,
    cameras,
    spool: { dir: join(tmp, `spool-${n++}`) },
    registry,
    log: { info: () => undefined, warn: () => undefined, error: () => undefined },
    reconnectPeriodMs: 100,
    homeAssistant: labels,
  });
}

/** Empties every retained topic the previous test left, so each test starts from a clean broker. */
async function clearRetained(): Promise<void> {
  const client = await mqtt.connectAsync(broker.url);
  for (const topic of (await retainedNow('#')).keys()) await client.publishAsync(topic, '', { qos: 1, retain: true });
  await client.endAsync();
}

async function retainedNow(filter: string): Promise<Map<string, string>> {
  const sub = await subscriber(broker.url, [filter, 'msta-test/marker']);
  // The broker sends retained messages while handling SUBSCRIBE, so they precede a marker
  // published after the subscription is acknowledged.
  const client = await mqtt.connectAsync(broker.url);
  await client.publishAsync('msta-test/marker', 'x', { qos: 1 });
  await client.endAsync();
  await sub.waitFor((m) => m.topic === 'msta-test/marker', 5000, 'marker');
  await sub.close();
  return new Map(sub.messages.filter((m) => m.retain).map((m) => [m.topic, m.payload]));
}

function configsIn(sub: Subscriber, camera: keyof typeof CONFIG): Record<string, unknown>[] {
  return CONFIG[camera].map((topic) => JSON.parse(sub.on(topic).at(-1)!.payload) as Record<string, unknown>);
}

test('a device per camera with an event and a current-action sensor, retained, counted as discovery', { skip }, async () => {
  await clearRetained();
  const registry = new Registry();
  const sink = makeSink(['cam1', 'cam2'], registry);
  const sub = await subscriber(broker.url, ['homeassistant/#']);
  try {
    await sink.start();
    for (const topic of [...CONFIG.cam1, ...CONFIG.cam2]) await sub.waitFor((m) => m.topic === topic, 5000, topic);
    const [event, sensor] = configsIn(sub, 'cam2');
    assert.equal(event!.state_topic, 'msta/cam2/events');
    assert.deepEqual(event!.event_types, LABELS);
    assert.equal(sensor!.state_topic, 'msta/cam2/state');
    for (const config of [event!, sensor!]) {
      assert.deepEqual((config.availability as { topic: string }[]).map((a) => a.topic), ['msta/status', 'msta/cam2/status']);
      assert.equal(config.availability_mode, 'all');
    }
    const retained = await retainedNow('homeassistant/#');
    assert.deepEqual([...retained.keys()].sort(), [...CONFIG.cam1, ...CONFIG.cam2].sort());
    // Counted on PUBACK, which may come a moment after the subscriber got the message.
    const discoveryCount = async (): Promise<number | undefined> =>
      (await registry.getSingleMetric('msta_mqtt_published_total')!.get()).values.find((v) => v.labels.kind === 'discovery')?.value;
    for (let i = 0; i < 100 && (await discoveryCount()) !== 4; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(await discoveryCount(), 4);
  } finally {
    await sink.close(1000);
    await sub.close();
  }
});

test('Home Assistant coming online (homeassistant/status) gets the configs announced again', { skip }, async () => {
  await clearRetained();
  const sink = makeSink(['cam1']);
  const sub = await subscriber(broker.url, ['homeassistant/+/msta/#']);
  const ha = await mqtt.connectAsync(broker.url);
  try {
    await sink.start();
    await sub.waitFor((m) => m.topic === CONFIG.cam1[1], 5000, 'first announcement');
    sub.messages.length = 0;
    await ha.publishAsync('homeassistant/status', 'offline', { qos: 1 });
    await ha.publishAsync('homeassistant/status', 'online', { qos: 1 });
    for (const topic of CONFIG.cam1) await sub.waitFor((m) => m.topic === topic, 5000, `${topic} again`);
    assert.equal(sub.messages.length, 2, 'announced once for the one `online`, not for `offline`');
  } finally {
    await ha.endAsync();
    await sink.close(1000);
    await sub.close();
  }
});

test('a camera removed at run time: its entities and retained topics are emptied', { skip }, async () => {
  await clearRetained();
  const sink = makeSink(['cam1', 'cam2']);
  const sub = await subscriber(broker.url, ['homeassistant/#', 'msta/#']);
  try {
    await sink.start();
    await sink.whenConnected(5000);
    sink.publishStatus({ camera: 'cam2', state: 'streaming', since: 0, reconnects: 0 });
    sink.publishState({ camera: 'cam2', label: null, score: 0, since: 0 });
    await sub.waitFor((m) => m.topic === 'msta/cam2/state', 5000, 'cam2 state');
    sink.setCameras(['cam1']);
    for (const topic of [...CONFIG.cam2, 'msta/cam2/status', 'msta/cam2/state']) {
      await sub.waitFor((m) => m.topic === topic && m.payload === '', 5000, `${topic} emptied`);
    }
    const retained = await retainedNow('#');
    assert.deepEqual([...retained.keys()].filter((t) => t.includes('cam2')), []);
    assert.ok(retained.has(CONFIG.cam1[0]!), 'cam1 stays');
  } finally {
    await sink.close(1000);
    await sub.close();
  }
});

test('a camera gone from the config between runs: the next run clears what it left retained', { skip }, async () => {
  await clearRetained();
  const first = makeSink(['cam1', 'cam2']);
  await first.start();
  await first.whenConnected(5000);
  first.publishStatus({ camera: 'cam2', state: 'streaming', since: 0, reconnects: 0 });
  first.publishState({ camera: 'cam2', label: 'falling down', score: 0.9, since: 0 });
  await first.close(1000);
  assert.ok((await retainedNow('#')).has('msta/cam2/state'), 'the first run left cam2 retained');

  const sub = await subscriber(broker.url, ['homeassistant/#', 'msta/+/status', 'msta/+/state']);
  const second = makeSink(['cam1']);
  try {
    await second.start();
    for (const topic of [...CONFIG.cam2, 'msta/cam2/status', 'msta/cam2/state']) {
      await sub.waitFor((m) => m.topic === topic && m.payload === '', 5000, `${topic} emptied`);
    }
    const retained = await retainedNow('#');
    assert.deepEqual([...retained.keys()].filter((t) => t.includes('cam2')), []);
    assert.ok(retained.has(CONFIG.cam1[1]!), 'cam1 stays announced');
  } finally {
    await second.close(1000);
    await sub.close();
  }
});

test('new labels (a SIGHUP reload) re-announce every camera with the new event_types; the background label is never one', { skip }, async () => {
  await clearRetained();
  const sink = makeSink(['cam1', 'cam2'], new Registry(), { labels: ['waving hand', 'nothing happening'], background: 'nothing happening' });
  const sub = await subscriber(broker.url, ['homeassistant/#']);
  try {
    await sink.start();
    for (const topic of [...CONFIG.cam1, ...CONFIG.cam2]) await sub.waitFor((m) => m.topic === topic, 5000, topic);
    assert.deepEqual(configsIn(sub, 'cam1')[0]!.event_types, ['waving hand']);
    sub.messages.length = 0;
    sink.updateLabels({ labels: ['falling down', 'nothing happening', 'clapping'], background: 'nothing happening' });
    for (const camera of ['cam1', 'cam2'] as const) {
      await sub.waitFor((m) => m.topic === CONFIG[camera][0] && m.payload.includes('clapping'), 5000, `${camera} re-announced`);
      assert.deepEqual(configsIn(sub, camera)[0]!.event_types, ['falling down', 'clapping']);
    }
    const retained = await retainedNow('homeassistant/#');
    assert.deepEqual((JSON.parse(retained.get(CONFIG.cam2[0]!)!) as { event_types: string[] }).event_types, ['falling down', 'clapping'], 'retained for Home Assistant restarting later');
    // The same labels again: nothing to announce.
    sub.messages.length = 0;
    sink.updateLabels({ labels: ['falling down', 'nothing happening', 'clapping'], background: 'nothing happening' });
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(sub.messages.length, 0);
  } finally {
    await sink.close(1000);
    await sub.close();
  }
});
