// `msta-edge run` as a real process, with its JSON log lines collected and parsed.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { spawnCli } from './cli.js';

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface LoggedEvent {
  id: string;
  type: string;
  label: string;
  camera: string;
  clip_end: string;
}

export class DaemonProcess {
  readonly lines: LogLine[] = [];
  /** stdout and stderr, raw (for secret checks). */
  raw = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(readonly child: ChildProcess) {
    let buffered = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      this.raw += d;
      buffered += d;
      const parts = buffered.split('\n');
      buffered = parts.pop()!;
      for (const p of parts) {
        try {
          this.lines.push(JSON.parse(p) as LogLine);
        } catch {
          this.lines.push({ level: 0, msg: p });
        }
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.raw += d));
    this.exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  }

  static start(args: string[], env: NodeJS.ProcessEnv = {}): DaemonProcess {
    return new DaemonProcess(spawnCli(['run', ...args], { ...env, NODE_ENV: 'test' }));
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Resolves with the first log line (from the start) that matches. */
  async waitForLine(match: (l: LogLine) => boolean, timeoutMs = 30_000, what = 'log line'): Promise<LogLine> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.find(match);
      if (found) return found;
      if (this.child.exitCode !== null || this.child.signalCode !== null) throw new Error(`daemon exited before ${what}:\n${this.raw.slice(-3000)}`);
      if (Date.now() > end) throw new Error(`no ${what} within ${timeoutMs} ms:\n${this.raw.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** host:port of the HTTP endpoints, from the daemon's own log. */
  async httpAddress(): Promise<string> {
    const line = await this.waitForLine((l) => l.msg === 'serving /metrics, /healthz, /readyz', 30_000, 'HTTP server');
    return line.listen as string;
  }

  /** Event log lines (logged once an event is durable), in order. */
  events(): LoggedEvent[] {
    return this.lines.filter((l) => typeof l.event === 'object' && l.event !== null && !('err' in l)).map((l) => l.event as LoggedEvent);
  }

  /** `signal`, then SIGKILL if the daemon has not exited after killAfterMs: a wedged daemon must not outlive its test. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', killAfterMs = 60_000): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), killAfterMs);
    await this.exited;
    clearTimeout(timer);
  }
}
