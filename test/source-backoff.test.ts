import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from '../src/source/backoff.js';
import { seededRandom } from './support/seeded-random.js';

const base: BackoffOptions = { initialMs: 100, maxMs: 5000, factor: 2, jitter: 'none' };

test('without jitter the delay doubles up to the cap', () => {
  const delays = Array.from({ length: 10 }, (_, attempt) => backoffDelay(attempt, undefined, base, () => 0.5));
  assert.deepEqual(delays, [100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000, 5000]);
});

test('full jitter stays in [0, exponential) and spreads over the range', () => {
  const o = { ...base, jitter: 'full' as const };
  const random = seededRandom(7);
  for (let attempt = 0; attempt < 12; attempt++) {
    const ceiling = Math.min(o.maxMs, o.initialMs * 2 ** attempt);
    const samples = Array.from({ length: 200 }, () => backoffDelay(attempt, undefined, o, random));
    assert.ok(samples.every((d) => d >= 0 && d < ceiling), `attempt ${attempt}`);
    // Not all the same: cameras that failed together do not retry together.
    assert.ok(Math.max(...samples) - Math.min(...samples) > ceiling / 2, `attempt ${attempt} spread`);
  }
});

test('decorrelated jitter grows from the previous delay and respects the cap', () => {
  const o = { ...base, jitter: 'decorrelated' as const };
  const random = seededRandom(99);
  let previous: number | undefined;
  const delays: number[] = [];
  for (let attempt = 0; attempt < 40; attempt++) {
    const d = backoffDelay(attempt, previous, o, random);
    const upper = Math.min(o.maxMs, 3 * (previous ?? o.initialMs));
    assert.ok(d >= o.initialMs && d <= upper, `attempt ${attempt}: ${d} outside [${o.initialMs}, ${upper}]`);
    delays.push(d);
    previous = d;
  }
  assert.ok(Math.max(...delays) > 2500, 'reaches well past the start');
});

test('the same seed gives the same delays', () => {
  const o = { ...DEFAULT_BACKOFF };
  const run = () => {
    const r = seededRandom(5);
    return Array.from({ length: 8 }, (_, i) => backoffDelay(i, undefined, o, r));
  };
  assert.deepEqual(run(), run());
});
