import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MicroBatcher } from '../src/model/micro-batcher.js';

/** A fake clock: timers fire only when the test advances time. */
function clock() {
  let now = 0;
  let timers: { at: number; fn: () => void }[] = [];
  let set = 0;
  return {
    now: () => now,
    /** Timers set so far. */
    get set() {
      return set;
    },
    /** ms 0 is the end of this turn of the event loop: `advance(0)` runs it. */
    setTimer: (fn: () => void, ms: number) => {
      set += 1;
      const t = { at: now + ms, fn };
      timers.push(t);
      return () => (timers = timers.filter((x) => x !== t));
    },
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

test('with a worker idle, what arrives in one turn leaves together at its end, without the wait', () => {
  const c = clock();
  const sent: string[][] = [];
  let inFlight = 0;
  const b = new MicroBatcher<string>({ maxBatch: 4, maxWaitMs: 10, consumerIdle: () => inFlight === 0, ...c }, (items) => (sent.push(items), (inFlight += 1), true));
  b.add('a');
  b.add('b');
  assert.deepEqual(sent, [], 'not before the turn ends: arrivals of the same turn join');
  c.advance(0);
  assert.deepEqual(sent, [['a', 'b']]);
  // Every worker busy: the next batch waits to fill, up to max wait.
  b.add('c');
  c.advance(0);
  c.advance(9);
  assert.deepEqual(sent, [['a', 'b']]);
  c.advance(1);
  assert.deepEqual(sent, [['a', 'b'], ['c']]);
  // A worker frees while an item waits: it leaves at the end of that turn.
  b.add('d');
  c.advance(3);
  inFlight = 0;
  b.pump();
  c.advance(0);
  assert.deepEqual(sent, [['a', 'b'], ['c'], ['d']]);
});

test('clips added to a batch that waits keep its one timer: the oldest clip\'s deadline has not moved', () => {
  const c = clock();
  const sent: string[][] = [];
  const b = new MicroBatcher<string>({ maxBatch: 16, maxWaitMs: 10, ...c }, (items) => (sent.push(items), true));
  b.add('a');
  c.advance(2);
  for (const x of ['b', 'c', 'd', 'e']) b.add(x);
  b.pump();
  assert.equal(c.set, 1);
  c.advance(7);
  assert.deepEqual(sent, []);
  c.advance(1);
  assert.deepEqual(sent, [['a', 'b', 'c', 'd', 'e']], 'at the first clip\'s deadline');
  b.add('f');
  assert.equal(c.set, 2, 'the next batch has its own');
});
