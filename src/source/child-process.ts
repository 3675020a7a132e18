// The parent's side of one source child: spawn it, read its records, stop it (and kill it when it
// does not stop in time). One subscription = one child = one connection.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Readable } from 'node:stream';
import { Observable, type Subscription } from 'rxjs';
import { MstaError } from '../errors.js';
import { SNAPSHOTS_OFF_COMMAND, SNAPSHOTS_ON_COMMAND, STOP_COMMAND, type ChildMessage, type ChildRequest } from './child-protocol.js';
import { RecordKind, RecordParser } from './frame-record.js';
import { scrubSecrets } from './secrets.js';

export interface ChildFrame {
  type: 'frame';
  /** The frame stream (the request's streams[stream]; 0 for the whole camera without regions). */
  stream: number;
  /** The child's own count per stream: gaps are frames it dropped while the parent was behind. */
  seq: number;
  capturedAt: number;
  width: number;
  height: number;
  data: Uint8Array;
}

/** A JPEG from the snapshot branch (its width and height are the JPEG's). */
export interface ChildJpeg {
  type: 'jpeg';
  seq: number;
  capturedAt: number;
  width: number;
  height: number;
  data: Buffer;
}

export type ChildEvent =
  | { type: 'spawned'; pid: number }
  | { type: 'started'; pipeline: string }
  | ChildFrame
  | ChildJpeg;

export interface ChildOptions {
  /** After a stop request, how long the child gets to exit before SIGKILL. */
  stopTimeoutMs: number;
  /**
   * Whether the snapshot branch encodes JPEGs, now and at every change (request.snapshots says
   * how it starts): each change goes to the child as a stdin command.
   */
  snapshotEncoding?: Observable<boolean>;
}

/** Lines of the child's stderr kept to explain a failure. */
const STDERR_TAIL_LINES = 5;

/** Every source child of this process that has not exited yet, with its exit to await. */
const liveChildren = new Map<ChildProcess, Promise<void>>();

/** How many source children are alive now (for health, benchmarks and tests). */
export function sourceChildCount(): number {
  return liveChildren.size;
}

/** SIGKILL to every source child still alive, at once: the last thing before a forced exit. */
export function killSourceChildren(): void {
  for (const child of liveChildren.keys()) child.kill('SIGKILL');
}

/**
 * Waits for every source child to exit: those still alive after `timeoutMs` are SIGKILLed and
 * awaited. The daemon calls it last when it stops, so no child outlives it (a kill timer alone
 * would die with the parent). Resolves with the number of children it had to kill.
 */
export async function reapSourceChildren(timeoutMs: number): Promise<number> {
  const waiting = [...liveChildren.entries()];
  let killed = 0;
  await Promise.all(
    waiting.map(async ([child, exited]) => {
      let timer: NodeJS.Timeout | undefined;
      const late = await Promise.race([exited.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), timeoutMs)))]);
      clearTimeout(timer);
      if (!late) return;
      killed++;
      child.kill('SIGKILL');
      await exited;
    }),
  );
  return killed;
}

/**
 * How to start the child: from the TypeScript sources through tsx in development, or the
 * compiled child beside this file in dist/.
 */
export function childCommand(selfUrl = import.meta.url): { command: string; args: string[] } {
  const self = fileURLToPath(selfUrl);
  if (self.endsWith('.ts')) {
    const tsx = import.meta.resolve('tsx');
    return { command: process.execPath, args: ['--import', tsx, self.replace(/child-process\.ts$/, 'child.ts')] };
  }
  return { command: process.execPath, args: [self.replace(/child-process\.js$/, 'child.js')] };
}

/**
 * What a source child inherits: what GStreamer, the loader and locale need, never the daemon's
 * secrets (MQTT_PASSWORD, console tokens and the like live in other variables).
 */
const CHILD_ENV = /^(PATH|HOME|TMPDIR|TZ|LANG|LANGUAGE|LC_[A-Z_]+|LD_LIBRARY_PATH|XDG_[A-Z_]+|GST_[A-Z0-9_]+|GIO_[A-Z_]+|ORC_[A-Z_]+|NODE_OPTIONS|NODE_PATH|TSX_[A-Z_]+)$/;

export function childEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => CHILD_ENV.test(name)));
}

/**
 * Runs one source child. Emits `spawned`, `started`, then frames; completes at end of stream;
 * errors with MstaError: SOURCE_UNSUPPORTED when the pipeline cannot be built (retrying cannot
 * help), SOURCE_FAILED otherwise. Unsubscribing stops the child.
 */
export function runSourceChild(request: ChildRequest, options: ChildOptions): Observable<ChildEvent> {
  return new Observable<ChildEvent>((subscriber) => {
    const { command, args } = childCommand();
    // Every appsink's pending pull and the bus poll each hold a libuv threadpool thread for good:
    // past its default 4 (regions, plus the snapshot branch) a pull would never run.
    const pinned = (request.streams?.length ?? 1) + (request.snapshots ? 1 : 0) + 1;
    const env = { ...childEnvironment(process.env), UV_THREADPOOL_SIZE: String(Math.max(4, pinned + 1)) };
    const child: ChildProcess = spawn(command, args, { stdio: ['pipe', 'ignore', 'pipe', 'pipe'], env });
    if (child.pid !== undefined) {
      liveChildren.set(child, new Promise<void>((resolve) => child.once('exit', () => (liveChildren.delete(child), resolve()))));
    }
    const scrub = (text: string) => scrubSecrets(text, request.url);
    const parser = new RecordParser();
    const stderrTail: string[] = [];
    let ended = false; // eos or error seen, or the subscriber left
    let killTimer: NodeJS.Timeout | undefined;

    const fail = (code: 'SOURCE_FAILED' | 'SOURCE_UNSUPPORTED', message: string) => {
      if (ended) return;
      ended = true;
      subscriber.error(new MstaError(code, scrub(message)));
    };

    child.on('error', (e) => fail('SOURCE_FAILED', `cannot start the source child: ${e.message}`));
    child.stdin!.on('error', () => undefined); // EPIPE when the child is gone: its exit says why
    child.stdin!.write(`${JSON.stringify(request)}\n`);

    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      for (const line of text.split('\n')) if (line.trim()) stderrTail.push(line.trim());
      stderrTail.splice(0, Math.max(0, stderrTail.length - STDERR_TAIL_LINES));
    });

    const frames = child.stdio[3] as Readable;
    frames.on('data', (chunk: Buffer) => {
      if (ended) return;
      let records;
      try {
        records = parser.push(chunk);
      } catch (e) {
        fail('SOURCE_FAILED', (e as Error).message);
        return;
      }
      for (const { header, payload } of records) {
        if (ended) return;
        if (header.kind === RecordKind.frame || header.kind === RecordKind.jpeg) {
          const { stream, seq, capturedAt, width, height } = header;
          if (header.kind === RecordKind.frame) subscriber.next({ type: 'frame', stream, seq, capturedAt, width, height, data: payload });
          // Copied: JPEGs are kept for a while (the daemon's ring), and a view would pin the pipe's whole chunk.
          else subscriber.next({ type: 'jpeg', seq, capturedAt, width, height, data: Buffer.from(payload) });
          continue;
        }
        let message: ChildMessage;
        try {
          message = JSON.parse(payload.toString('utf8')) as ChildMessage;
        } catch {
          fail('SOURCE_FAILED', 'corrupt frame stream from the source child: a message that is not JSON');
          return;
        }
        if (message.type === 'started') {
          subscriber.next({ type: 'started', pipeline: message.pipeline });
        } else if (message.type === 'eos') {
          ended = true;
          subscriber.complete();
        } else {
          const where = message.element ? ` (${message.element})` : '';
          fail(message.fatal ? 'SOURCE_UNSUPPORTED' : 'SOURCE_FAILED', `${message.message}${where}`);
        }
      }
    });

    child.on('exit', () => clearTimeout(killTimer));
    // 'close' comes after the child's pipes are drained, so its last records are in by then.
    child.on('close', (code, signal) => {
      const cut = parser.pending > 0 ? `, ${parser.pending} bytes into a record` : '';
      const detail = `${cut}${stderrTail.length > 0 ? `: ${stderrTail.join(' | ')}` : ''}`;
      fail('SOURCE_FAILED', `source child exited (${signal ?? `code ${code}`}) without a reason${detail}`);
    });

    if (child.pid !== undefined) subscriber.next({ type: 'spawned', pid: child.pid });
    let encoding = request.snapshots?.encoding;
    const control: Subscription | undefined = request.snapshots
      ? options.snapshotEncoding?.subscribe((on) => {
          if (on === encoding || ended) return;
          encoding = on;
          child.stdin!.write(`${on ? SNAPSHOTS_ON_COMMAND : SNAPSHOTS_OFF_COMMAND}\n`);
        })
      : undefined;

    return () => {
      control?.unsubscribe();
      ended = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.stdin!.end(`${STOP_COMMAND}\n`);
      killTimer = setTimeout(() => child.kill('SIGKILL'), options.stopTimeoutMs);
    };
  });
}
