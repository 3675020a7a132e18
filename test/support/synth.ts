// Fresh synthetic action videos from training/'s synth (Debian's python3 sees its packages).
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './temp-dir.js';

/** A new seed each run unless MSTA_TEST_SEED replays one; tests print it. */
export const SEED = Number(process.env.MSTA_TEST_SEED ?? 1000 + Math.floor(Math.random() * 1e6));

function synth(args: string[]): void {
  const r = spawnSync('/usr/bin/python3', ['-m', 'msta', 'synth', ...args, '--seed', String(SEED)], { cwd: 'training', encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python3 -m msta synth ${args.join(' ')} failed:\n${r.stderr}`);
}

export interface DemoVideo {
  path: string;
  seconds: number;
  timeline: { label: string; start_s: number; end_s: number }[];
}

/** Several actions in sequence, separated by idle stretches, with its timeline. */
export function synthDemo(): DemoVideo {
  const dir = tempDir('msta-demo-');
  const path = join(dir, 'demo.mp4');
  synth(['--demo', '--out', path]);
  const meta = JSON.parse(readFileSync(join(dir, 'demo.json'), 'utf8')) as Omit<DemoVideo, 'path'>;
  return { path, seconds: meta.seconds, timeline: meta.timeline };
}

/** One clip per action (and idle) of `seconds`, as absolute paths with their labels. */
export function synthClips(seconds: number): { file: string; label: string }[] {
  const dir = tempDir('msta-clips-');
  synth(['--out', dir, '--per-class', '1', '--seconds', String(seconds)]);
  const clips = JSON.parse(readFileSync(join(dir, 'labels.json'), 'utf8')) as { file: string; label: string }[];
  return clips.map((c) => ({ file: join(dir, c.file), label: c.label }));
}

/**
 * One video per label: a clip of `seconds` rendered, then played `repeats` times over (ffmpeg,
 * stream copy): a camera that keeps showing the action. Only actions that look alike at every
 * moment (blinking, idle) stay true to their label when looped.
 */
export function synthLoopedVideos(labels: string[], seconds: number, repeats: number): Map<string, string> {
  const dir = tempDir('msta-looped-');
  writeFileSync(join(dir, 'labels.txt'), `${labels.join('\n')}\n`);
  synth(['--out', dir, '--per-class', '1', '--seconds', String(seconds), '--labels', join(dir, 'labels.txt')]);
  const clips = JSON.parse(readFileSync(join(dir, 'labels.json'), 'utf8')) as { file: string; label: string }[];
  const videos = new Map<string, string>();
  for (const c of clips) {
    const out = join(dir, `looped-${c.file}`);
    loopVideo(join(dir, c.file), repeats, out);
    videos.set(c.label, out);
  }
  return videos;
}

/** `input` played `repeats` times over into `out` (ffmpeg, stream copy: no re-encoding). */
export function loopVideo(input: string, repeats: number, out: string): void {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-y', '-stream_loop', String(repeats - 1), '-i', input, '-c', 'copy', out], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ffmpeg could not loop ${input}:\n${r.stderr}`);
}
