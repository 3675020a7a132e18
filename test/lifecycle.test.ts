// The daemon's life as a real process: ready only when started, SIGHUP reloads labels and cameras
// in place (an invalid config is refused, the running one kept), SIGTERM twice stops once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DaemonProcess } from './support/daemon-process.js';
import { runCliProcess } from './support/cli.js';

function config(dir: string, body: string): string {
  const file = join(dir, 'msta-edge.yaml');
  writeFileSync(
    file,
    `model:\n  bundle: ${resolve('models/synthetic-actions')}\n  providers: [cpu]\nhttp:\n  listen: 127.0.0.1:0\nlogging:\n  format: json\n  level: debug\n${body}`,
  );
  return file;
}

async function readyz(address: string): Promise<{ status: number; body: { ok: boolean; checks: Record<string, { ok: boolean }> } }> {
  const r = await fetch(`http://${address}/readyz`);
  return { status: r.status, body: (await r.json()) as { ok: boolean; checks: Record<string, { ok: boolean }> } };
}

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('SIGHUP applies new labels and cameras without restarting the others; a bad config is refused and the old one kept', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'msta-life-'));
  const file = config(dir, 'cameras:\n  - id: a\n    url: test://ball\nlabels:\n  actions: [red ball moving left, blue ball growing]\n');
  const daemon = DaemonProcess.start(['--config', file]);
  try {
    const address = await daemon.httpAddress();
    const ready = await until(async () => {
      const r = await readyz(address);
      return r.status === 200 ? r : undefined;
    }, 60_000, 'ready');
    assert.deepEqual(Object.keys(ready.body.checks).sort(), ['cameras', 'model', 'mqtt', 'started']);
    const childOfA = (await daemon.waitForLine((l) => l.msg === 'source child started' && l.camera === 'a')).pid;

    config(dir, 'cameras:\n  - id: a\n    url: test://ball\n  - id: b\n    url: test://smpte\nlabels:\n  actions: [red ball moving up, red ball moving down, blue ball blinking]\n');
    daemon.child.kill('SIGHUP');
    const reloaded = await daemon.waitForLine((l) => l.msg === 'labels reloaded', 30_000, 'labels reloaded');
    assert.equal(reloaded.labels, 3);
    await daemon.waitForLine((l) => l.msg === 'camera started' && l.camera === 'b', 30_000, 'camera b started');
    await daemon.waitForLine((l) => l.msg === 'camera streaming' && l.camera === 'b', 30_000, 'camera b streaming');
    const childrenOfA = daemon.lines.filter((l) => l.msg === 'source child started' && l.camera === 'a').map((l) => l.pid);
    assert.deepEqual(childrenOfA, [childOfA], 'camera a kept its source process');

    writeFileSync(file, 'cameras:\n  - id: a\n    url: test://ball\n    colour: red\n');
    daemon.child.kill('SIGHUP');
    const rejected = await daemon.waitForLine((l) => l.msg === 'SIGHUP: new config rejected, keeping the running one', 30_000, 'rejection');
    assert.match(JSON.stringify(rejected.issues), /cameras\[0\]\.colour: unknown key \(line 4\)/);
    assert.equal((await readyz(address)).status, 200, 'still ready on the old config');
    const metrics = await (await fetch(`http://${address}/metrics`)).text();
    assert.match(metrics, /^msta_source_up\{camera="b"\} 1$/m);

    // A second signal while stopping is not acted on twice; the daemon still exits cleanly.
    daemon.child.kill('SIGTERM');
    await daemon.waitForLine((l) => l.msg === 'stopping', 5000, 'stopping');
    daemon.child.kill('SIGINT');
    const { code } = await daemon.exited;
    assert.equal(code, 0, daemon.raw.slice(-2000));
    assert.equal(daemon.lines.filter((l) => l.msg === 'stopping').length, 1);
  } finally {
    await daemon.stop('SIGKILL');
  }
});

test('start failures exit 2 with a clear message, for config errors and for a missing bundle', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'msta-life-'));
  const bad = await runCliProcess(['run', '--config', config(dir, 'cameras: 3\n')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /cameras: .*expected array/);
  const noBundle = await runCliProcess(['run', '--http', '127.0.0.1:0', '--bundle', join(dir, 'nowhere'), '--camera', 'a=test://ball', '--mqtt-url', 'mqtt://127.0.0.1:1']);
  assert.equal(noBundle.code, 2);
  assert.match(noBundle.stderr, /model\.bundle: .*nowhere\/bundle\.json: no bundle\.json/);
  assert.doesNotMatch(noBundle.stderr, /\n\s+at /, 'no stack trace');
});
