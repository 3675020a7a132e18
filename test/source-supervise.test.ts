// Connection lifecycle in virtual time: the child is faked by cold observables here; the real
// child is exercised in source-child.test.ts and source-rtsp.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestScheduler } from 'rxjs/testing';
import type { Observable } from 'rxjs';
import { MstaError } from '../src/errors.js';
import type { ChildEvent } from '../src/source/child-process.js';
import { supervise, type SourceEvent, type SuperviseOptions } from '../src/source/supervise.js';

const W = 4;
const H = 2;
const opts: SuperviseOptions = {
  camera: 'cam1',
  width: W,
  height: H,
  stallTimeoutMs: 50,
  backoff: { initialMs: 100, maxMs: 1000, factor: 2, jitter: 'none' },
  endIsFailure: true,
  retry: 'all',
};

const frame = (seq: number, width = W, height = H, stream = 0): ChildEvent => ({ type: 'frame', stream, seq, capturedAt: 1000 + seq, width, height, data: new Uint8Array(width * height * 3) });
const values: Record<string, ChildEvent> = {
  s: { type: 'spawned', pid: 42 },
  p: { type: 'started', pipeline: 'videotestsrc ! appsink' },
  a: frame(0),
  b: frame(1),
  c: frame(2),
  e: frame(4), // 3 was dropped in the child
  w: frame(5, 8, 8),
  // Stream 1 (a region), counting its own frames.
  A: frame(0, W, H, 1),
  B: frame(1, W, H, 1),
  D: frame(3, W, H, 1),
  X: frame(0, W, H, 7),
  j: { type: 'jpeg', seq: 1, capturedAt: 1234, width: 64, height: 48, data: Buffer.from([0xff, 0xd8, 0xff, 0xd9]) },
};

function describe(e: SourceEvent): string {
  switch (e.type) {
    case 'frame':
      return `frame ${e.frame.region === null ? '' : `${e.frame.region} `}${e.frame.seq}`;
    case 'status':
      return `${e.status.state} r${e.status.reconnects}${e.status.reason ? ` (${e.status.reason})` : ''}`;
    case 'dropped':
      return `dropped ${e.count} ${e.reason}`;
    case 'retry':
      return `retry in ${e.delayMs}`;
    case 'child':
      return `child ${e.pid}`;
    case 'pipeline':
      return 'pipeline';
    case 'snapshot':
      return `snapshot ${e.snapshot.camera} ${e.snapshot.width}x${e.snapshot.height} at ${e.snapshot.capturedAt} (${e.snapshot.jpeg.length} bytes)`;
  }
}

/** Runs `supervise` over connections given as marbles; returns "time: event" lines and the connections' subscription logs. */
function run(marbles: string[], o: SuperviseOptions = opts, until = 2000) {
  const log: string[] = [];
  const subs: string[][] = [];
  const scheduler = new TestScheduler((a, b) => assert.deepEqual(a, b));
  scheduler.run(({ cold, flush }) => {
    const made: Array<ReturnType<typeof cold<ChildEvent>>> = [];
    let calls = 0;
    const connect = (): Observable<ChildEvent> => {
      const m = marbles[Math.min(calls++, marbles.length - 1)]!;
      const c = cold<ChildEvent>(m, values, new MstaError(m.includes('#u') ? 'SOURCE_UNSUPPORTED' : 'SOURCE_FAILED', 'server said no'));
      made.push(c);
      return c;
    };
    const sub = supervise(connect, o, scheduler).subscribe({
      next: (e) => log.push(`${scheduler.now()}: ${describe(e)}`),
      error: (e: MstaError) => log.push(`${scheduler.now()}: error ${e.code}`),
      complete: () => log.push(`${scheduler.now()}: complete`),
    });
    scheduler.schedule(() => sub.unsubscribe(), until);
    flush();
    for (const c of made) subs.push(c.subscriptions.map((s) => `${s.subscribedFrame}-${s.unsubscribedFrame}`));
  });
  return { log, subs };
}

test('a stalled stream is dropped at the watchdog time and reconnected after the backoff', () => {
  const { log, subs } = run(['sp 9ms a 9ms b 9ms c', '10ms a 9ms b']);
  assert.deepEqual(log.slice(0, 13), [
    '0: connecting r0',
    '0: child 42',
    '1: pipeline',
    '11: streaming r0',
    '11: frame 0',
    '21: frame 1',
    '31: frame 2',
    '81: stalled r0 (no frame for 0.05 s)',
    '81: retry in 100',
    '181: connecting r1',
    '191: streaming r1',
    '191: frame 3',
    '201: frame 4',
  ]);
  // The first child was let go exactly when the watchdog fired; the second lives on.
  assert.deepEqual(subs[0], ['0-81']);
  assert.deepEqual(subs[1]![0], '181-251');
});

test('a server that keeps refusing is retried with growing delays, reset by a success', () => {
  const { log } = run(['5ms #', '5ms #', '5ms #', 'a 9ms b 9ms #', '5ms #'], opts, 1000);
  const retries = log.filter((l) => l.includes('retry'));
  assert.deepEqual(retries, ['5: retry in 100', '110: retry in 200', '315: retry in 400', '735: retry in 100', '840: retry in 200']);
  assert.ok(log.includes('5: offline r0 (server said no)'));
  assert.ok(log.includes('715: connecting r3'));
  assert.ok(log.includes('715: streaming r3'));
  assert.ok(log.includes('735: offline r3 (server said no)'), 'a failure after frames is offline, not stalled');
});

test('no first frame within the watchdog time: offline, then retry', () => {
  const { log, subs } = run(['s'], opts, 200);
  assert.deepEqual(log.slice(0, 4), ['0: connecting r0', '0: child 42', '50: offline r0 (no first frame for 0.05 s)', '50: retry in 100']);
  assert.deepEqual(subs[0], ['0-50']);
});

test('a live stream that ends is reconnected; a file that ends completes', () => {
  const live = run(['a|', 'a'], opts, 300);
  assert.deepEqual(live.log, [
    '0: connecting r0', '0: streaming r0', '0: frame 0',
    '1: offline r0 (the stream ended)', '1: retry in 100',
    '101: connecting r1', '101: streaming r1', '101: frame 1',
    '151: stalled r1 (no frame for 0.05 s)', '151: retry in 100',
    '251: connecting r2', '251: streaming r2', '251: frame 2',
  ]);
  const file = run(['a 9ms b|'], { ...opts, endIsFailure: false, retry: 'stalls' });
  assert.deepEqual(file.log, ['0: connecting r0', '0: streaming r0', '0: frame 0', '10: frame 1', '11: offline r0 (end of stream)', '11: complete']);
});

test('an unbuildable pipeline, or any failure where retry is off, is final', () => {
  const unsupported = run(['p 4ms #u']);
  assert.deepEqual(unsupported.log, ['0: connecting r0', '0: pipeline', '5: offline r0 (server said no)', '5: error SOURCE_UNSUPPORTED']);
  assert.equal(unsupported.subs.length, 1);
  const noRetry = run(['a 4ms #'], { ...opts, retry: 'none' });
  assert.deepEqual(noRetry.log.slice(-2), ['5: offline r0 (server said no)', '5: error SOURCE_FAILED']);
  const offlineStall = run(['s'], { ...opts, retry: 'none' });
  assert.deepEqual(offlineStall.log.slice(-2), ['50: offline r0 (no first frame for 0.05 s)', '50: error SOURCE_STALLED']);
});

test("a file (retry: 'stalls'): a late first frame is retried, a failure of the file itself is final", () => {
  // A loaded host can start a file's pipeline later than the watchdog allows: that is no reason
  // to give the camera up for good.
  const late = run(['s', '10ms a'], { ...opts, endIsFailure: false, retry: 'stalls' }, 300);
  assert.deepEqual(late.log, [
    '0: connecting r0', '0: child 42',
    '50: offline r0 (no first frame for 0.05 s)', '50: retry in 100',
    '150: connecting r1', '160: streaming r1', '160: frame 0',
    '210: stalled r1 (no frame for 0.05 s)', '210: retry in 100',
  ]);
  const broken = run(['a 4ms #'], { ...opts, endIsFailure: false, retry: 'stalls' });
  assert.deepEqual(broken.log.slice(-2), ['5: offline r0 (server said no)', '5: error SOURCE_FAILED']);
});

test('gaps in the child sequence count as drops; wrong-size frames are dropped', () => {
  const { log } = run(['abcew'], opts, 20);
  assert.deepEqual(log.slice(2), ['0: frame 0', '1: frame 1', '2: frame 2', '3: dropped 1 overflow', '3: frame 4', '4: dropped 1 size_mismatch']);
});

test('a JPEG is a snapshot of the camera: passed on, neither a frame nor a sign of streaming nor of life for the watchdog', () => {
  const { log } = run(['s j 9ms a 9ms j 38ms j 40ms j', '10ms a'], opts, 200);
  assert.deepEqual(log.slice(0, 9), [
    '0: connecting r0',
    '0: child 42',
    '1: snapshot cam1 64x48 at 1234 (4 bytes)',
    '11: streaming r0',
    '11: frame 0',
    '21: snapshot cam1 64x48 at 1234 (4 bytes)',
    '60: snapshot cam1 64x48 at 1234 (4 bytes)',
    // JPEGs alone do not keep a stream alive: 50 ms after the last frame it is stalled.
    '61: stalled r0 (no frame for 0.05 s)',
    '61: retry in 100',
  ]);
});

test('each stream is its own region, numbered on its own across reconnects: a gap in one is a drop, the other streams go on', () => {
  const o = { ...opts, regions: [null, 'door'] };
  const { log } = run(['aAbBD#', 'AaB'], o, 150);
  assert.deepEqual(log.filter((l) => /frame|dropped|error/.test(l)), [
    '0: frame 0', '1: frame door 0', '2: frame 1', '3: frame door 1', '4: dropped 1 overflow', '4: frame door 3',
    // Failed at 5, reconnected after the 100 ms backoff: both streams continue from their own count.
    '105: frame door 4', '106: frame 2', '107: frame door 5',
  ]);
  // A stream the request never asked for means a corrupt stream: the connection fails.
  assert.ok(run(['X'], o, 20).log.some((l) => /offline r0 \(corrupt frame stream from the source child: stream 7 of 2\)/.test(l)));
});
