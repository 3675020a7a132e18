// The graphs a model runs are the ones bundle.json pinned when it was loaded: files replaced in the
// bundle directory (teach-by-example writes a new model there) are never picked up by a worker on
// its own, only by a reload; a replacement worker that finds them refuses to open them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { isMstaError, type MstaError } from '../src/errors.js';
import { readBundle } from '../src/model/read-bundle.js';
import { openVideoModel, type ModelOptions } from '../src/model/video-model.js';
import { BUNDLE } from './support/model-swap.js';
import { tempDir } from './support/temp-dir.js';

const OPTIONS: ModelOptions = {
  providers: ['cpu'], intraOpThreads: 1, interOpThreads: 1, spinning: false, cpus: 2, tensorrt: { fp16: false, engineCacheDir: '/tmp' }, precision: 'fp32',
  workers: 1, maxBatch: 1, maxWaitMs: 2, timeout: { factor: 10, minSeconds: 30 }, maxRestarts: 2,
};

/** A copy of the committed bundle, and a way to rewrite its video graph: the same function in other bytes. */
function bundleCopy() {
  const dir = join(tempDir('msta-pinned-'), 'bundle');
  cpSync(BUNDLE, dir, { recursive: true });
  const rewriteVideo = () => {
    const r = spawnSync('/usr/bin/python3', ['-c', 'import onnx,sys; m=onnx.load(sys.argv[1]); m.doc_string="retrained"; onnx.save(m, sys.argv[1])', join(dir, 'video.onnx')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  };
  return { dir, rewriteVideo };
}

const logCapture = () => {
  const lines: Record<string, unknown>[] = [];
  return { log: pino({ level: 'debug' }, { write: (s: string) => lines.push(JSON.parse(s)) }), lines };
};

test('a graph replaced between reading the bundle and opening it is refused, naming the file', { timeout: 60_000 }, async () => {
  const { dir, rewriteVideo } = bundleCopy();
  const bundle = await readBundle(dir);
  rewriteVideo();
  await assert.rejects(openVideoModel(bundle, OPTIONS, { log: logCapture().log, registry: new Registry() }), (e: unknown) => {
    assert.ok(isMstaError(e) && e.code === 'BUNDLE_HASH_MISMATCH', String(e));
    assert.match(e.message, new RegExp(`${join(dir, 'video.onnx')}: sha256 expected ${bundle.manifest.files['video.onnx']} \\(bundle.json when loaded\\)`));
    return true;
  });
});

test('a worker replaced after the files changed in place does not serve them under the loaded model: it cannot start, the model goes fatal', { timeout: 60_000 }, async () => {
  const { dir, rewriteVideo } = bundleCopy();
  const { log, lines } = logCapture();
  const workers: Worker[] = [];
  let fatal: MstaError | undefined;
  const model = await openVideoModel(await readBundle(dir), OPTIONS, { log, registry: new Registry(), onWorker: (w) => workers.push(w), onFatal: (e) => (fatal = e) });
  try {
    rewriteVideo();
    void workers[0]!.terminate();
    const end = Date.now() + 30_000;
    while (fatal === undefined && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
    assert.equal(fatal?.code, 'MODEL_FAILED');
    const failed = lines.filter((l) => l.msg === 'inference worker could not be started');
    assert.equal(failed.length, 2);
    assert.match(JSON.stringify(failed[0]), /video\.onnx: sha256 expected [0-9a-f]{64} \(bundle\.json when loaded\), found [0-9a-f]{64}: the file changed since/);
  } finally {
    await model.close();
  }
});
