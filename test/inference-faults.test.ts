// Inference faults through the real daemon: `msta-edge run` on the synthetic demo video (real
// GStreamer child, real onnxruntime workers) with a video graph that onnxruntime fails on, or
// stalls on, whenever a blue ball is in view (test/support/faulty-graph.py). Red-ball actions
// still make events; the failures are counted in /metrics and shown by /healthz while they last.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DaemonProcess } from './support/daemon-process.js';
import { faultyBundle } from './support/faulty-bundle.js';
import { synthDemo } from './support/synth.js';
import { tempDir } from './support/temp-dir.js';

const demo = synthDemo();

function config(bundle: string, extra: { model?: string[]; top?: string[] } = {}): string {
  const dir = tempDir('msta-faults-');
  const file = join(dir, 'msta-edge.yaml');
  writeFileSync(file, [
    'cameras:',
    '  - id: yard',
    `    url: file://${demo.path}`,
    'model:',
    `  bundle: ${bundle}`,
    '  providers: [cpu]',
    ...(extra.model ?? []),
    'labels:',
    '  background: nothing happening',
    'recognition:',
    '  stride: 2',
    '  start: 0.5',
    '  end: 0.3',
    'http:',
    '  listen: 127.0.0.1:0',
    'logging:',
    '  format: json',
    'mqtt:',
    `  spool: { dir: ${join(dir, 'spool')} }`,
    ...(extra.top ?? []),
    '',
  ].join('\n'));
  return file;
}

async function get(address: string, path: string): Promise<{ status: number; text: string }> {
  const r = await fetch(`http://${address}${path}`);
  return { status: r.status, text: await r.text() };
}

test('a graph that fails on some clips: failures counted and shown by /healthz while they last; the camera goes on making events', { timeout: 120_000 }, async () => {
  const daemon = DaemonProcess.start(['--config', config(await faultyBundle('fail'))]);
  try {
    const address = await daemon.httpAddress();
    // Poll /healthz and the recognition state until a failure shows, then until it has passed.
    const seen = { unhealthy: '', failingState: false, healthyAfter: false };
    const end = Date.now() + 90_000;
    while (Date.now() < end && !seen.healthyAfter) {
      const health = await get(address, '/healthz');
      const metrics = (await get(address, '/metrics')).text;
      if (health.status === 503 && /failed \(error/.test(health.text)) seen.unhealthy = health.text;
      if (/^msta_camera_recognition_state\{camera="yard",region="",state="failing"\} 1$/m.test(metrics)) seen.failingState = true;
      if (seen.unhealthy && health.status === 200) seen.healthyAfter = true;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(seen.unhealthy, '/healthz failed while inference failed');
    assert.equal(JSON.parse(seen.unhealthy).checks.model.ok, false);
    assert.ok(seen.failingState, 'the camera showed as failing');
    assert.ok(seen.healthyAfter, '/healthz recovered once a clip succeeded again');

    // Events after the first failure: the camera was not ended by it.
    const firstFailure = daemon.lines.findIndex((l) => String(l.msg).startsWith('inference failed'));
    assert.ok(firstFailure >= 0, 'the failure was logged');
    await daemon.waitForLine((l) => daemon.lines.indexOf(l) > firstFailure && typeof l.event === 'object', 60_000, 'an event after the first failure');
    const metrics = (await get(address, '/metrics')).text;
    const failed = Number(metrics.match(/^msta_inference_failures_total\{model="synthetic-actions",reason="error"\} (\d+)$/m)?.[1]);
    assert.ok(failed >= 1, `failures counted: ${failed}`);
    assert.match(metrics, /^msta_inference_worker_restarts_total\{model="synthetic-actions"\} 0$/m, 'a graph error keeps its worker');
    // Logged once per burst: fewer failure lines than failed clips, and each burst ended by a recovery.
    const failureLines = daemon.lines.filter((l) => String(l.msg).startsWith('inference failed')).length;
    assert.ok(failureLines < failed || failed === 1, `${failureLines} log lines for ${failed} failed clips`);
    assert.ok(daemon.lines.some((l) => /^inference recovered after \d+ failed clip/.test(String(l.msg))));
  } finally {
    await daemon.stop();
  }
});

// The stalled run goes on in its retired thread until its graph finishes (seconds): the stop waits
// for it (a process exiting while a thread is inside session.run() aborts), within the shutdown timeout.
test('a stalled inference times out, and a model that cannot be reloaded makes the daemon exit 1', { timeout: 120_000 }, async () => {
  const bundle = await faultyBundle('slow');
  const daemon = DaemonProcess.start(['--config', config(bundle, { model: ['  timeout_min_s: 1', '  max_restarts: 2'], top: ['shutdown_timeout_s: 60'] })]);
  try {
    await daemon.waitForLine((l) => l.msg === 'model loaded and warmed up', 60_000, 'model loaded');
    // From now on a replacement worker cannot load the graph.
    writeFileSync(join(bundle, 'video.onnx'), 'truncated');
    const lost = await daemon.waitForLine((l) => l.msg === 'inference worker lost: starting a fresh one', 60_000, 'the hung worker given up');
    assert.equal(lost.reason, 'timeout');
    const { code } = await daemon.exited;
    assert.equal(code, 1, 'exit status 1: systemd restarts it');
    assert.ok(daemon.lines.some((l) => l.msg === 'cannot recover: exiting with status 1' && /could not be started after 2 attempts/.test(String(l.err))));
    assert.ok(daemon.lines.some((l) => String(l.msg).startsWith('inference failed') && l.reason === 'timeout'));
  } finally {
    await daemon.stop();
  }
});
