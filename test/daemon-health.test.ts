// What /healthz and the watchdog call alive (pure), and reloads that never overlap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { coalescing } from '../src/daemon/coalesce.js';
import { cameraCheck, daemonHealth, type CameraHealth } from '../src/daemon/health.js';

const cam = (over: Partial<CameraHealth> = {}): CameraHealth => ({
  camera: 'door',
  status: { camera: 'door', state: 'streaming', since: 0, reconnects: 0 },
  ended: undefined,
  recognition: { ok: true, detail: 'running' },
  ...over,
});

test('a camera streaming, connecting, stalled or offline in backoff is alive; a dead supervisor or recognition is not', () => {
  for (const state of ['streaming', 'connecting', 'stalled', 'offline'] as const) {
    assert.equal(cameraCheck(cam({ status: { camera: 'door', state, since: 0, reconnects: 3, reason: 'connection refused' } })).ok, true, state);
  }
  assert.deepEqual(cameraCheck(cam({ status: { camera: 'door', state: 'offline', since: 0, reconnects: 3, reason: 'connection refused' } })), { ok: true, detail: 'offline (connection refused)' });
  assert.deepEqual(cameraCheck(cam({ ended: { failed: true, reason: 'decoder "x" needs GStreamer element(s) not installed: x' } })), {
    ok: false,
    detail: 'dead: decoder "x" needs GStreamer element(s) not installed: x',
  });
  assert.deepEqual(cameraCheck(cam({ recognition: { ok: false, detail: 'inference worker died' } })), { ok: false, detail: 'recognition: inference worker died' });
  assert.equal(cameraCheck(cam({ ended: { failed: false, reason: 'end of stream' } })).ok, true, 'a file played to its end did its job');
  assert.equal(cameraCheck(cam({ status: undefined })).detail, 'starting');
});

test('the daemon is healthy only when the event loop, the model and every camera are', () => {
  const ok = { ok: true };
  const healthy = daemonHealth({ eventLoop: ok, model: ok, cameras: [cam(), cam({ camera: 'yard' })] });
  assert.equal(healthy.ok, true);
  assert.deepEqual(Object.keys(healthy.checks), ['event_loop', 'model', 'camera:door', 'camera:yard']);
  assert.equal(daemonHealth({ eventLoop: { ok: false, detail: 'late' }, model: ok, cameras: [] }).ok, false);
  assert.equal(daemonHealth({ eventLoop: ok, model: { ok: false, detail: 'workers not answering' }, cameras: [] }).ok, false);
  const oneDead = daemonHealth({ eventLoop: ok, model: ok, cameras: [cam(), cam({ camera: 'yard', ended: { failed: true, reason: 'gone' } })] });
  assert.equal(oneDead.ok, false);
  assert.deepEqual(oneDead.checks['camera:yard'], { ok: false, detail: 'dead: gone' });
  assert.equal(oneDead.checks['camera:door']!.ok, true);
});

test('coalesced reloads: never two at once; calls during a run become exactly one more run', async () => {
  let running = 0;
  let maxRunning = 0;
  let runs = 0;
  const gates: Array<() => void> = [];
  const reload = coalescing(async () => {
    runs++;
    running++;
    maxRunning = Math.max(maxRunning, running);
    await new Promise<void>((r) => gates.push(r));
    running--;
  });
  const first = reload();
  const second = reload();
  const third = reload();
  assert.equal(second, third, 'calls during a run join the same next run');
  assert.equal(runs, 1);
  gates.shift()!();
  await first;
  await new Promise((r) => setImmediate(r));
  assert.equal(runs, 2, 'one more run after the first');
  gates.shift()!();
  await Promise.all([second, third]);
  assert.equal(runs, 2);
  assert.equal(maxRunning, 1);
  // A failing run does not wedge the ones after it.
  const failing = coalescing(async () => {
    runs++;
    if (runs === 3) throw new Error('boom');
  });
  const a = failing();
  const b = failing();
  await assert.rejects(a, /boom/);
  await b;
  assert.equal(runs, 4);
});
