// A camera source against a real RTSP server (gst-rtsp-server): streaming at the requested size,
// the server killed and restarted, frozen with SIGSTOP, a wrong password; no child left behind.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Registry } from 'prom-client';
import type { Subscription } from 'rxjs';
import { cameraSource, type CameraSourceOptions, type SourceLog } from '../src/source/camera-source.js';
import type { CameraStatus, Frame } from '../src/types.js';
import { waitGone } from './support/process-gone.js';
import { RtspServer } from './support/rtsp-server.js';

const PASSWORD = 'pa:ss@word/1';
const CLIP = resolve('../shared/media/eye_makeup_mpeg4.avi');
let server: RtspServer;

before(async () => {
  server = await RtspServer.start({ user: 'cam', password: PASSWORD, fps: 15, ...(existsSync(CLIP) ? { media: CLIP } : {}) });
});
after(() => server.stop());

/** A running camera whose frames, statuses, log lines and child pids are recorded. */
function startCamera(options: Partial<CameraSourceOptions> = {}) {
  const registry = new Registry();
  const frames: Frame[] = [];
  const statuses: Array<CameraStatus & { at: number }> = [];
  const pids: number[] = [];
  const logs: string[] = [];
  const record = (level: string) => (obj: object, msg: string) => {
    logs.push(`${level} ${msg} ${JSON.stringify(obj)}`);
    if (msg === 'source child started') pids.push((obj as { pid: number }).pid);
  };
  const log: SourceLog = { debug: record('debug'), info: record('info'), warn: record('warn') };
  const source = cameraSource(
    { camera: 'door', url: server.url('test'), width: 96, height: 64, stallTimeoutMs: 1500, stopTimeoutMs: 1000, backoff: { initialMs: 200, maxMs: 1000 }, ...options },
    { registry, log },
  );
  const subs: Subscription[] = [
    source.status.subscribe((s) => statuses.push({ ...s, at: Date.now() })),
    source.frames.subscribe({ next: (f) => frames.push(f), error: (e: Error) => logs.push(`error ${e.message}`) }),
  ];
  const until = async (what: string, done: () => boolean, timeoutMs = 15_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; statuses: ${statuses.map((s) => s.state).join(' ')}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const metric = async (name: string, labels: Record<string, string> = { camera: 'door' }) => {
    const m = (await registry.getSingleMetric(name)!.get()).values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
    return m?.value ?? 0;
  };
  const stop = async () => {
    subs.reverse().forEach((s) => s.unsubscribe()); // frames first: the status sees the camera go offline
    for (const pid of pids) assert.ok(await waitGone(pid, 3000), `child ${pid} gone after stop`);
  };
  return { frames, statuses, logs, pids, until, metric, stop, registry };
}

test('a test pattern streams at the requested size, with metrics; stop leaves no child', async () => {
  const cam = startCamera();
  await cam.until('30 frames', () => cam.frames.length >= 30);
  assert.ok(cam.frames.every((f) => f.camera === 'door' && f.width === 96 && f.height === 64 && f.data.length === 96 * 64 * 3));
  assert.ok(cam.frames.every((f, i) => i === 0 || f.seq > cam.frames[i - 1]!.seq));
  assert.deepEqual(cam.statuses.map((s) => s.state), ['offline', 'connecting', 'streaming']);
  assert.equal(await cam.metric('msta_source_up'), 1);
  assert.ok((await cam.metric('msta_source_frames_total')) >= 30);
  const exposition = await cam.registry.metrics();
  assert.ok(!exposition.includes(PASSWORD) && !exposition.includes('rtsp://'), 'metrics carry camera ids, not URLs');
  assert.equal(cam.pids.length, 1);
  await cam.stop();
  assert.equal(cam.statuses.at(-1)!.state, 'offline');
  assert.equal(await cam.metric('msta_source_up'), 0);
  assert.ok(!cam.logs.join('\n').includes(PASSWORD), 'no password in logs');
});

test('UDP and automatic transport stream too', async () => {
  for (const transport of ['udp', 'auto'] as const) {
    const cam = startCamera({ transport });
    await cam.until(`frames over ${transport}`, () => cam.frames.length >= 5);
    assert.ok(cam.frames.every((f) => f.width === 96 && f.height === 64));
    await cam.stop();
  }
});

test('a served clip (MPEG-4 in AVI, re-encoded by the server) streams at the requested size', { skip: existsSync(CLIP) ? false : `needs ${CLIP}` }, async () => {
  const cam = startCamera({ url: server.url('media'), width: 48, height: 48 });
  await cam.until('10 frames', () => cam.frames.length >= 10);
  assert.ok(cam.frames.every((f) => f.width === 48 && f.height === 48));
  await cam.stop();
});

test('the server killed and restarted on the same port: the source resumes, reconnects counted', async () => {
  const cam = startCamera();
  await cam.until('frames', () => cam.frames.length >= 10);
  const port = server.port;
  await server.kill();
  await cam.until('offline', () => cam.statuses.some((s) => s.state === 'offline' && s.reconnects === 0 && s.reason));
  await new Promise((r) => setTimeout(r, 1000)); // a few refused reconnects while it is down
  await server.restart();
  assert.equal(server.port, port);
  const before = cam.frames.length;
  await cam.until('frames again', () => cam.frames.length >= before + 10);
  const last = cam.statuses.at(-1)!;
  assert.equal(last.state, 'streaming');
  assert.ok(last.reconnects >= 1, `reconnects ${last.reconnects}`);
  assert.equal(await cam.metric('msta_source_reconnects_total'), last.reconnects);
  assert.equal(cam.pids.length, last.reconnects + 1, 'one child per connection');
  const seqs = cam.frames.map((f) => f.seq);
  assert.ok(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!), 'frame numbers keep growing across connections');
  await cam.stop();
});

test('a frozen server (SIGSTOP) is found stalled within the watchdog time; the source resumes after SIGCONT', async () => {
  const cam = startCamera();
  await cam.until('frames', () => cam.frames.length >= 10);
  const frozenAt = Date.now();
  server.freeze();
  try {
    await cam.until('stalled', () => cam.statuses.some((s) => s.state === 'stalled'), 6000);
    const stalled = cam.statuses.find((s) => s.state === 'stalled')!;
    // The watchdog counts from the last frame, which came at most one frame interval before the freeze.
    const after = stalled.at - frozenAt;
    assert.ok(after >= 1500 - 200 && after <= 1500 + 1000, `stalled ${after} ms after the freeze (watchdog 1500 ms)`);
    assert.match(stalled.reason ?? '', /no frame for 1.5 s/);
    await new Promise((r) => setTimeout(r, 1000)); // a reconnect into the frozen server, which hangs too
  } finally {
    server.thaw();
  }
  const before = cam.frames.length;
  await cam.until('frames after the thaw', () => cam.frames.length >= before + 10);
  assert.equal(cam.statuses.at(-1)!.state, 'streaming');
  assert.ok(cam.statuses.at(-1)!.reconnects >= 1);
  await cam.stop(); // every child, including those stuck on the frozen server, is gone
});

test('a wrong password: offline with the server\'s reason, and the password never shown', async () => {
  const wrong = server.url('test').replace(encodeURIComponent(PASSWORD), 'not-' + encodeURIComponent(PASSWORD));
  const cam = startCamera({ url: wrong });
  await cam.until('a failed attempt', () => cam.statuses.some((s) => s.state === 'offline' && s.reason));
  const failed = cam.statuses.find((s) => s.state === 'offline' && s.reason)!;
  assert.match(failed.reason!, /Unauthorized/);
  assert.equal(cam.frames.length, 0);
  await cam.stop();
  const shown = JSON.stringify(cam.statuses) + cam.logs.join('\n');
  assert.ok(!shown.includes('not-') && !shown.includes(encodeURIComponent(PASSWORD)), shown);
});
