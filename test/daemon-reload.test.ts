// The Daemon in-process (real model, GStreamer children, embedded broker): reloads asked at the
// same moment run one after the other, so no camera starts twice; a stop asked during a reload
// waits for it and leaves no source child.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { parseConfig } from '../src/config/load-config.js';
import { Daemon } from '../src/daemon/daemon.js';
import { createNotifier } from '../src/daemon/sd-notify.js';
import { killSourceChildren, sourceChildCount } from '../src/source/child-process.js';
import { tempDir } from './support/temp-dir.js';

const dir = tempDir('msta-reload-');
const config = (cameras: string) =>
  parseConfig(
    `model:\n  bundle: ${resolve('models/synthetic-actions')}\n  providers: [cpu]\nhttp:\n  listen: 127.0.0.1:0\nmqtt:\n  spool:\n    dir: ${join(dir, 'spool')}\nlabels:\n  cache_dir: ${join(dir, 'cache')}\ncameras:\n${cameras}`,
    { file: join(dir, 'msta-edge.yaml'), env: {} },
  );

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('two reloads at once: each camera is stopped and started once; a stop during a reload waits for it; no child left', { timeout: 90_000 }, async () => {
  const lines: Array<{ msg: string; camera?: string; pid?: number; state?: string }> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as (typeof lines)[number]);
      done();
    },
  });
  const log = pino({ level: 'debug' }, stream);
  const daemon = new Daemon(config('  - id: a\n    url: test://ball\n'), { log, notifier: createNotifier({}) });
  try {
    await daemon.start();
    await until(() => lines.some((l) => l.msg === 'camera streaming' && l.camera === 'a'), 30_000, 'camera a streaming');
    const count = (msg: string, camera: string) => lines.filter((l) => l.msg === msg && l.camera === camera).length;

    // Camera a changed and b added, asked twice at once: the second reload sees the first's result.
    const next = config('  - id: a\n    url: test://ball\n    latency_ms: 100\n  - id: b\n    url: test://smpte\n');
    await Promise.all([daemon.reload(next), daemon.reload(next)]);
    assert.equal(count('camera changed: restarting it', 'a'), 1, 'camera a restarted once');
    assert.equal(count('camera started', 'a'), 1);
    assert.equal(count('camera started', 'b'), 1, 'camera b started once');
    await until(() => count('camera streaming', 'b') >= 1 && count('source child started', 'a') === 2, 30_000, 'both streaming');
    await until(() => sourceChildCount() === 2, 10_000, 'one child per camera');
    assert.equal(count('source child started', 'b'), 1);

    // A bad camera URL (past the schema, which refuses it too): refused before anything is touched.
    const bad = config('  - id: a\n    url: test://ball\n  - id: b\n    url: test://smpte\n');
    bad.cameras[0]!.url = 'rtsp://';
    await assert.rejects(daemon.reload(bad), /rtsp:\/\//);
    assert.equal(count('camera changed: restarting it', 'a'), 1, 'camera a untouched');
    assert.equal(sourceChildCount(), 2);

    // Stop asked while a reload runs: the reload finishes (or is skipped), then everything stops.
    const reloading = daemon.reload(config('  - id: a\n    url: test://ball\n'));
    const stopping = daemon.stop();
    await reloading;
    await stopping;
    assert.equal(sourceChildCount(), 0, 'no source child after stop');
  } finally {
    await daemon.stop();
    killSourceChildren(); // a regression must fail the test, not leave a child holding the process
  }
});
