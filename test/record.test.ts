// `msta-edge record` from a real RTSP server (gst-rtsp-server, with a password): H.264 mp4 clips
// of the asked length and a labels.json in the training side's format, appended across runs; bad
// input and an unreachable camera fail with clear messages that never show the password.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCliProcess } from './support/cli.js';
import { RtspServer } from './support/rtsp-server.js';
import { tempDir } from './support/temp-dir.js';

const PASSWORD = 'rec-Secr3t!';
let server: RtspServer;

before(async () => {
  server = await RtspServer.start({ user: 'viewer', password: PASSWORD, fps: 25 });
});
after(() => server.stop());

function probe(file: string): { codec: string; pixFmt: string; frames: number } {
  const out = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-count_frames', '-show_entries', 'stream=codec_name,pix_fmt,nb_read_frames', '-of', 'json', file], { encoding: 'utf8' });
  const s = JSON.parse(out).streams[0];
  return { codec: s.codec_name, pixFmt: s.pix_fmt, frames: Number(s.nb_read_frames) };
}

test('records N clips of S seconds with their label, and a second label into the same folder', { timeout: 120_000 }, async () => {
  const out = tempDir('msta-record-');
  const first = await runCliProcess(['record', '--url', server.url(), '--seconds', '1.2', '--count', '2', '--label', 'a person waving', '--out', out], { timeoutMs: 90_000 });
  assert.equal(first.code, 0, first.stderr);
  const second = await runCliProcess(['record', '--url', server.url(), '--seconds', '0.8', '--label', 'a person bending to tie shoes', '--out', out], { timeoutMs: 90_000 });
  assert.equal(second.code, 0, second.stderr);
  const index = JSON.parse(readFileSync(join(out, 'labels.json'), 'utf8')) as { file: string; label: string }[];
  assert.deepEqual(index.map((e) => e.label), ['a person waving', 'a person waving', 'a person bending to tie shoes']);
  assert.equal(new Set(index.map((e) => e.file)).size, 3);
  assert.deepEqual(index.map((e) => probe(join(out, e.file))), [
    { codec: 'h264', pixFmt: 'yuv420p', frames: 30 },
    { codec: 'h264', pixFmt: 'yuv420p', frames: 30 },
    { codec: 'h264', pixFmt: 'yuv420p', frames: 20 },
  ]);
  for (const text of [first.stdout, first.stderr, second.stdout, second.stderr]) assert.ok(!text.includes(PASSWORD), text);
  assert.match(first.stderr, /viewer:\*\*\*@/);
});

test('usage errors exit 2 naming the flag; an unreachable camera exits 1 without the password', { timeout: 60_000 }, async () => {
  const out = tempDir('msta-record-');
  const noLabel = await runCliProcess(['record', '--url', server.url(), '--seconds', '1', '--out', out]);
  assert.equal(noLabel.code, 2);
  assert.match(noLabel.stderr, /--label "\.\.\." is required/);
  const badSeconds = await runCliProcess(['record', '--url', server.url(), '--seconds', '0', '--label', 'x', '--out', out]);
  assert.equal(badSeconds.code, 2);
  assert.match(badSeconds.stderr, /--seconds must be a positive number, got "0"/);
  const both = await runCliProcess(['record', '--seconds', '1', '--label', 'x', '--out', out]);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /give --url URL, or --camera ID with --config FILE/);
  const gone = `rtsp://viewer:${encodeURIComponent(PASSWORD)}@127.0.0.1:9/none`;
  const failed = await runCliProcess(['record', '--url', gone, '--seconds', '1', '--label', 'x', '--out', out, '--timeout', '10'], { timeoutMs: 30_000 });
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /SOURCE_FAILED/);
  assert.ok(!failed.stderr.includes(PASSWORD) && !failed.stderr.includes(encodeURIComponent(PASSWORD)), failed.stderr);
});
