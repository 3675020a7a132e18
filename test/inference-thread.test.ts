// One inference worker thread driven directly, through real onnxruntime: requests queued in the
// worker run one at a time, and each is timed from when its turn comes, not from its arrival.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { expectedSignatures } from '../src/model/check-graph.js';
import { InferenceThread } from '../src/model/inference-thread.js';
import { readBundle } from '../src/model/read-bundle.js';
import { clipBytes, faultyBundle } from './support/faulty-bundle.js';

test('requests queued behind a running one report their own inference time, not their wait', { timeout: 120_000 }, async () => {
  // The heavy graph costs a fixed large MatMul per clip (0.2-0.4 s on an idle thread). Two batches
  // of 4 and then one clip are sent at once: the second batch and the clip both arrive while the
  // first batch runs. Timed from its arrival, the clip would report the second batch's run too.
  const bundle = await readBundle(await faultyBundle('heavy'));
  const m = bundle.manifest;
  const thread = new InferenceThread((reason, message) => assert.fail(`worker lost: ${reason}: ${message}`));
  try {
    await thread.init({
      kind: 'init', videoPath: bundle.videoPath, textPath: bundle.textPath,
      session: { providers: ['cpu'], intraOpThreads: 1, interOpThreads: 1, spinning: false, tensorrt: { fp16: false, engineCacheDir: '/tmp' } },
      clipShape: [m.frames, m.height, m.width, 3], expected: expectedSignatures(m),
      sha256: Object.fromEntries(Object.entries(m.files).map(([name, sha]) => [join(bundle.dir, name), sha])),
    }, Infinity);
    const send = (n: number) => {
      const clips = Array.from({ length: n }, () => clipBytes(false));
      return thread.request((id) => ({ kind: 'video', id, clips }), clips.map((c) => c.buffer as ArrayBuffer));
    };
    const [first, second, clip] = await Promise.all([send(4), send(4), send(1)]);
    const s = [first, second, clip].map((r) => r.seconds.toFixed(3)).join(', ');
    assert.equal(clip.embeds.length, m.embed_dim);
    assert.ok(clip.seconds < second.seconds / 2, `a batch of 4, a batch of 4 and one clip reported ${s} s`);
  } finally {
    await thread.retire();
  }
});
