// Regions of interest in the sink: their topics (built in topics.ts), their retained state and
// active topics (cleared when a region goes), and their Home Assistant entities (one device per
// camera, entities per region, removed with the region).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { discoveryConfigs, discoveryTopics } from '../src/sink/discovery.js';
import { RetainedState } from '../src/sink/retained-state.js';
import { discoveryId, sinkTopics } from '../src/sink/topics.js';
import { isMstaError } from '../src/errors.js';

const t = sinkTopics('msta', 'homeassistant');

test("a region's leaves live under <base>/<camera>/regions/<region>/; a camera's own leaves stay", () => {
  assert.equal(t.events('bedroom', 'bed_side'), 'msta/bedroom/regions/bed_side/events');
  assert.equal(t.state('bedroom', 'bed_side'), 'msta/bedroom/regions/bed_side/state');
  assert.equal(t.scores('bedroom', 'door'), 'msta/bedroom/regions/door/scores');
  assert.equal(t.active('bedroom', 'falling down', 'door'), 'msta/bedroom/regions/door/active/falling down');
  assert.equal(t.events('bedroom', null), 'msta/bedroom/events', 'null: the whole camera');
  assert.equal(t.active('bedroom', 'falling down'), 'msta/bedroom/active/falling down');
  assert.equal(t.regionRetainedFilter('active'), 'msta/+/regions/+/active/+');
  assert.equal(t.regionRetainedFilter('state'), 'msta/+/regions/+/state');
  // A region's command topic is not a camera's.
  assert.equal(t.recognitionSetCamera('msta/bedroom/regions/door/recognition/set'), undefined);
  assert.throws(() => t.events('bedroom', 'a/b'), (e: unknown) => isMstaError(e, 'MQTT_TOPIC_INVALID') && /region name "a\/b"/.test(e.message));
});

test('Home Assistant: one device per camera, a switch per camera, event, sensor and binary sensors per region', () => {
  const configs = discoveryConfigs(t, 'bedroom', ['falling down'], { version: '1.2.3' }, ['bed_side', 'door']);
  const byTopic = new Map(configs.map((c) => [c.topic, JSON.parse(c.payload) as Record<string, unknown>]));
  const fall = discoveryId('falling down');
  assert.deepEqual([...byTopic.keys()], [
    'homeassistant/event/msta/bedroom_bed_side_action/config',
    'homeassistant/sensor/msta/bedroom_bed_side_current_action/config',
    'homeassistant/event/msta/bedroom_door_action/config',
    'homeassistant/sensor/msta/bedroom_door_current_action/config',
    'homeassistant/switch/msta/bedroom_recognition/config',
    `homeassistant/binary_sensor/msta/bedroom_bed_side_${fall}_active/config`,
    `homeassistant/binary_sensor/msta/bedroom_door_${fall}_active/config`,
  ]);
  assert.deepEqual(discoveryTopics(t, 'bedroom', ['falling down'], ['bed_side', 'door']), configs.map((c) => c.topic), 'the topics owned are those announced');
  const event = byTopic.get('homeassistant/event/msta/bedroom_door_action/config')!;
  assert.equal(event.state_topic, 'msta/bedroom/regions/door/events');
  assert.equal(event.name, 'door action');
  const sensor = byTopic.get('homeassistant/sensor/msta/bedroom_bed_side_current_action/config')!;
  assert.equal(sensor.state_topic, 'msta/bedroom/regions/bed_side/state');
  const active = byTopic.get(`homeassistant/binary_sensor/msta/bedroom_door_${fall}_active/config`)!;
  assert.equal(active.state_topic, 'msta/bedroom/regions/door/active/falling down');
  assert.equal(active.name, 'door: falling down');
  const devices = [...byTopic.values()].map((c) => JSON.stringify(c.device));
  assert.equal(new Set(devices).size, 1, 'every entity on the camera\'s one device');
  // Availability follows the camera's stream: its regions share it.
  assert.deepEqual((event.availability as Array<{ topic: string }>).map((a) => a.topic), ['msta/status', 'msta/bedroom/status']);
});

test("retained state per region: a region's state turns its own binary sensors; a region removed by a reload has its topics emptied", () => {
  const published: Array<{ topic: string; payload: string }> = [];
  const labels = ['falling down', 'waving'];
  const state = new RetainedState(
    { topics: t, publish: (m) => published.push(m), extraTopics: () => [], labelsOf: () => labels, log: { info: () => undefined } },
    ['bedroom', 'yard'],
    { bedroom: ['bed_side', 'door'] },
  );
  assert.deepEqual(state.streams('bedroom'), ['bed_side', 'door']);
  assert.deepEqual(state.streams('yard'), [null]);
  state.state({ camera: 'bedroom', region: 'door', label: 'falling down', score: 0.9, since: 0 });
  const last = (topic: string) => published.filter((m) => m.topic === topic).at(-1)?.payload;
  assert.equal(last('msta/bedroom/regions/door/active/falling down'), 'ON');
  assert.equal(last('msta/bedroom/regions/bed_side/active/falling down'), undefined, 'the other region is untouched');
  assert.equal(JSON.parse(last('msta/bedroom/regions/door/state')!).label, 'falling down');

  published.length = 0;
  state.republish();
  assert.equal(last('msta/bedroom/regions/door/active/falling down'), 'ON');
  assert.equal(last('msta/bedroom/regions/bed_side/active/falling down'), 'OFF');
  assert.equal(last('msta/yard/active/waving'), 'OFF');
  assert.equal(last('msta/bedroom/active/waving'), undefined, 'a camera with regions has no whole-camera topics');

  published.length = 0;
  const changed = state.setCameras(['bedroom', 'yard'], { bedroom: ['bed_side'] });
  assert.deepEqual(changed, ['bedroom'], 'the camera whose regions changed is announced again');
  assert.equal(last('msta/bedroom/regions/door/state'), '', "the removed region's state emptied");
  assert.equal(last('msta/bedroom/regions/door/active/falling down'), '');
  assert.equal(last('msta/bedroom/regions/bed_side/state'), undefined, 'the kept region is not cleared');
  // The stale sweep owns region topics too.
  assert.ok(state.sweepFilters().includes('msta/+/regions/+/active/+'));
  published.length = 0;
  state.sweep('msta/bedroom/regions/door/active/waving', Buffer.from('ON'), true);
  assert.equal(last('msta/bedroom/regions/door/active/waving'), '', 'a stale region topic is cleared');
  state.sweep('msta/bedroom/regions/bed_side/active/waving', Buffer.from('OFF'), true);
  assert.equal(last('msta/bedroom/regions/bed_side/active/waving'), undefined, 'an owned one is kept');
});
