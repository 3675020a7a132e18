// A bundle with an int8 video graph (made by training/'s quantiser from the test bundle): the CPU
// provider runs it under `precision: auto`, float stays float under `fp32`, and int8 embeddings
// stay within cosine 0.99 of the float ones through real onnxruntime sessions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Registry } from 'prom-client';
import { pino } from 'pino';
import { isMstaError } from '../src/errors.js';
import { readBundle } from '../src/model/read-bundle.js';
import { sha256File } from '../src/model/sha256-file.js';
import { openVideoModel, type ModelOptions } from '../src/model/video-model.js';
import { readBundleReference } from './support/bundle-reference.js';
import { tempDir } from './support/temp-dir.js';

const BUNDLE = 'models/synthetic-actions';
const OPTIONS: ModelOptions = { providers: ['cpu'], intraOpThreads: 1, interOpThreads: 1, spinning: false, cpus: 2, timeout: { factor: 10, minSeconds: 30 }, maxRestarts: 1, tensorrt: { fp16: true, engineCacheDir: '/tmp' }, precision: 'auto', workers: 1, maxBatch: 4, maxWaitMs: 5 };
const reference = readBundleReference(BUNDLE);

async function int8Bundle(): Promise<string> {
  const dir = join(tempDir('msta-int8-'), 'b');
  cpSync(BUNDLE, dir, { recursive: true });
  const r = spawnSync('/usr/bin/python3', ['-m', 'msta.quantize', resolve(dir, 'video.onnx'), resolve(dir, 'video.int8.onnx')], { cwd: 'training', encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const manifest = JSON.parse(readFileSync(join(dir, 'bundle.json'), 'utf8'));
  manifest.variants = { int8: { video: 'video.int8.onnx' } };
  manifest.files['video.int8.onnx'] = await sha256File(join(dir, 'video.int8.onnx'));
  writeFileSync(join(dir, 'bundle.json'), JSON.stringify(manifest));
  return dir;
}

async function embed(dir: string, precision: ModelOptions['precision']): Promise<{ embeds: Float32Array[]; precision: unknown }> {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, { write: (s: string) => lines.push(JSON.parse(s)) });
  const model = await openVideoModel(await readBundle(dir), { ...OPTIONS, precision }, { log, registry: new Registry() });
  try {
    const { data, shape } = reference.array('frames');
    const [n, T, H, W] = shape as [number, number, number, number];
    const bytes = T * H * W * 3;
    const embeds = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        model.embedClip({ camera: 'c', region: null, seq: i, firstFrameAt: 0, lastFrameAt: 0, frames: T, width: W, height: H, data: new Uint8Array(data.buffer, data.byteOffset + i * bytes, bytes).slice() }),
      ),
    );
    return { embeds: embeds.map((e) => e.embedding), precision: lines.find((l) => l.msg === 'model loaded and warmed up')?.precision };
  } finally {
    await model.close();
  }
}

const cosine = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);

test('precision auto runs the int8 graph on the CPU provider, fp32 the float one; embeddings agree', { timeout: 120_000 }, async () => {
  const dir = await int8Bundle();
  const int8 = await embed(dir, 'auto');
  const fp32 = await embed(dir, 'fp32');
  assert.equal(int8.precision, 'int8', 'the choice is logged at start');
  assert.equal(fp32.precision, 'fp32');
  const { data: ref } = reference.array('video_embeds');
  fp32.embeds.forEach((e, i) => assert.ok(e.every((x, j) => Math.abs(x - Number(ref[i * e.length + j]!)) < 1e-4), `fp32 clip ${i} is the PyTorch reference`));
  const cos = int8.embeds.map((e, i) => cosine(e, fp32.embeds[i]!));
  assert.ok(cos.every((c) => c > 0.99), `int8 vs fp32 cosine ${cos.map((c) => c.toFixed(5)).join(', ')}`);
  assert.ok(cos.some((c) => c < 0.999999), 'the int8 graph is a different graph, not the float one again');
});

test('an int8 variant that bundle.json names without a hash is refused', async () => {
  const dir = await int8Bundle();
  const manifest = JSON.parse(readFileSync(join(dir, 'bundle.json'), 'utf8'));
  delete manifest.files['video.int8.onnx'];
  writeFileSync(join(dir, 'bundle.json'), JSON.stringify(manifest));
  await assert.rejects(readBundle(dir), (e: unknown) => isMstaError(e, 'BUNDLE_INVALID') && /"files" does not list video\.int8\.onnx/.test(e.message));
});
