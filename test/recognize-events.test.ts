// The actionEvents operator (per-clip scores of one camera -> start / update / end events) and
// scoreClips, with RxJS's TestScheduler: marbles give the clips and the expected events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestScheduler } from 'rxjs/testing';
import { actionEvents, type ActionEventOptions } from '../src/recognize/action-events.js';
import { scoreClips, type ClipScores } from '../src/recognize/score-clips.js';
import type { ActionEvent, ClipEmbedding } from '../src/types.js';

const MODEL = { name: 'msta-test', sha256: 'ab'.repeat(32) };
const T0 = Date.UTC(2026, 0, 2, 3, 4, 5, 0);

/** Clip n of camera cam1: frames from T0 + n s to T0 + n s + 900 ms; its inference took n + 1 ms (each event carries its own clip's). */
function clip(n: number, scores: number[]): ClipScores {
  return {
    clip: { camera: 'cam1', region: null, seq: n, frames: 8, height: 224, width: 224, firstFrameAt: T0 + n * 1000, lastFrameAt: T0 + n * 1000 + 900 },
    scores: Float64Array.from(scores),
    inferenceSeconds: (n + 1) / 1000,
  };
}

function options(over: Partial<ActionEventOptions> = {}): ActionEventOptions {
  let n = 0;
  return {
    labels: [{ name: 'wave' }, { name: 'clap' }],
    smoothing: 1,
    start: 0.6,
    end: 0.4,
    minClips: 2,
    minScore: 0,
    topK: 2,
    updateEveryClips: 2,
    updateRise: 0.2,
    model: MODEL,
    newId: () => `id-${++n}`,
    ...over,
  };
}

/** The event expected on clip `n`: label, type, id, score, top score, start / end clip numbers. */
function ev(
  type: ActionEvent['type'],
  n: number,
  e: { id: string; label: string; score: number; topScore: number; startedOn: number; endedOn?: number; top: [string, number][] },
): ActionEvent {
  return {
    id: e.id,
    type,
    camera: 'cam1', region: null,
    label: e.label,
    score: e.score,
    topScore: e.topScore,
    startedAt: T0 + e.startedOn * 1000,
    endedAt: e.endedOn === undefined ? null : T0 + e.endedOn * 1000 + 900,
    clip: { firstFrameAt: T0 + n * 1000, lastFrameAt: T0 + n * 1000 + 900, frames: 8, inferenceSeconds: (n + 1) / 1000 },
    top: e.top.map(([label, score]) => ({ label, score })),
    model: MODEL, snapshot: false,
  };
}

function scheduler() {
  return new TestScheduler((actual, expected) => assert.deepEqual(actual, expected));
}

test('start after min_clips, periodic update, end below end, next label, end when the camera stops', () => {
  scheduler().run(({ cold, expectObservable }) => {
    const clips = {
      a: clip(0, [0.7, 0.3]),
      b: clip(1, [0.7, 0.3]),
      c: clip(2, [0.65, 0.35]),
      d: clip(3, [0.75, 0.25]),
      e: clip(4, [0.3, 0.7]),
      f: clip(5, [0.3, 0.7]),
    };
    const wave = { id: 'id-1', label: 'wave', startedOn: 0 };
    const clap = { id: 'id-2', label: 'clap', startedOn: 4 };
    expectObservable(cold('abcdef|', clips).pipe(actionEvents(options()))).toBe('-s-uvw(x|)', {
      s: ev('start', 1, { ...wave, score: 0.7, topScore: 0.7, top: [['wave', 0.7], ['clap', 0.3]] }),
      // two clips after the start: a periodic update, carrying the peak so far
      u: ev('update', 3, { ...wave, score: 0.75, topScore: 0.75, top: [['wave', 0.75], ['clap', 0.25]] }),
      // wave at 0.3 < end: it ends, having last been active on clip 3
      v: ev('end', 4, { ...wave, score: 0.3, topScore: 0.75, endedOn: 3, top: [['clap', 0.7], ['wave', 0.3]] }),
      w: ev('start', 5, { ...clap, score: 0.7, topScore: 0.7, top: [['clap', 0.7], ['wave', 0.3]] }),
      // the stream completes (camera stopped): clap ends on its last clip
      x: ev('end', 5, { ...clap, score: 0.7, topScore: 0.7, endedOn: 5, top: [['clap', 0.7], ['wave', 0.3]] }),
    });
  });
});

test('smoothing delays the change: the end of one action and the start of the next on one clip', () => {
  scheduler().run(({ cold, expectObservable }) => {
    // EMA 0.5: [1,0] -> [1,0]; [0,1] -> [0.5,0.5] (wave still >= end 0.4); [0,1] -> [0.25,0.75]
    const clips = { a: clip(0, [1, 0]), b: clip(1, [0, 1]), c: clip(2, [0, 1]) };
    const o = options({ smoothing: 0.5, minClips: 1, updateEveryClips: 0, updateRise: 1 });
    expectObservable(cold('abc', clips).pipe(actionEvents(o))).toBe('s-(ew)', {
      s: ev('start', 0, { id: 'id-1', label: 'wave', score: 1, topScore: 1, startedOn: 0, top: [['wave', 1], ['clap', 0]] }),
      e: ev('end', 2, { id: 'id-1', label: 'wave', score: 0.25, topScore: 1, startedOn: 0, endedOn: 1, top: [['clap', 0.75], ['wave', 0.25]] }),
      w: ev('start', 2, { id: 'id-2', label: 'clap', score: 0.75, topScore: 0.75, startedOn: 2, top: [['clap', 0.75], ['wave', 0.25]] }),
    });
  });
});

test('a switch: another label winning for min_clips clips ends the active one, still active on that clip', () => {
  scheduler().run(({ cold, expectObservable }) => {
    const clips = { a: clip(0, [0.7, 0.3]), b: clip(1, [0.7, 0.3]), c: clip(2, [0.3, 0.65]), d: clip(3, [0.3, 0.65]) };
    const o = options({ end: 0.2, updateEveryClips: 0, updateRise: 1 });
    const after = [['clap', 0.65], ['wave', 0.3]] as [string, number][];
    expectObservable(cold('abcd', clips).pipe(actionEvents(o))).toBe('-s-(ew)', {
      s: ev('start', 1, { id: 'id-1', label: 'wave', score: 0.7, topScore: 0.7, startedOn: 0, top: [['wave', 0.7], ['clap', 0.3]] }),
      e: ev('end', 3, { id: 'id-1', label: 'wave', score: 0.3, topScore: 0.7, startedOn: 0, endedOn: 3, top: after }),
      w: ev('start', 3, { id: 'id-2', label: 'clap', score: 0.65, topScore: 0.65, startedOn: 2, top: after }),
    });
  });
});

test('an update at once when the score rises notably, none otherwise', () => {
  scheduler().run(({ cold, expectObservable }) => {
    const clips = {
      a: clip(0, [0.6, 0.4]),
      b: clip(1, [0.6, 0.4]),
      c: clip(2, [0.65, 0.35]),
      d: clip(3, [0.75, 0.25]),
      e: clip(4, [0.8, 0.2]),
    };
    const o = options({ updateEveryClips: 0, updateRise: 0.1 });
    const wave = { id: 'id-1', label: 'wave', startedOn: 0 };
    // 0.75 is 0.15 above the start's 0.6: update; 0.8 is only 0.05 above that update's 0.75
    expectObservable(cold('abcde', clips).pipe(actionEvents(o))).toBe('-s-u-', {
      s: ev('start', 1, { ...wave, score: 0.6, topScore: 0.6, top: [['wave', 0.6], ['clap', 0.4]] }),
      u: ev('update', 3, { ...wave, score: 0.75, topScore: 0.75, top: [['wave', 0.75], ['clap', 0.25]] }),
    });
  });
});

test('the background label is scored but never reported as an action', () => {
  scheduler().run(({ cold, expectObservable }) => {
    const clips = { a: clip(0, [0.9, 0.1]), b: clip(1, [0.9, 0.1]), c: clip(2, [0.2, 0.8]), d: clip(3, [0.2, 0.8]) };
    const o = options({ labels: [{ name: 'nothing' }, { name: 'wave' }], background: 'nothing', updateEveryClips: 0, updateRise: 1 });
    expectObservable(cold('abcd', clips).pipe(actionEvents(o))).toBe('---s', {
      s: ev('start', 3, { id: 'id-1', label: 'wave', score: 0.8, topScore: 0.8, startedOn: 2, top: [['wave', 0.8], ['nothing', 0.2]] }),
    });
  });
  assert.throws(() => actionEvents(options({ background: 'idle' })), /background label "idle" is not in the label set/);
});

test('a per-label threshold decides that label\'s start', () => {
  scheduler().run(({ cold, expectObservable }) => {
    const clips = { a: clip(0, [0.7, 0.3]), b: clip(1, [0.7, 0.3]) };
    const o = options({ labels: [{ name: 'wave', threshold: 0.8 }, { name: 'clap' }] });
    expectObservable(cold('ab|', clips).pipe(actionEvents(o))).toBe('--|');
  });
});

test('a failing stream ends the active action, then fails', () => {
  scheduler().run(({ cold, expectObservable }) => {
    const clips = { a: clip(0, [0.7, 0.3]), b: clip(1, [0.7, 0.3]) };
    const wave = { id: 'id-1', label: 'wave', startedOn: 0, score: 0.7, topScore: 0.7, top: [['wave', 0.7], ['clap', 0.3]] as [string, number][] };
    const failure = new Error('camera gone');
    expectObservable(cold('-a-b-#', clips, failure).pipe(actionEvents(options()))).toBe('---s-(e#)', { s: ev('start', 1, wave), e: ev('end', 1, { ...wave, endedOn: 1 }) }, failure);
  });
});

test('each subscription has its own state (one per camera)', () => {
  scheduler().run(({ cold, expectObservable }) => {
    const clips = { a: clip(0, [0.7, 0.3]), b: clip(1, [0.7, 0.3]) };
    const events = cold('ab|', clips).pipe(actionEvents(options({ newId: () => 'same' })));
    const wave = { id: 'same', label: 'wave', startedOn: 0, score: 0.7, topScore: 0.7, top: [['wave', 0.7], ['clap', 0.3]] as [string, number][] };
    const expected = { s: ev('start', 1, wave), e: ev('end', 1, { ...wave, endedOn: 1 }) };
    expectObservable(events).toBe('-s(e|)', expected);
    expectObservable(events).toBe('-s(e|)', expected);
  });
});

test('events get unique UUIDs by default', () => {
  const ids: string[] = [];
  scheduler().run(({ cold }) => {
    const clips = { a: clip(0, [0.9, 0.1]), b: clip(1, [0.1, 0.9]) };
    const o = options({ minClips: 1, newId: undefined });
    cold('ab|', clips).pipe(actionEvents(o)).subscribe((e) => ids.push(e.id));
  });
  assert.equal(ids.length, 4);
  assert.equal(ids[0], ids[1], 'the start and end of one occurrence share its id');
  assert.equal(ids[2], ids[3]);
  assert.notEqual(ids[0], ids[2]);
  for (const id of ids) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});

test('scoreClips turns video embeddings into label scores, keeping the inference their events need', () => {
  scheduler().run(({ cold, expectObservable }) => {
    const meta = clip(0, []).clip;
    const embedding: ClipEmbedding = { clip: meta, embedding: Float32Array.of(0, 1), provider: 'cpu', inferenceSeconds: 0.01 };
    // cosines 0.5, 0.5 and 0: logits 50, 50, 0 -> 1 / (2 + e^-50) twice, e^-50 / (2 + e^-50)
    const labels = Float32Array.of(0, 0.5, 0, 0.5, 1, 0);
    const tiny = Math.exp(-50);
    expectObservable(cold('a|', { a: embedding }).pipe(scoreClips(labels, 100))).toBe('a|', {
      a: { clip: meta, scores: Float64Array.of(1 / (2 + tiny), 1 / (2 + tiny), tiny / (2 + tiny)), inferenceSeconds: 0.01 },
    });
  });
});
