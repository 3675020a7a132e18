// The committed test bundle's two graphs, run in onnxruntime-node (CPU) on the reference inputs
// that training/'s export wrote, must reproduce PyTorch's outputs (max abs difference <= 1e-4).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { maxAbsDiff, readBundleReference } from './support/bundle-reference.js';

const BUNDLE = resolve('models/synthetic-actions');
const TOLERANCE = 1e-4;

interface BundleJson {
  format: string;
  frames: number;
  height: number;
  width: number;
  embed_dim: number;
  logit_scale: number;
  context_length: number;
  files: Record<string, string>;
}

const bundle = JSON.parse(readFileSync(join(BUNDLE, 'bundle.json'), 'utf8')) as BundleJson;
const reference = readBundleReference(BUNDLE);

async function run(file: string, input: ort.Tensor, inputName: string, outputName: string): Promise<ort.Tensor> {
  const session = await ort.InferenceSession.create(join(BUNDLE, file), { executionProviders: ['cpu'] });
  try {
    const out = await session.run({ [inputName]: input });
    const tensor = out[outputName];
    assert.ok(tensor, `${file}: no output ${outputName}`);
    return tensor;
  } finally {
    await session.release();
  }
}

test('bundle files match the sha256 listed in bundle.json', () => {
  assert.equal(bundle.format, 'msta-bundle/1');
  for (const [name, sha] of Object.entries(bundle.files)) {
    assert.equal(createHash('sha256').update(readFileSync(join(BUNDLE, name))).digest('hex'), sha, name);
  }
});

test('video.onnx reproduces the PyTorch video embeddings', async () => {
  const frames = reference.array('frames');
  const expected = reference.array('video_embeds');
  assert.deepEqual(frames.shape.slice(1), [bundle.frames, bundle.height, bundle.width, 3]);
  const out = await run('video.onnx', new ort.Tensor('uint8', frames.data as Uint8Array, [...frames.shape]), 'frames', 'video_embeds');
  assert.deepEqual(out.dims, [frames.shape[0], bundle.embed_dim]);
  assert.ok(maxAbsDiff(out.data as Float32Array, expected.data as Float32Array) <= TOLERANCE);
});

test('text.onnx reproduces the PyTorch text embeddings, and the scores follow', async () => {
  const ids = reference.array('input_ids');
  assert.deepEqual(ids.shape, [reference.texts.length, bundle.context_length]);
  const text = await run('text.onnx', new ort.Tensor('int64', ids.data as BigInt64Array, [...ids.shape]), 'input_ids', 'text_embeds');
  assert.ok(maxAbsDiff(text.data as Float32Array, reference.array('text_embeds').data as Float32Array) <= TOLERANCE);

  const frames = reference.array('frames');
  const video = await run('video.onnx', new ort.Tensor('uint8', frames.data as Uint8Array, [...frames.shape]), 'frames', 'video_embeds');
  const d = bundle.embed_dim;
  const n = reference.texts.length;
  const v = video.data as Float32Array;
  const t = text.data as Float32Array;
  const scores: number[] = [];
  for (let i = 0; i < frames.shape[0]!; i++) {
    const logits = Array.from({ length: n }, (_, j) => {
      let dot = 0;
      for (let k = 0; k < d; k++) dot += v[i * d + k]! * t[j * d + k]!;
      return bundle.logit_scale * dot;
    });
    const top = Math.max(...logits);
    const exps = logits.map((l) => Math.exp(l - top));
    const sum = exps.reduce((a, b) => a + b, 0);
    scores.push(...exps.map((e) => e / sum));
  }
  assert.ok(maxAbsDiff(scores, reference.array('scores').data as Float32Array) <= TOLERANCE);
});
