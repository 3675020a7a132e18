// The model stage through real onnxruntime sessions in worker threads, on the committed test bundle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { pino } from 'pino';
import { isMstaError, type ErrorCode } from '../src/errors.js';
import { readBundle } from '../src/model/read-bundle.js';
import { sha256File } from '../src/model/sha256-file.js';
import { openVideoModel, type ModelOptions } from '../src/model/video-model.js';
import { ClipTokenizer } from '../src/model/clip-tokenizer.js';
import { loadClipVocab } from '../src/model/clip-vocab.js';
import { embedPrompts } from '../src/model/prompt-embeddings.js';
import type { Clip } from '../src/types.js';
import { maxAbsDiff, readBundleReference } from './support/bundle-reference.js';
import { buildRecognizer, configuredLabelSet } from '../src/daemon/recognizer.js';
import { labelScores } from '../src/recognize/label-scores.js';
import { tempDir } from './support/temp-dir.js';

const BUNDLE = 'models/synthetic-actions';
const reference = readBundleReference(BUNDLE);
const OPTIONS: ModelOptions = { providers: ['cpu'], intraOpThreads: 1, interOpThreads: 1, spinning: false, cpus: 2, precision: 'fp32', tensorrt: { fp16: true, engineCacheDir: '/tmp' }, workers: 1, maxBatch: 4, maxWaitMs: 5, timeout: { factor: 10, minSeconds: 30 }, maxRestarts: 2 };

function logCapture() {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => lines.push(JSON.parse(s)) });
  return { log, lines };
}

/** A copy of the bundle to break, with bundle.json edited and hashes recomputed unless told not to. */
async function brokenBundle(edit: (dir: string, manifest: Record<string, unknown>) => void, rehash = true): Promise<string> {
  const dir = join(tempDir('msta-bundle-'), 'b');
  cpSync(BUNDLE, dir, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(dir, 'bundle.json'), 'utf8'));
  edit(dir, manifest);
  if (rehash) for (const f of Object.keys(manifest.files)) manifest.files[f] = await sha256File(join(dir, f)).catch(() => manifest.files[f]);
  writeFileSync(join(dir, 'bundle.json'), JSON.stringify(manifest));
  return dir;
}

async function rejectsWith(p: Promise<unknown>, code: ErrorCode, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isMstaError(e, code), `expected ${code}, got ${String(e)}`);
    assert.match(e.message, pattern);
    return true;
  });
}

test('clips batched through worker threads give the PyTorch reference embeddings', async () => {
  const bundle = await readBundle(BUNDLE);
  const { log, lines } = logCapture();
  const registry = new Registry();
  // A long wait: on a loaded host the four clips still leave as one batch (it leaves when full).
  const model = await openVideoModel(bundle, { ...OPTIONS, maxWaitMs: 1000 }, { log, registry });
  try {
    assert.equal(model.provider, 'cpu');
    assert.ok(lines.some((l) => l.msg === 'model loaded and warmed up' && typeof l.warmup_s === 'number'), 'warm-up is timed and logged');
    const { data: frames, shape } = reference.array('frames');
    const [n, T, H, W] = shape;
    const clipBytes = T! * H! * W! * 3;
    const clips: Clip[] = Array.from({ length: n! }, (_, i) => ({
      camera: `cam${i}`, region: null, seq: 0, frames: T!, height: H!, width: W!,
      data: (frames as Uint8Array).slice(i * clipBytes, (i + 1) * clipBytes), firstFrameAt: 0, lastFrameAt: 1,
    }));
    const results = await Promise.all(clips.map((c) => model.embedClip(c)));
    const expected = reference.array('video_embeds').data as Float32Array;
    const D = bundle.manifest.embed_dim;
    results.forEach((r, i) => {
      assert.equal(r.clip.camera, `cam${i}`);
      assert.ok(maxAbsDiff(r.embedding, expected.subarray(i * D, (i + 1) * D)) <= 1e-4);
    });
    assert.equal(clips[0]!.data.byteLength, 0, 'clip buffers are transferred to the worker, not copied');
    const metrics = await registry.metrics();
    assert.match(metrics, /msta_model_info\{model="synthetic-actions",provider="cpu",sha256="[0-9a-f]{64}"\} 1/);
    // maxBatch is 4: the reference clips (up to 4) leave together as one micro-batch.
    assert.ok(n! <= model.settings.maxBatch);
    assert.match(metrics, new RegExp(`msta_inference_batch_size_sum\\{model="synthetic-actions"\\} ${n}\n`), 'the clips went as one micro-batch');
    assert.match(metrics, /msta_inference_batch_size_count\{model="synthetic-actions"\} 1\n/);

    const tokenizer = new ClipTokenizer(loadClipVocab(bundle.vocabPath));
    const ids = reference.array('input_ids').data as BigInt64Array;
    const L = bundle.manifest.context_length;
    reference.texts.forEach((t, i) => {
      assert.deepEqual(tokenizer.inputIds(t, L), Array.from(ids.subarray(i * L, (i + 1) * L), Number), `tokens of "${t}"`);
    });
    const cacheDir = tempDir('msta-prompts-');
    const o = { tokenize: (t: string) => tokenizer.inputIds(t, L), contextLength: L, embedDim: D, embedTokens: model.embedTokens.bind(model), cacheDir, bundleSha256: bundle.sha256, batchSize: 4 };
    const progress: number[] = [];
    const first = await embedPrompts(reference.texts, { ...o, onProgress: (done) => progress.push(done) });
    assert.equal(first.computed, reference.texts.length);
    assert.deepEqual(progress, [4, 8, 12, 15], 'embedded in batches with progress');
    const textRef = reference.array('text_embeds').data as Float32Array;
    reference.texts.forEach((t, i) => assert.ok(maxAbsDiff(first.embeddings.get(t)!, textRef.subarray(i * D, (i + 1) * D)) <= 1e-4));
    const again = await embedPrompts(reference.texts, { ...o, embedTokens: () => Promise.reject(new Error('must come from the cache')) });
    assert.equal(again.computed, 0);
    assert.deepEqual(again.embeddings.get(reference.texts[3]!), first.embeddings.get(reference.texts[3]!));
  } finally {
    await model.close();
  }
});

test("the daemon's scores on the reference frames equal PyTorch's within 1e-3 (labels, prompts, embeddings, softmax)", async () => {
  const bundle = await readBundle(BUNDLE);
  const { log } = logCapture();
  const model = await openVideoModel(bundle, OPTIONS, { log, registry: new Registry() });
  try {
    const m = bundle.manifest;
    // The bundle's own labels with its template: the prompts the export scored.
    const set = configuredLabelSet({ files: [], actions: [] }, m);
    const recognizer = await buildRecognizer(set, undefined, model, new ClipTokenizer(loadClipVocab(bundle.vocabPath)), log);
    assert.deepEqual(recognizer.set.labels.map((l) => l.prompts[0]), reference.texts);
    const { data: frames, shape } = reference.array('frames');
    const clipBytes = shape.slice(1).reduce((a, b) => a * b, 1);
    const expected = reference.array('scores').data as Float32Array;
    const L = recognizer.names.length;
    for (let i = 0; i < shape[0]!; i++) {
      const clip: Clip = { camera: 'c', region: null, seq: i, frames: m.frames, height: m.height, width: m.width, data: (frames as Uint8Array).slice(i * clipBytes, (i + 1) * clipBytes), firstFrameAt: 0, lastFrameAt: 0 };
      const { embedding } = await model.embedClip(clip);
      const scores = labelScores(embedding, recognizer.embeds, m.logit_scale);
      assert.ok(maxAbsDiff(scores, expected.subarray(i * L, (i + 1) * L)) <= 1e-3, `clip ${i}`);
    }
  } finally {
    await model.close();
  }
});

test('a provider whose libraries are missing falls back to the next, logged once, and the one in use is reported', async () => {
  const bundle = await readBundle(BUNDLE);
  const { log, lines } = logCapture();
  const model = await openVideoModel(bundle, { ...OPTIONS, providers: ['cuda', 'cpu'] }, { log, registry: new Registry() });
  await model.close();
  assert.equal(model.provider, 'cpu');
  const warnings = lines.filter((l) => l.level === 40 && l.provider === 'cuda');
  assert.equal(warnings.length, 1);
  await rejectsWith(openVideoModel(bundle, { ...OPTIONS, providers: ['cuda'] }, { log, registry: new Registry() }), 'PROVIDER_UNAVAILABLE', /tried cuda/);
});

test('an unknown provider is refused by name', async () => {
  const bundle = await readBundle(BUNDLE);
  await rejectsWith(openVideoModel(bundle, { ...OPTIONS, providers: ['tpu'] }, { log: logCapture().log, registry: new Registry() }), 'PROVIDER_UNKNOWN', /unknown execution provider "tpu"/);
});

test('a graph whose shape differs from bundle.json is refused naming expected and found', async () => {
  const dir = await brokenBundle((_d, m) => (m.frames = 16));
  await rejectsWith(
    readBundle(dir).then((b) => openVideoModel(b, OPTIONS, { log: logCapture().log, registry: new Registry() })),
    'BUNDLE_GRAPH_MISMATCH',
    /video\.onnx: input "frames" expected uint8 \[batch,16,64,64,3\], found uint8 \[batch,8,64,64,3\]/,
  );
  rmSync(dir, { recursive: true });
});

test('a truncated ONNX file is refused naming the file', async () => {
  const dir = await brokenBundle((d) => truncateSync(join(d, 'text.onnx'), 1000));
  await rejectsWith(
    readBundle(dir).then((b) => openVideoModel(b, OPTIONS, { log: logCapture().log, registry: new Registry() })),
    'BUNDLE_INVALID',
    /text\.onnx: onnxruntime cannot load it/,
  );
});

test('a file whose hash differs from bundle.json is refused with both hashes', async () => {
  const dir = await brokenBundle((d) => truncateSync(join(d, 'video.onnx'), 2000), false);
  await rejectsWith(readBundle(dir), 'BUNDLE_HASH_MISMATCH', /video\.onnx: sha256 expected [0-9a-f]{64} \(bundle\.json\), found [0-9a-f]{64}/);
});

test('a missing vocabulary, a missing bundle.json and an invalid bundle.json are refused clearly', async () => {
  const noVocab = await brokenBundle((d) => rmSync(join(d, 'bpe_vocab.txt.gz')), false);
  await rejectsWith(readBundle(noVocab), 'BUNDLE_INVALID', /bpe_vocab\.txt\.gz: missing or unreadable \(ENOENT\)/);
  await rejectsWith(readBundle('/nonexistent/bundle'), 'BUNDLE_NOT_FOUND', /\/nonexistent\/bundle\/bundle\.json: no bundle\.json/);
  const bad = await brokenBundle((_d, m) => {
    delete m.embed_dim;
    m.format = 'msta-bundle/9';
  });
  await rejectsWith(readBundle(bad), 'BUNDLE_INVALID', /format: .*msta-bundle\/1.*embed_dim/);
});

test('"auto" inference settings are resolved from the host and the provider in use, and logged at start', async () => {
  const bundle = await readBundle(BUNDLE);
  const { log, lines } = logCapture();
  const auto: ModelOptions = { ...OPTIONS, providers: ['cuda', 'cpu'], workers: 'auto', intraOpThreads: 'auto', maxBatch: 'auto', spinning: 'auto', cpus: 2 };
  const registry = new Registry();
  const model = await openVideoModel(bundle, auto, { log, registry });
  try {
    // The test bundle is small (a 1.5 MB graph) with 96 KB clips: batches of 16.
    assert.deepEqual(model.settings, { workers: 2, intraOpThreads: 1, maxBatch: 16, spinning: false, pipeline: 2, auto: ['workers', 'intraOpThreads', 'maxBatch', 'spinning'] });
    const logged = lines.find((l) => l.msg === 'inference settings');
    assert.ok(logged, 'the choice is logged');
    assert.equal(logged.provider, 'cpu');
    assert.equal(logged.workers, 2);
    assert.equal(logged.spinning, false);
    assert.equal(logged.max_batch, 16);
    assert.equal(model.health().ready, 2, 'both workers loaded (the second straight on the provider that worked)');
    assert.equal(lines.filter((l) => l.level === 40 && l.provider === 'cuda').length, 1, 'the fallback is tried and logged once, not per worker');
    const [a, b] = await Promise.all([0, 1].map((seq) => model.embedClip({ camera: 'c', region: null, seq, frames: 8, height: 64, width: 64, data: new Uint8Array(8 * 64 * 64 * 3), firstFrameAt: 0, lastFrameAt: 0 })));
    assert.deepEqual(a!.embedding, b!.embedding);
    // Sixteen clips submitted in one turn (made first: making them takes longer than max_wait_ms)
    // leave as one batch of 16, and each embedding is the one
    // its clip gets alone.
    const clip = (seq: number) => ({ camera: 'c', region: null, seq, frames: 8, height: 64, width: 64, data: new Uint8Array(8 * 64 * 64 * 3).map((_, i) => (i * (seq + 3)) & 255), firstFrameAt: 0, lastFrameAt: 0 });
    const before = await registry.getSingleMetric('msta_inference_batch_size')!.get();
    const clips = Array.from({ length: 16 }, (_, seq) => clip(seq));
    const batched = await Promise.all(clips.map((c) => model.embedClip(c)));
    const after = await registry.getSingleMetric('msta_inference_batch_size')!.get();
    const count = (m: typeof after) => m.values.find((v) => (v as { metricName?: string }).metricName?.endsWith('_count'))!.value;
    assert.equal(count(after) - count(before), 1, 'one batch');
    for (const seq of [0, 7, 15]) {
      const alone = await model.embedClip(clip(seq));
      const cosine = alone.embedding.reduce((acc, x, i) => acc + x * batched[seq]!.embedding[i]!, 0)
        / Math.hypot(...alone.embedding) / Math.hypot(...batched[seq]!.embedding);
      assert.ok(cosine > 0.9999, `clip ${seq}: batched and alone agree (cosine ${cosine})`);
    }
  } finally {
    await model.close();
  }
});
