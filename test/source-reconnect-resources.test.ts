// Reconnects leave nothing behind in the parent: no connection kept reachable after it ended, no
// handle, timer, listener or child process that accumulates per reconnect. The figures over
// thousands of reconnects are bench/reconnect-soak.ts's; this bounds the mechanisms.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Observable } from 'rxjs';
import { Registry } from 'prom-client';
import { MstaError } from '../src/errors.js';
import { cameraSource } from '../src/source/camera-source.js';
import { sourceChildCount, type ChildEvent } from '../src/source/child-process.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const quiet = () => undefined;

/** Live handles and requests by type (process.getActiveResourcesInfo()), e.g. {Timeout: 1, PipeWrap: 3}. */
function resources(): Record<string, number> {
  const tally: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) tally[r] = (tally[r] ?? 0) + 1;
  return tally;
}
const processListeners = () => process.eventNames().reduce((n, e) => n + process.listenerCount(e), 0);

async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('every ended connection becomes garbage: after 300 reconnects, at most the live one is reachable', async () => {
  const finalized = { count: 0 };
  const registry = new FinalizationRegistry<undefined>(() => finalized.count++);
  let connections = 0;
  let live = 0;
  // A connection that spawns, streams one frame and fails, as a crashing child does; each one's
  // subscriber and frame are registered, so a reference kept anywhere keeps them from being collected.
  const connect = () =>
    new Observable<ChildEvent>((subscriber) => {
      connections++;
      live++;
      const data = new Uint8Array(4 * 2 * 3);
      registry.register(subscriber, undefined);
      registry.register(data, undefined);
      subscriber.next({ type: 'spawned', pid: 1000 + connections });
      subscriber.next({ type: 'started', pipeline: 'fake' });
      subscriber.next({ type: 'frame', stream: 0, seq: 0, capturedAt: Date.now(), width: 4, height: 2, data });
      const t = setTimeout(() => subscriber.error(new MstaError('SOURCE_FAILED', 'child crashed')), 0);
      return () => {
        live--;
        clearTimeout(t);
      };
    });
  const source = cameraSource(
    { camera: 'soak', url: 'test://ball', width: 4, height: 2, backoff: { initialMs: 1, maxMs: 1 } },
    { registry: new Registry(), connect, log: { debug: quiet, info: quiet, warn: quiet } },
  );
  const before = resources();
  const listenersBefore = processListeners();
  let maxLive = 0;
  await new Promise<void>((done) => {
    const sub = source.frames.subscribe(() => {
      maxLive = Math.max(maxLive, live);
      if (source.counts().reconnects >= 300) {
        sub.unsubscribe();
        done();
      }
    });
  });
  assert.equal(maxLive, 1, 'one connection at a time');
  assert.equal(live, 0, 'the last connection was torn down at unsubscribe');
  // Finalizers run on a later task after a GC: a few rounds.
  for (let i = 0; i < 20 && finalized.count < 2 * connections; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(finalized.count, 2 * connections, `${connections} connections: subscriber and frame of each collected (${finalized.count} of ${2 * connections})`);
  await until(() => JSON.stringify(resources()) === JSON.stringify(before), 5000, `handles and timers back to ${JSON.stringify(before)}, now ${JSON.stringify(resources())}`);
  assert.equal(processListeners(), listenersBefore, 'no process listener added per connection');
});

test('real source children: handles, listeners and children do not accumulate over reconnects, and none is left after stop', async () => {
  await until(() => sourceChildCount() === 0, 10_000, 'no source child from an earlier test');
  const before = resources();
  const listenersBefore = processListeners();
  let pending: number | undefined; // the child to kill at its first frame, as a crashing pipeline dies
  const source = cameraSource(
    { camera: 'soak', url: 'test://ball', width: 32, height: 24, stopTimeoutMs: 2000, backoff: { initialMs: 1, maxMs: 5 } },
    { registry: new Registry(), log: { debug: (o, msg) => msg === 'source child started' && (pending = (o as { pid: number }).pid), info: quiet, warn: quiet } },
  );
  // Taken at each connection's first frame, when one child is up and streaming.
  const at = new Map<number, { resources: Record<string, number>; listeners: number; children: number }>();
  await new Promise<void>((done) => {
    const sub = source.frames.subscribe(() => {
      if (pending === undefined) return;
      process.kill(pending, 'SIGKILL');
      pending = undefined;
      const n = source.counts().reconnects;
      at.set(n, { resources: resources(), listeners: processListeners(), children: sourceChildCount() });
      if (n >= 10) {
        sub.unsubscribe();
        done();
      }
    });
  });
  const early = at.get(2)!;
  const late = at.get(10)!;
  assert.equal(late.children, 1, 'one child alive while streaming');
  assert.equal(early.children, 1);
  assert.deepEqual(late.resources, early.resources, 'the same handles and timers at reconnect 10 as at reconnect 2');
  assert.equal(late.listeners, early.listeners, 'no process listener added per reconnect');
  await until(() => sourceChildCount() === 0, 10_000, 'every source child gone after stop');
  await until(() => JSON.stringify(resources()) === JSON.stringify(before), 5000, `handles back to ${JSON.stringify(before)}, now ${JSON.stringify(resources())}`);
  assert.equal(processListeners(), listenersBefore);
});
