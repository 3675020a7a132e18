// Recognition's pure functions on hand-computed cases: scores, top-k, "none of these", EMA,
// hysteresis, and the terminal line for an event.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labelScores, softmax } from '../src/recognize/label-scores.js';
import { topK } from '../src/recognize/top-k.js';
import { bestAction } from '../src/recognize/best-action.js';
import { emaScores } from '../src/recognize/ema.js';
import { INITIAL_HYSTERESIS, endThreshold, startThreshold, stepHysteresis, type HysteresisOptions, type HysteresisState } from '../src/recognize/hysteresis.js';
import { formatEventLine } from '../src/recognize/format-event.js';
import type { ActionEvent } from '../src/types.js';

const near = (actual: ArrayLike<number>, expected: number[], eps = 1e-12) => {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(actual[i]! - expected[i]!) <= eps, `[${i}] ${actual[i]} vs ${expected[i]}`);
};

test('scores are softmax(logit_scale * cosine)', () => {
  // cosines 1 and 0; scale ln 3: logits ln3 and 0 -> e^ln3 / (e^ln3 + 1) = 3/4
  near(labelScores(Float32Array.of(1, 0), Float32Array.of(1, 0, 0, 1), Math.log(3)), [0.75, 0.25]);
  // video (0.6, 0.8) against (1,0), (0,1), (0.6,0.8): cosines 0.6, 0.8, 1; scale 10 -> logits 6, 8, 10
  const e = [Math.exp(-4), Math.exp(-2), 1];
  const sum = e[0]! + e[1]! + e[2]!;
  near(labelScores(Float32Array.of(0.6, 0.8), Float32Array.of(1, 0, 0, 1, 0.6, 0.8), 10), e.map((x) => x / sum), 1e-6);
  assert.throws(() => labelScores(Float32Array.of(1, 0), Float32Array.of(1, 0, 0), 100), /not rows/);
});

test('softmax is stable for large logits', () => {
  near(softmax(Float64Array.of(1000, 1000)), [0.5, 0.5]);
  near(softmax(Float64Array.of(-1000, 0)), [0, 1]);
  // logit_scale 100 between cosines 0.3 and 0.2: exp(10) / (exp(10) + 1)
  const p = labelScores(Float32Array.of(1, 0), Float32Array.of(0.3, 0, 0.2, 0), 100);
  near(p, [1 / (1 + Math.exp(-10)), 1 / (1 + Math.exp(10))], 1e-6);
  assert.ok(p.every((x) => Number.isFinite(x)));
});

test('top-k: best first, ties in label order', () => {
  assert.deepEqual(topK(['a', 'b', 'c', 'd'], [0.1, 0.4, 0.1, 0.4], 3), [
    { label: 'b', score: 0.4 },
    { label: 'd', score: 0.4 },
    { label: 'a', score: 0.1 },
  ]);
  assert.equal(topK(['a'], [1], 5).length, 1);
});

test('"none of these": the background label winning, or a top score under the minimum', () => {
  assert.equal(bestAction([0.2, 0.5, 0.3], { minScore: 0 }), 1);
  assert.equal(bestAction([0.2, 0.5, 0.3], { background: 1, minScore: 0 }), null);
  assert.equal(bestAction([0.2, 0.5, 0.3], { background: 2, minScore: 0 }), 1);
  assert.equal(bestAction([0.2, 0.5, 0.3], { minScore: 0.6 }), null);
  assert.equal(bestAction([0.2, 0.5, 0.3], { minScore: 0.5 }), 1);
  assert.equal(bestAction([], { minScore: 0 }), null);
});

test('EMA: weight of the newest clip', () => {
  near(emaScores(null, [0.1, 0.9], 0.5), [0.1, 0.9]);
  near(emaScores(Float64Array.of(0.2, 0.8), [1, 0], 0.5), [0.6, 0.4]);
  near(emaScores(Float64Array.of(0.2, 0.8), [1, 0], 0.25), [0.4, 0.6]);
  near(emaScores(Float64Array.of(0.2, 0.8), [1, 0], 1), [1, 0]);
  assert.throws(() => emaScores(null, [1], 0), /smoothing must be in \(0, 1\]/);
  assert.throws(() => emaScores(Float64Array.of(1), [0.5, 0.5], 0.5), /1 and 2 labels/);
});

const H: HysteresisOptions = { start: 0.6, end: 0.4, minClips: 2, minScore: 0, thresholds: [] };

/** Runs clips (scores, time = index * 1000) and lists what happened on each. */
function run(clips: number[][], o: HysteresisOptions): { events: string[]; state: HysteresisState } {
  let state = INITIAL_HYSTERESIS;
  const events: string[] = [];
  clips.forEach((scores, i) => {
    const step = stepHysteresis(state, scores, i * 1000, o);
    state = step.state;
    if (step.ended !== null) events.push(`${i}:end ${step.ended}`);
    if (step.started !== null) events.push(`${i}:start ${step.started} since ${step.startedSince}`);
  });
  return { events, state };
}

test('hysteresis: start after min_clips above start, end below end', () => {
  const { events, state } = run([[0.7, 0.3], [0.7, 0.3], [0.5, 0.5], [0.41, 0.59], [0.39, 0.61]], H);
  // 0.5 and 0.41 are below start but not below end: still active; 0.39 ends it. On that clip
  // label 1 (0.61) begins its own run.
  assert.deepEqual(events, ['1:start 0 since 0', '4:end 0']);
  assert.deepEqual(state, { active: null, candidate: 1, count: 1, candidateSince: 4000 });
});

test('hysteresis: the run must be consecutive and of the same label', () => {
  assert.deepEqual(run([[0.7, 0.3], [0.5, 0.5], [0.7, 0.3]], H).events, []);
  assert.deepEqual(run([[0.7, 0.3], [0.3, 0.7], [0.7, 0.3]], H).events, []);
  assert.deepEqual(run([[0.7, 0.3], [0.5, 0.5], [0.7, 0.3], [0.6, 0.4]], H).events, ['3:start 0 since 2000']);
  assert.deepEqual(run([[0.9, 0.1], [0.9, 0.1]], { ...H, minClips: 1 }).events, ['0:start 0 since 0']);
});

test('hysteresis: one active label per camera; a new winner for min_clips clips switches', () => {
  const o = { ...H, end: 0.2 };
  // label 0 active; label 1 wins with 0.65 twice while label 0 (0.3) is still above end 0.2
  const { events, state } = run([[0.7, 0.3], [0.7, 0.3], [0.3, 0.65], [0.3, 0.65]], o);
  assert.deepEqual(events, ['1:start 0 since 0', '3:end 0', '3:start 1 since 2000']);
  assert.equal(state.active, 1);
});

test('hysteresis: a per-label threshold replaces start and caps end', () => {
  const o: HysteresisOptions = { ...H, thresholds: [0.9, 0.3] };
  assert.equal(startThreshold(0, o), 0.9);
  assert.equal(endThreshold(0, o), 0.4);
  assert.equal(startThreshold(1, o), 0.3);
  assert.equal(endThreshold(1, o), 0.3);
  assert.deepEqual(run([[0.8, 0.2], [0.8, 0.2]], o).events, [], '0.8 is under label 0\'s 0.9');
  // label 1 starts at 0.35 (its threshold 0.3), stays at 0.31 (its end is 0.3, not 0.4), ends at 0.29
  assert.deepEqual(run([[0.2, 0.35, 0.45], [0.2, 0.35, 0.45]], { ...o, thresholds: [0.9, 0.3, 0.9] }).events, []);
  const three = { ...o, thresholds: [0.9, 0.3, 0.95] };
  assert.deepEqual(run([[0.3, 0.35, 0.35], [0.3, 0.36, 0.34], [0.3, 0.4, 0.3], [0.3, 0.31, 0.29], [0.5, 0.29, 0.21]], three).events, [
    '1:start 1 since 0',
    '4:end 1',
  ]);
});

test('hysteresis: background and minimum score keep actions from starting', () => {
  assert.deepEqual(run([[0.8, 0.2], [0.8, 0.2]], { ...H, background: 0 }).events, []);
  assert.deepEqual(run([[0.2, 0.8], [0.2, 0.8]], { ...H, background: 0 }).events, ['1:start 1 since 0']);
  assert.deepEqual(run([[0.7, 0.3], [0.7, 0.3]], { ...H, minScore: 0.75 }).events, []);
});

test('an event as one terminal line', () => {
  const e: ActionEvent = {
    id: 'x',
    type: 'end',
    camera: 'cam1', region: null,
    label: 'brush_hair',
    score: 0.31,
    topScore: 0.9,
    startedAt: Date.parse('2026-01-02T03:04:00.000Z'),
    endedAt: Date.parse('2026-01-02T03:04:12.500Z'),
    clip: { firstFrameAt: Date.parse('2026-01-02T03:04:12.000Z'), lastFrameAt: Date.parse('2026-01-02T03:04:13.000Z'), frames: 8, inferenceSeconds: 0.005 },
    top: [
      { label: 'clap', score: 0.5 },
      { label: 'brush_hair', score: 0.314 },
    ],
    model: { name: 'm', sha256: 'a'.repeat(64) }, snapshot: false,
  };
  assert.equal(formatEventLine(e), '2026-01-02T03:04:13.000Z cam1 end brush_hair 0.31 after 12.5 s (top: clap 0.50, brush_hair 0.31)');
  assert.equal(
    formatEventLine({ ...e, type: 'start', endedAt: null }),
    '2026-01-02T03:04:13.000Z cam1 start brush_hair 0.31 (top: clap 0.50, brush_hair 0.31)',
  );
});
