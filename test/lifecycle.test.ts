// The daemon's life as a real process: ready only when started, SIGHUP reloads labels and cameras
// in place (an invalid config is refused, the running one kept), SIGTERM twice stops once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DaemonProcess } from './support/daemon-process.js';
import { runCliProcess } from './support/cli.js';
import { waitGone } from './support/process-gone.js';
import { tempDir } from './support/temp-dir.js';

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
  const dir = tempDir('msta-life-');
  const file = config(dir, 'cameras:\n  - id: a\n    url: test://ball\nlabels:\n  actions: [red ball moving left, blue ball growing]\n');
  const daemon = DaemonProcess.start(['--config', file]);
  try {
    const address = await daemon.httpAddress();
    const ready = await until(async () => {
      const r = await readyz(address);
      return r.status === 200 ? r : undefined;
    }, 60_000, 'ready');
    assert.deepEqual(Object.keys(ready.body.checks).sort(), ['camera:a', 'cameras', 'events', 'model', 'mqtt', 'recognition', 'started']);
    const recognition = ready.body.checks.recognition as { cameras?: Record<string, string> } | undefined;
    assert.ok(['idle', 'recognizing'].includes(recognition?.cameras?.a ?? ''), `camera a's recognition state: ${JSON.stringify(recognition)}`);
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
  const dir = tempDir('msta-life-');
  const bad = await runCliProcess(['run', '--config', config(dir, 'cameras: 3\n')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /cameras: .*expected array/);
  const noBundle = await runCliProcess(['run', '--http', '127.0.0.1:0', '--bundle', join(dir, 'nowhere'), '--camera', 'a=test://ball', '--mqtt-url', 'mqtt://127.0.0.1:1']);
  assert.equal(noBundle.code, 2);
  assert.match(noBundle.stderr, /model\.bundle: .*nowhere\/bundle\.json: no bundle\.json/);
  assert.doesNotMatch(noBundle.stderr, /\n\s+at /, 'no stack trace');
});

/** Resolves once the process has a handler for `signal` (SigCgt in /proc): main's first moment. */
async function untilSignalCaught(pid: number, signal: number): Promise<void> {
  const end = Date.now() + 30_000;
  for (;;) {
    // After the exec (a fresh fork still has its parent's handlers).
    const execed = readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('main.ts');
    const caught = /^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '0';
    if (execed && (BigInt(`0x${caught}`) >> BigInt(signal - 1)) & 1n) return;
    if (Date.now() > end) throw new Error(`process ${pid} never handled signal ${signal}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

async function metric(address: string, line: RegExp): Promise<string | undefined> {
  const text = await (await fetch(`http://${address}/metrics`)).text();
  return line.exec(text)?.[1];
}

test('two SIGHUPs at once start a new camera once; a bad camera URL keeps the camera running; a source child that hangs at stop is killed, and the daemon still exits in time', { timeout: 120_000 }, async () => {
  const dir = tempDir('msta-life-');
  const file = config(dir, 'shutdown_timeout_s: 5\nsource:\n  stop_timeout_ms: 1000\ncameras:\n  - id: a\n    url: test://ball\n');
  const daemon = DaemonProcess.start(['--config', file]);
  try {
    const address = await daemon.httpAddress();
    await daemon.waitForLine((l) => l.msg === 'camera streaming' && l.camera === 'a', 60_000, 'camera a streaming');
    const childOfA = (await daemon.waitForLine((l) => l.msg === 'source child started' && l.camera === 'a')).pid as number;
    const childrenOf = (camera: string) => daemon.lines.filter((l) => l.msg === 'source child started' && l.camera === camera).map((l) => l.pid);

    // Two reloads close together, the first still stopping camera a (changed) when the second
    // comes: serialised, so a restarts once and b starts once.
    config(dir, 'shutdown_timeout_s: 5\nsource:\n  stop_timeout_ms: 1000\ncameras:\n  - id: a\n    url: test://ball\n    latency_ms: 100\n  - id: b\n    url: test://smpte\n');
    daemon.child.kill('SIGHUP');
    await new Promise((r) => setTimeout(r, 30)); // two signals sent at once would arrive as one
    daemon.child.kill('SIGHUP');
    await daemon.waitForLine((l) => l.msg === 'camera streaming' && l.camera === 'b', 30_000, 'camera b streaming');
    await daemon.waitForLine((l) => l.msg === 'config reloaded', 30_000, 'reloaded');
    await new Promise((r) => setTimeout(r, 2000)); // time for a second, overlapping start to show
    assert.equal(daemon.lines.filter((l) => l.msg === 'camera started' && l.camera === 'b').length, 1, 'camera b started once');
    assert.equal(daemon.lines.filter((l) => l.msg === 'camera changed: restarting it' && l.camera === 'a').length, 1, 'camera a restarted once');
    assert.equal(childrenOf('b').length, 1, 'one source child for camera b');
    assert.equal(childrenOf('a').length, 2, 'camera a: its first child and one more');
    const secondOfA = childrenOf('a')[1] as number;
    assert.ok(await waitGone(childOfA, 3000), 'the first child of camera a is gone');

    // A camera URL with no host: refused before anything running is touched.
    config(dir, 'shutdown_timeout_s: 5\nsource:\n  stop_timeout_ms: 1000\ncameras:\n  - id: a\n    url: "rtsp://"\n    latency_ms: 100\n  - id: b\n    url: test://smpte\n');
    daemon.child.kill('SIGHUP');
    const linesBefore = daemon.lines.length;
    const refused = await daemon.waitForLine((l) => /^SIGHUP: (new config rejected, keeping the running one|reload failed, keeping the running config)$/.test(l.msg), 30_000, 'bad URL refused');
    assert.match(JSON.stringify(refused), /rtsp:\/\//, 'the message names the URL');
    await new Promise((r) => setTimeout(r, 1000));
    assert.deepEqual(childrenOf('a'), [childOfA, secondOfA], 'camera a still on the same child');
    assert.equal(daemon.lines.slice(linesBefore).filter((l) => l.msg === 'camera removed' || l.msg === 'camera changed: restarting it').length, 0);
    assert.equal(await metric(address, /^msta_source_up\{camera="a"\} (\d)$/m), '1', 'camera a still streaming');

    // A child that cannot stop (frozen): killed after stop_timeout_ms; the daemon exits within shutdown_timeout_s.
    process.kill(secondOfA, 'SIGSTOP');
    const stopAt = Date.now();
    daemon.child.kill('SIGTERM');
    const { code } = await daemon.exited;
    const took = Date.now() - stopAt;
    assert.equal(code, 0, daemon.raw.slice(-2000));
    assert.ok(took < 5000, `stopped in ${took} ms`);
    for (const pid of [...childrenOf('a'), ...childrenOf('b')] as number[]) assert.ok(await waitGone(pid, 1000), `source child ${pid} gone`);
  } finally {
    await daemon.stop('SIGKILL');
  }
});

test('SIGTERM at any moment of start-up logs why and exits 0', { timeout: 120_000 }, async () => {
  const dir = tempDir('msta-life-');
  const file = config(dir, 'cameras:\n  - id: a\n    url: test://ball\n');
  // Before the modules have loaded, while the model warms up, and just after the cameras start.
  const moments: Array<{ what: string; when: (d: DaemonProcess) => Promise<unknown> }> = [
    // Node catches SIGTERM itself from the start (to restore the terminal); SIGHUP only once
    // main's handlers, all installed together, are in.
    { what: 'as soon as main handles signals', when: (d) => untilSignalCaught(d.pid, 1) },
    { what: 'while the model loads', when: (d) => d.httpAddress() },
    { what: 'once a camera started', when: (d) => d.waitForLine((l) => l.msg === 'source child started', 60_000, 'a source child') },
  ];
  for (const { what, when } of moments) {
    const daemon = DaemonProcess.start(['--config', file]);
    try {
      await when(daemon);
      daemon.child.kill('SIGTERM');
      const { code, signal } = await daemon.exited;
      assert.equal(signal, null, what);
      assert.equal(code, 0, `${what}: ${daemon.raw.slice(-2000)}`);
      assert.match(daemon.raw, /SIGTERM/, `${what}: the stop is logged`);
      for (const l of daemon.lines.filter((x) => x.msg === 'source child started')) assert.ok(await waitGone(l.pid as number, 1000), `${what}: child gone`);
    } finally {
      await daemon.stop('SIGKILL');
    }
  }
});
