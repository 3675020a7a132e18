// `msta-edge probe` through the real pipeline (GStreamer child -> clips -> onnxruntime workers ->
// scores) with the committed test bundle, on synthetic action videos made fresh for this run by
// training/'s synth (a new seed each run, printed, so a failure can be replayed with MSTA_TEST_SEED).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCliProcess } from './support/cli.js';
import { RtspServer } from './support/rtsp-server.js';
import { SEED, synthClips, synthDemo } from './support/synth.js';

const TOP1 = 0.95;

interface ProbeLine {
  input: string;
  clip: number;
  first_frame_at: string;
  last_frame_at: string;
  top: { label: string; score: number }[];
}

function lines(stdout: string): ProbeLine[] {
  return stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as ProbeLine);
}

test(`probe on fresh synthetic clips from files: top-1 >= ${TOP1 * 100}% (seed ${SEED})`, { timeout: 180_000 }, async (t) => {
  const clips = synthClips(3);
  const inputs = clips.flatMap((c) => ['--input', c.file]);
  const r = await runCliProcess(['probe', '--providers', 'cpu', '--stride', '2', '--top', '3', ...inputs], { timeoutMs: 150_000 });
  assert.equal(r.code, 0, r.stderr);
  const results = lines(r.stdout);
  const truth = new Map(clips.map((c) => [c.file, c.label]));
  assert.equal(new Set(results.map((l) => l.input)).size, clips.length, 'every input made clips');
  const wrong = results.filter((l) => l.top[0]!.label !== truth.get(l.input));
  const accuracy = 1 - wrong.length / results.length;
  t.diagnostic(`top-1 ${(accuracy * 100).toFixed(1)}% over ${results.length} clips from ${clips.length} videos (seed ${SEED})`);
  for (const w of wrong) t.diagnostic(`wrong: ${truth.get(w.input)} -> ${w.top[0]!.label} ${w.top[0]!.score.toFixed(2)}`);
  assert.ok(accuracy >= TOP1, `top-1 ${(accuracy * 100).toFixed(1)}%`);
  for (const l of results) {
    assert.ok(l.top.length === 3 && l.top[0]!.score >= l.top[1]!.score, 'top is best first');
    assert.ok(Date.parse(l.last_frame_at) > Date.parse(l.first_frame_at));
  }
});

test(`probe over RTSP on a fresh demo video: clips inside an action get its label, >= ${TOP1 * 100}% (seed ${SEED})`, { timeout: 180_000 }, async (t) => {
  const meta = synthDemo();
  const server = await RtspServer.start({ media: meta.path, user: 'viewer', password: 'probe-Secr3t' });
  try {
    // One pass of the video: at the bundle's interval, stride 2 makes about 3 clips a second.
    const clipCount = Math.floor(meta.seconds * 3) - 6;
    const r = await runCliProcess(['probe', '--providers', 'cpu', '--stride', '2', '--clips', String(clipCount), '--input', server.url('media')], { timeoutMs: 150_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout + r.stderr, /probe-Secr3t/, 'the camera password is never printed');
    const results = lines(r.stdout);
    assert.equal(results.length, clipCount);
    // Video time of a clip: its frames' capture times from the stream's first frame. The first
    // clip starts at the first frame received, which is the video's first (the server encodes
    // from frame 0 with a keyframe).
    const t0 = Date.parse(results[0]!.first_frame_at);
    const margin = 0.1;
    const judged = results.flatMap((l) => {
      const from = (Date.parse(l.first_frame_at) - t0) / 1000;
      const to = (Date.parse(l.last_frame_at) - t0) / 1000;
      const segment = meta.timeline.find((s) => from >= s.start_s + margin && to <= s.end_s - margin);
      return segment ? [{ expected: segment.label, got: l.top[0]!.label, from }] : [];
    });
    const wrong = judged.filter((j) => j.expected !== j.got);
    const accuracy = 1 - wrong.length / judged.length;
    t.diagnostic(`top-1 ${(accuracy * 100).toFixed(1)}% over ${judged.length} clips inside a segment (of ${results.length}), seed ${SEED}`);
    for (const w of wrong) t.diagnostic(`wrong at ${w.from.toFixed(1)} s: ${w.expected} -> ${w.got}`);
    assert.ok(judged.length >= 15, `only ${judged.length} clips fell inside a segment`);
    assert.ok(new Set(judged.map((j) => j.expected)).size >= 5, "clips inside most segments were judged");
    assert.ok(accuracy >= TOP1, `top-1 ${(accuracy * 100).toFixed(1)}%`);
  } finally {
    await server.kill();
  }
});

test('probe refuses bad input clearly: no input, an empty label set, a missing bundle', async () => {
  const noInput = await runCliProcess(['probe']);
  assert.equal(noInput.code, 2);
  assert.match(noInput.stderr, /--input URL_OR_FILE is required/);
  const empty = await runCliProcess(['probe', '--providers', 'cpu', '--input', 'test://ball', '--labels', ' , ', '--bundle', join(tmpdir(), 'no-such-bundle')]);
  assert.equal(empty.code, 2);
  assert.match(empty.stderr, /BUNDLE_NOT_FOUND/);
  const noLabels = await runCliProcess(['probe', '--providers', 'cpu', '--input', 'test://ball', '--labels-file', '/dev/null']);
  assert.equal(noLabels.code, 2);
  assert.match(noLabels.stderr, /LABELS_INVALID: labels: the label set is empty/);
  assert.doesNotMatch(noLabels.stderr, /\n\s+at /, 'no stack trace');
});
