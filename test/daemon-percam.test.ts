// Two cameras with different label sets, through the real daemon, the demo video, the trained test
// bundle and a real Mosquitto: each camera's events carry only its own labels, its Home Assistant
// entities list only its own, the set written twice (inline globally, a file on a camera) is embedded
// once, a SIGHUP that changes one camera's labels touches only that camera's entities, and a model
// hot swap keeps each camera on its own labels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { activeDiscoveryTopic } from '../src/sink/discovery.js';
import { sinkTopics } from '../src/sink/topics.js';
import { liveFeed } from './support/live-feed.js';
import { DaemonProcess } from './support/daemon-process.js';
import { renamedBundle } from './support/model-swap.js';
import { missingBrokerTools, startMosquitto, subscriber, type Received } from './support/mosquitto.js';
import { tempDir } from './support/temp-dir.js';

const skip = missingBrokerTools();
const BUNDLE = resolve('models/synthetic-actions');
const LABELS = (JSON.parse(readFileSync(join(BUNDLE, 'bundle.json'), 'utf8')) as { labels: string[] }).labels;
const BACKGROUND = 'nothing happening';
const RED = LABELS.filter((l) => l.startsWith('red '));
const BLUE = LABELS.filter((l) => l.startsWith('blue '));
const list = (labels: string[]): string => `[${labels.map((l) => JSON.stringify(l)).join(', ')}]`;

function writeConfig(file: string, url: string, blue: string[], bundle = BUNDLE, blueStride?: number): void {
  const video = `file://${resolve('models/demo/actions-demo.mp4')}`;
  writeFileSync(
    file,
    [
      'cameras:',
      '  - id: red',
      `    url: ${video}`,
      '    loop: true',
      // The global set again, as a file: equal content, so embedded once.
      '    labels:',
      '      files: [red.txt]',
      '  - id: blue',
      `    url: ${video}`,
      '    loop: true',
      '    labels:',
      `      actions: ${list([...blue, BACKGROUND])}`,
      '    recognition:',
      '      start: 0.45',
      ...(blueStride !== undefined ? [`      stride: ${blueStride}`] : []),
      'model:',
      `  bundle: ${bundle}`,
      '  providers: [cpu]',
      'labels:',
      `  actions: ${list([...RED, BACKGROUND])}`,
      `  background: ${BACKGROUND}`,
      'recognition:',
      '  stride: 2',
      '  start: 0.5',
      '  end: 0.3',
      '  min_clips: 2',
      'mqtt:',
      `  url: ${url}`,
      '  spool:',
      '    dir: spool',
      '  homeassistant:',
      '    enabled: true',
      'http:',
      '  listen: 127.0.0.1:0',
      'logging:',
      '  format: json',
      // Source child starts are logged at debug.
      '  level: debug',
      '',
    ].join('\n'),
  );
}

interface EventPayload {
  type: string;
  label: string;
  camera: string;
  top: { label: string }[];
  model: { name: string };
}


const eventsOf = (messages: Received[], camera: string): EventPayload[] =>
  messages.filter((m) => m.topic === `msta/${camera}/events`).map((m) => JSON.parse(m.payload) as EventPayload);

test('two cameras with different label sets get different events and different Home Assistant event types', { skip, timeout: 240_000 }, async () => {
  const broker = await startMosquitto();
  const dir = tempDir('msta-percam-daemon-');
  writeFileSync(join(dir, 'red.txt'), [...RED, BACKGROUND].join('\n') + '\n');
  const config = join(dir, 'msta-edge.yaml');
  writeConfig(config, broker.url, BLUE);
  const sub = await subscriber(broker.url, ['msta/#', 'homeassistant/#']);
  const daemon = DaemonProcess.start(['--config', config]);
  try {
    // Discovery per camera: its own reportable labels, never the background one.
    const eventConfig = async (camera: string, after = 0): Promise<{ event_types: string[] }> =>
      JSON.parse((await sub.waitFor((m) => m.topic === `homeassistant/event/msta/${camera}_action/config` && m.payload !== '' && sub.messages.indexOf(m) >= after, 60_000, `${camera} event entity`)).payload) as { event_types: string[] };
    assert.deepEqual((await eventConfig('red')).event_types, RED);
    assert.deepEqual((await eventConfig('blue')).event_types, BLUE);
    const sensor = JSON.parse((await sub.waitFor((m) => m.topic === 'homeassistant/sensor/msta/blue_current_action/config', 30_000, 'blue sensor')).payload) as { options: string[] };
    assert.deepEqual(sensor.options, [...BLUE, 'none']);
    const t = sinkTopics();
    // Announced after the event, sensor and switch configs.
    await sub.waitFor((m) => m.topic === activeDiscoveryTopic(t, 'blue', null, BLUE.at(-1)!), 30_000, "blue's binary sensors for its labels");
    await sub.waitFor((m) => m.topic === activeDiscoveryTopic(t, 'red', null, RED.at(-1)!), 30_000, "red's binary sensors for its labels");
    assert.equal(sub.on(activeDiscoveryTopic(t, 'red', null, BLUE[0]!)).length, 0, 'no binary sensor for a label red does not have');
    await sub.waitFor((m) => m.topic === `msta/red/active/${RED[0]}` && m.payload === 'OFF', 30_000, 'red active topic');
    assert.equal(sub.on(`msta/red/active/${BLUE[0]}`).length, 0);

    // Events: the demo shows red and blue actions in turn; each camera reports from its own set only.
    await sub.waitFor(() => eventsOf(sub.messages, 'red').some((e) => e.type === 'start'), 150_000, 'a start on red');
    await sub.waitFor(() => eventsOf(sub.messages, 'blue').some((e) => e.type === 'start'), 150_000, 'a start on blue');
    for (const [camera, own] of [['red', [...RED, BACKGROUND]], ['blue', [...BLUE, BACKGROUND]]] as const) {
      const events = eventsOf(sub.messages, camera);
      for (const e of events) {
        assert.equal(e.camera, camera);
        assert.ok(own.includes(e.label) && e.label !== BACKGROUND, `${camera} event label ${e.label}`);
        for (const s of e.top) assert.ok(own.includes(s.label), `${camera} top label ${s.label}`);
      }
    }
    // The console: the playground of a camera has its labels and thresholds; each camera's live
    // scores are over its own labels.
    type Clip = { camera: string; top: { label: string }[] };
    const clipsOf = (events: { event: string; data: unknown }[], camera: string): Clip[] =>
      events.filter((e) => e.event === 'clip' && (e.data as Clip).camera === camera).map((e) => e.data as Clip);
    const live = await liveFeed(`http://${await daemon.httpAddress()}/api/live?camera=blue`, (evs) => clipsOf(evs, 'red').length >= 2 && clipsOf(evs, 'blue').length >= 2, 60_000);
    const playground = live.find((e) => e.event === 'config')?.data as { labels: string[]; recognition: { start: number } } | undefined;
    assert.deepEqual(playground?.labels, [...BLUE, BACKGROUND]);
    assert.equal(playground?.recognition.start, 0.45, "blue's own start");
    for (const [camera, own] of [['red', [...RED, BACKGROUND]], ['blue', [...BLUE, BACKGROUND]]] as const) {
      const clips = clipsOf(live, camera);
      assert.ok(clips.length >= 2, `${camera}: live clips`);
      for (const c of clips) for (const s of c.top) assert.ok(own.includes(s.label), `${camera} live top label ${s.label}`);
    }

    // The global set and red's file have the same content: two sets embedded, not three.
    assert.equal(daemon.lines.filter((l) => l.msg === 'labels ready').length, 2, 'one embedding per distinct label set');

    // SIGHUP with one blue label fewer: blue's entity for it goes; red is not re-announced; no
    // camera restarts (new labels and thresholds go to the running cameras).
    const children = daemon.lines.filter((l) => l.msg === 'source child started').length;
    assert.equal(children, 2, 'one source process per camera');
    const gone = BLUE[0]!;
    writeConfig(config, broker.url, BLUE.slice(1));
    const hup = sub.messages.length;
    daemon.child.kill('SIGHUP');
    await sub.waitFor((m) => m.topic === activeDiscoveryTopic(t, 'blue', null, gone) && m.payload === '' && sub.messages.indexOf(m) >= hup, 30_000, "blue's gone label's binary sensor removed");
    assert.deepEqual((await eventConfig('blue', hup)).event_types, BLUE.slice(1));
    const reloaded = await daemon.waitForLine((l) => l.msg === 'labels reloaded', 30_000, 'labels reloaded');
    assert.deepEqual(reloaded.cameras, ['blue']);
    assert.equal(sub.messages.slice(hup).filter((m) => m.topic === 'homeassistant/event/msta/red_action/config').length, 0, 'red untouched');
    assert.equal(daemon.lines.filter((l) => l.msg === 'source child started').length, children, 'no source process restarted');
    assert.equal(daemon.lines.filter((l) => l.msg === 'camera changed: restarting it').length, 0);

    // A new stride for blue alone: blue's clips change, so blue restarts; red keeps streaming.
    writeConfig(config, broker.url, BLUE.slice(1), BUNDLE, 3);
    daemon.child.kill('SIGHUP');
    await daemon.waitForLine((l) => l.msg === 'camera started' && l.camera === 'blue', 30_000, 'blue restarted');
    assert.deepEqual(daemon.lines.filter((l) => l.msg === 'camera changed: restarting it').map((l) => l.camera), ['blue']);
    const redChildren = daemon.lines.filter((l) => l.msg === 'source child started' && l.camera === 'red').length;
    assert.equal(redChildren, 1, 'red kept its source process');

    // A model hot swap: every camera moves to the new model with its own labels, each distinct set
    // embedded once with it (the global set = red's file, and blue's).
    const ready = daemon.lines.filter((l) => l.msg === 'labels ready').length;
    writeConfig(config, broker.url, BLUE.slice(1), renamedBundle(dir, 'swapped'), 3);
    const swap = sub.messages.length;
    daemon.child.kill('SIGHUP');
    await daemon.waitForLine((l) => l.msg === 'model swapped', 60_000, 'model swapped');
    assert.equal(daemon.lines.filter((l) => l.msg === 'labels ready').length, ready + 2);
    const after = (camera: string) => eventsOf(sub.messages.slice(swap), camera).filter((e) => e.model.name === 'swapped');
    await sub.waitFor(() => after('red').some((e) => e.type === 'start') && after('blue').some((e) => e.type === 'start'), 90_000, 'starts on both cameras from the new model');
    for (const [camera, own] of [['red', [...RED, BACKGROUND]], ['blue', [...BLUE.slice(1), BACKGROUND]]] as const) {
      for (const e of after(camera)) {
        assert.ok(own.includes(e.label), `${camera} event label ${e.label} after the swap`);
        for (const s of e.top) assert.ok(own.includes(s.label), `${camera} top label ${s.label} after the swap`);
      }
    }
    daemon.child.kill('SIGTERM');
    assert.equal((await daemon.exited).code, 0, daemon.raw.slice(-2000));
  } finally {
    await daemon.stop('SIGTERM');
    await sub.close();
    await broker.dispose();
  }
});
