// A real RTSP server for tests (rtsp-server.py: gst-rtsp-server through python3-gi) that a test
// can kill, restart on the same port, freeze (SIGSTOP) and thaw (SIGCONT).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'rtsp-server.py');
const PYTHON = '/usr/bin/python3'; // Debian's: it alone sees python3-gi and the GStreamer typelibs

export interface RtspServerOptions {
  /** Served at /media, re-encoded to H.264. */
  media?: string;
  user?: string;
  password?: string;
  width?: number;
  height?: number;
  fps?: number;
}

export class RtspServer {
  port = 0;
  private proc: ChildProcess | undefined;

  private constructor(private readonly options: RtspServerOptions) {}

  static async start(options: RtspServerOptions = {}): Promise<RtspServer> {
    const server = new RtspServer(options);
    await server.launch();
    return server;
  }

  /** rtsp://[user:password@]127.0.0.1:port/<mount> */
  url(mount: 'test' | 'media' = 'test', credentials = true): string {
    const { user, password } = this.options;
    const auth = credentials && user ? `${encodeURIComponent(user)}:${encodeURIComponent(password ?? '')}@` : '';
    return `rtsp://${auth}127.0.0.1:${this.port}/${mount}`;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** SIGKILL: sockets close at once, as when a camera loses power. */
  async kill(): Promise<void> {
    const proc = this.proc;
    this.proc = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGCONT'); // a stopped process dies only once it runs
    proc.kill('SIGKILL');
    await once(proc, 'exit');
  }

  /** A new server on the same port (the port may be busy for a moment after a kill). */
  async restart(): Promise<void> {
    await this.kill();
    await this.launch(this.port);
  }

  /** Socket open, no data: a hung camera. */
  freeze(): void {
    this.proc?.kill('SIGSTOP');
  }

  thaw(): void {
    this.proc?.kill('SIGCONT');
  }

  stop(): Promise<void> {
    return this.kill();
  }

  private async launch(port = 0, attempts = 20): Promise<void> {
    const o = this.options;
    const args = [SCRIPT, '--port', String(port)];
    if (o.media) args.push('--media', o.media);
    if (o.user) args.push('--user', o.user, '--password', o.password ?? '');
    if (o.width) args.push('--width', String(o.width));
    if (o.height) args.push('--height', String(o.height));
    if (o.fps) args.push('--fps', String(o.fps));
    const proc = spawn(PYTHON, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const ready = await new Promise<number | undefined>((resolve) => {
      let stdout = '';
      proc.stdout!.on('data', (d: Buffer) => {
        stdout += d.toString();
        const m = /READY (\d+)/.exec(stdout);
        if (m) resolve(Number(m[1]));
      });
      proc.on('exit', () => resolve(undefined));
    });
    if (ready === undefined) {
      if (port !== 0 && attempts > 1) {
        await new Promise((r) => setTimeout(r, 250));
        return this.launch(port, attempts - 1);
      }
      throw new Error(`RTSP test server did not start: ${stderr.trim()}`);
    }
    this.port = ready;
    this.proc = proc;
  }
}
