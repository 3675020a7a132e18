// Home Assistant MQTT discovery through a real Mosquitto: announce, re-announce on HA's birth
// message, and removal of a camera's entities (at run time and between runs).
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { Registry } from 'prom-client';
import { activeDiscoveryTopic, discoveryTopics } from '../src/sink/discovery.js';
import { createMqttSink, type MqttSink, type MqttSinkOptions } from '../src/sink/mqtt-sink.js';
import type { RecognitionCommand } from '../src/types.js';
import { sinkTopics } from '../src/sink/topics.js';
import { missingBrokerTools, startMosquitto, subscriber, type Mosquitto, type Subscriber } from './support/mosquitto.js';
import { tempDir } from './support/temp-dir.js';

const skip = missingBrokerTools();
const tmp = tempDir('msta-ha-');
after(() => rmSync(tmp, { recursive: true, force: true }));

const LABELS = ['waving hand', 'falling down'];
const CONFIG = {
  cam1: ['homeassistant/event/msta/cam1_action/config', 'homeassistant/sensor/msta/cam1_current_action/config'],
  cam2: ['homeassistant/event/msta/cam2_action/config', 'homeassistant/sensor/msta/cam2_current_action/config'],
};

/** Every discovery config of a camera: event, sensor, switch and a binary sensor per label. */
const ALL = (camera: string, labels = LABELS): string[] => discoveryTopics(sinkTopics(), camera, labels);

let broker: Mosquitto;
before(async () => {
  if (!skip) broker = await startMosquitto();
});
after(async () => broker?.dispose());

let n = 0;
function makeSink(
  cameras: string[],
  registry = new Registry(),
  labels: { labels: string[]; background?: string } = { labels: LABELS },
  extra: Partial<MqttSinkOptions> = {},
): MqttSink {
  return createMqttSink({
    url: broker.url,
    cameras,
    spool: { dir: join(tmp, `spool-${n++}`) },
    registry,
    log: { info: () => undefined, warn: () => undefined, error: () => undefined },
    reconnectPeriodMs: 100,
    labels,
    homeAssistant: {},
    ...extra,
  });
}

async function counter(registry: Registry, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const values = (await registry.getSingleMetric(name)!.get()).values;
  return values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value;
}

async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 250; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`timed out: ${what}`);
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
    assert.deepEqual([...retained.keys()].sort(), [...ALL('cam1'), ...ALL('cam2')].sort());
    // Counted on PUBACK, which may come a moment after the subscriber got the message.
    const discoveryCount = async (): Promise<number | undefined> =>
      (await registry.getSingleMetric('msta_mqtt_published_total')!.get()).values.find((v) => v.labels.kind === 'discovery')?.value;
    for (let i = 0; i < 100 && (await discoveryCount()) !== 10; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(await discoveryCount(), 10);
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
    for (const topic of ALL('cam1')) await sub.waitFor((m) => m.topic === topic, 5000, `${topic} again`);
    assert.equal(sub.messages.length, ALL('cam1').length, 'announced once for the one `online`, not for `offline`');
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
    for (const topic of [...ALL('cam2'), 'msta/cam2/status', 'msta/cam2/state', 'msta/cam2/active/waving hand']) {
      await sub.waitFor((m) => m.topic === topic && m.payload === '', 5000, `${topic} emptied`);
    }
    const retained = await retainedNow('#');
    assert.deepEqual([...retained.keys()].filter((t) => t.includes('cam2')), []);
    assert.ok(retained.has(CONFIG.cam1[0]!), 'cam1 stays');
    assert.equal(retained.get('msta/cam1/active/falling down'), 'OFF', 'cam1 keeps its binary sensor states');
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

  const sub = await subscriber(broker.url, ['homeassistant/#', 'msta/+/status', 'msta/+/state', 'msta/+/active/+']);
  const second = makeSink(['cam1']);
  try {
    await second.start();
    for (const topic of [...ALL('cam2'), 'msta/cam2/status', 'msta/cam2/state', 'msta/cam2/active/falling down']) {
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
      // The camera's last config of the two read below (each camera is re-announced in turn).
      await sub.waitFor((m) => m.topic === CONFIG[camera].at(-1) && m.payload.includes('clapping'), 5000, `${camera} re-announced`);
      assert.deepEqual(configsIn(sub, camera)[0]!.event_types, ['falling down', 'clapping']);
    }
    const retained = await retainedNow('homeassistant/#');
    assert.deepEqual((JSON.parse(retained.get(CONFIG.cam2[0]!)!) as { event_types: string[] }).event_types, ['falling down', 'clapping'], 'retained for Home Assistant restarting later');
    // The same labels again: nothing to announce (once the last config of the re-announcement is in).
    await sub.waitFor((m) => m.topic === ALL('cam2', ['falling down', 'clapping']).at(-1), 5000, 'the last config re-announced');
    sub.messages.length = 0;
    sink.updateLabels({ labels: ['falling down', 'nothing happening', 'clapping'], background: 'nothing happening' });
    await new Promise((r) => setTimeout(r, 200));
    // (The stale sweep may still clear a gone label's config again, when the broker's retained replay
    // for the sink's subscription arrives after the reload: a removal, not an announcement.)
    assert.deepEqual(sub.messages.filter((m) => m.payload !== '').map((m) => m.topic), []);
  } finally {
    await sink.close(1000);
    await sub.close();
  }
});

test('a binary sensor per label: OFF at start, ON with its action, OFF at its end, restored after the broker lost its retained messages', { skip }, async () => {
  await clearRetained();
  const sink = makeSink(['cam1']);
  const sub = await subscriber(broker.url, ['msta/cam1/active/+']);
  try {
    await sink.start();
    for (const label of LABELS) await sub.waitFor((m) => m.topic === `msta/cam1/active/${label}` && m.payload === 'OFF', 5000, `${label} OFF at start`);
    sink.publishState({ camera: 'cam1', label: 'falling down', score: 0.9, since: 1 });
    await sub.waitFor((m) => m.topic === 'msta/cam1/active/falling down' && m.payload === 'ON', 5000, 'ON');
    let retained = await retainedNow('msta/cam1/active/+');
    assert.deepEqual(Object.fromEntries(retained), { 'msta/cam1/active/falling down': 'ON', 'msta/cam1/active/waving hand': 'OFF' });

    // A broker restarted without persistence: everything retained is republished on reconnect.
    await broker.stop();
    await broker.start();
    await sink.whenConnected(10_000);
    await eventually(async () => (await retainedNow('msta/cam1/active/+')).get('msta/cam1/active/falling down') === 'ON', 'ON restored');

    sink.publishState({ camera: 'cam1', label: null, score: 0, since: 2 });
    await eventually(async () => (await retainedNow('msta/cam1/active/+')).get('msta/cam1/active/falling down') === 'OFF', 'OFF at the end');
    retained = await retainedNow('msta/cam1/active/+');
    assert.deepEqual([...retained.values()], ['OFF', 'OFF']);
  } finally {
    await sink.close(1000);
    await sub.close();
  }
});

test('a label gone on reload: its binary sensors and active topics are emptied; the enum sensor\'s options follow', { skip }, async () => {
  await clearRetained();
  const sink = makeSink(['cam1']);
  const sub = await subscriber(broker.url, ['homeassistant/#', 'msta/#']);
  try {
    await sink.start();
    const gone = ALL('cam1').find((t) => t.includes('falling_down'))!;
    await sub.waitFor((m) => m.topic === gone && m.payload !== '', 5000, 'announced');
    sink.updateLabels({ labels: ['waving hand', 'clapping'] });
    for (const topic of [gone, 'msta/cam1/active/falling down']) await sub.waitFor((m) => m.topic === topic && m.payload === '', 5000, `${topic} emptied`);
    await sub.waitFor((m) => m.topic === 'msta/cam1/active/clapping' && m.payload === 'OFF', 5000, 'the new label OFF');
    const retained = await retainedNow('#');
    assert.deepEqual([...retained.keys()].filter((t) => t.includes('falling')), []);
    assert.ok(retained.has(ALL('cam1', ['clapping']).at(-1)!), 'the new label announced');
    const sensor = JSON.parse(retained.get(CONFIG.cam1[1]!)!) as { options: string[] };
    assert.deepEqual(sensor.options, ['waving hand', 'clapping', 'none']);
  } finally {
    await sink.close(1000);
    await sub.close();
  }
});

test('per-camera labels: each camera\'s entities and active topics have its own labels; a change to one camera\'s labels touches only that camera', { skip }, async () => {
  await clearRetained();
  const sink = makeSink(['cam1', 'cam2'], new Registry(), { labels: LABELS }, { cameraLabels: { cam2: { labels: ['clapping', 'nothing happening'], background: 'nothing happening' } } });
  const sub = await subscriber(broker.url, ['homeassistant/#', 'msta/#']);
  try {
    await sink.start();
    for (const topic of [...ALL('cam1'), ...ALL('cam2', ['clapping'])]) await sub.waitFor((m) => m.topic === topic && m.payload !== '', 5000, topic);
    await sub.waitFor((m) => m.topic === 'msta/cam2/active/clapping' && m.payload === 'OFF', 5000, 'cam2 active topic');
    let retained = await retainedNow('#');
    const types = (camera: 'cam1' | 'cam2') => (JSON.parse(retained.get(CONFIG[camera][0]!)!) as { event_types: string[] }).event_types;
    assert.deepEqual(types('cam1'), LABELS);
    assert.deepEqual(types('cam2'), ['clapping'], 'its own labels, without the background');
    assert.deepEqual((JSON.parse(retained.get(CONFIG.cam2[1]!)!) as { options: string[] }).options, ['clapping', 'none']);
    assert.deepEqual([...retained.keys()].filter((t) => t.startsWith('msta/cam2/active/')), ['msta/cam2/active/clapping']);
    assert.ok(!retained.has(activeDiscoveryTopic(sinkTopics(), 'cam2', null, LABELS[0]!)), 'no binary sensor for a label cam2 does not have');

    // cam2 gets another label; cam1's labels stay as they were: only cam2 is announced again.
    const mark = sub.messages.length;
    sink.updateLabels({ labels: LABELS }, { cam2: { labels: ['waving hand', 'nothing happening'], background: 'nothing happening' } });
    for (const topic of [activeDiscoveryTopic(sinkTopics(), 'cam2', null, 'clapping'), 'msta/cam2/active/clapping']) {
      await sub.waitFor((m) => m.topic === topic && m.payload === '' && sub.messages.indexOf(m) >= mark, 5000, `${topic} emptied`);
    }
    await sub.waitFor((m) => m.topic === 'msta/cam2/active/waving hand' && m.payload === 'OFF', 5000, 'the new label OFF');
    await sub.waitFor((m) => m.topic === ALL('cam2', ['waving hand']).at(-1) && sub.messages.indexOf(m) >= mark, 5000, 'cam2 re-announced');
    retained = await retainedNow('#');
    assert.deepEqual(types('cam2'), ['waving hand']);
    assert.deepEqual(sub.messages.slice(mark).filter((m) => m.topic.includes('/cam1')).map((m) => m.topic), [], 'cam1 untouched');
  } finally {
    await sink.close(1000);
    await sub.close();
  }
});

test('recognition/set: ON and OFF handed on as commands; garbage, unknown cameras and retained commands counted and ignored, logged once per burst', { skip }, async () => {
  await clearRetained();
  const registry = new Registry();
  const commands: RecognitionCommand[] = [];
  const warnings: string[] = [];
  const sink = makeSink(['cam1'], registry, { labels: LABELS }, {
    onCommand: (c) => commands.push(c),
    log: { info: () => undefined, warn: (m) => warnings.push(m), error: () => undefined },
  });
  const client = await mqtt.connectAsync(broker.url);
  const sub = await subscriber(broker.url, ['msta/cam1/recognition', 'msta/info']);
  try {
    // A retained command reaches the sink as retained when it subscribes (a live one loses the flag):
    // applying it would undo later switches on every reconnect.
    await client.publishAsync('msta/cam1/recognition/set', 'OFF', { qos: 1, retain: true });
    await sink.start();
    await sink.whenConnected(5000);
    await eventually(async () => (await counter(registry, 'msta_mqtt_commands_total', { result: 'retained' })) === 1, 'the retained command refused');
    assert.deepEqual(commands, []);
    await client.publishAsync('msta/cam1/recognition/set', '', { qos: 1, retain: true });
    // The subscription is made on connect: wait until a command gets through.
    await eventually(async () => {
      await client.publishAsync('msta/cam1/recognition/set', 'OFF', { qos: 1 });
      return commands.length > 0;
    }, 'a first command');
    commands.length = 0;
    await client.publishAsync('msta/cam1/recognition/set', ' on ', { qos: 1 });
    for (let i = 0; i < 3; i++) await client.publishAsync('msta/cam1/recognition/set', `{"state": ${i}}`, { qos: 1 });
    await client.publishAsync('msta/cam9/recognition/set', 'OFF', { qos: 1 });
    await client.publishAsync('msta/cam1/recognition/set', 'OFF', { qos: 1 });
    await eventually(async () => commands.length === 2, 'all handled');
    assert.deepEqual(commands, [{ type: 'recognition', camera: 'cam1', enabled: true }, { type: 'recognition', camera: 'cam1', enabled: false }]);
    // Three bad JSON payloads, and the empty one that cleared the retained command.
    assert.equal(await counter(registry, 'msta_mqtt_commands_total', { result: 'bad_payload' }), 4);
    assert.equal(await counter(registry, 'msta_mqtt_commands_total', { result: 'unknown_camera' }), 1);
    assert.ok((await counter(registry, 'msta_mqtt_commands_total', { result: 'accepted' }))! >= 3);
    assert.equal(warnings.filter((w) => w.includes('neither ON nor OFF')).length, 1, 'one line for the burst of three');
    assert.ok(warnings.some((w) => w.includes('msta/cam9/recognition/set names no configured camera')));
    assert.ok(warnings.some((w) => w.includes('a retained command "OFF" on msta/cam1/recognition/set is ignored')));

    // The switch state and the info are retained, and republished after a broker restart.
    sink.publishRecognition('cam1', false);
    sink.publishInfo({ version: '9.9.9', model: { name: 'm', sha256: 'a'.repeat(64) }, provider: 'cpu', cameras: ['cam1'] });
    await sub.waitFor((m) => m.topic === 'msta/info', 5000, 'info');
    await broker.stop();
    await broker.start();
    await sink.whenConnected(10_000);
    await eventually(async () => {
      const r = await retainedNow('msta/#');
      return r.get('msta/cam1/recognition') === 'OFF' && r.get('msta/info')?.includes('"version":"9.9.9"') === true;
    }, 'recognition and info republished');
  } finally {
    await client.endAsync();
    await sink.close(1000);
    await sub.close();
  }
});

test('the console URL once HTTP listens: every entity re-announced with configuration_url, the version in device and origin', { skip }, async () => {
  await clearRetained();
  const sink = makeSink(['cam1'], new Registry(), { labels: LABELS }, { version: '4.5.6' });
  const sub = await subscriber(broker.url, ['homeassistant/#']);
  try {
    await sink.start();
    await sub.waitFor((m) => m.topic === CONFIG.cam1[0], 5000, 'first announcement');
    sink.setConsoleUrl('http://edge:9464/');
    for (const topic of ALL('cam1')) {
      const m = await sub.waitFor((x) => x.topic === topic && x.payload.includes('configuration_url'), 5000, `${topic} with the URL`);
      const config = JSON.parse(m.payload) as { device: Record<string, string>; origin: Record<string, string> };
      assert.deepEqual([config.device.sw_version, config.device.configuration_url], ['4.5.6', 'http://edge:9464/']);
      assert.deepEqual(config.origin, { name: 'msta-edge', sw_version: '4.5.6', support_url: 'http://edge:9464/' });
    }
    const count = sub.messages.length;
    sink.setConsoleUrl('http://edge:9464/');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(sub.messages.length, count, 'the same URL again: nothing re-announced');
  } finally {
    await sink.close(1000);
    await sub.close();
  }
});
