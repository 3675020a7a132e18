import { isMstaError, MstaError } from '../../errors.js';
import { cameraSource, type SourceLog } from '../../source/camera-source.js';
import type { Transport } from '../../source/pipeline-description.js';
import type { Frame } from '../../types.js';
import { parseCommandArgs, type Command, type OptionTable } from './command.js';

const NAME = 'source-probe';

const OPTIONS = {
  url: { type: 'string', value: 'URL', help: 'the camera: rtsp://, a file, v4l2:// or test:// URL (required)' },
  frames: { type: 'string', value: 'N', default: '30', help: 'frames to print before the summary' },
  size: { type: 'string', value: 'WxH', default: '224x224', help: 'frame size after scaling and centre-cropping' },
  transport: { type: 'string', value: 'tcp|udp|auto', default: 'tcp', help: 'RTSP transport' },
  decoder: { type: 'string', value: 'NAME', help: 'auto (default), software, or a GStreamer element name' },
  timeout: { type: 'string', value: 'S', default: '30', help: 'give up after this many seconds' },
  stall: { type: 'string', value: 'S', default: '5', help: 'no frame for this long: reconnect' },
  offline: { type: 'boolean', help: 'files only: decode as fast as possible, every frame, media-time capture times' },
} satisfies OptionTable;

function usageError(message: string): MstaError {
  return new MstaError('CLI_USAGE', message, { where: NAME });
}

function positiveNumber(value: string, flag: string, integer: boolean): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw usageError(`${flag} must be a positive ${integer ? 'integer' : 'number'}, got "${value}"`);
  return n;
}

function parseSize(value: string): { width: number; height: number } {
  const m = /^(\d+)x(\d+)$/.exec(value);
  if (!m || Number(m[1]) === 0 || Number(m[2]) === 0) throw usageError(`--size must be WIDTHxHEIGHT (e.g. 224x224), got "${value}"`);
  return { width: Number(m[1]), height: Number(m[2]) };
}

/** Status changes and reconnects on stderr, one line each (URLs arrive redacted). */
const stderrLog: SourceLog = {
  debug: () => undefined,
  info: (obj, msg) => process.stderr.write(`${NAME}: ${msg} ${JSON.stringify(obj)}\n`),
  warn: (obj, msg) => process.stderr.write(`${NAME}: ${msg} ${JSON.stringify(obj)}\n`),
};

export const sourceProbeCommand: Command = {
  name: NAME,
  summary: 'print one JSON line per frame from a camera URL, then a summary (checks a camera)',
  options: OPTIONS,
  async run(argv) {
    const { values } = parseCommandArgs(NAME, argv, OPTIONS);
    if (!values.url) throw usageError('--url URL is required (rtsp://, file, v4l2:// or test:// URL)');
    const wanted = positiveNumber(values.frames, '--frames', true);
    const { width, height } = parseSize(values.size);
    const transport = values.transport;
    if (!['tcp', 'udp', 'auto'].includes(transport)) throw usageError(`--transport must be tcp, udp or auto, got "${transport}"`);
    const timeoutMs = positiveNumber(values.timeout, '--timeout', false) * 1000;
    const stallTimeoutMs = positiveNumber(values.stall, '--stall', false) * 1000;

    let source;
    try {
      source = cameraSource(
        { camera: 'probe', url: values.url, width, height, transport: transport as Transport, stallTimeoutMs, realtime: !values.offline, ...(values.decoder ? { decoder: values.decoder } : {}) },
        { log: stderrLog },
      );
    } catch (e) {
      if (!isMstaError(e, 'SOURCE_URL_INVALID')) throw e;
      process.stderr.write(`msta-edge ${NAME}: ${e.message} [${e.code}]\n`);
      return 2;
    }

    let first: number | undefined;
    let last: number | undefined;
    const outcome = await new Promise<{ error?: MstaError; timedOut?: boolean }>((resolve) => {
      let received = 0;
      const finish = (result: { error?: MstaError; timedOut?: boolean }) => {
        clearTimeout(timer);
        subscription.unsubscribe();
        resolve(result);
      };
      const timer = setTimeout(() => finish({ timedOut: true }), timeoutMs);
      const subscription = source.frames.subscribe({
        next: (frame: Frame) => {
          first ??= frame.capturedAt;
          last = frame.capturedAt;
          const line = { seq: frame.seq, time: new Date(frame.capturedAt).toISOString(), width: frame.width, height: frame.height };
          process.stdout.write(`${JSON.stringify(line)}\n`);
          if (++received >= wanted) finish({});
        },
        error: (e: unknown) => finish({ error: isMstaError(e) ? e : new MstaError('SOURCE_FAILED', String(e)) }),
        complete: () => finish({}),
      });
    });

    const counts = source.counts();
    const seconds = first !== undefined && last !== undefined ? (last - first) / 1000 : 0;
    const fps = counts.frames > 1 && seconds > 0 ? Math.round(((counts.frames - 1) / seconds) * 100) / 100 : 0;
    process.stdout.write(`${JSON.stringify({ frames: counts.frames, fps, drops: counts.dropped, reconnects: counts.reconnects })}\n`);
    if (outcome.error) throw outcome.error;
    if (outcome.timedOut) {
      process.stderr.write(`msta-edge ${NAME}: timed out after ${timeoutMs / 1000} s with ${counts.frames} of ${wanted} frames\n`);
      return 1;
    }
    return 0;
  },
};
