import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MicroBatcher } from '../src/model/micro-batcher.js';

/** A fake clock: timers fire only when the test advances time. */
function clock() {
  let now = 0;
  let timers: { at: number; fn: () => void }[] = [];
  return {
    now: () => now,
    setTimer: (fn: () => void, ms: number) => {
      const t = { at: now + ms, fn };
      timers.push(t);
      return t;
    },
    clearTimer: (t: unknown) => (timers = timers.filter((x) => x !== t)),
    advance(ms: number) {
      now += ms;
      const due = timers.filter((t) => t.at <= now);
      timers = timers.filter((t) => t.at > now);
      due.forEach((t) => t.fn());
    },
  };
}

test('a full batch leaves at once; a partial one after max wait', () => {
  const c = clock();
  const sent: string[][] = [];
  const b = new MicroBatcher<string>({ maxBatch: 3, maxWaitMs: 10, ...c }, (items) => (sent.push(items), true));
  b.add('a');
  b.add('b');
  assert.deepEqual(sent, []);
  b.add('c');
  assert.deepEqual(sent, [['a', 'b', 'c']]);
  b.add('d');
  c.advance(9);
  assert.deepEqual(sent.length, 1);
  c.advance(1);
  assert.deepEqual(sent, [['a', 'b', 'c'], ['d']]);
});

test('while no worker is free, items wait and leave together when one frees', () => {
  const c = clock();
  const sent: string[][] = [];
  let free = false;
  const b = new MicroBatcher<string>({ maxBatch: 2, maxWaitMs: 5, ...c }, (items) => (free ? (sent.push(items), true) : false));
  b.add('a');
  b.add('b');
  b.add('c');
  c.advance(100);
  assert.deepEqual(sent, []);
  assert.equal(b.waiting, 3);
  free = true;
  b.pump();
  assert.deepEqual(sent, [['a', 'b'], ['c']]);
  assert.equal(b.waiting, 0);
});

test('drain hands back what waits and cancels the timer', () => {
  const c = clock();
  const sent: string[][] = [];
  const b = new MicroBatcher<string>({ maxBatch: 4, maxWaitMs: 5, ...c }, (items) => (sent.push(items), true));
  b.add('a');
  assert.deepEqual(b.drain(), ['a']);
  c.advance(10);
  assert.deepEqual(sent, []);
});
