// `msta-edge record`: labelled example clips for teach-by-example (docs/teach.md). Each clip is an
// H.264 mp4; DIR/labels.json ([{file, label}], the training side's format) gains one entry per clip,
// so several labels (negatives too) can be recorded into one folder.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfigFile } from '../../config/load-config.js';
import { MstaError } from '../../errors.js';
import { redactUrl } from '../../redact.js';
import type { Transport } from '../../source/pipeline-description.js';
import { recordClip } from '../../source/record-clip.js';
import { parseCommandArgs, type Command, type OptionTable } from './command.js';

const NAME = 'record';

function usageError(message: string): MstaError {
  return new MstaError('CLI_USAGE', message, { where: NAME });
}

function positive(value: string | undefined, fallback: number | undefined, flag: string, integer: boolean): number {
  if (value === undefined) {
    if (fallback === undefined) throw usageError(`${flag} is required`);
    return fallback;
  }
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw usageError(`${flag} must be a positive ${integer ? 'integer' : 'number'}, got "${value}"`);
  return n;
}

interface Entry {
  file: string;
  label: string;
}

function readIndex(path: string): Entry[] {
  if (!existsSync(path)) return [];
  let entries: unknown;
  try {
    entries = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new MstaError('CLI_USAGE', `not valid JSON: ${(e as Error).message}`, { where: path });
  }
  if (!Array.isArray(entries) || !entries.every((e) => typeof e === 'object' && e !== null && typeof e.file === 'string' && typeof e.label === 'string')) {
    throw new MstaError('CLI_USAGE', 'expected [{"file", "label"}] (a clip folder\'s index)', { where: path });
  }
  return entries as Entry[];
}

function writeIndex(path: string, entries: Entry[]): void {
  // Write then rename: an interrupted run never leaves a torn index.
  writeFileSync(`${path}.tmp`, `${JSON.stringify(entries, null, 1)}\n`);
  renameSync(`${path}.tmp`, path);
}

/** A file-name-safe form of the label. */
function slug(label: string): string {
  return label.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 48) || 'clip';
}

const OPTIONS = {
  url: { type: 'string', value: 'URL', help: 'the camera: rtsp://, a file, v4l2:// or test:// URL (or --camera)' },
  camera: { type: 'string', value: 'ID', help: "a configured camera's id (with --config)" },
  config: { type: 'string', short: 'c', value: 'FILE', help: 'the config that names --camera' },
  seconds: { type: 'string', value: 'S', help: 'length of each clip (required)' },
  count: { type: 'string', value: 'N', help: 'clips to record (default 1)' },
  label: { type: 'string', value: 'TEXT', help: 'what the clips show, e.g. "a person bending to tie shoes" (required)' },
  out: { type: 'string', value: 'DIR', help: 'the training folder: clips and labels.json (required)' },
  fps: { type: 'string', value: 'N', help: 'frames per second written (default 25)' },
  pause: { type: 'string', value: 'S', help: 'seconds between clips (default 0)' },
  timeout: { type: 'string', value: 'S', help: 'give up on a clip after this long (default: seconds + 30)' },
} satisfies OptionTable;

export const recordCommand: Command = {
  name: NAME,
  summary: 'record labelled H.264 clips from a camera into a training folder (labels.json)',
  options: OPTIONS,
  async run(argv) {
    const { values } = parseCommandArgs(NAME, argv, OPTIONS);
    const label = values.label?.trim();
    if (!label) throw usageError('--label "..." is required (what the clips show; a negative such as "a person bending to tie shoes" works too)');
    if (!values.out) throw usageError('--out DIR is required');
    if ((values.url === undefined) === (values.camera === undefined)) throw usageError('give --url URL, or --camera ID with --config FILE');
    const seconds = positive(values.seconds, undefined, '--seconds', false);
    const count = positive(values.count, 1, '--count', true);
    const fps = positive(values.fps, 25, '--fps', true);
    const pauseMs = values.pause === undefined ? 0 : positive(values.pause, undefined, '--pause', false) * 1000;
    const timeoutMs = positive(values.timeout, seconds + 30, '--timeout', false) * 1000;

    let url = values.url;
    let transport: Transport = 'tcp';
    let latencyMs = 200;
    let decoder = 'auto';
    if (values.camera !== undefined) {
      if (!values.config) throw usageError('--camera needs --config FILE');
      const camera = loadConfigFile(values.config).cameras.find((c) => c.id === values.camera);
      if (!camera?.url) throw new MstaError('CLI_USAGE', `no camera "${values.camera}" with a url in ${values.config}`, { where: NAME });
      ({ url, transport, latency_ms: latencyMs, decoder } = camera);
    }

    mkdirSync(values.out, { recursive: true });
    const indexPath = join(values.out, 'labels.json');
    const entries = readIndex(indexPath);
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    for (let i = 0; i < count; i++) {
      const file = `${slug(label)}-${stamp}-${i + 1}.mp4`;
      process.stderr.write(`${NAME}: clip ${i + 1}/${count} (${seconds} s) from ${redactUrl(url!)} ...\n`);
      await recordClip({ url: url!, out: join(values.out, file), seconds, fps, transport, latencyMs, decoder, timeoutMs });
      entries.push({ file, label });
      writeIndex(indexPath, entries);
      process.stdout.write(`${join(values.out, file)}\t${label}\n`);
      if (pauseMs > 0 && i + 1 < count) await new Promise((r) => setTimeout(r, pauseMs));
    }
    process.stderr.write(`${NAME}: ${count} clip(s) of "${label}" in ${values.out} (labels.json: ${entries.length} clips)\n`);
    return 0;
  },
};
