// Topic builder, payload mappings and Home Assistant discovery configs: pure functions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isMstaError } from '../src/errors.js';
import { connectionError } from '../src/sink/connection-error.js';
import { redactSecrets } from '../src/redact.js';
import { discoveryConfigs, discoveryTopics } from '../src/sink/discovery.js';
import { actionStateFromEvent, actionStatePayload, cameraStatusPayload, scoresPayload } from '../src/sink/payloads.js';
import type { ActionEvent } from '../src/types.js';
import { assertTopicLevel, discoveryId, sinkTopics } from '../src/sink/topics.js';

test('topics of API v1 under the default and a nested base topic', () => {
  const t = sinkTopics();
  assert.equal(t.bridgeStatus, 'msta/status');
  assert.equal(t.cameraStatus('door'), 'msta/door/status');
  assert.equal(t.events('door'), 'msta/door/events');
  assert.equal(t.state('door'), 'msta/door/state');
  assert.equal(t.scores('door'), 'msta/door/scores');
  assert.equal(t.retainedCameraFilter('state'), 'msta/+/state');
  assert.equal(t.homeAssistantStatus, 'homeassistant/status');
  assert.equal(t.discoveryConfig('event', 'door_action'), 'homeassistant/event/msta/door_action/config');
  assert.equal(t.discoveryConfigFilter('sensor'), 'homeassistant/sensor/msta/+/config');

  const nested = sinkTopics('site-1/msta', 'ha');
  assert.equal(nested.events('yard'), 'site-1/msta/yard/events');
  assert.equal(nested.nodeId, discoveryId('site-1/msta'));
  assert.match(nested.nodeId, /^site-1_msta_[0-9a-f]{8}$/);
  assert.equal(nested.discoveryConfig('sensor', 'x'), `ha/sensor/${nested.nodeId}/x/config`);
});

test('a camera id that is not exactly one topic level is refused with a clear error', () => {
  const t = sinkTopics();
  for (const bad of ['', 'a/b', 'cam+', '#', 'x\0y']) {
    assert.throws(
      () => t.events(bad),
      (e: unknown) => isMstaError(e, 'MQTT_TOPIC_INVALID') && e.message.includes(`camera id "${bad}"`) && e.message.includes('single MQTT topic level'),
      JSON.stringify(bad),
    );
  }
  assert.doesNotThrow(() => assertTopicLevel('cam_1-A', 'camera id'));
});

test('base topic and discovery prefix must be topic names without wildcards or empty levels', () => {
  for (const bad of ['', 'msta/', '/msta', 'a//b', 'ms+ta', 'msta/#']) {
    assert.throws(() => sinkTopics(bad), (e: unknown) => isMstaError(e, 'MQTT_TOPIC_INVALID') && e.message.startsWith('mqtt.base_topic'), bad);
  }
  assert.throws(() => sinkTopics('msta', 'home/#'), /mqtt\.homeassistant\.prefix/);
});

test('discovery ids keep safe ids and make others safe without collisions', () => {
  assert.equal(discoveryId('front_door-2'), 'front_door-2');
  assert.match(discoveryId('a.b'), /^a_b_[0-9a-f]{8}$/);
  assert.notEqual(discoveryId('a.b'), discoveryId('a_b'));
  assert.notEqual(discoveryId('a.b'), discoveryId('a:b'));
});

test('payloads carry ISO 8601 UTC times with milliseconds', () => {
  const since = Date.UTC(2026, 4, 6, 7, 8, 9, 10);
  assert.deepEqual(cameraStatusPayload({ camera: 'c', state: 'streaming', since, reconnects: 2 }), {
    state: 'streaming',
    since: '2026-05-06T07:08:09.010Z',
    reconnects: 2,
  });
  assert.deepEqual(cameraStatusPayload({ camera: 'c', state: 'offline', since, reconnects: 0, reason: 'no frame for 10 s' }).reason, 'no frame for 10 s');
  assert.deepEqual(actionStatePayload({ camera: 'c', label: null, score: 0.1, since }), { label: null, score: 0.1, since: '2026-05-06T07:08:09.010Z' });
  const clip = { camera: 'c', region: null, seq: 3, frames: 8, height: 224, width: 224, firstFrameAt: since, lastFrameAt: since + 990 };
  assert.deepEqual(scoresPayload({ clip, top: [{ label: 'run', score: 0.5 }] }), {
    v: 1,
    camera: 'c', region: null,
    clip: { seq: 3, first_frame_at: '2026-05-06T07:08:09.010Z', last_frame_at: '2026-05-06T07:08:10.000Z', frames: 8 },
    top: [{ label: 'run', score: 0.5 }],
  });
});

test('the current action follows events: the action from its start, none from its end', () => {
  const base: ActionEvent = {
    id: 'occ-1', type: 'start', camera: 'door', region: null, label: 'waving', score: 0.7, topScore: 0.7,
    startedAt: Date.parse('2026-01-01T00:00:01.000Z'), endedAt: null,
    clip: { firstFrameAt: Date.parse('2026-01-01T00:00:01.000Z'), lastFrameAt: Date.parse('2026-01-01T00:00:02.000Z'), frames: 8, inferenceSeconds: 0.005 },
    top: [{ label: 'waving', score: 0.7 }], model: { name: 'm', sha256: '0'.repeat(64) }, snapshot: false,
  };
  const started = Date.parse('2026-01-01T00:00:01.000Z');
  assert.deepEqual(actionStateFromEvent(base), { camera: 'door', region: null, label: 'waving', score: 0.7, since: started });
  assert.deepEqual(actionStateFromEvent({ ...base, type: 'update', score: 0.9 }), { camera: 'door', region: null, label: 'waving', score: 0.9, since: started });
  assert.deepEqual(actionStateFromEvent({ ...base, type: 'end', endedAt: Date.parse('2026-01-01T00:00:09.500Z') }), {
    camera: 'door', region: null, label: null, score: 0, since: Date.parse('2026-01-01T00:00:09.500Z'),
  });
});

test('discovery: an event entity fed by the events topic and a sensor fed by the state topic, both bound to both status topics', () => {
  const t = sinkTopics('msta', 'homeassistant');
  const configs = discoveryConfigs(t, 'door', ['waving', 'falling']);
  const [event, sensor] = configs;
  assert.equal(event!.topic, 'homeassistant/event/msta/door_action/config');
  assert.equal(sensor!.topic, 'homeassistant/sensor/msta/door_current_action/config');
  assert.deepEqual(discoveryTopics(t, 'door', ['waving', 'falling']), configs.map((c) => c.topic));
  const e = JSON.parse(event!.payload) as Record<string, unknown>;
  const s = JSON.parse(sensor!.payload) as Record<string, unknown>;
  assert.equal(e.state_topic, 'msta/door/events');
  assert.deepEqual(e.event_types, ['waving', 'falling']);
  assert.match(String(e.value_template), /value_json\.type == 'start'.*'event_type': value_json\.label/);
  assert.equal(s.state_topic, 'msta/door/state');
  assert.equal(s.json_attributes_topic, 'msta/door/state');
  for (const c of [e, s]) {
    assert.deepEqual(
      (c.availability as { topic: string }[]).map((a) => a.topic),
      ['msta/status', 'msta/door/status'],
    );
    assert.equal(c.availability_mode, 'all');
    assert.deepEqual((c.device as { identifiers: string[] }).identifiers, ['msta-edge_msta_door']);
  }
  assert.notEqual(e.unique_id, s.unique_id);
  const other = JSON.parse(discoveryConfigs(t, 'yard', [])[0]!.payload) as { device: { identifiers: string[] } };
  assert.notDeepEqual(other.device.identifiers, ['msta-edge_msta_door'], 'a device per camera');
});

test('connection errors are MQTT_FAILED, name the redacted broker URL, and never carry a secret', () => {
  const refused = Object.assign(new Error('Connection refused: Bad User Name or Password'), { code: 134 });
  const err = connectionError(refused, 'mqtt://msta:***@broker:1883', ['hunter2']);
  assert.ok(isMstaError(err, 'MQTT_FAILED'));
  assert.match(err.message, /^mqtt:\/\/msta:\*\*\*@broker:1883: MQTT broker: Connection refused: Bad User Name or Password \[134\] \(check mqtt\.username/);
  const version = connectionError(Object.assign(new Error('Connection refused: Unacceptable protocol version'), { code: 1 }), 'mqtt://b', []);
  assert.match(version.message, /\[1\] \(the broker does not speak this MQTT version: try mqtt\.protocol_version 4\)$/);
  const echoed = connectionError(new Error('auth hunter2 rejected'), 'mqtt://b', ['hunter2', undefined]);
  assert.equal(echoed.message.includes('hunter2'), false);
  assert.equal(redactSecrets('a hunter2 b hunter2', ['hunter2', '']), 'a *** b ***');
});
