// Regions of interest through real parts: a 16:9 RTSP camera (gst-rtsp-server) whose picture is
// a grey scene with a synthetic action (msta synth, composed with ffmpeg) near its right edge,
// outside the centre square. One daemon (the trained test bundle, Mosquitto) watches it twice: as
// a camera with two regions (the action's, and an empty one on the left) and as a camera with the
// default centre crop. The action is recognised in its region only: not in the other region, and
// missed by the centre crop. The region's events, state, active topic and Home Assistant entities
// live under its own topics. Each region has labels of its own: its events and its Home Assistant
// event_types and binary sensors are its own labels only, and a label it loses on SIGHUP goes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { activeDiscoveryTopic } from '../src/sink/discovery.js';
import { sinkTopics } from '../src/sink/topics.js';
import { DaemonProcess } from './support/daemon-process.js';
import { liveFeed } from './support/live-feed.js';
import { missingBrokerTools, startMosquitto, subscriber, type Received } from './support/mosquitto.js';
import { RtspServer } from './support/rtsp-server.js';
import { SEED, synthClips } from './support/synth.js';
import { tempDir } from './support/temp-dir.js';

const skip = missingBrokerTools();
const BUNDLE = resolve('models/synthetic-actions');
const LABELS = (JSON.parse(readFileSync(join(BUNDLE, 'bundle.json'), 'utf8')) as { labels: string[] }).labels;
const BACKGROUND = 'nothing happening';
const ACTION = 'red ball blinking';
/** The regions' own labels (the camera has the global list): the action's region and another one's, without it. */
const RIGHT = [ACTION, 'blue ball blinking', BACKGROUND];
const LEFT = ['blue ball growing', 'blue ball shrinking', BACKGROUND];
const list = (labels: string[]): string => `[${labels.map((l) => JSON.stringify(l)).join(', ')}]`;

// 640x360; the action's 4:3 clip scaled to 112x84 at (512, 138), right of the centre square (columns 140-500).
const W = 640;
const H = 360;
const CLIP = { x: 512, y: 138, w: 112, h: 84 };
/** The clip's centre square: what the model saw of it in training (the centre crop of 4:3). */
const SQUARE = { x: CLIP.x + (CLIP.w - CLIP.h) / 2, y: CLIP.y, side: CLIP.h };
const rect = (x: number, y: number, side: number) => `x: ${x / W}, y: ${y / H}, width: ${side / W}, height: ${side / H}`;

/** The action (looped: blinking looks alike at every moment) over a plain grey 16:9 scene, ~29 s. */
function composeWide(dir: string): string {
  const clip = synthClips(2.4).find((c) => c.label === ACTION);
  assert.ok(clip, `msta synth rendered no "${ACTION}" clip`);
  const out = join(dir, 'wide.mp4');
  const r = spawnSync('ffmpeg', [
    '-v', 'error', '-y', '-f', 'lavfi', '-i', `color=c=0x737373:s=${W}x${H}:r=25`, '-stream_loop', '11', '-i', clip.file,
    '-filter_complex', `[1:v]scale=${CLIP.w}:${CLIP.h}[a];[0:v][a]overlay=${CLIP.x}:${CLIP.y}:shortest=1`,
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', out,
  ], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, `ffmpeg could not compose the wide scene: ${r.stderr}`);
  return out;
}

/** `left`: with the left region; `right`: the right region's labels. */
function writeConfig(file: string, mqttUrl: string, cameraUrl: string, { left = true, right = RIGHT } = {}): void {
  writeFileSync(
    file,
    [
      'cameras:',
      '  - id: wide',
      `    url: ${cameraUrl}`,
      '    regions:',
      // Its own recognition over the camera's (the global top_k is 3).
      `      - { name: right, ${rect(SQUARE.x, SQUARE.y, SQUARE.side)}, recognition: { top_k: 2 }, labels: { actions: ${list(right)} } }`,
      ...(!left ? [] : [`      - { name: left, ${rect(W - SQUARE.x - SQUARE.side, SQUARE.y, SQUARE.side)}, labels: { actions: ${list(LEFT)} } }`]),
      '  - id: centre',
      `    url: ${cameraUrl}`,
      'model:',
      `  bundle: ${BUNDLE}`,
      '  providers: [cpu]',
      'labels:',
      `  actions: ${list(LABELS)}`,
      `  background: ${BACKGROUND}`,
      'recognition:',
      '  stride: 2',
      '  start: 0.5',
      '  end: 0.3',
      '  min_clips: 2',
      'source:',
      '  reconnect_initial_ms: 200',
      'mqtt:',
      `  url: ${mqttUrl}`,
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

interface EventPayload {
  id: string;
  type: string;
  top: unknown[];
  label: string;
  camera: string;
  region: string | null;
}

const eventsOn = (messages: Received[], topic: string): EventPayload[] => messages.filter((m) => m.topic === topic).map((m) => JSON.parse(m.payload) as EventPayload);

test('an action off-centre in a 16:9 camera is recognised in the region that holds it, not in another, and missed by crop: center', { skip, timeout: 180_000 }, async () => {
  const dir = tempDir('msta-regions-daemon-');
  console.log(`synth seed ${SEED} (MSTA_TEST_SEED replays it)`);
  const video = composeWide(dir);
  const rtsp = await RtspServer.start({ media: video, width: W, height: H, fps: 25 });
  const broker = await startMosquitto();
  const config = join(dir, 'msta-edge.yaml');
  writeConfig(config, broker.url, rtsp.url('media'));
  const sub = await subscriber(broker.url, ['msta/#', 'homeassistant/#']);
  const daemon = DaemonProcess.start(['--config', config]);
  try {
    // Home Assistant: one device per camera, entities per region.
    const right = JSON.parse((await sub.waitFor((m) => m.topic === 'homeassistant/event/msta/wide_right_action/config' && m.payload !== '', 60_000, 'the right region\'s event entity')).payload) as Record<string, unknown>;
    assert.equal(right.state_topic, 'msta/wide/regions/right/events');
    const left = JSON.parse((await sub.waitFor((m) => m.topic === 'homeassistant/event/msta/wide_left_action/config', 10_000, 'the left region\'s event entity')).payload) as Record<string, unknown>;
    assert.deepEqual(left.device, right.device, 'one device per camera');
    // Each region's own labels, less the background label.
    assert.deepEqual(right.event_types, [ACTION, 'blue ball blinking']);
    assert.deepEqual(left.event_types, ['blue ball growing', 'blue ball shrinking']);
    const t = sinkTopics();
    await sub.waitFor((m) => m.topic === activeDiscoveryTopic(t, 'wide', 'left', 'blue ball growing') && m.payload !== '', 10_000, "the left region's binary sensor of its own label");
    await sub.waitFor((m) => m.topic === activeDiscoveryTopic(t, 'wide', 'right', 'blue ball blinking') && m.payload !== '', 10_000, "the right region's binary sensor of its second label");
    const centre = JSON.parse((await sub.waitFor((m) => m.topic === 'homeassistant/event/msta/centre_action/config' && m.payload !== '', 10_000, "the centre camera's event entity")).payload) as Record<string, unknown>;
    assert.equal((centre.event_types as string[]).length, LABELS.length - 1, 'a camera without labels of its own has the global ones');
    await sub.waitFor((m) => m.topic === 'homeassistant/switch/msta/wide_recognition/config' && m.payload !== '', 10_000, 'the recognition switch, per camera');
    assert.equal(sub.on('homeassistant/event/msta/wide_action/config').length, 0, 'a camera with regions has no whole-camera entities');
    const info = JSON.parse((await sub.waitFor((m) => m.topic === 'msta/info', 60_000, 'info')).payload) as { regions: Record<string, string[]> };
    assert.deepEqual(info.regions, { wide: ['right', 'left'] });

    const isStart = (m: Received) => m.topic === 'msta/wide/regions/right/events' && (JSON.parse(m.payload) as EventPayload).type === 'start';
    const start = await sub.waitFor((m) => isStart(m) && (JSON.parse(m.payload) as EventPayload).label === ACTION, 120_000, `a start of ${ACTION} in the right region`);
    const event = JSON.parse(start.payload) as EventPayload;
    assert.equal(event.camera, 'wide');
    assert.equal(event.region, 'right');
    assert.equal(event.top.length, 2, "the region's own recognition.top_k");
    await sub.waitFor((m) => m.topic === `msta/wide/regions/right/active/${ACTION}` && m.payload === 'ON', 10_000, 'the region\'s binary sensor ON');
    const state = JSON.parse((await sub.waitFor((m) => m.topic === 'msta/wide/regions/right/state' && (JSON.parse(m.payload) as { label: string | null }).label === ACTION, 10_000, 'the region\'s state')).payload) as { label: string };
    assert.equal(state.label, ACTION);

    // The other streams watch the same frames: once each has had as many clips as the action took
    // to start in its region (and more), none of them has seen it.
    const clipsOf = (metrics: string, camera: string, region: string) =>
      Number(new RegExp(`^msta_clips_total\\{camera="${camera}",region="${region}"\\} (\\d+)`, 'm').exec(metrics)?.[1] ?? 0);
    const address = await daemon.httpAddress();
    const needed = clipsOf(await (await fetch(`http://${address}/metrics`)).text(), 'wide', 'right') + 4;
    const deadline = Date.now() + 60_000;
    for (;;) {
      const metrics = await (await fetch(`http://${address}/metrics`)).text();
      const counts = [clipsOf(metrics, 'wide', 'left'), clipsOf(metrics, 'centre', '')];
      if (counts.every((n) => n >= needed)) break;
      assert.ok(Date.now() < deadline, `clips made (left, centre): ${counts.join(', ')}; wanted ${needed} each`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const leftEvents = eventsOn(sub.messages, 'msta/wide/regions/left/events');
    const centreEvents = eventsOn(sub.messages, 'msta/centre/events');
    assert.deepEqual(leftEvents.map((e) => e.label), [], 'nothing recognised in the empty region');
    assert.ok(!centreEvents.some((e) => e.label === ACTION), `crop: center missed it (${centreEvents.map((e) => e.label).join(', ')})`);
    assert.equal(sub.on('msta/wide/events').length, 0, 'a camera with regions publishes per region only');
    const rightEvents = eventsOn(sub.messages, 'msta/wide/regions/right/events');
    assert.ok(rightEvents.every((e) => RIGHT.includes(e.label)), `the right region's events are of its own labels (${rightEvents.map((e) => e.label).join(', ')})`);
    // Its runner scores its own set: every label of every event's top-k is one of the region's.
    const topLabels = rightEvents.flatMap((e) => (e.top as Array<{ label: string }>).map((x) => x.label));
    assert.ok(topLabels.length > 0 && topLabels.every((l) => RIGHT.includes(l)), `the right region's scores are of its own labels (${[...new Set(topLabels)].join(', ')})`);
    assert.ok(!sub.messages.some((m) => m.topic === activeDiscoveryTopic(t, 'wide', 'left', ACTION) || m.topic === `msta/wide/regions/left/active/${ACTION}`), 'the left region has no sensor of a label it does not have');

    // The event history keeps the region (events are written every events.flush_ms).
    const deadlineApi = Date.now() + 10_000;
    let stored: Array<{ id: string; region: string | null }> = [];
    while (!stored.some((e) => e.id === event.id) && Date.now() < deadlineApi) {
      stored = ((await (await fetch(`http://${address}/api/events?camera=wide`)).json()) as { events: typeof stored }).events;
      if (!stored.some((e) => e.id === event.id)) await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(stored.find((e) => e.id === event.id)?.region, 'right', '/api/events carries the region');

    // The console's live feed: each region's clips scored over its own labels, named by region.
    type LiveClip = { camera: string; region: string | null; top: { label: string }[] };
    const clips = (evs: { event: string; data: unknown }[], region: string) =>
      evs.filter((e) => e.event === 'clip' && (e.data as LiveClip).camera === 'wide' && (e.data as LiveClip).region === region).map((e) => e.data as LiveClip);
    const live = await liveFeed(`http://${address}/api/live?camera=wide`, (evs) => clips(evs, 'left').length >= 2 && clips(evs, 'right').length >= 2, 60_000);
    for (const [region, own] of [['left', LEFT], ['right', RIGHT]] as const) {
      const got = clips(live, region);
      assert.ok(got.length >= 2, `live clips of the ${region} region`);
      for (const c of got) for (const t of c.top) assert.ok(own.includes(t.label), `${region}: live top label ${t.label} is its own`);
    }

    // SIGHUP without the left region: its entities and retained topics go, the right one stays,
    // less the label it no longer has.
    const hup = sub.messages.length;
    writeConfig(config, broker.url, rtsp.url('media'), { left: false, right: [ACTION, BACKGROUND] });
    daemon.child.kill('SIGHUP');
    const after = (m: Received) => sub.messages.indexOf(m) >= hup;
    for (const topic of ['homeassistant/event/msta/wide_left_action/config', 'homeassistant/sensor/msta/wide_left_current_action/config', 'msta/wide/regions/left/active/blue ball growing',
      activeDiscoveryTopic(t, 'wide', 'right', 'blue ball blinking'), 'msta/wide/regions/right/active/blue ball blinking']) {
      await sub.waitFor((m) => m.topic === topic && m.payload === '' && after(m), 30_000, `${topic} emptied`);
    }
    const reinfo = JSON.parse((await sub.waitFor((m) => m.topic === 'msta/info' && after(m), 30_000, 'info again')).payload) as { regions: Record<string, string[]> };
    assert.deepEqual(reinfo.regions, { wide: ['right'] });
    assert.ok(!sub.messages.slice(hup).some((m) => m.topic === 'homeassistant/event/msta/wide_right_action/config' && m.payload === ''), 'the right region keeps its entities');
    const reannounced = JSON.parse((await sub.waitFor((m) => m.topic === 'homeassistant/event/msta/wide_right_action/config' && after(m), 30_000, 'the right region re-announced')).payload) as Record<string, unknown>;
    assert.deepEqual(reannounced.event_types, [ACTION], 'its event_types now');
    await sub.waitFor((m) => m.topic === 'msta/info' && after(m), 30_000, 'the reload done');

    // SIGHUP with only the right region's labels changed: applied to the running region, the camera not restarted.
    const restarts = daemon.lines.filter((l) => l.msg === 'camera changed: restarting it').length;
    const hup2 = sub.messages.length;
    const after2 = (m: Received) => sub.messages.indexOf(m) >= hup2;
    writeConfig(config, broker.url, rtsp.url('media'), { left: false, right: RIGHT });
    daemon.child.kill('SIGHUP');
    await sub.waitFor((m) => m.topic === activeDiscoveryTopic(t, 'wide', 'right', 'blue ball blinking') && m.payload !== '' && after2(m), 30_000, "the right region's label back");
    const back = JSON.parse((await sub.waitFor((m) => m.topic === 'homeassistant/event/msta/wide_right_action/config' && after2(m), 30_000, 'the right region re-announced')).payload) as Record<string, unknown>;
    assert.deepEqual(back.event_types, [ACTION, 'blue ball blinking']);
    await sub.waitFor((m) => m.topic === 'msta/info' && after2(m), 30_000, 'the second reload done');
    assert.equal(daemon.lines.filter((l) => l.msg === 'camera changed: restarting it').length, restarts, 'new region labels alone restart no camera');
    daemon.child.kill('SIGTERM');
    assert.equal((await daemon.exited).code, 0, daemon.raw.slice(-2000));
  } finally {
    await daemon.stop('SIGTERM');
    await sub.close();
    await broker.dispose();
    await rtsp.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
