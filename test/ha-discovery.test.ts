// Home Assistant discovery payloads as Home Assistant reads them: every key is one its MQTT
// discovery schemas accept (transcribed below from homeassistant/components/mqtt: schemas.py,
// config.py and each platform's module), the enum sensor obeys its rules, and the value templates,
// rendered by jinja2 (test/support/render-ha-template.py) against payloads made by the real
// recognition operator and payload builders, give what each entity expects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { from, lastValueFrom, toArray } from 'rxjs';
import { actionEvents } from '../src/recognize/action-events.js';
import { CAMERA_AVAILABLE_TEMPLATE, CURRENT_ACTION_TEMPLATE, discoveryConfigs, EVENT_TEMPLATE, NO_ACTION } from '../src/sink/discovery.js';
import { eventTypes } from '../src/sink/home-assistant.js';
import { actionStateFromEvent, actionStatePayload, cameraStatusPayload, eventPayload } from '../src/sink/payloads.js';
import { sinkTopics } from '../src/sink/topics.js';

const PYTHON = '/usr/bin/python3';
const noJinja = spawnSync(PYTHON, ['-c', 'import jinja2']).status === 0 ? undefined : 'python3-jinja2 is not installed (scripts/install-debian-deps.sh)';

// MQTT_ENTITY_COMMON_SCHEMA (schemas.py) with MQTT_AVAILABILITY_SCHEMA, and MQTT_BASE_SCHEMA (config.py).
const COMMON = [
  'availability', 'availability_mode', 'availability_template', 'availability_topic', 'payload_available', 'payload_not_available',
  'device', 'origin', 'enabled_by_default', 'entity_category', 'icon', 'json_attributes_topic', 'json_attributes_template',
  'object_id', 'unique_id', 'name', 'qos', 'encoding',
];
// MQTT_RO_SCHEMA and MQTT_RW_SCHEMA (config.py).
const READ_ONLY = ['state_topic', 'value_template'];
const READ_WRITE = ['command_topic', 'retain', 'state_topic'];
const PLATFORM: Record<string, { keys: string[]; required: string[] }> = {
  event: { keys: [...READ_ONLY, 'device_class', 'event_types'], required: ['state_topic', 'event_types'] },
  sensor: {
    keys: [...READ_ONLY, 'device_class', 'expire_after', 'force_update', 'last_reset_value_template', 'options', 'suggested_display_precision', 'state_class', 'unit_of_measurement'],
    required: ['state_topic'],
  },
  binary_sensor: { keys: [...READ_ONLY, 'device_class', 'expire_after', 'force_update', 'off_delay', 'payload_off', 'payload_on'], required: ['state_topic'] },
  switch: {
    keys: [...READ_WRITE, 'command_template', 'device_class', 'optimistic', 'payload_off', 'payload_on', 'state_off', 'state_on', 'value_template'],
    required: ['command_topic'],
  },
  // image.py: image_topic and url_topic are exclusive, one of them required.
  image: { keys: ['content_type', 'image_encoding', 'image_topic', 'url_template', 'url_topic'], required: ['image_topic'] },
};
// MQTT_ENTITY_DEVICE_INFO_SCHEMA and MQTT_ORIGIN_INFO_SCHEMA (schemas.py).
const DEVICE = ['identifiers', 'connections', 'manufacturer', 'model', 'model_id', 'name', 'hw_version', 'serial_number', 'sw_version', 'via_device', 'suggested_area', 'configuration_url'];
const ORIGIN = ['name', 'sw_version', 'support_url'];
const AVAILABILITY_ITEM = ['topic', 'payload_available', 'payload_not_available', 'value_template'];

const LABELS = ['waving hand', 'falling down', 'a/b', 'nothing happening'];
const REPORTABLE = eventTypes({ labels: LABELS, background: 'nothing happening' });
const INFO = { version: '1.2.3', configurationUrl: 'http://edge.local:9464/' };

function unknownKeys(object: Record<string, unknown>, allowed: string[]): string[] {
  return Object.keys(object).filter((k) => !allowed.includes(k));
}

/** Home Assistant's cv.configuration_url: http(s), or its own homeassistant:// scheme. */
function isConfigurationUrl(url: unknown): boolean {
  return typeof url === 'string' && URL.canParse(url) && ['http:', 'https:', 'homeassistant:'].includes(new URL(url).protocol);
}

test('every discovery payload uses only keys Home Assistant accepts for its platform, with the required ones and valid device and origin', () => {
  const topics = sinkTopics();
  // With snapshots enabled: the image entity too.
  const configs = discoveryConfigs(topics, 'yard', REPORTABLE, INFO, [null], true);
  const components = configs.map((c) => c.topic.split('/')[1]!);
  assert.deepEqual([...new Set(components)].sort(), ['binary_sensor', 'event', 'image', 'sensor', 'switch']);
  assert.equal(discoveryConfigs(topics, 'yard', REPORTABLE, INFO).filter((c) => c.topic.includes('/image/')).length, 0, 'no image without snapshots');
  const image = JSON.parse(configs.find((c) => c.topic === 'homeassistant/image/msta/yard_snapshot/config')!.payload) as Record<string, unknown>;
  assert.deepEqual([image.image_topic, image.content_type, image.image_encoding], ['msta/yard/snapshot', 'image/jpeg', undefined], 'raw JPEG bytes');
  assert.equal(components.filter((c) => c === 'binary_sensor').length, REPORTABLE.length, 'a binary sensor per reportable label');
  const uniqueIds = new Set<string>();
  for (const { topic, payload } of configs) {
    const m = /^homeassistant\/(\w+)\/([A-Za-z0-9_-]+)\/([A-Za-z0-9_-]+)\/config$/.exec(topic);
    assert.ok(m, `${topic}: node and object ids in [A-Za-z0-9_-]`);
    const platform = PLATFORM[m[1]!]!;
    const config = JSON.parse(payload) as Record<string, unknown>;
    assert.deepEqual(unknownKeys(config, [...COMMON, ...platform.keys]), [], `${topic}: keys Home Assistant does not know`);
    for (const key of platform.required) assert.ok(config[key] !== undefined, `${topic}: ${key} is required`);
    assert.ok(['all', 'any', 'latest'].includes(config.availability_mode as string));
    for (const a of config.availability as Record<string, unknown>[]) assert.deepEqual(unknownKeys(a, AVAILABILITY_ITEM), [], `${topic}: availability`);
    const device = config.device as Record<string, unknown>;
    assert.deepEqual(unknownKeys(device, DEVICE), [], `${topic}: device keys`);
    assert.ok(Array.isArray(device.identifiers) && device.identifiers.length > 0, 'a device needs an identifier');
    assert.equal(device.sw_version, '1.2.3');
    assert.ok(isConfigurationUrl(device.configuration_url), String(device.configuration_url));
    const origin = config.origin as Record<string, unknown>;
    assert.deepEqual(unknownKeys(origin, ORIGIN), [], `${topic}: origin keys`);
    assert.equal(origin.name, 'msta-edge');
    assert.equal(origin.sw_version, '1.2.3');
    assert.ok(isConfigurationUrl(origin.support_url));
    assert.ok(!uniqueIds.has(config.unique_id as string), `${topic}: unique_id unique`);
    uniqueIds.add(config.unique_id as string);
  }
  // Home Assistant's sensor rule: options only with device_class enum, and then no unit or state class.
  const sensor = JSON.parse(configs.find((c) => c.topic.includes('/sensor/'))!.payload) as Record<string, unknown>;
  assert.equal(sensor.device_class, 'enum');
  assert.deepEqual(sensor.options, [...REPORTABLE, NO_ACTION]);
  assert.equal(sensor.unit_of_measurement, undefined);
  assert.equal(sensor.state_class, undefined);
  const event = JSON.parse(configs.find((c) => c.topic.includes('/event/'))!.payload) as Record<string, unknown>;
  assert.deepEqual(event.event_types, ['waving hand', 'falling down', 'a/b'], 'exactly the reportable labels');
  const binary = configs.filter((c) => c.topic.includes('/binary_sensor/')).map((c) => JSON.parse(c.payload) as Record<string, unknown>);
  assert.deepEqual(binary.map((b) => b.state_topic), ['msta/yard/active/waving hand', 'msta/yard/active/falling down', topics.active('yard', 'a/b')]);
  assert.match(topics.active('yard', 'a/b'), /^msta\/yard\/active\/a_b_[0-9a-f]{8}$/, 'a label that is not one topic level gets a safe one');
  const sw = JSON.parse(configs.find((c) => c.topic.includes('/switch/'))!.payload) as Record<string, unknown>;
  assert.equal(sw.command_topic, 'msta/yard/recognition/set');
  assert.equal(sw.state_topic, 'msta/yard/recognition');
  // Without a version or console URL the blocks stay valid (no empty values).
  const bare = JSON.parse(discoveryConfigs(topics, 'yard', REPORTABLE)[0]!.payload) as { device: Record<string, unknown>; origin: Record<string, unknown> };
  assert.deepEqual(bare.origin, { name: 'msta-edge' });
  assert.equal('configuration_url' in bare.device, false);
});

function render(cases: { template: string; payload: string }[]): string[] {
  const r = spawnSync(PYTHON, ['test/support/render-ha-template.py'], { input: JSON.stringify(cases), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as string[];
}

test('value templates rendered with jinja2 against real payloads: the event fires on start only, the sensor shows an option, availability follows streaming', { skip: noJinja }, async () => {
  const T0 = Date.UTC(2026, 0, 1);
  const series = [...Array(6).fill([0.1, 0.8, 0.1]), ...Array(3).fill([0.34, 0.33, 0.33])] as number[][];
  const events = await lastValueFrom(
    from(series.map((s, seq) => ({ clip: { camera: 'yard', region: null, seq, frames: 8, height: 64, width: 64, firstFrameAt: T0 + seq * 500, lastFrameAt: T0 + seq * 500 + 700 }, scores: Float64Array.from(s), inferenceSeconds: 0.005 }))).pipe(
      actionEvents({
        labels: REPORTABLE.map((name) => ({ name })),
        smoothing: 1, start: 0.6, end: 0.4, minClips: 2, minScore: 0, topK: 3, updateEveryClips: 2, updateRise: 0.5,
        model: { name: 'm', sha256: createHash('sha256').update('x').digest('hex') },
      }),
      toArray(),
    ),
  );
  assert.deepEqual([...new Set(events.map((e) => e.type))], ['start', 'update', 'end']);
  const states = events.map((e) => JSON.stringify(actionStatePayload(actionStateFromEvent(e))));
  const statuses = (['streaming', 'stalled', 'offline', 'connecting'] as const).map((state) => JSON.stringify(cameraStatusPayload({ camera: 'yard', state, since: T0, reconnects: 1, ...(state === 'streaming' ? {} : { reason: 'x' }) })));
  const out = render([
    ...events.map((e) => ({ template: EVENT_TEMPLATE, payload: JSON.stringify(eventPayload(e)) })),
    ...states.map((payload) => ({ template: CURRENT_ACTION_TEMPLATE, payload })),
    ...statuses.map((payload) => ({ template: CAMERA_AVAILABLE_TEMPLATE, payload })),
  ]);
  const fired = out.slice(0, events.length);
  const shown = out.slice(events.length, events.length + states.length);
  const available = out.slice(events.length + states.length);

  events.forEach((e, i) => {
    if (e.type !== 'start') return assert.equal(fired[i], '', `${e.type} renders empty: Home Assistant ignores it`);
    const fields = JSON.parse(fired[i]!) as Record<string, unknown>;
    assert.deepEqual(fields, { event_type: 'falling down', score: e.score, event_id: e.id, started_at: new Date(e.startedAt).toISOString() });
    assert.ok(REPORTABLE.includes(fields.event_type as string), 'event_type is one of event_types');
  });
  const options = [...REPORTABLE, NO_ACTION];
  for (const s of shown) assert.ok(options.includes(s), `"${s}" is one of the enum sensor's options`);
  assert.equal(shown[0], 'falling down');
  assert.equal(shown.at(-1), NO_ACTION, 'after the end: none');
  assert.deepEqual(available, ['online', 'offline', 'offline', 'offline']);
});
