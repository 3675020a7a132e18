// End to end through real parts: gst-rtsp-server serving the synthetic-action demo video ->
// `msta-edge run` (real GStreamer child, real onnxruntime workers) -> real Mosquitto -> a real
// subscriber and a real HTTP client.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Ajv } from 'ajv';
import { makePasswordFile, missingBrokerTools, startMosquitto, subscriber } from './support/mosquitto.js';
import { RtspServer } from './support/rtsp-server.js';
import { DaemonProcess } from './support/daemon-process.js';
import { deployMetricNames, metricNamesInExposition } from './support/metric-names.js';
import { waitGone } from './support/process-gone.js';
import { tempDir } from './support/temp-dir.js';

// The committed demo video (synth seed 7), not a fresh seed: this test judges the plumbing, and a
// fresh demo's cuts made the bundle start a label the video never shows at 2 of 28 seeds
// (training/README.md, "The daemon's view of a bundle"). The model on fresh seeds is judged by
// the probe test and by training/'s daemon_check.
const DEMO = resolve('models/demo/actions-demo.mp4');
const demo = JSON.parse(readFileSync(DEMO.replace(/\.mp4$/, '.json'), 'utf8')) as { timeline: { label: string }[] };
const ACTIONS = new Set(demo.timeline.map((t) => t.label).filter((l) => l !== 'nothing happening'));
const CAMERA_PASSWORD = 'cam-Pa55word-x7';
const MQTT_PASSWORD = 'mqtt-Pa55word-q3';
const skip = missingBrokerTools();

const schema = (name: string) => new Ajv({ strict: false }).compile(JSON.parse(readFileSync(`docs/schemas/${name}.schema.json`, 'utf8')) as object);

async function setup(options: { persistence?: boolean } = {}) {
  const dir = tempDir('msta-e2e-');
  const passwordFile = join(dir, 'passwd');
  makePasswordFile(passwordFile, 'msta', MQTT_PASSWORD);
  const broker = await startMosquitto({ passwordFile, persistence: options.persistence ?? false });
  const rtsp = await RtspServer.start({ media: DEMO, user: 'viewer', password: CAMERA_PASSWORD });
  writeFileSync(join(dir, 'mqtt-password'), `${MQTT_PASSWORD}\n`);
  const config = join(dir, 'msta-edge.yaml');
  writeFileSync(
    config,
    [
      'cameras:',
      '  - id: yard',
      `    url: rtsp://viewer:\${CAM_PW}@127.0.0.1:${rtsp.port}/media`,
      'model:',
      `  bundle: ${resolve('models/synthetic-actions')}`,
      '  providers: [cpu]',
      'labels:',
      '  background: nothing happening',
      'recognition:',
      '  stride: 2',
      '  start: 0.5',
      '  end: 0.3',
      '  min_clips: 2',
      'mqtt:',
      `  url: ${broker.url}`,
      '  username: msta',
      '  password_file: mqtt-password',
      'http:',
      '  listen: 127.0.0.1:0',
      'logging:',
      '  format: json',
      'source:',
      '  stall_timeout_s: 5',
      '',
    ].join('\n'),
  );
  const listen = (opts = {}) => subscriber(broker.url, ['msta/#'], { username: 'msta', password: MQTT_PASSWORD, ...opts });
  const start = () => DaemonProcess.start(['--config', config], { CAM_PW: CAMERA_PASSWORD });
  return { dir, broker, rtsp, config, listen, start, dispose: async () => Promise.all([broker.dispose(), rtsp.kill()]) };
}

test('RTSP -> daemon -> Mosquitto: online, streaming, the right start and end events, valid payloads, real metrics; SIGTERM says offline and exits within 5 s', { skip, timeout: 180_000 }, async () => {
  const env = await setup();
  const sub = await env.listen();
  const daemon = env.start();
  try {
    await sub.waitFor((m) => m.topic === 'msta/status' && m.payload === 'online', 60_000, 'online');
    await sub.waitFor((m) => m.topic === 'msta/yard/status' && JSON.parse(m.payload).state === 'streaming', 60_000, 'camera streaming');
    // Two whole actions: a start and the end with the same id, for a label the video really shows.
    const ended = async (n: number) => {
      const end = await sub.waitFor((m) => m.topic === 'msta/yard/events' && JSON.parse(m.payload).type === 'end' && sub.on('msta/yard/events').filter((e) => JSON.parse(e.payload).type === 'end').length >= n, 90_000, `${n} end events`);
      return JSON.parse(end.payload);
    };
    await ended(2);
    const events = sub.on('msta/yard/events').map((m) => JSON.parse(m.payload));
    const validEvent = schema('event');
    for (const e of events) assert.ok(validEvent(e), JSON.stringify(validEvent.errors));
    const starts = events.filter((e) => e.type === 'start');
    assert.ok(starts.length >= 2);
    for (const s of starts) assert.ok(ACTIONS.has(s.label), `started "${s.label}", which the video never shows`);
    for (const end of events.filter((e) => e.type === 'end')) {
      const start = starts.find((s) => s.id === end.id);
      assert.ok(start, 'every end has its start');
      assert.equal(end.label, start.label);
      assert.ok(Date.parse(end.ended_at) > Date.parse(start.started_at));
    }
    assert.equal(new Set(starts.map((s) => s.label)).size, starts.length, 'each action of the video starts once');
    const validState = schema('state');
    for (const m of sub.on('msta/yard/state')) assert.ok(validState(JSON.parse(m.payload)), m.payload);

    // Metrics: everything the dashboard and alert rules use exists, and promtool accepts the lot.
    const address = await daemon.httpAddress();
    const metrics = await (await fetch(`http://${address}/metrics`)).text();
    const served = metricNamesInExposition(metrics);
    const missing = [...deployMetricNames().keys()].filter((n) => !served.has(n));
    assert.deepEqual(missing, [], 'metrics used by configs/grafana and configs/prometheus but not served');
    assert.match(metrics, /^msta_events_total\{camera="yard",region="",label="[^"]+",type="start"\} [1-9]/m);
    assert.match(metrics, /^msta_event_latency_seconds_count\{camera="yard"\} [1-9]/m);
    assert.match(metrics, /^msta_event_overhead_seconds_count\{camera="yard"\} [1-9]/m);
    assert.match(metrics, /^msta_source_up\{camera="yard"\} 1$/m);
    const promtool = spawnSync('promtool', ['check', 'metrics'], { input: metrics, encoding: 'utf8' });
    assert.equal(promtool.status, 0, promtool.stdout + promtool.stderr);
    const ready = await fetch(`http://${address}/readyz`);
    assert.equal(ready.status, 200, await ready.text());
    assert.equal((await fetch(`http://${address}/nothing-here`)).status, 404);

    // Secrets planted in the camera URL and the MQTT credentials appear nowhere.
    const everything = [daemon.raw, metrics, ...sub.messages.map((m) => `${m.topic} ${m.payload}`)].join('\n');
    for (const secret of [CAMERA_PASSWORD, MQTT_PASSWORD, encodeURIComponent(CAMERA_PASSWORD)]) assert.ok(!everything.includes(secret), `secret ${secret} leaked`);

    // The daemon's source children now (on a shared machine other processes run children too).
    const children = spawnSync('pgrep', ['-P', String(daemon.pid), '-f', 'source/child'], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean).map(Number);
    assert.ok(children.length >= 1, 'the camera has a source child');
    const stopAt = Date.now();
    daemon.child.kill('SIGTERM');
    await sub.waitFor((m) => m.topic === 'msta/status' && m.payload === 'offline', 5000, 'offline on SIGTERM');
    const { code } = await daemon.exited;
    assert.equal(code, 0);
    assert.ok(Date.now() - stopAt < 5000, `stopped in ${Date.now() - stopAt} ms`);
    assert.ok(await waitGone(daemon.pid, 1000));
    // No source child outlives the daemon.
    for (const pid of children) assert.ok(await waitGone(pid, 500), `source child ${pid} outlived the daemon`);
  } finally {
    await daemon.stop('SIGKILL');
    await sub.close();
    await env.dispose();
  }
});

test('SIGKILL: the broker publishes the last will, offline', { skip, timeout: 120_000 }, async () => {
  const env = await setup();
  const sub = await env.listen();
  const daemon = env.start();
  try {
    await sub.waitFor((m) => m.topic === 'msta/status' && m.payload === 'online', 60_000, 'online');
    const before = sub.messages.length;
    daemon.child.kill('SIGKILL');
    await sub.waitFor((m) => m.topic === 'msta/status' && m.payload === 'offline' && sub.messages.indexOf(m) >= before, 10_000, 'last will');
  } finally {
    await daemon.stop('SIGKILL');
    await sub.close();
    await env.dispose();
  }
});

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('broker down for 60 s while actions happen, daemon killed and restarted meanwhile: every event arrives afterwards, in order', { skip, timeout: 240_000 }, async () => {
  const env = await setup({ persistence: true });
  // A persistent session: the broker keeps the subscription and queues for it across its restart.
  const sub = await env.listen({ clientId: 'msta-e2e-outage', clean: false });
  let daemon = env.start();
  const runs: DaemonProcess[] = [daemon];
  try {
    await sub.waitFor((m) => m.topic === 'msta/yard/status' && JSON.parse(m.payload).state === 'streaming', 60_000, 'camera streaming');
    await env.broker.stop();
    const downAt = Date.now();
    await until(() => daemon.events().length >= 2, 45_000, 'events spooled by the first run');
    daemon.child.kill('SIGKILL');
    await daemon.exited;
    daemon = env.start();
    runs.push(daemon);
    // The killed daemon's spool lock is stale: the new one takes it over rather than refusing.
    const takeover = await daemon.waitForLine((l) => l.msg.includes('took over the spool lock'), 60_000, 'the stale spool lock taken over');
    assert.match(takeover.msg, new RegExp(`pid ${runs[0]!.pid}\\b`));
    await until(() => daemon.events().length >= 1, 45_000, 'events spooled by the second run');
    await new Promise((r) => setTimeout(r, Math.max(0, 60_000 - (Date.now() - downAt))));
    await env.broker.start();
    const spooled = runs.flatMap((r) => r.events());
    // One message: the occurrence id, its type and its clip (updates share id and type).
    const key = (e: { id: string; type: string; clip_end: string }) => `${e.id}/${e.type}/${e.clip_end}`;
    const received = () =>
      sub.on('msta/yard/events').map((m) => {
        const e = JSON.parse(m.payload) as { id: string; type: string; clip: { last_frame_at: string } };
        return { id: e.id, type: e.type, clip_end: e.clip.last_frame_at };
      });
    await until(() => spooled.every((s) => received().some((r) => key(r) === key(s))), 60_000, 'every spooled event delivered');
    // In order: the events the subscriber got, first copy of each, follow the order they were made.
    const firstSeen = [...new Map(received().map((r) => [key(r), r])).keys()];
    const order = spooled.map(key);
    assert.deepEqual(firstSeen.filter((k) => order.includes(k)), order);
    // Delivered events leave the spool; nothing was set aside as unreadable.
    const spoolDir = join(env.dir, '.cache', 'spool');
    await until(() => readdirSync(spoolDir).every((f) => !f.endsWith('.json')), 30_000, 'an empty spool');
    assert.ok(!existsSync(join(spoolDir, 'bad')));
  } finally {
    for (const r of runs) await r.stop('SIGKILL');
    await sub.close();
    await env.dispose();
  }
});
