// The source child through real GStreamer: one process per connection, frames of the requested
// size in RGB, gone after stop (killed when it does not stop), clear errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { lastValueFrom, filter, take, toArray, type Observable, type Subscription } from 'rxjs';
import { isMstaError } from '../src/errors.js';
import type { ChildRequest } from '../src/source/child-protocol.js';
import { childCommand, reapSourceChildren, runSourceChild, sourceChildCount, type ChildEvent, type ChildFrame } from '../src/source/child-process.js';
import { isAlive, waitGone } from './support/process-gone.js';
import { tempDir } from './support/temp-dir.js';

const MEDIA = resolve('../shared/media');
const base: Omit<ChildRequest, 'url'> = { width: 64, height: 48, transport: 'tcp', latencyMs: 200, decoder: 'auto', realtime: true, loop: false };
const child = (url: string, extra: Partial<ChildRequest> = {}, stopTimeoutMs = 2000) => runSourceChild({ ...base, url, ...extra }, { stopTimeoutMs });
const framesOf = (events: Observable<ChildEvent>) => events.pipe(filter((e): e is ChildFrame => e.type === 'frame'));

/** Subscribes, waits for `n` frames, unsubscribes; returns them with the child's pid. */
async function collect(events: Observable<ChildEvent>, n: number): Promise<{ pid: number; frames: ChildFrame[] }> {
  let pid = 0;
  const frames = await lastValueFrom(
    events.pipe(
      filter((e): e is ChildFrame => {
        if (e.type === 'spawned') pid = e.pid;
        return e.type === 'frame';
      }),
      take(n),
      toArray(),
    ),
  );
  return { pid, frames };
}

test('a test pattern arrives at the requested size, numbered, with capture times', async () => {
  const { pid, frames } = await collect(child('test://ball', { width: 96, height: 64 }), 10);
  assert.ok(pid > 0);
  assert.deepEqual(frames.map((f) => f.seq), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  for (const f of frames) {
    assert.equal(f.width, 96);
    assert.equal(f.height, 64);
    assert.equal(f.data.length, 96 * 64 * 3);
  }
  const times = frames.map((f) => f.capturedAt);
  assert.ok(times.every((t, i) => i === 0 || t >= times[i - 1]!), 'capture times never go back');
  assert.ok(Math.abs(times[0]! - Date.now()) < 10_000, 'capture times are wall-clock epoch ms');
  assert.ok(await waitGone(pid, 3000), 'the child is gone after stop');
});

test('pixels are RGB in that order', async () => {
  for (const [pattern, channel] of [['red', 0], ['green', 1], ['blue', 2]] as const) {
    const [frame] = (await collect(child(`test://${pattern}`, { width: 8, height: 8 }), 1)).frames;
    const px = Array.from(frame!.data.subarray(0, 3));
    px.forEach((v, i) => assert.ok(i === channel ? v > 200 : v < 60, `${pattern}: pixel ${px.join(',')}`));
  }
});

test('the picture is centre-cropped to the target aspect ratio, not squashed', async () => {
  // SMPTE bars at 640x480: gray, yellow, cyan, green, magenta, red, blue, each 1/7 wide. A 1:3
  // target keeps the middle 160 columns: cyan on the left edge, green at the centre, magenta right.
  const [frame] = (await collect(child('test://smpte', { width: 16, height: 48 }), 1)).frames;
  const px = (x: number) => Array.from(frame!.data.subarray(x * 3, x * 3 + 3));
  const lit = (rgb: number[]) => rgb.map((v) => (v > 150 ? 1 : v < 60 ? 0 : NaN)).join('');
  assert.equal(lit(px(0)), '011', `left edge cyan, got ${px(0).join(',')}`);
  assert.equal(lit(px(8)), '010', `centre green, got ${px(8).join(',')}`);
  assert.equal(lit(px(15)), '101', `right edge magenta, got ${px(15).join(',')}`);
});

test('a child stopped before its pipeline starts is gone too', async () => {
  let pid = 0;
  const sub = child('test://ball').subscribe((e) => {
    if (e.type === 'spawned') pid = e.pid;
  });
  sub.unsubscribe(); // before the child has even read its request
  assert.ok(pid > 0);
  assert.ok(await waitGone(pid, 3000));
});

test('a child that does not stop when told is killed', async () => {
  let pid = 0;
  let sub: Subscription | undefined;
  await new Promise<void>((streaming) => {
    sub = child('test://ball', {}, 500).subscribe((e) => {
      if (e.type === 'spawned') pid = e.pid;
      if (e.type === 'frame') streaming();
    });
  });
  process.kill(pid, 'SIGSTOP'); // it can neither read "stop" nor exit by itself now
  sub!.unsubscribe();
  assert.ok(isAlive(pid), 'still there right after the stop request');
  assert.ok(await waitGone(pid, 3000), 'killed after the stop timeout');
});

test('reaping: waits for every child, SIGKILLs one still alive after the bound, and resolves once it is gone', async () => {
  // Children of earlier tests may still be on their way out: start from none.
  await reapSourceChildren(5000);
  const pids: number[] = [];
  const subs: Subscription[] = [];
  for (let i = 0; i < 2; i++) {
    await new Promise<void>((streaming) => {
      subs.push(child('test://ball', {}, 60_000).subscribe((e) => {
        if (e.type === 'spawned') pids.push(e.pid);
        if (e.type === 'frame') streaming();
      }));
    });
  }
  try {
    assert.equal(sourceChildCount(), 2);
    process.kill(pids[0]!, 'SIGSTOP'); // cannot stop by itself; its own kill timer is a minute away
    for (const s of subs) s.unsubscribe();
    const started = Date.now();
    assert.equal(await reapSourceChildren(1000), 1, 'one child killed');
    assert.ok(Date.now() - started < 3000);
    assert.equal(sourceChildCount(), 0);
    for (const pid of pids) assert.ok(!isAlive(pid), `child ${pid} gone when the reaping resolves`);
  } finally {
    // A failed assertion must not leave children (with a minute-long kill timer) holding the file open.
    for (const s of subs) s.unsubscribe();
    await reapSourceChildren(1000);
  }
});

test('a decoder element that is not installed is refused as unsupported, naming it', async () => {
  await assert.rejects(
    lastValueFrom(child('rtsp://127.0.0.1:9/x', { decoder: 'nosuchdec' })),
    (e: unknown) => isMstaError(e, 'SOURCE_UNSUPPORTED') && /nosuchdec/.test(e.message),
  );
});

test('a missing file fails with a GStreamer reason', async () => {
  await assert.rejects(lastValueFrom(child('/nonexistent/clip.mp4')), (e: unknown) => isMstaError(e, 'SOURCE_FAILED') && /not found|No such file/i.test(e.message));
});

test('a missing V4L2 device fails with GStreamer\'s own error (the pipeline never leaves NULL)', async () => {
  await assert.rejects(lastValueFrom(child('v4l2:///dev/video99')), (e: unknown) => isMstaError(e, 'SOURCE_FAILED') && /Cannot identify device '\/dev\/video99'/.test(e.message));
});

test('files: odd names, loop, end of stream', { skip: existsSync(MEDIA) ? false : 'needs ../shared/media (real clips)' }, async () => {
  const dir = tempDir('msta-src-');
  try {
    const odd = join(dir, 'a "quoted" clip! .mp4');
    copyFileSync(join(MEDIA, 'cleaning_pool.mp4'), odd); // 32 frames
    const once = await lastValueFrom(framesOf(child(odd, { realtime: false })).pipe(toArray()));
    assert.equal(once.length, 32, 'the stream completes at the end of the file');
    const looped = await collect(child(`file://${encodeURI(odd).replace(/#/g, '%23')}`, { loop: true }), 45); // paced, as in the demo
    assert.equal(looped.frames.length, 45, 'a looping file goes on past its end');
    assert.ok(await waitGone(looped.pid, 3000));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a parent that dies leaves no child behind', async () => {
  const host = spawn(process.execPath, ['--import', 'tsx', 'test/support/source-host.ts', 'test://ball'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  await new Promise<void>((streaming) =>
    host.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('frame')) streaming();
    }),
  );
  const pid = Number(/child (\d+)/.exec(out)?.[1]);
  assert.ok(isAlive(pid));
  host.kill('SIGKILL'); // no chance to stop its child: the child sees its stdin close
  assert.ok(await waitGone(pid, 5000), 'the orphaned child exits by itself');
});

test('the child runs from the TypeScript sources through tsx, or compiled from dist/', () => {
  const dev = childCommand('file:///app/src/source/child-process.ts');
  assert.equal(dev.command, process.execPath);
  assert.equal(dev.args[0], '--import');
  assert.match(dev.args[1]!, /tsx/);
  assert.equal(dev.args[2], '/app/src/source/child.ts');
  assert.deepEqual(childCommand('file:///opt/msta/dist/source/child-process.js').args, ['/opt/msta/dist/source/child.js']);
});

test("a source child's environment holds no daemon secret, only what GStreamer and the loader need", async () => {
  process.env.MQTT_PASSWORD = 'mqtt-Secret-in-env-42';
  process.env.MSTA_CONSOLE_TOKEN = 'console-token-in-env-42';
  try {
    let environ = '';
    await lastValueFrom(
      child('test://ball').pipe(
        filter((e) => {
          if (e.type === 'spawned') environ = readFileSync(`/proc/${e.pid}/environ`, 'utf8');
          return e.type === 'frame';
        }),
        take(1),
      ),
    );
    const names = environ.split('\0').filter(Boolean).map((kv) => kv.split('=')[0]);
    assert.ok(names.includes('PATH'), `PATH is passed: ${names.join(' ')}`);
    assert.ok(!environ.includes('mqtt-Secret-in-env-42') && !environ.includes('console-token-in-env-42'), `no secret reaches the child: ${names.join(' ')}`);
  } finally {
    delete process.env.MQTT_PASSWORD;
    delete process.env.MSTA_CONSOLE_TOKEN;
  }
});
