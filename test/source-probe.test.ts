// `msta-edge source-probe` as a real CLI process against a real RTSP server, through the server
// being killed, restarted and frozen; the URL's password never printed.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { RtspServer } from './support/rtsp-server.js';

const PASSWORD = 'Sup3r:secret@cam';
const CLIP = resolve('../shared/media/cleaning_pool.mp4'); // 32 frames
let server: RtspServer;

before(async () => {
  server = await RtspServer.start({ user: 'viewer', password: PASSWORD, fps: 15 });
});
after(() => server.stop());

interface Probe {
  proc: ChildProcess;
  lines: string[];
  stderr: () => string;
  exit: Promise<number | null>;
  frameCount: () => number;
}

function probe(args: string[]): Probe {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/daemon/main.ts', 'source-probe', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let partial = '';
  let stderr = '';
  proc.stdout!.on('data', (d: Buffer) => {
    const parts = (partial + d.toString()).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
  });
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<number | null>((resolve) => proc.on('close', (code) => resolve(code)));
  return { proc, lines, stderr: () => stderr, exit, frameCount: () => lines.filter((l) => l.includes('"seq"')).length };
}

async function until(what: string, done: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('frames through a kill, a restart and a freeze of the server, then a summary and exit 0', async () => {
  const p = probe(['--url', server.url('test'), '--frames', '90', '--size', '64x48', '--stall', '1.5', '--timeout', '90']);
  try {
    await until('first frames', () => p.frameCount() >= 15);
    await server.kill();
    await new Promise((r) => setTimeout(r, 700));
    await server.restart();
    const afterRestart = p.frameCount();
    await until('frames after the restart', () => p.frameCount() >= afterRestart + 15);
    server.freeze();
    await until('the stall reported', () => /stalled/.test(p.stderr()), 8000);
    server.thaw();
  } finally {
    server.thaw();
  }
  assert.equal(await p.exit, 0, p.stderr());
  const frames = p.lines.slice(0, -1).map((l) => JSON.parse(l) as { seq: number; time: string; width: number; height: number });
  const summary = JSON.parse(p.lines.at(-1)!) as { frames: number; fps: number; drops: number; reconnects: number };
  assert.equal(frames.length, 90);
  for (const f of frames) {
    assert.deepEqual(Object.keys(f), ['seq', 'time', 'width', 'height']);
    assert.equal(f.width, 64);
    assert.equal(f.height, 48);
    assert.match(f.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  }
  assert.ok(frames.every((f, i) => i === 0 || (f.seq > frames[i - 1]!.seq && f.time >= frames[i - 1]!.time)));
  assert.equal(summary.frames, 90);
  assert.ok(summary.reconnects >= 2, `reconnects ${summary.reconnects}: one after the kill, one after the stall`);
  assert.ok(summary.fps > 0);
  assert.ok(Number.isInteger(summary.drops));
  const everything = p.lines.join('\n') + p.stderr();
  assert.ok(!everything.includes(PASSWORD) && !everything.includes(encodeURIComponent(PASSWORD)), 'password printed');
  assert.match(p.stderr(), /viewer:\*\*\*@127\.0\.0\.1/, 'the redacted URL is shown');
});

test('a bad URL or bad options: a clear error, exit 2, no password', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['--url', 'ftp://u:hunter2@host/x'], /unsupported scheme "ftp".*u:\*\*\*@host/],
    [['--url', 'test://nope'], /unknown test pattern "nope"/],
    [['--url', 'test://ball', '--size', '64by48'], /--size must be WIDTHxHEIGHT/],
    [['--url', 'test://ball', '--frames', '0'], /--frames must be a positive integer/],
    [['--frames', '3'], /--url URL is required/],
  ];
  for (const [args, why] of cases) {
    const p = probe(args);
    assert.equal(await p.exit, 2, args.join(' '));
    assert.match(p.stderr(), why);
    assert.ok(!p.stderr().includes('hunter2'));
  }
});

test('exits 0 after N frames', async () => {
  const p = probe(['--url', 'test://ball', '--frames', '3', '--size', '8x8']);
  assert.equal(await p.exit, 0, p.stderr());
  assert.equal(p.frameCount(), 3);
  assert.equal((JSON.parse(p.lines.at(-1)!) as { frames: number }).frames, 3);
});

test('a file shorter than N frames: all its frames, then exit 0', { skip: existsSync(CLIP) ? false : `needs ${CLIP}` }, async () => {
  const p = probe(['--url', CLIP, '--frames', '1000', '--size', '32x32']);
  assert.equal(await p.exit, 0, p.stderr());
  const summary = JSON.parse(p.lines.at(-1)!) as { frames: number; drops: number };
  assert.ok(summary.frames > 20 && summary.frames <= 32, `${summary.frames} frames`);
  assert.equal(p.frameCount(), summary.frames);
});

test('--offline: every frame of a file, decoded as fast as it goes, stamped with media time', { skip: existsSync(CLIP) ? false : `needs ${CLIP}` }, async () => {
  const started = Date.now();
  const p = probe(['--url', CLIP, '--frames', '1000', '--size', '32x32', '--offline']);
  assert.equal(await p.exit, 0, p.stderr());
  const summary = JSON.parse(p.lines.at(-1)!) as { frames: number; fps: number; drops: number };
  assert.equal(summary.frames, 32, 'every frame, none dropped');
  assert.equal(summary.drops, 0);
  // The file's own rate from the capture times, whatever the decoding speed.
  assert.ok(Math.abs(summary.fps - 30) < 0.5, `fps ${summary.fps} from media time (wall ${Date.now() - started} ms)`);
});

test('no frames before --timeout: the summary, then exit 1', async () => {
  const p = probe(['--url', 'rtsp://127.0.0.1:9/none', '--frames', '5', '--timeout', '2']);
  assert.equal(await p.exit, 1);
  assert.deepEqual(JSON.parse(p.lines.at(-1)!).frames, 0);
  assert.match(p.stderr(), /timed out after 2 s with 0 of 5 frames/);
});
