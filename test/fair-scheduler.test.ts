// Scheduling when inference is the bottleneck: plain deterministic tests, work settled by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adaptStride } from '../src/clip/adapt-stride.js';
import { ClipWindow } from '../src/clip/clip-window.js';
import { Coverage, CoverageAlarm } from '../src/clip/coverage.js';
import { FairScheduler, type StreamHandlers } from '../src/clip/fair-scheduler.js';

/** Work that finishes when the test says so: each run is a deferred promise, in start order. */
function manualWork() {
  const runs: { item: string; resolve: (r: string) => void; reject: (e: Error) => void }[] = [];
  const work = (item: string) => new Promise<string>((resolve, reject) => runs.push({ item, resolve, reject }));
  return { runs, work };
}

const tick = () => new Promise((r) => setImmediate(r));

function recorder() {
  const log: string[] = [];
  const handlers: StreamHandlers<string, string> = {
    result: (r) => log.push(`ok ${r}`),
    failed: (e, item) => log.push(`failed ${item}: ${(e as Error).message}`),
    replaced: (item) => log.push(`replaced ${item}`),
  };
  return { log, handlers };
}

test('round-robin: a camera that always has a clip waiting cannot starve the others', async () => {
  const { runs, work } = manualWork();
  const s = new FairScheduler(work, { slots: 1 });
  const a = s.add('a', recorder().handlers);
  const b = s.add('b', recorder().handlers);
  const c = s.add('c', recorder().handlers);
  let n = 0;
  a.submit(`a${n}`);
  b.submit('b0');
  c.submit('c0');
  // Camera a submits a fresh clip before every completion; b and c submit once each round.
  for (let round = 0; round < 9; round++) {
    a.submit(`a${++n}`);
    if (round % 3 === 0) {
      b.submit(`b${round}`);
      c.submit(`c${round}`);
    }
    runs[round]!.resolve('r');
    await tick();
  }
  // Every third round b and c have a clip again: they run next, a does not jump the queue;
  // when only a waits, it gets the model to itself.
  assert.equal(runs.map((r) => r.item[0]).join(''), 'abcabcabca');
  assert.equal(runs.length, 10);
});

test('latest wins per camera: a newer clip replaces the waiting one, reported; the running one is kept', async () => {
  const { runs, work } = manualWork();
  const s = new FairScheduler(work, { slots: 1 });
  const { log, handlers } = recorder();
  const a = s.add('a', handlers);
  a.submit('1');
  a.submit('2');
  a.submit('3');
  assert.deepEqual(runs.map((r) => r.item), ['1']);
  assert.deepEqual(log, ['replaced 2']);
  runs[0]!.resolve('r1');
  await tick();
  assert.deepEqual(runs.map((r) => r.item), ['1', '3']);
  assert.deepEqual(log, ['replaced 2', 'ok r1']);
});

test('a failed item is reported and the stream goes on with its next one', async () => {
  const { runs, work } = manualWork();
  const s = new FairScheduler(work, { slots: 1 });
  const { log, handlers } = recorder();
  const a = s.add('a', handlers);
  a.submit('1');
  a.submit('2');
  runs[0]!.reject(new Error('boom'));
  await tick();
  runs[1]!.resolve('r2');
  await tick();
  assert.deepEqual(log, ['failed 1: boom', 'ok r2']);
});

test('one camera may use every slot; its results still arrive in order; with two cameras each has half', async () => {
  const { runs, work } = manualWork();
  const s = new FairScheduler(work, { slots: 2 });
  const { log, handlers } = recorder();
  const a = s.add('a', handlers);
  a.submit('1');
  a.submit('2');
  a.submit('3');
  assert.deepEqual(runs.map((r) => r.item), ['1', '2'], 'two in flight (two slots), the third waits');
  runs[1]!.resolve('r2');
  await tick();
  assert.deepEqual(log, [], 'the second result waits for the first');
  runs[0]!.resolve('r1');
  await tick();
  assert.deepEqual(log, ['ok r1', 'ok r2']);
  assert.equal(s.running('a'), 1, 'the third runs now');
  // With a second camera the share per camera is one slot each.
  const b = s.add('b', recorder().handlers);
  a.submit('4');
  a.submit('5');
  b.submit('b1');
  assert.deepEqual(runs.map((r) => r.item), ['1', '2', '3', 'b1']);
});

test('end() waits for the waiting and the running item, then the stream leaves the rotation', async () => {
  const { runs, work } = manualWork();
  const s = new FairScheduler(work, { slots: 1 });
  const { log, handlers } = recorder();
  const a = s.add('a', handlers);
  a.submit('1');
  a.submit('2');
  let ended = false;
  void a.end().then(() => (ended = true));
  a.submit('ignored after end');
  runs[0]!.resolve('r1');
  await tick();
  assert.equal(ended, false);
  runs[1]!.resolve('r2');
  await tick();
  assert.equal(ended, true);
  assert.deepEqual(log, ['ok r1', 'ok r2']);
});

test('the stride: the floor until capacity is known, then what the capacity serves, within floor and ceiling', () => {
  const d = { cameras: 4, framesPerSecond: 6.25, floor: 4, ceiling: 32, utilisation: 0.9 };
  assert.equal(adaptStride({ ...d, capacity: undefined }), 4);
  assert.equal(adaptStride({ ...d, capacity: 1000 }), 4, 'a fast model: every clip wanted');
  // 4 cameras x 6.25 frames/s = 25 sampled frames/s; 0.39 clips/s x 0.9 -> stride 72, capped.
  assert.equal(adaptStride({ ...d, capacity: 0.39 }), 32);
  // 2 clips/s x 0.9 = 1.8 -> 25 / 1.8 = 13.9 -> 14.
  assert.equal(adaptStride({ ...d, capacity: 2 }), 14);
  assert.equal(adaptStride({ ...d, cameras: 0, capacity: 2 }), 4);
});

test('a stride change applies from the next clip; clip times stay those of their frames', () => {
  const w = new ClipWindow({ camera: 'c', frames: 2, stride: 1, width: 1, height: 1, maxGapMs: 1000 });
  const push = (i: number) => w.push({ camera: 'c', region: null, seq: i, capturedAt: i * 100, width: 1, height: 1, data: new Uint8Array(3).fill(i) });
  const made: number[][] = [];
  for (let i = 0; i < 10; i++) {
    if (i === 4) w.stride = 3;
    const r = push(i);
    if (r && 'data' in r) made.push([r.firstFrameAt, r.lastFrameAt]);
  }
  assert.deepEqual(made, [[0, 100], [100, 200], [200, 300], [500, 600], [800, 900]]);
});

test('coverage: clips inferred over clips wanted at the configured stride, over a sliding window', () => {
  const c = new Coverage({ wantedStride: 4, windowTicks: 2 });
  assert.equal(c.tick(), undefined, 'no frames: nothing to say');
  for (let i = 0; i < 40; i++) c.sampled();
  for (let i = 0; i < 10; i++) c.inferred();
  assert.equal(c.tick(), 1);
  for (let i = 0; i < 40; i++) c.sampled();
  for (let i = 0; i < 2; i++) c.inferred();
  assert.equal(c.tick(), 12 / 20);
  for (let i = 0; i < 40; i++) c.sampled();
  assert.equal(c.tick(), 2 / 20, 'the first tick has left the window');
});

test('the coverage alarm says low once and recovered once', () => {
  const a = new CoverageAlarm(0.5);
  assert.deepEqual([0.9, 0.4, 0.3, 0.45, undefined, 0.6, 0.7, 0.2].map((r) => a.update(r)), [undefined, 'low', undefined, undefined, undefined, 'recovered', undefined, 'low']);
});
