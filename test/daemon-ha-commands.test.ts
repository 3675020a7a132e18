// The real daemon on the demo video with a real Mosquitto, as Home Assistant sees it: a label's
// binary sensor goes ON then OFF; `recognition/set OFF` stops events while the camera streams on,
// the switch state is retained and kept across a restart, `ON` resumes; a garbage command is
// ignored and counted; <base>/info is retained; a label removed on SIGHUP takes its entities along.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Ajv } from 'ajv';
import mqtt from 'mqtt';
import { activeDiscoveryTopic } from '../src/sink/discovery.js';
import { sinkTopics } from '../src/sink/topics.js';
import { DaemonProcess } from './support/daemon-process.js';
import { missingBrokerTools, startMosquitto, subscriber, type Received } from './support/mosquitto.js';
import { tempDir } from './support/temp-dir.js';

const skip = missingBrokerTools();
const BUNDLE = resolve('models/synthetic-actions');
const LABELS = (JSON.parse(readFileSync(join(BUNDLE, 'bundle.json'), 'utf8')) as { labels: string[] }).labels;
const BACKGROUND = 'nothing happening';

function writeConfig(file: string, url: string, labels: string[]): void {
  writeFileSync(
    file,
    [
      'cameras:',
      '  - id: yard',
      `    url: file://${resolve('models/demo/actions-demo.mp4')}`,
      '    loop: true',
      'model:',
      `  bundle: ${BUNDLE}`,
      '  providers: [cpu]',
      'labels:',
      `  actions: [${labels.map((l) => JSON.stringify(l)).join(', ')}]`,
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
      '',
    ].join('\n'),
  );
}

async function metric(daemon: DaemonProcess, pattern: RegExp): Promise<number> {
  const text = await (await fetch(`http://${await daemon.httpAddress()}/metrics`)).text();
  const m = pattern.exec(text);
  return m ? Number(m[1]) : NaN;
}

async function until(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const FRAMES = /^msta_source_frames_total\{camera="yard"\} (\d+)$/m;
const CLIPS = /^msta_clips_total\{camera="yard",region=""\} (\d+)$/m;
const starts = (messages: Received[]): number => messages.filter((m) => m.topic === 'msta/yard/events' && (JSON.parse(m.payload) as { type: string }).type === 'start').length;

test('binary sensor ON then OFF; recognition/set OFF stops events (kept across a restart), ON resumes; garbage counted; SIGHUP removes a label\'s entities', { skip, timeout: 240_000 }, async () => {
  const broker = await startMosquitto();
  const dir = tempDir('msta-ha-daemon-');
  const config = join(dir, 'msta-edge.yaml');
  writeConfig(config, broker.url, LABELS);
  const sub = await subscriber(broker.url, ['msta/#', 'homeassistant/#']);
  const commander = await mqtt.connectAsync(broker.url);
  const runs: DaemonProcess[] = [];
  const start = (): DaemonProcess => {
    const d = DaemonProcess.start(['--config', config]);
    runs.push(d);
    return d;
  };
  try {
    let daemon = start();
    await sub.waitFor((m) => m.topic === 'msta/yard/recognition' && m.payload === 'ON', 60_000, 'recognition ON at start');
    const info = await sub.waitFor((m) => m.topic === 'msta/info', 60_000, 'info');
    assert.ok(info.retain || sub.on('msta/info').length > 0);
    const validInfo = new Ajv({ strict: false }).compile(JSON.parse(readFileSync('docs/schemas/bridge-info.schema.json', 'utf8')) as object);
    const infoPayload = JSON.parse(info.payload) as { cameras: string[]; model: { name: string } };
    assert.ok(validInfo(infoPayload), JSON.stringify(validInfo.errors));
    assert.deepEqual(infoPayload.cameras, ['yard']);
    assert.equal(infoPayload.model.name, 'synthetic-actions');

    // Every label's binary sensor starts OFF; one of them goes ON with its action and OFF at its end.
    for (const label of LABELS.filter((l) => l !== BACKGROUND)) {
      await sub.waitFor((m) => m.topic === `msta/yard/active/${label}` && m.payload === 'OFF', 30_000, `${label} OFF at start`);
    }
    const on = await sub.waitFor((m) => m.topic.startsWith('msta/yard/active/') && m.payload === 'ON', 90_000, 'a binary sensor ON');
    const label = on.topic.slice('msta/yard/active/'.length);
    const onAt = sub.messages.indexOf(on);
    await sub.waitFor((m) => m.topic === on.topic && m.payload === 'OFF' && sub.messages.indexOf(m) > onAt, 30_000, `${label} OFF at its end`);
    // ON and OFF are the action's start and end (the event may arrive a moment after the state).
    const isEvent = (type: string) => (m: Received) => m.topic === 'msta/yard/events' && (JSON.parse(m.payload) as { type: string; label: string }).type === type && m.payload.includes(`"label":${JSON.stringify(label)}`);
    const startEvent = await sub.waitFor(isEvent('start'), 10_000, `the start of ${label}`);
    const id = (JSON.parse(startEvent.payload) as { id: string }).id;
    await sub.waitFor((m) => isEvent('end')(m) && m.payload.includes(id), 10_000, `the end of ${label}`);

    // A garbage command: ignored, counted, logged; the daemon goes on.
    await commander.publishAsync('msta/yard/recognition/set', 'maybe', { qos: 1 });
    await commander.publishAsync('msta/nosuchcamera/recognition/set', 'OFF', { qos: 1 });
    await until(async () => (await metric(daemon, /^msta_mqtt_commands_total\{result="bad_payload"\} (\d+)$/m)) === 1, 10_000, 'the bad payload counted');
    await until(async () => (await metric(daemon, /^msta_mqtt_commands_total\{result="unknown_camera"\} (\d+)$/m)) === 1, 10_000, 'the unknown camera counted');
    await daemon.waitForLine((l) => l.msg.includes('"maybe" on msta/yard/recognition/set is neither ON nor OFF'), 10_000, 'the bad command logged');

    // OFF: the switch state is retained; the active action (if any) ends; no clip is made while frames flow on.
    await commander.publishAsync('msta/yard/recognition/set', 'OFF', { qos: 1 });
    await sub.waitFor((m) => m.topic === 'msta/yard/recognition' && m.payload === 'OFF', 10_000, 'recognition OFF');
    await daemon.waitForLine((l) => l.msg.startsWith('recognition paused'), 10_000, 'paused logged');
    await until(async () => (await metric(daemon, /^msta_mqtt_commands_total\{result="accepted"\} (\d+)$/m)) === 1, 10_000, 'the command counted');
    // A clip already in inference may still end an action: let it settle, then look at a window.
    await new Promise((r) => setTimeout(r, 1000));
    const clips = await metric(daemon, CLIPS);
    const frames = await metric(daemon, FRAMES);
    const startsBefore = starts(sub.messages);
    // 60 sampled frames is about 10 s of the demo, which has an action every 4 s.
    await until(async () => (await metric(daemon, FRAMES)) >= frames + 60, 60_000, 'frames flowing while paused');
    assert.equal(await metric(daemon, CLIPS), clips, 'no clip is made while recognition is paused');
    assert.equal(starts(sub.messages), startsBefore, 'no event while recognition is paused');
    const lastActive = new Map(sub.messages.filter((m) => m.topic.startsWith('msta/yard/active/')).map((m) => [m.topic, m.payload]));
    assert.ok([...lastActive.values()].every((p) => p === 'OFF'), 'every binary sensor OFF while paused');

    // Kept across a restart: the next daemon starts paused and says so, retained.
    daemon.child.kill('SIGTERM');
    assert.equal((await daemon.exited).code, 0, daemon.raw.slice(-2000));
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'spool', 'recognition.json'), 'utf8')), { paused: ['yard'] });
    const mark = sub.messages.length;
    daemon = start();
    await daemon.waitForLine((l) => l.msg.startsWith('recognition paused (switched off'), 60_000, 'started paused');
    await sub.waitFor((m) => m.topic === 'msta/yard/recognition' && m.payload === 'OFF' && sub.messages.indexOf(m) >= mark, 30_000, 'OFF republished after the restart');
    await daemon.waitForLine((l) => l.msg === 'camera streaming', 60_000, 'streaming');
    const frames2 = await metric(daemon, FRAMES);
    await until(async () => (await metric(daemon, FRAMES)) >= frames2 + 30, 60_000, 'frames flowing after the restart');
    assert.equal(await metric(daemon, CLIPS), 0, 'paused from the start: no clip');

    // ON resumes: events come again.
    const before = starts(sub.messages);
    await commander.publishAsync('msta/yard/recognition/set', 'on', { qos: 1 });
    await sub.waitFor((m) => m.topic === 'msta/yard/recognition' && m.payload === 'ON' && sub.messages.indexOf(m) >= mark, 10_000, 'recognition ON');
    await until(() => starts(sub.messages) > before, 60_000, 'events after ON');

    // SIGHUP with one label fewer: its binary sensor config and active topic are emptied.
    const gone = LABELS[1]!;
    const goneConfig = activeDiscoveryTopic(sinkTopics(), 'yard', null, gone);
    assert.ok(sub.on(goneConfig).some((m) => m.payload !== ''), 'announced first');
    await daemon.waitForLine((l) => l.msg === 'labels ready', 60_000, 'labels ready');
    writeConfig(config, broker.url, LABELS.filter((l) => l !== gone));
    const hup = sub.messages.length;
    daemon.child.kill('SIGHUP');
    for (const topic of [goneConfig, `msta/yard/active/${gone}`]) {
      await sub.waitFor((m) => m.topic === topic && m.payload === '' && sub.messages.indexOf(m) >= hup, 30_000, `${topic} emptied`);
    }
    const event = await sub.waitFor((m) => m.topic === 'homeassistant/event/msta/yard_action/config' && sub.messages.indexOf(m) >= hup, 30_000, 'event entity re-announced');
    assert.ok(!(JSON.parse(event.payload) as { event_types: string[] }).event_types.includes(gone));
    await sub.waitFor((m) => m.topic === 'msta/info' && sub.messages.indexOf(m) >= hup, 30_000, 'info re-published on reload');
    daemon.child.kill('SIGTERM');
    assert.equal((await daemon.exited).code, 0);
  } finally {
    for (const d of runs) await d.stop('SIGTERM');
    await commander.endAsync();
    await sub.close();
    await broker.dispose();
  }
});
